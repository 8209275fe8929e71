package ingest

import (
	"math"
	"slices"
	"strings"
	"unicode"
)

// A PDF has no paragraphs, headings or tables, only characters placed on
// pages. These functions rebuild them from PDFium's characters: lines end
// where PDFium says; a line in a larger font than the body is a heading
// (the largest size is level 1); a run of lines whose wide gaps line up in
// columns is a table; other lines join into paragraphs, which end at a
// vertical gap wider than a line's.

// line is one line of a page.
type line struct {
	page   int
	cells  []cell
	size   float64 // the largest font size on the line
	top    float64 // page coordinates, origin bottom left
	bottom float64
}

// cell is a run of a line's characters with no wide gap inside.
type cell struct {
	text string
	left float64
}

func (l line) text() string {
	parts := make([]string, len(l.cells))
	for i, c := range l.cells {
		parts[i] = c.text
	}
	return strings.Join(parts, " ")
}

// pageLines cuts a page's characters into lines, and each line into cells
// at gaps wider than ordinary spacing: a quarter of the font size next to
// a Chinese character (Chinese runs without spaces), a third between Latin
// ones (a word space is about a fifth).
func pageLines(page int, chars []char) []line {
	var out []line
	cur := line{page: page}
	var b strings.Builder
	var prev *char
	var cellLeft float64
	spaced := false // a space came since the last visible character
	endCell := func() {
		if t := strings.TrimSpace(b.String()); t != "" {
			cur.cells = append(cur.cells, cell{text: t, left: cellLeft})
		}
		b.Reset()
	}
	for i := range chars {
		c := &chars[i]
		if c.R == '\n' {
			endCell()
			if len(cur.cells) > 0 {
				out = append(out, cur)
			}
			cur, prev = line{page: page}, nil
			continue
		}
		if c.Size == 0 || unicode.IsSpace(c.R) {
			if b.Len() > 0 {
				b.WriteRune(' ')
				spaced = true
			}
			continue
		}
		if prev != nil {
			limit := prev.Size / 3
			switch {
			case spaced:
				limit = prev.Size * 0.6 // a word space, perhaps stretched
			case isPunct(prev.R) || isPunct(c.R):
				limit = prev.Size // full-width punctuation is mostly blank
			case isHan(prev.R) || isHan(c.R):
				limit = prev.Size / 4
			}
			if c.Left-prev.Right > limit {
				endCell()
			}
		}
		spaced = false
		if b.Len() == 0 {
			cellLeft = c.Left
		}
		b.WriteRune(c.R)
		cur.size = max(cur.size, c.Size)
		if cur.top == 0 || c.Top > cur.top {
			cur.top = c.Top
		}
		if cur.bottom == 0 || c.Bottom < cur.bottom {
			cur.bottom = c.Bottom
		}
		prev = c
	}
	endCell()
	if len(cur.cells) > 0 {
		out = append(out, cur)
	}
	return out
}

// isPunct reports Chinese punctuation and full-width forms.
func isPunct(r rune) bool { return (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xff20) }

func isHan(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef)
}

// block is a heading, a paragraph or a table, on one page.
type block struct {
	kind  int // blockHeading, blockPara, blockTable
	page  int
	level int
	text  string
	rows  [][]string // tables: the header first
	size  float64
}

const (
	blockPara = iota
	blockHeading
	blockTable
)

// bodySize is the font size most characters are set in.
func bodySize(lines []line) float64 {
	count := map[float64]int{}
	for _, l := range lines {
		n := 0
		for _, c := range l.cells {
			n += len([]rune(c.text))
		}
		count[math.Round(l.size*2)/2] += n
	}
	best, bestN := 0.0, -1
	for s, n := range count {
		if n > bestN || (n == bestN && s < best) {
			best, bestN = s, n
		}
	}
	return best
}

