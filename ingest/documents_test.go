package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/internal/browsertest"
	"github.com/orthocds/orthocds/rag"
)

// The documents of these tests are made by the tests themselves, by other
// programs' hands: Chromium prints HTML to PDF (CID fonts for the Chinese,
// as hospital PDFs have), Chromium screenshots a page for the scanned PDF,
// and the .docx is written as Word writes one (Chinese Word's style IDs).
// The hospital protocol is SYNTHETIC: invented for the tests, not
// clinical guidance.

// testDoc is a document to render: sections of a heading, paragraphs and
// an optional table.
type testDoc struct {
	title    string
	sections []testSection
}

type testSection struct {
	heading   string
	paras     []string
	rows      [][]string
	pageBreak bool
}

var protocol = testDoc{
	title: "本院关节置换术后静脉血栓预防规范（SYNTHETIC 测试文件）",
	sections: []testSection{
		{heading: "适用范围", paras: []string{
			"本规范为测试编写的合成文件，不是临床指南。适用于本院骨科择期全髋关节置换术和全膝关节置换术的成年患者，术前由主管医生完成出血风险评估并记录在病历中。",
		}},
		{heading: "药物预防", paras: []string{
			"本院全膝关节置换术后口服利伐沙班每日一次，自术后第一天开始，连续服用十二天；全髋关节置换术后连续服用三十二天。",
			"肾功能不全或正在使用抗血小板药物的患者，由血栓预防小组会诊后决定药物和疗程。",
		}, rows: [][]string{
			{"手术", "药物", "疗程"},
			{"全膝关节置换", "利伐沙班", "12天"},
			{"全髋关节置换", "利伐沙班", "32天"},
		}},
		{heading: "Mechanical prophylaxis", pageBreak: true, paras: []string{
			"Intermittent pneumatic compression starts in the recovery room and continues until the patient walks unaided on the ward.",
			"Patients with a high bleeding risk receive compression alone until the ward pharmacist confirms that the drug may begin.",
		}},
		{heading: "出院随访", paras: []string{
			"出院前由护士讲解服药方法，术后第六周在关节外科门诊复查下肢静脉超声。",
		}},
	},
}

