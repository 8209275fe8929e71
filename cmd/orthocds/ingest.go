package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/ingest"
)

func runIngest(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("ingest: give files or directories (PDF, Word .docx, Markdown, HTML, text)")
	}
	files, err := ingest.Walk(fs.Args())
	if err != nil {
		return err
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	in := ingest.New(a.indexer, a.store)
	if ocr, err := ingest.Tesseract(); err == nil {
		in.OCR = ocr
	} else {
		fmt.Fprintf(stderr, "ingest: PDF pages without a text layer will be skipped and reported: %v\n", err)
	}
	var bar *progressbar.ProgressBar
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions(len(files), progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("ingesting"), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	}
	var added, unchanged, failed int
	for i, f := range files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res, err := in.File(ctx, f)
		line := ""
		switch {
		case err != nil:
			failed++
			line = fmt.Sprintf("[%d/%d] %s: error: %s", i+1, len(files), f, orthocds.ErrorMessage(err))
			if orthocds.ErrorCode(err) == orthocds.EINTERNAL {
				line += ": " + err.Error()
			}
		case res.Status == ingest.Unchanged:
			unchanged++
			line = fmt.Sprintf("[%d/%d] %s: unchanged (%s)", i+1, len(files), f, res.DocID)
		default:
			added++
			line = fmt.Sprintf("[%d/%d] %s: added %s, %d chunks", i+1, len(files), f, res.DocID, res.Chunks)
			if len(res.OCRPages) > 0 {
				line += fmt.Sprintf("; pages read by OCR: %v", res.OCRPages)
			}
			if len(res.Skipped) > 0 {
				line += fmt.Sprintf("; pages skipped (no text layer, no OCR): %v", res.Skipped)
			}
		}
		if bar != nil {
			bar.Describe(filepath.Base(f))
			bar.Add(1)
			if err != nil {
				fmt.Fprintln(stderr, "\n"+line)
			}
		} else {
			fmt.Fprintln(stdout, line)
		}
	}
	if bar != nil {
		bar.Finish()
	}
	fmt.Fprintf(stdout, "ingest: %d added, %d unchanged, %d failed\n", added, unchanged, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, len(files))
	}
	return nil
}