// layout turns the lines of a document into blocks.
func layout(lines []line) []block {
	body := bodySize(lines)
	isHeading := func(l line) bool {
		return l.size >= body*1.15 && len([]rune(l.text())) <= 80
	}
	// Heading levels: the distinct heading sizes, largest first.
	var sizes []float64
	for _, l := range lines {
		if s := math.Round(l.size*2) / 2; isHeading(l) && !slices.Contains(sizes, s) {
			sizes = append(sizes, s)
		}
	}
	slices.Sort(sizes)
	slices.Reverse(sizes)
	rows := tableRows(lines)

	var out []block
	var para strings.Builder
	var paraPage int
	var last *line
	endPara := func() {
		if t := strings.TrimSpace(para.String()); t != "" {
			out = append(out, block{kind: blockPara, page: paraPage, text: t})
		}
		para.Reset()
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if n := rows[i]; n > 0 {
			endPara()
			out = append(out, block{kind: blockTable, page: l.page, rows: table(lines[i : i+n])})
			i += n - 1
			last = nil
			continue
		}
		if isHeading(l) {
			endPara()
			s := math.Round(l.size*2) / 2
			level := slices.Index(sizes, s) + 1
			// A heading wrapped onto a second line continues the first.
			if n := len(out); n > 0 && out[n-1].kind == blockHeading && out[n-1].size == s && last != nil &&
				last.page == l.page && last.bottom-l.top < l.size*0.9 {
				out[n-1].text = joinLines(out[n-1].text, l.text())
			} else {
				out = append(out, block{kind: blockHeading, page: l.page, level: level, text: l.text(), size: s})
			}
			last = &lines[i]
			continue
		}
		if last == nil || last.page != l.page || last.bottom-l.top > body*0.9 || (len(out) > 0 && out[len(out)-1].kind == blockHeading && para.Len() == 0) {
			endPara()
			paraPage = l.page
		}
		if para.Len() == 0 {
			paraPage = l.page
			para.WriteString(l.text())
		} else {
			s := joinLines(para.String(), l.text())
			para.Reset()
			para.WriteString(s)
		}
		last = &lines[i]
	}
	endPara()
	return out
}

// joinLines joins a line wrapped from the one before: with a space
// between Latin words, with nothing next to Chinese.
func joinLines(a, b string) string {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 || len(rb) == 0 {
		return a + b
	}
	if isHan(ra[len(ra)-1]) || isHan(rb[0]) {
		return a + b
	}
	return a + " " + b
}

// tableRows marks where tables start: rows[i] is the number of lines of
// the table starting at line i, or 0. A table is two or more consecutive
// lines on one page of at least two cells whose starts line up with the
// first line's columns; a following line with fewer cells, all on those
// columns, continues a wrapped row.
func tableRows(lines []line) []int {
	rows := make([]int, len(lines))
	for i := 0; i < len(lines); i++ {
		head := lines[i]
		if len(head.cells) < 2 {
			continue
		}
		tol := head.size / 2
		onColumns := func(l line) bool {
			for _, c := range l.cells {
				if !slices.ContainsFunc(head.cells, func(h cell) bool { return math.Abs(h.left-c.left) < tol }) {
					return false
				}
			}
			return true
		}
		j := i + 1
		full := 1
		for j < len(lines) && lines[j].page == head.page && onColumns(lines[j]) &&
			(len(lines[j].cells) >= 2 || j > i+1) && lines[j-1].bottom-lines[j].top < head.size*1.5 {
			if len(lines[j].cells) == len(head.cells) {
				full++
			}
			j++
		}
		if full >= 2 {
			rows[i] = j - i
			i = j - 1
		}
	}
	return rows
}

// table turns a table's lines into rows of cells, by column.
func table(lines []line) [][]string {
	head := lines[0]
	col := func(c cell) int {
		best, d := 0, math.Inf(1)
		for k, h := range head.cells {
			if x := math.Abs(h.left - c.left); x < d {
				best, d = k, x
			}
		}
		return best
	}
	var rows [][]string
	for _, l := range lines {
		if len(l.cells) < len(head.cells) && len(rows) > 0 {
			r := rows[len(rows)-1]
			for _, c := range l.cells {
				k := col(c)
				r[k] = joinLines(r[k], c.text)
			}
			continue
		}
		r := make([]string, len(head.cells))
		for _, c := range l.cells {
			k := col(c)
			r[k] = joinLines(r[k], c.text)
		}
		rows = append(rows, r)
	}
	return rows
}

// sections groups blocks under their heading path: the paragraphs between
// two headings (and on one page) make one section, each table its own.
func sections(blocks []block) []Section {
	s := &sectioner{}
	for _, b := range blocks {
		if b.page != s.page {
			s.flush()
			s.page = b.page
		}
		switch b.kind {
		case blockHeading:
			s.heading(b.level, b.text)
		case blockTable:
			s.flush()
			s.out = append(s.out, Section{Heading: append([]string(nil), s.path...), Page: b.page, Text: rowsText(b.rows), Rows: b.rows})
		default:
			// List items stay together, one a line.
			if buf := s.buf.String(); strings.HasPrefix(b.text, "- ") && strings.HasPrefix(lastLine(buf), "- ") {
				s.buf.Reset()
				s.buf.WriteString(strings.TrimRight(buf, "\n") + "\n")
			}
			s.text(b.text + "\n\n")
		}
	}
	s.flush()
	return s.out
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// rowsText writes a table a row a line, cells separated by " | ".
func rowsText(rows [][]string) string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = strings.Join(r, " | ")
	}
	return strings.Join(lines, "\n")
}
