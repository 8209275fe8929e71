package ingest

import (
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/orthocds/orthocds"
)

// PDF text comes from PDFium, run as WebAssembly inside the process
// (github.com/klippa-app/go-pdfium with wazero): it decodes the Type0/CID
// fonts Chinese PDFs use, gives each character's box and font size (from
// which lines, headings and table rows are rebuilt), and renders pages
// that have no text layer for OCR. The binary stays free of cgo.

var engine struct {
	once sync.Once
	pool pdfium.Pool
	err  error
}

// pdfiumPool starts PDFium once per process. Compiling the module takes a
// few seconds; the compiled code is cached in the user's cache directory
// so later starts are quick. The module sees no file system: documents are
// handed to it in memory.
func pdfiumPool() (pdfium.Pool, error) {
	engine.once.Do(func() {
		rc := wazero.NewRuntimeConfig().WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling)
		if dir, err := os.UserCacheDir(); err == nil {
			if cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(dir, "orthocds", "pdfium")); err == nil {
				rc = rc.WithCompilationCache(cache)
			}
		}
		engine.pool, engine.err = webassembly.Init(webassembly.Config{
			MinIdle: 0, MaxIdle: 2, MaxTotal: 2,
			RuntimeConfig: rc,
			FSConfig:      wazero.NewFSConfig(),
			Stdout:        io.Discard, Stderr: io.Discard,
		})
	})
	return engine.pool, engine.err
}

// char is one character with its box (points, origin bottom left) and
// font size; generated characters (spaces and line ends PDFium inserts)
// have size 0.
type char struct {
	R                        rune
	Left, Right, Top, Bottom float64
	Size                     float64
}

// pdfDoc is an open PDF.
type pdfDoc struct {
	inst  pdfium.Pdfium
	ref   references.FPDF_DOCUMENT
	pages int
}

func openPDF(data []byte) (_ *pdfDoc, err error) {
	pool, err := pdfiumPool()
	if err != nil {
		return nil, fmt.Errorf("starting PDFium: %w", err)
	}
	inst, err := pool.GetInstance(time.Minute)
	if err != nil {
		return nil, fmt.Errorf("starting PDFium: %w", err)
	}
	d, err := inst.OpenDocument(&requests.OpenDocument{File: &data})
	if err != nil {
		inst.Close()
		return nil, orthocds.Invalid("path", "not a readable PDF (%s)", pdfiumError(err))
	}
	n, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: d.Document})
	if err != nil {
		inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: d.Document})
		inst.Close()
		return nil, orthocds.Invalid("path", "not a readable PDF (%s)", pdfiumError(err))
	}
	return &pdfDoc{inst: inst, ref: d.Document, pages: n.PageCount}, nil
}

func (d *pdfDoc) Close() {
	d.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: d.ref})
	d.inst.Close()
}

func pdfiumError(err error) string {
	return strings.TrimPrefix(err.Error(), "pdfium: ")
}

func (d *pdfDoc) page(i int) requests.Page {
	return requests.Page{ByIndex: &requests.PageByIndex{Document: d.ref, Index: i}}
}

// chars returns page i's characters (0-based index) in PDFium's reading
// order.
func (d *pdfDoc) chars(i int) ([]char, error) {
	st, err := d.inst.GetPageTextStructured(&requests.GetPageTextStructured{
		Page: d.page(i), Mode: requests.GetPageTextStructuredModeChars, CollectFontInformation: true})
	if err != nil {
		return nil, orthocds.Invalid("path", "page %d is not readable (%s)", i+1, pdfiumError(err))
	}
	out := make([]char, 0, len(st.Chars))
	for _, c := range st.Chars {
		r := []rune(c.Text)
		if len(r) != 1 || r[0] == '\r' {
			continue
		}
		ch := char{R: r[0], Left: c.PointPosition.Left, Right: c.PointPosition.Right,
			Top: c.PointPosition.Top, Bottom: c.PointPosition.Bottom}
		if c.FontInformation != nil && c.FontInformation.Size > 1 {
			ch.Size = c.FontInformation.Size
			if c.FontInformation.RenderedSize > 1 {
				ch.Size = c.FontInformation.RenderedSize
			}
		}
		out = append(out, ch)
	}
	return out, nil
}

// render draws page i at dpi, for OCR.
func (d *pdfDoc) render(i, dpi int) (image.Image, func(), error) {
	r, err := d.inst.RenderPageInDPI(&requests.RenderPageInDPI{Page: d.page(i), DPI: dpi})
	if err != nil {
		return nil, nil, fmt.Errorf("rendering page %d: %s", i+1, pdfiumError(err))
	}
	return r.Result.RenderedImage, r.Cleanup, nil
}
