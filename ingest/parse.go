// Package ingest turns hospitals' own documents (PDF, Word, Markdown, HTML,
// plain text) into rag documents: parsed into sections that keep their
// heading path and, for PDF, their page, tables kept whole with their
// header; text that does not read as text refused; pages without a text
// layer read by OCR when it is installed, reported when not; cut into
// chunks at paragraph and sentence boundaries; language detected per
// chunk; identified by path, with chunk IDs from their content, so that
// ingesting the same file again changes nothing and an edited file
// replaces its own chunks.
package ingest

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/orthocds/orthocds"
)

// Section is a run of text under one heading path (and on one PDF page),
// or one table.
type Section struct {
	Heading []string
	Page    int
	Text    string
	// Rows are a table's cells, its header first; Text then writes them a
	// row a line.
	Rows [][]string `json:",omitempty"`
	// OCR marks text read from the image of a page.
	OCR bool `json:",omitempty"`
}

// Formats are the file extensions ingest reads.
var Formats = map[string]string{".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
	".pdf": "pdf", ".docx": "docx", ".txt": "text", ".text": "text"}

// Options control parsing.
type Options struct {
	// OCR reads pages that have no text layer; nil skips them (they are
	// reported in Parsed.Skipped).
	OCR OCR
}

// Parsed is a parsed file.
type Parsed struct {
	Sections []Section
	Pages    int   // a PDF's page count
	OCRPages []int // pages read by OCR
	Skipped  []int // pages with no text layer that were not read
}

// Parse reads a document by its file name's extension. Text that does not
// read as text is refused with an error naming the file and page.
func Parse(ctx context.Context, name string, data []byte, o Options) (Parsed, error) {
	base := filepath.Base(name)
	var p Parsed
	var err error
	switch Formats[strings.ToLower(filepath.Ext(name))] {
	case "markdown":
		p.Sections = parseMarkdown(data)
	case "html":
		p.Sections, err = parseHTML(data)
	case "pdf":
		return parsePDF(ctx, base, data, o)
	case "docx":
		p.Sections, err = parseDOCX(data)
	case "text":
		p.Sections = []Section{{Text: string(data)}}
	default:
		return p, orthocds.Invalid("path", "%s: unsupported file type; use .pdf, .docx, .md, .html or .txt", base)
	}
	if err != nil {
		return p, named(base, err)
	}
	var all strings.Builder
	for _, s := range p.Sections {
		all.WriteString(s.Text)
		all.WriteString("\n")
	}
	return p, checkText(base, 0, all.String())
}

// named puts the file's name in front of an invalid-input message.
func named(base string, err error) error {
	if orthocds.ErrorCode(err) != orthocds.EINVALID {
		return err
	}
	return orthocds.Invalid("path", "%s: %s", base, orthocds.ErrorMessage(err))
}

// sectioner collects text under a heading path.
type sectioner struct {
	path []string
	page int
	buf  strings.Builder
	out  []Section
}

func (s *sectioner) heading(level int, title string) {
	s.flush()
	if level > len(s.path)+1 {
		level = len(s.path) + 1 // a skipped level nests under the last heading
	}
	s.path = append(s.path[:level-1], strings.TrimSpace(title))
}

func (s *sectioner) text(t string) { s.buf.WriteString(t) }

func (s *sectioner) flush() {
	if t := strings.TrimSpace(s.buf.String()); t != "" {
		s.out = append(s.out, Section{Heading: append([]string(nil), s.path...), Page: s.page, Text: t})
	}
	s.buf.Reset()
}

func parseMarkdown(src []byte) []Section {
	doc := goldmark.New().Parser().Parse(text.NewReader(src))
	s := &sectioner{}
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if h, ok := n.(*ast.Heading); ok {
			s.heading(h.Level, inlineText(h, src))
			continue
		}
		s.text(blockText(n, src) + "\n\n")
	}
	s.flush()
	return s.out
}

// blockText renders a block's text, keeping line breaks between blocks.
func blockText(n ast.Node, src []byte) string {
	switch n.Kind() {
	case ast.KindFencedCodeBlock, ast.KindCodeBlock, ast.KindHTMLBlock:
		var b strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(src))
		}
		return b.String()
	case ast.KindParagraph, ast.KindTextBlock, ast.KindHeading:
		return inlineText(n, src)
	}
	var parts []string
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t := strings.TrimSpace(blockText(c, src)); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}