func (d testDoc) html() string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="zh"><head><meta charset="utf-8"><style>
body{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;font-size:11pt;margin:2cm}
h1{font-size:20pt} h2{font-size:15pt} table{border-collapse:collapse;margin:1em 0} td,th{border:1px solid #333;padding:4px 10px;text-align:left;font-weight:normal}
</style></head><body>`)
	fmt.Fprintf(&b, "<h1>%s</h1>\n", html.EscapeString(d.title))
	for _, s := range d.sections {
		style := ""
		if s.pageBreak {
			style = ` style="break-before:page"`
		}
		fmt.Fprintf(&b, "<h2%s>%s</h2>\n", style, html.EscapeString(s.heading))
		for _, p := range s.paras {
			fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(p))
		}
		if len(s.rows) > 0 {
			b.WriteString("<table>")
			for i, r := range s.rows {
				b.WriteString("<tr>")
				for _, c := range r {
					tag := "td"
					if i == 0 {
						tag = "th"
					}
					fmt.Fprintf(&b, "<%s>%s</%s>", tag, html.EscapeString(c), tag)
				}
				b.WriteString("</tr>")
			}
			b.WriteString("</table>\n")
		}
	}
	b.WriteString("</body></html>")
	return b.String()
}

// text is the document's text in reading order.
func (d testDoc) text() string {
	var b strings.Builder
	b.WriteString(d.title)
	for _, s := range d.sections {
		b.WriteString(s.heading)
		for _, p := range s.paras {
			b.WriteString(p)
		}
		for _, r := range s.rows {
			b.WriteString(strings.Join(r, ""))
		}
	}
	return b.String()
}

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

// printPDF has Chromium print a page to PDF.
func printPDF(t *testing.T, ctx context.Context, body string) []byte {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	if err != nil {
		t.Fatal(err)
	}
	return pdf
}

func TestChromiumPDF(t *testing.T) {
	ctx := browsertest.Context(t, 2*time.Minute)
	pdf := printPDF(t, ctx, protocol.html())
	browsertest.Artefact(t, "hospital-protocol.pdf", pdf)
	p, err := Parse(context.Background(), "protocol.pdf", pdf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Pages != 2 || len(p.Skipped) != 0 {
		t.Errorf("pages %d, skipped %v; want 2 pages, none skipped", p.Pages, p.Skipped)
	}
	if e := cer(protocol.text(), sectionsText(p.Sections)); e >= 0.01 {
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
	if table == nil || !cmp.Equal(table.Rows, protocol.sections[1].rows) ||
		!cmp.Equal(table.Heading, []string{protocol.title, "药物预防"}) || table.Page != 1 {
		t.Errorf("table section %+v, want the rows %v under %q on page 1", table, protocol.sections[1].rows, "药物预防")
	}
	if mech == nil || mech.Page != 2 || !cmp.Equal(mech.Heading, []string{protocol.title, "Mechanical prophylaxis"}) ||
		!strings.HasPrefix(mech.Text, "Intermittent pneumatic compression starts in the recovery room and continues until the patient walks unaided on the ward.") {
		t.Errorf("English section %+v, want page 2 under Mechanical prophylaxis, sentences whole", mech)
	}
}

// TestMojibakeRefused: the same PDF with its fonts' Unicode maps removed
// (what a PDF from some Chinese office software looks like) is refused,
// naming the file and page, and the index is unchanged.
func TestMojibakeRefused(t *testing.T) {
	ctx := browsertest.Context(t, 2*time.Minute)
	pdf := printPDF(t, ctx, protocol.html())
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
	short := testDoc{title: protocol.title, sections: protocol.sections[1:2]}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, strings.Replace(short.html(), "font-size:11pt", "font-size:16pt", 1))
	}))
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1000, 1200, chromedp.EmulateScale(2)), chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	pdf := printPDF(t, ctx, `<!doctype html><html><body style="margin:0"><img style="width:100%" src="data:image/png;base64,`+
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
	e := cer(short.text(), text.String())
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

// docx writes doc as Chinese Word writes a .docx: heading styles with the
// IDs "1" and "2" named "heading 1" and "heading 2", runs split inside
// words, a tracked deletion, a bulleted list and a table.
func (d testDoc) docx(t testing.TB) []byte {
	t.Helper()
	var body strings.Builder
	para := func(style string, runs ...string) {
		body.WriteString("<w:p>")
		if style != "" {
			fmt.Fprintf(&body, `<w:pPr><w:pStyle w:val="%s"/></w:pPr>`, style)
		}
		for _, r := range runs {
			fmt.Fprintf(&body, `<w:r><w:t xml:space="preserve">%s</w:t></w:r>`, html.EscapeString(r))
		}
		body.WriteString("</w:p>")
	}
	para("1", d.title)
	for _, s := range d.sections {
		para("2", s.heading)
		for _, p := range s.paras {
			r := []rune(p)
			half := len(r) / 2
			body.WriteString("<w:p>")
			fmt.Fprintf(&body, `<w:r><w:t>%s</w:t></w:r><w:del w:id="1" w:author="x"><w:r><w:delText>DELETED</w:delText></w:r></w:del><w:r><w:t>%s</w:t></w:r>`,
				html.EscapeString(string(r[:half])), html.EscapeString(string(r[half:])))
			body.WriteString("</w:p>")
		}
		if len(s.rows) > 0 {
			body.WriteString("<w:tbl>")
			for _, row := range s.rows {
				body.WriteString("<w:tr>")
				for _, c := range row {
					fmt.Fprintf(&body, `<w:tc><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:tc>`, html.EscapeString(c))
				}
				body.WriteString("</w:tr>")
			}
			body.WriteString("</w:tbl>")
		}
	}
	for _, item := range docxList {
		fmt.Fprintf(&body, `<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>%s</w:t></w:r></w:p>`, item)
	}
	const ns = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`
	files := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
			`<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>`,
		"_rels/.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
		"word/_rels/document.xml.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`,
		"word/styles.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:styles ` + ns + `>` +
			`<w:style w:type="paragraph" w:default="1" w:styleId="a"><w:name w:val="Normal"/></w:style>` +
			`<w:style w:type="paragraph" w:styleId="1"><w:name w:val="heading 1"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>` +
			`<w:style w:type="paragraph" w:styleId="2"><w:name w:val="heading 2"/><w:pPr><w:outlineLvl w:val="1"/></w:pPr></w:style></w:styles>`,
		"word/document.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + ns + `><w:body>` + body.String() +
			`<w:sectPr/></w:body></w:document>`,
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "word/_rels/document.xml.rels", "word/styles.xml", "word/document.xml"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var docxList = []string{"术前停用抗血小板药物须经主管医生同意。", "术后每日评估下肢肿胀和疼痛。"}

func TestDOCX(t *testing.T) {
	data := protocol.docx(t)
	p, err := Parse(context.Background(), "规范.docx", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := protocol.text() + strings.Join(docxList, "")
	got := sectionsText(p.Sections)
	if e := cer(want, got); e >= 0.01 || strings.Contains(got, "DELETED") {
		t.Errorf("character error rate %.4f (want under 0.01), deleted text kept %v:\n%s", e, strings.Contains(got, "DELETED"), got)
	}
	var table, list *Section
	for i, s := range p.Sections {
		if len(s.Rows) > 0 {
			table = &p.Sections[i]
		}
		if strings.Contains(s.Text, docxList[0]) {
			list = &p.Sections[i]
		}
	}
	if table == nil || !cmp.Equal(table.Rows, protocol.sections[1].rows) || !cmp.Equal(table.Heading, []string{protocol.title, "药物预防"}) {
		t.Errorf("table %+v, want rows %v under 药物预防", table, protocol.sections[1].rows)
	}
	if list == nil || !strings.Contains(list.Text, "- "+docxList[0]+"\n- "+docxList[1]) {
		t.Errorf("list section %+v, want the two items a line each", list)
	}
	// A zip that is not a Word file, and a Word file of garbage text.
	for name, b := range map[string][]byte{"notword.docx": []byte("PK\x03\x04 broken"), "empty.docx": {}} {
		if _, err := Parse(context.Background(), name, b, Options{}); orthocds.ErrorCode(err) != orthocds.EINVALID || !strings.Contains(orthocds.ErrorMessage(err), name) {
			t.Errorf("%s: %v, want an invalid-input error naming the file", name, err)
		}
	}
}
