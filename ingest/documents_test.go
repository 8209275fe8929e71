package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/internal/browsertest"
	"github.com/orthocds/orthocds/internal/doctest"
	"github.com/orthocds/orthocds/rag"
)

// The documents of these tests are made by the tests themselves, by other
// programs' hands: Chromium prints HTML to PDF (CID fonts for the Chinese,
// as hospital PDFs have), Chromium screenshots a page for the scanned PDF,
// and the .docx is written as Word writes one (Chinese Word's style IDs).
// The hospital protocol is SYNTHETIC: invented for the tests, not
// clinical guidance.

// sectionsText is parsed sections' text in reading order, each heading
// once.
func sectionsText(secs []Section) string {
	var b strings.Builder
	var path []string
	for _, s := range secs {
		for i, h := range s.Heading {
			if i >= len(path) || path[i] != h {
				b.WriteString(h)
			}
		}
		path = s.Heading
		b.WriteString(s.Text)
	}
	return b.String()
}

// cer is the character error rate of got against want: edit distance over
// want's length, white space and the table cell separator ignored.
func cer(want, got string) float64 {
	strip := func(s string) []rune {
		var out []rune
		for _, r := range s {
			if !unicode.IsSpace(r) && r != '|' {
				out = append(out, r)
			}
		}
		return out
	}
	a, b := strip(want), strip(got)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return float64(prev[len(b)]) / float64(len(a))
}

func TestChromiumPDF(t *testing.T) {
	ctx := browsertest.Context(t, 2*time.Minute)
	pdf := doctest.PrintPDF(t, ctx, doctest.Protocol.HTML())
	browsertest.Artefact(t, "hospital-protocol.pdf", pdf)
	p, err := Parse(context.Background(), "protocol.pdf", pdf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Pages != 2 || len(p.Skipped) != 0 {
		t.Errorf("pages %d, skipped %v; want 2 pages, none skipped", p.Pages, p.Skipped)
	}
	if e := cer(doctest.Protocol.Text(), sectionsText(p.Sections)); e >= 0.01 {
		t.Errorf("character error rate %.4f, want under 0.01:\n%s", e, sectionsText(p.Sections))
	} else {
		t.Logf("character error rate %.4f", e)
	}
	// Headings make the path; the table is whole, with its header; the
	// English section is on page 2 and not glued to its heading.
	var table, mech *Section
	for i, s := range p.Sections {
		if len(s.Rows) > 0 {
			table = &p.Sections[i]
		}
		if strings.Contains(s.Text, "Intermittent pneumatic") {
			mech = &p.Sections[i]
		}
	}
	if table == nil || !cmp.Equal(table.Rows, doctest.Protocol.Sections[1].Rows) ||
		!cmp.Equal(table.Heading, []string{doctest.Protocol.Title, "药物预防"}) || table.Page != 1 {
		t.Errorf("table section %+v, want the rows %v under %q on page 1", table, doctest.Protocol.Sections[1].Rows, "药物预防")
	}
	if mech == nil || mech.Page != 2 || !cmp.Equal(mech.Heading, []string{doctest.Protocol.Title, "Mechanical prophylaxis"}) ||
		!strings.HasPrefix(mech.Text, "Intermittent pneumatic compression starts in the recovery room and continues until the patient walks unaided on the ward.") {
		t.Errorf("English section %+v, want page 2 under Mechanical prophylaxis, sentences whole", mech)
	}
}

// TestMojibakeRefused: the same PDF with its fonts' Unicode maps removed
// (what a PDF from some Chinese office software looks like) is refused,
// naming the file and page, and the index is unchanged.
func TestMojibakeRefused(t *testing.T) {
	ctx := browsertest.Context(t, 2*time.Minute)
	pdf := doctest.PrintPDF(t, ctx, doctest.Protocol.HTML())
	re := regexp.MustCompile(`/ToUnicode \d+ 0 R`)
	if !re.Match(pdf) {
		t.Fatal("Chromium's PDF has no /ToUnicode to remove")
	}
	broken := re.ReplaceAllFunc(pdf, func(b []byte) []byte { return bytes.Repeat([]byte(" "), len(b)) })

	in, st, _ := newIngester(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "本院血栓规范.pdf")
	os.WriteFile(path, broken, 0o644)
	before, _ := st.Stats(context.Background())
	_, err := in.File(context.Background(), path)
	msg := orthocds.ErrorMessage(err)
	if orthocds.ErrorCode(err) != orthocds.EINVALID || !strings.Contains(msg, "本院血栓规范.pdf, page 1") || !strings.Contains(msg, "not readable") {
		t.Errorf("mojibake PDF: %v, want an invalid-input error naming the file and page", err)
	}
	after, _ := st.Stats(context.Background())
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the refused file changed the index (-before +after):\n%s", diff)
	}
}

