package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orthocds/orthocds/internal/browsertest"
	"github.com/orthocds/orthocds/internal/doctest"
)

// BenchmarkIngestPDF measures text-PDF ingest in pages per second: a
// 40-page PDF that Chromium prints from the SYNTHETIC protocol repeated,
// parsed through PDFium (parse) and then parsed, chunked, embedded and
// stored in the embedded store (ingest).
//
//	go test -run '^$' -bench IngestPDF -benchtime 5x ./ingest/
func BenchmarkIngestPDF(b *testing.B) {
	ctx := browsertest.Context(b, 2*time.Minute)
	long := doctest.Doc{Title: doctest.Protocol.Title}
	for i := range 20 {
		for j, s := range doctest.Protocol.Sections {
			s.PageBreak = j == 0 || s.PageBreak
			s.Heading = s.Heading + " " + strings.Repeat("I", i%3+1)
			long.Sections = append(long.Sections, s)
		}
	}
	pdf := doctest.PrintPDF(b, ctx, long.HTML())
	p, err := Parse(context.Background(), "long.pdf", pdf, Options{})
	if err != nil {
		b.Fatal(err)
	}
	pages := p.Pages
	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := Parse(context.Background(), "long.pdf", pdf, Options{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
	})
	b.Run("ingest", func(b *testing.B) {
		in, _, _ := newIngester(b)
		dir := b.TempDir()
		n := 0
		for b.Loop() {
			// A new file each time: an unchanged one would be skipped.
			path := filepath.Join(dir, "long.pdf")
			os.WriteFile(path, append(pdf, []byte("\n%"+strings.Repeat("x", n))...), 0o644)
			n++
			if _, err := in.File(context.Background(), path); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
	})
}
