// Package ingest turns hospitals' own documents (Markdown, HTML, PDF, plain
// text) into rag documents: parsed into sections that keep their heading
// path and, for PDF, their page; cut into chunks at paragraph and sentence
// boundaries; language detected per chunk; identified by content hash so
// that ingesting the same file again changes nothing.
package ingest

import (
	"bytes"
	"path/filepath"
	"strings"

	"github.com/dslipak/pdf"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/orthocds/orthocds"
)

// Section is a run of text under one heading path (and on one PDF page).
type Section struct {
	Heading []string
	Page    int
	Text    string
}

// Formats are the file extensions ingest reads.
var Formats = map[string]string{".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
	".pdf": "pdf", ".txt": "text", ".text": "text"}

// Parse reads a document by its file name's extension.
func Parse(name string, data []byte) ([]Section, error) {
	switch Formats[strings.ToLower(filepath.Ext(name))] {
	case "markdown":
		return parseMarkdown(data), nil
	case "html":
		return parseHTML(data)
	case "pdf":
		return parsePDF(data)
	case "text":
		return []Section{{Text: string(data)}}, nil
	}
	return nil, orthocds.Invalid("path", "%s: unsupported file type; use .md, .html, .pdf or .txt", filepath.Base(name))
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

// parsePDF extracts each page's text. The PDF library panics on some
// corrupt files; that is turned into a clear error.
func parsePDF(data []byte) (secs []Section, err error) {
	defer func() {
		if r := recover(); r != nil {
			secs, err = nil, orthocds.Invalid("path", "not a readable PDF (%v)", r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, orthocds.Invalid("path", "not a readable PDF: %v", err)
	}
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		t, err := p.GetPlainText(nil)
		if err != nil {
			return nil, orthocds.Invalid("path", "page %d is not readable: %v", i, err)
		}
		if t = strings.TrimSpace(t); t != "" {
			secs = append(secs, Section{Page: i, Text: t})
		}
	}
	if len(secs) == 0 {
		return nil, orthocds.Invalid("path", "the PDF has no extractable text (a scanned PDF needs OCR first)")
	}
	return secs, nil
}