// TestScannedPDF: a PDF of page images (a screenshot of the protocol,
// printed) has no text layer. With tesseract (Chinese and English) it is
// read by OCR, its chunks marked as such with their page; without, its
// pages are reported as skipped and nothing is indexed.
func TestScannedPDF(t *testing.T) {
	ctx := browsertest.Context(t, 3*time.Minute)
	short := doctest.Doc{Title: doctest.Protocol.Title, Sections: doctest.Protocol.Sections[1:2]}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, strings.Replace(short.HTML(), "font-size:11pt", "font-size:16pt", 1))
	}))
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1000, 1200, chromedp.EmulateScale(2)), chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	pdf := doctest.PrintPDF(t, ctx, `<!doctype html><html><body style="margin:0"><img style="width:100%" src="data:image/png;base64,`+
		base64.StdEncoding.EncodeToString(shot)+`"></body></html>`)
	browsertest.Artefact(t, "scanned-protocol.pdf", pdf)

	p, err := Parse(context.Background(), "scan.pdf", pdf, Options{})
	if err != nil || len(p.Sections) != 0 || !cmp.Equal(p.Skipped, []int{1}) {
		t.Errorf("without OCR: %d sections, skipped %v, %v; want page 1 skipped", len(p.Sections), p.Skipped, err)
	}
	in, st, _ := newIngester(t)
	path := filepath.Join(t.TempDir(), "scan.pdf")
	os.WriteFile(path, pdf, 0o644)
	if _, err := in.File(context.Background(), path); orthocds.ErrorCode(err) != orthocds.EINVALID || !strings.Contains(orthocds.ErrorMessage(err), "page 1") {
		t.Errorf("ingesting a scan without OCR: %v, want a refusal naming the page skipped", err)
	}

	ocr, err := Tesseract()
	if err != nil {
		if os.Getenv("ORTHOCDS_REQUIRE_OCR") != "" {
			t.Fatalf("%v, and ORTHOCDS_REQUIRE_OCR is set", err)
		}
		t.Skipf("OCR part skipped: %v", err)
	}
	rec := &recorder{Putter: in.put}
	in = New(rec, st)
	in.OCR = ocr
	res, err := in.File(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(res.OCRPages, []int{1}) || len(rec.docs) != 1 {
		t.Fatalf("OCR pages %v, %d documents written; want page 1, one document", res.OCRPages, len(rec.docs))
	}
	var text strings.Builder
	for _, c := range rec.docs[0].Chunks {
		if !c.Citation.OCR || c.Page != 1 {
			t.Errorf("chunk %s: OCR %v page %d, want marked OCR on page 1", c.ID, c.Citation.OCR, c.Page)
		}
		text.WriteString(c.Text)
	}
	e := cer(short.Text(), text.String())
	t.Logf("OCR character error rate %.3f", e)
	if e > 0.2 || !strings.Contains(strings.ReplaceAll(text.String(), " ", ""), "利伐沙班") {
		t.Errorf("OCR text (CER %.3f) does not match the page:\n%s", e, text.String())
	}
}

// recorder keeps the documents an Ingester writes.
type recorder struct {
	Putter
	docs []rag.Document
}

func (r *recorder) Put(ctx context.Context, docs []rag.Document) error {
	r.docs = append(r.docs, docs...)
	return r.Putter.Put(ctx, docs)
}

