package ingest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/orthocds/orthocds"
)

// Word files (.docx) are zip packages of XML: word/document.xml holds the
// body (paragraphs and tables), word/styles.xml says which paragraph
// styles are headings and at what level. No Go library for reading them is
// both maintained and free, and the part read here is small: paragraphs
// with their style and list marks, runs of text, tabs and breaks, and
// tables (nested ones are flattened into their cell), skipping deleted
// text.

// maxXMLBytes bounds a part's uncompressed size (a zip bomb stops here).
const maxXMLBytes = 64 << 20

func parseDOCX(data []byte) ([]Section, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, orthocds.Invalid("path", "not a readable Word file (%v)", err)
	}
	read := func(name string) ([]byte, error) {
		for _, f := range zr.File {
			if f.Name != name {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			b, err := io.ReadAll(io.LimitReader(rc, maxXMLBytes+1))
			if err != nil {
				return nil, err
			}
			if len(b) > maxXMLBytes {
				return nil, orthocds.Invalid("path", "%s is larger than %d MiB uncompressed", name, maxXMLBytes>>20)
			}
			return b, nil
		}
		return nil, nil
	}
	body, err := read("word/document.xml")
	if err != nil || body == nil {
		if err == nil {
			err = errors.New("it has no word/document.xml")
		}
		return nil, orthocds.Invalid("path", "not a readable Word file (%v)", err)
	}
	styles, err := read("word/styles.xml")
	if err != nil {
		return nil, orthocds.Invalid("path", "not a readable Word file (%v)", err)
	}
	levels := headingStyles(styles)
	blocks, err := docxBlocks(body, levels)
	if err != nil {
		return nil, orthocds.Invalid("path", "not a readable Word file (%v)", err)
	}
	return sections(blocks), nil
}

// headingStyles maps paragraph style IDs to heading levels: styles named
// "heading N" or "title" (Word's built-in names in every language; the
// IDs differ, "Heading1" in English Word, "1" in Chinese Word), or with an
// outline level.
func headingStyles(styles []byte) map[string]int {
	levels := map[string]int{"Title": 1, "Heading1": 1, "Heading2": 2, "Heading3": 3, "Heading4": 4, "Heading5": 5, "Heading6": 6}
	if styles == nil {
		return levels
	}
	d := xml.NewDecoder(bytes.NewReader(styles))
	var id string
	for {
		tok, err := d.Token()
		if err != nil {
			return levels
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "style":
			id = attr(se, "styleId")
		case "name":
			name := strings.ToLower(attr(se, "val"))
			if n, ok := strings.CutPrefix(name, "heading "); ok {
				if lvl, err := strconv.Atoi(n); err == nil && lvl >= 1 && lvl <= 9 {
					levels[id] = lvl
				}
			} else if name == "title" {
				levels[id] = 1
			}
		case "outlineLvl":
			if lvl, err := strconv.Atoi(attr(se, "val")); err == nil && lvl < 9 && id != "" {
				if _, named := levels[id]; !named {
					levels[id] = lvl + 1
				}
			}
		}
	}
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// docxBlocks reads the body into headings, paragraphs (list items marked
// "- ") and tables.
func docxBlocks(body []byte, levels map[string]int) ([]block, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	var (
		out      []block
		para     strings.Builder
		level    int
		listItem bool
		inDel    int
		tblDepth int
		rows     [][]string
		cellText strings.Builder
		inText   bool
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "p":
				para.Reset()
				level, listItem = 0, false
			case "pStyle":
				level = levels[attr(t, "val")]
			case "outlineLvl":
				if lvl, err := strconv.Atoi(attr(t, "val")); err == nil && lvl < 9 && level == 0 {
					level = lvl + 1
				}
			case "numPr":
				listItem = true
			case "del", "moveFrom":
				inDel++
			case "t":
				inText = inDel == 0
			case "tab":
				para.WriteString("\t")
			case "br", "cr":
				para.WriteString("\n")
			case "tbl":
				tblDepth++
				if tblDepth == 1 {
					rows = nil
				}
			case "tr":
				if tblDepth == 1 {
					rows = append(rows, nil)
				}
			case "tc":
				if tblDepth == 1 {
					cellText.Reset()
				}
			}
		case xml.CharData:
			if inText {
				para.Write(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "del", "moveFrom":
				inDel--
			case "p":
				text := strings.TrimSpace(para.String())
				switch {
				case text == "":
				case tblDepth > 0:
					if cellText.Len() > 0 {
						cellText.WriteString(" ")
					}
					cellText.WriteString(text)
				case level > 0:
					out = append(out, block{kind: blockHeading, level: level, text: text})
				case listItem:
					out = append(out, block{kind: blockPara, text: "- " + text})
				default:
					out = append(out, block{kind: blockPara, text: text})
				}
			case "tc":
				if tblDepth == 1 && len(rows) > 0 {
					rows[len(rows)-1] = append(rows[len(rows)-1], strings.TrimSpace(cellText.String()))
				}
			case "tbl":
				tblDepth--
				if tblDepth == 0 && len(rows) > 0 {
					out = append(out, block{kind: blockTable, rows: rows})
				}
			}
		}
	}
}
