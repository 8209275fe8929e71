package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/rag"
)

// Bounds.
const (
	MaxFileBytes = 100 << 20 // 100 MiB
	ChunkRunes   = 800       // target chunk size in characters
)

// Putter writes prepared documents; rag.Indexer is one.
type Putter interface {
	Put(ctx context.Context, docs []rag.Document) error
}

// HashFinder finds a document by content hash; every rag.Store is one.
type HashFinder interface {
	FindByHash(ctx context.Context, hash string) (string, bool, error)
}

// Ingester adds files to the index.
type Ingester struct {
	put  Putter
	find HashFinder
	// OCR reads PDF pages that have no text layer; nil reports them as
	// skipped.
	OCR OCR
}

// New returns an Ingester.
func New(put Putter, find HashFinder) *Ingester { return &Ingester{put: put, find: find} }

// Outcomes of ingesting one file.
const (
	Added     = "added"
	Unchanged = "unchanged"
)

// Result says what happened to one file.
type Result struct {
	Path     string
	DocID    string
	Status   string
	Chunks   int
	Pages    int   // a PDF's pages
	OCRPages []int // pages read by OCR
	Skipped  []int // pages with no text layer, not read (no OCR installed)
}

// File ingests one file. The document is written in one transaction: a
// crash leaves either the old version or the new one, never half.
func (in *Ingester) File(ctx context.Context, path string) (Result, error) {
	res := Result{Path: path}
	abs, err := filepath.Abs(path)
	if err != nil {
		return res, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return res, orthocds.Invalid("path", "%s: %v", filepath.Base(path), err)
	}
	if fi.Size() > MaxFileBytes {
		return res, orthocds.Invalid("path", "%s: %d bytes; the limit is %d", filepath.Base(path), fi.Size(), MaxFileBytes)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return res, err
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	res.DocID = DocID(abs)
	if id, ok, err := in.find.FindByHash(ctx, hash); err != nil {
		return res, err
	} else if ok {
		res.DocID, res.Status = id, Unchanged
		return res, nil
	}
	parsed, err := Parse(ctx, abs, data, Options{OCR: in.OCR})
	if err != nil {
		return res, err
	}
	res.Pages, res.OCRPages, res.Skipped = parsed.Pages, parsed.OCRPages, parsed.Skipped
	doc := Build(res.DocID, abs, hash, parsed.Sections)
	switch {
	case len(doc.Chunks) == 0 && len(parsed.Skipped) > 0:
		return res, orthocds.Invalid("path", "%s: no text found; %s no text layer and no OCR is installed to read them "+
			"(Debian: apt-get install tesseract-ocr tesseract-ocr-chi-sim)", filepath.Base(path), pageList(parsed.Skipped))
	case len(doc.Chunks) == 0:
		return res, orthocds.Invalid("path", "%s: no text found", filepath.Base(path))
	}
	if err := in.put.Put(ctx, []rag.Document{doc}); err != nil {
		return res, err
	}
	res.Status, res.Chunks = Added, len(doc.Chunks)
	return res, nil
}

// pageList writes "page 3 has" or "pages 1, 2 have".
func pageList(pages []int) string {
	if len(pages) == 1 {
		return "page " + strconv.Itoa(pages[0]) + " has"
	}
	s := make([]string, len(pages))
	for i, p := range pages {
		s[i] = strconv.Itoa(p)
	}
	return "pages " + strings.Join(s, ", ") + " have"
}

// DocID names the document of the file at path: the same file keeps its ID
// when edited, so the new version replaces exactly its own chunks.
func DocID(path string) string {
	sum := sha256.Sum256([]byte(path))
	return "doc-" + hex.EncodeToString(sum[:8])
}

// Build makes the document of a parsed file: chunks of about ChunkRunes
// characters that never cross a section, each with its heading path, page
// and detected language. A table is one chunk when it fits, else pieces of
// whole rows each led by the header. A chunk's ID is its document's and a
// digest of its place and text, so an unchanged passage keeps its ID when
// the rest of the file changes.
func Build(id, path, hash string, secs []Section) rag.Document {
	title := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	doc := rag.Document{ID: id, Kind: rag.KindDocument, Title: title, Source: path, Hash: hash}
	seen := map[string]int{}
	for _, s := range secs {
		pieces := split(s.Text, ChunkRunes)
		if len(s.Rows) > 0 {
			pieces = splitTable(s.Rows, ChunkRunes)
		}
		for _, piece := range pieces {
			heading := s.Heading
			ctitle := title
			if len(heading) > 0 {
				ctitle = heading[len(heading)-1]
			}
			n := len(doc.Chunks)
			sum := sha256.Sum256([]byte(strings.Join(heading, "\x00") + "\x00" + strconv.Itoa(s.Page) + "\x00" + piece))
			cid := id + "#" + hex.EncodeToString(sum[:6])
			if seen[cid]++; seen[cid] > 1 {
				cid += "-" + strconv.Itoa(seen[cid])
			}
			doc.Chunks = append(doc.Chunks, rag.Chunk{
				ID: cid, DocID: id, Ord: n, Kind: rag.KindDocument,
				Langs: []string{analysis.DetectLang(piece)}, Title: ctitle, HeadingPath: heading,
				Page: s.Page, Text: piece, SourceKey: "LOCAL",
				Citation: rag.Citation{Guideline: title, Section: strings.Join(heading, " > "), Path: filepath.Base(path), OCR: s.OCR},
			})
		}
	}
	return doc
}

// splitTable cuts a table into pieces of whole rows of at most max runes
// (a longer row is a piece of its own), each starting with the header.
func splitTable(rows [][]string, max int) []string {
	header := strings.Join(rows[0], " | ")
	if len(rows) == 1 {
		return []string{header}
	}
	var out []string
	cur := header
	n := 0
	for _, r := range rows[1:] {
		line := strings.Join(r, " | ")
		if n > 0 && utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(line) > max {
			out = append(out, cur)
			cur, n = header, 0
		}
		cur += "\n" + line
		n++
	}
	return append(out, cur)
}

// split cuts text into pieces of at most max runes at paragraph breaks,
// then sentence ends (Chinese and English), then anywhere.
func split(text string, max int) []string {
	var out []string
	var cur strings.Builder
	emit := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, t)
		}
		cur.Reset()
	}
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		for _, unit := range units(para, max) {
			if utf8.RuneCountInString(cur.String())+utf8.RuneCountInString(unit)+2 > max {
				emit()
			}
			if cur.Len() > 0 {
				cur.WriteString("\n\n")
			}
			cur.WriteString(unit)
		}
	}
	emit()
	return out
}

// units breaks a paragraph longer than max into sentences, and a sentence
// longer than max into max-rune pieces.
func units(para string, max int) []string {
	if utf8.RuneCountInString(para) <= max {
		return []string{para}
	}
	var out []string
	start := 0
	rs := []rune(para)
	for i, r := range rs {
		if strings.ContainsRune("。！？；.!?", r) && (i+1 == len(rs) || rs[i+1] == ' ' || r > 0x3000) {
			out = append(out, hardSplit(string(rs[start:i+1]), max)...)
			start = i + 1
		}
	}
	if start < len(rs) {
		out = append(out, hardSplit(string(rs[start:]), max)...)
	}
	return out
}

func hardSplit(s string, max int) []string {
	rs := []rune(strings.TrimSpace(s))
	var out []string
	for len(rs) > max {
		out = append(out, string(rs[:max]))
		rs = rs[max:]
	}
	if len(rs) > 0 {
		out = append(out, string(rs))
	}
	return out
}

// Walk lists the files of the given paths that ingest reads, descending
// into directories. A file named directly with an unknown type is returned
// too, so that its error is reported.
func Walk(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, orthocds.Invalid("path", "%s: %v", p, err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && Formats[strings.ToLower(filepath.Ext(path))] != "" {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}