func TestDOCX(t *testing.T) {
	data := doctest.Protocol.DOCX(t)
	p, err := Parse(context.Background(), "规范.docx", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := doctest.Protocol.Text() + strings.Join(doctest.DOCXList, "")
	got := sectionsText(p.Sections)
	if e := cer(want, got); e >= 0.01 || strings.Contains(got, "DELETED") {
		t.Errorf("character error rate %.4f (want under 0.01), deleted text kept %v:\n%s", e, strings.Contains(got, "DELETED"), got)
	}
	var table, list *Section
	for i, s := range p.Sections {
		if len(s.Rows) > 0 {
			table = &p.Sections[i]
		}
		if strings.Contains(s.Text, doctest.DOCXList[0]) {
			list = &p.Sections[i]
		}
	}
	if table == nil || !cmp.Equal(table.Rows, doctest.Protocol.Sections[1].Rows) || !cmp.Equal(table.Heading, []string{doctest.Protocol.Title, "药物预防"}) {
		t.Errorf("table %+v, want rows %v under 药物预防", table, doctest.Protocol.Sections[1].Rows)
	}
	if list == nil || !strings.Contains(list.Text, "- "+doctest.DOCXList[0]+"\n- "+doctest.DOCXList[1]) {
		t.Errorf("list section %+v, want the two items a line each", list)
	}
	// A zip that is not a Word file, and a Word file of garbage text.
	for name, b := range map[string][]byte{"notword.docx": []byte("PK\x03\x04 broken"), "empty.docx": {}} {
		if _, err := Parse(context.Background(), name, b, Options{}); orthocds.ErrorCode(err) != orthocds.EINVALID || !strings.Contains(orthocds.ErrorMessage(err), name) {
			t.Errorf("%s: %v, want an invalid-input error naming the file", name, err)
		}
	}
}

// TestStableChunks: re-ingesting an unchanged file changes nothing; an
// edited file keeps its document ID and the IDs of its unchanged passages,
// replaces exactly its own chunks, and leaves the other documents alone.
func TestStableChunks(t *testing.T) {
	in, st, _ := newIngester(t)
	rec := &recorder{Putter: in.put}
	in = New(rec, st)
	ctx := context.Background()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.docx"), filepath.Join(dir, "b.md")
	os.WriteFile(a, doctest.Protocol.DOCX(t), 0o644)
	os.WriteFile(b, []byte("# Ward note (synthetic)\n\nDenosumab clinic runs on Tuesdays.\n"), 0o644)
	for _, f := range []string{a, b} {
		if _, err := in.File(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(d rag.Document) []string {
		var out []string
		for _, c := range d.Chunks {
			out = append(out, c.ID)
		}
		return out
	}
	first, before := rec.docs[0], ids(rec.docs[0])
	stats, _ := st.Stats(ctx)
	if r, err := in.File(ctx, a); err != nil || r.Status != Unchanged {
		t.Fatalf("re-ingest: %+v %v", r, err)
	}
	edited := doctest.Protocol
	edited.Sections = slices.Clone(edited.Sections)
	edited.Sections[3].Paras = []string{"出院前由药师讲解服药方法，术后第八周复查下肢静脉超声。"}
	os.WriteFile(a, edited.DOCX(t), 0o644)
	r, err := in.File(ctx, a)
	if err != nil || r.Status != Added || r.DocID != first.ID {
		t.Fatalf("edited file: %+v %v; want added as %s", r, err, first.ID)
	}
	after := ids(rec.docs[len(rec.docs)-1])
	var kept, changed int
	for _, id := range after {
		if slices.Contains(before, id) {
			kept++
		} else {
			changed++
		}
	}
	if changed != 1 || kept != len(before)-1 {
		t.Errorf("after editing one paragraph: %d chunk IDs kept, %d new (of %d before); want all but one kept", kept, changed, len(before))
	}
	now, _ := st.Stats(ctx)
	if now.Documents != stats.Documents || now.Chunks != stats.Chunks {
		t.Errorf("store %+v after the edit, %+v before; the edit must replace its own chunks only", now, stats)
	}
}