// inlineText is the plain text of inline content: markup dropped, link
// text kept.
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		case *ast.AutoLink:
			b.Write(t.URL(src))
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

var headingLevel = map[atom.Atom]int{atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6}

var skipHTML = map[atom.Atom]bool{atom.Script: true, atom.Style: true, atom.Head: true, atom.Nav: true,
	atom.Noscript: true, atom.Template: true, atom.Svg: true}

var blockHTML = map[atom.Atom]bool{atom.P: true, atom.Li: true, atom.Tr: true, atom.Div: true, atom.Br: true,
	atom.Pre: true, atom.Blockquote: true, atom.Dd: true, atom.Dt: true, atom.Section: true, atom.Article: true,
	atom.Table: true, atom.Ul: true, atom.Ol: true}

func parseHTML(data []byte) ([]Section, error) {
	root, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, orthocds.Invalid("path", "not readable HTML")
	}
	s := &sectioner{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if skipHTML[n.DataAtom] {
				return
			}
			if lvl, ok := headingLevel[n.DataAtom]; ok {
				s.heading(lvl, nodeText(n))
				return
			}
		}
		if n.Type == html.TextNode {
			s.text(strings.Join(strings.Fields(n.Data), " "))
			if strings.TrimSpace(n.Data) != "" {
				s.text(" ")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if n.Type == html.ElementNode && blockHTML[n.DataAtom] {
			s.text("\n\n")
		}
	}
	walk(root)
	s.flush()
	return s.out, nil
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// parsePDF reads a PDF through PDFium: each page's characters become
// lines, the lines headings, paragraphs and tables. A page whose text does
// not read as text refuses the whole file; a page with no text layer is
// read by OCR, or reported as skipped.
func parsePDF(ctx context.Context, base string, data []byte, o Options) (Parsed, error) {
	var p Parsed
	if len(data) == 0 {
		return p, orthocds.Invalid("path", "%s: not a readable PDF (empty file)", base)
	}
	d, err := openPDF(data)
	if err != nil {
		return p, named(base, err)
	}
	defer d.Close()
	p.Pages = d.pages
	var lines []line
	var ocr []Section
	for i := range d.pages {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		chars, err := d.chars(i)
		if err != nil {
			return p, named(base, err)
		}
		pl := pageLines(i+1, chars)
		if len(pl) == 0 {
			s, err := ocrPage(ctx, d, i, o.OCR)
			switch {
			case err != nil:
				return p, err
			case s == nil:
				p.Skipped = append(p.Skipped, i+1)
				continue
			}
			if err := checkText(base, i+1, s.Text); err != nil {
				return p, err
			}
			p.OCRPages = append(p.OCRPages, i+1)
			ocr = append(ocr, *s)
			continue
		}
		var text strings.Builder
		for _, l := range pl {
			text.WriteString(l.text())
			text.WriteString("\n")
		}
		if err := checkText(base, i+1, text.String()); err != nil {
			return p, err
		}
		lines = append(lines, pl...)
	}
	p.Sections = sections(layout(lines))
	// OCR'd pages go in page order among the others.
	for _, s := range ocr {
		at := len(p.Sections)
		for k, x := range p.Sections {
			if x.Page > s.Page {
				at = k
				break
			}
		}
		p.Sections = slices.Insert(p.Sections, at, s)
	}
	return p, nil
}

// ocrDPI is the resolution pages are rendered at for OCR.
const ocrDPI = 300

// ocrPage reads page i by OCR, or returns nil when there is no OCR or the
// page holds no text.
func ocrPage(ctx context.Context, d *pdfDoc, i int, ocr OCR) (*Section, error) {
	if ocr == nil {
		return nil, nil
	}
	img, done, err := d.render(i, ocrDPI)
	if err != nil {
		return nil, err
	}
	defer done()
	text, err := ocr.Read(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("OCR of page %d: %w", i+1, err)
	}
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	return &Section{Page: i + 1, Text: text, OCR: true}, nil
}
