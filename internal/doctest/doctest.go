// Package doctest makes the hospital documents of the ingest tests the
// way other programs make them: Chromium prints HTML to PDF (CID fonts for
// the Chinese, as hospital PDFs have) and the .docx is written as Chinese
// Word writes one. The protocol is SYNTHETIC: invented for the tests, not
// clinical guidance.
package doctest

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Doc is a document to render: sections of a heading, paragraphs and
// an optional table.
type Doc struct {
	Title    string
	Sections []Section
}

// Section is a heading with its paragraphs and table; PageBreak starts it
// on a new page.
type Section struct {
	Heading   string
	Paras     []string
	Rows      [][]string
	PageBreak bool
}

// Protocol is a SYNTHETIC two-page hospital VTE protocol in Chinese with an
// English section and a table. Its rivaroxaban courses (12 and 32 days)
// are deliberately unlike any guideline's, so that a search finding them
// found this document.
var Protocol = Doc{
	Title: "本院关节置换术后静脉血栓预防规范（SYNTHETIC 测试文件）",
	Sections: []Section{
		{Heading: "适用范围", Paras: []string{
			"本规范为测试编写的合成文件，不是临床指南。适用于本院骨科择期全髋关节置换术和全膝关节置换术的成年患者，术前由主管医生完成出血风险评估并记录在病历中。",
		}},
		{Heading: "药物预防", Paras: []string{
			"本院全膝关节置换术后口服利伐沙班每日一次，自术后第一天开始，连续服用十二天；全髋关节置换术后连续服用三十二天。",
			"肾功能不全或正在使用抗血小板药物的患者，由血栓预防小组会诊后决定药物和疗程。",
		}, Rows: [][]string{
			{"手术", "药物", "疗程"},
			{"全膝关节置换", "利伐沙班", "12天"},
			{"全髋关节置换", "利伐沙班", "32天"},
		}},
		{Heading: "Mechanical prophylaxis", PageBreak: true, Paras: []string{
			"Intermittent pneumatic compression starts in the recovery room and continues until the patient walks unaided on the ward.",
			"Patients with a high bleeding risk receive compression alone until the ward pharmacist confirms that the drug may begin.",
		}},
		{Heading: "出院随访", Paras: []string{
			"出院前由护士讲解服药方法，术后第六周在关节外科门诊复查下肢静脉超声。",
		}},
	},
}

func (d Doc) HTML() string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="zh"><head><meta charset="utf-8"><style>
body{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;font-size:11pt;margin:2cm}
h1{font-size:20pt} h2{font-size:15pt} table{border-collapse:collapse;margin:1em 0} td,th{border:1px solid #333;padding:4px 10px;text-align:left;font-weight:normal}
</style></head><body>`)
	fmt.Fprintf(&b, "<h1>%s</h1>\n", html.EscapeString(d.Title))
	for _, s := range d.Sections {
		style := ""
		if s.PageBreak {
			style = ` style="break-before:page"`
		}
		fmt.Fprintf(&b, "<h2%s>%s</h2>\n", style, html.EscapeString(s.Heading))
		for _, p := range s.Paras {
			fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(p))
		}
		if len(s.Rows) > 0 {
			b.WriteString("<table>")
			for i, r := range s.Rows {
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

// Text is the document's text in reading order.
func (d Doc) Text() string {
	var b strings.Builder
	b.WriteString(d.Title)
	for _, s := range d.Sections {
		b.WriteString(s.Heading)
		for _, p := range s.Paras {
			b.WriteString(p)
		}
		for _, r := range s.Rows {
			b.WriteString(strings.Join(r, ""))
		}
	}
	return b.String()
}

// PrintPDF has Chromium print a page to PDF.
func PrintPDF(t testing.TB, ctx context.Context, body string) []byte {
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

// DOCX writes d as Chinese Word writes a .docx: heading styles with the
// IDs "1" and "2" named "heading 1" and "heading 2", runs split inside
// words, a tracked deletion, a bulleted list and a table.
func (d Doc) DOCX(t testing.TB) []byte {
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
	para("1", d.Title)
	for _, s := range d.Sections {
		para("2", s.Heading)
		for _, p := range s.Paras {
			r := []rune(p)
			half := len(r) / 2
			body.WriteString("<w:p>")
			fmt.Fprintf(&body, `<w:r><w:t>%s</w:t></w:r><w:del w:id="1" w:author="x"><w:r><w:delText>DELETED</w:delText></w:r></w:del><w:r><w:t>%s</w:t></w:r>`,
				html.EscapeString(string(r[:half])), html.EscapeString(string(r[half:])))
			body.WriteString("</w:p>")
		}
		if len(s.Rows) > 0 {
			body.WriteString("<w:tbl>")
			for _, row := range s.Rows {
				body.WriteString("<w:tr>")
				for _, c := range row {
					fmt.Fprintf(&body, `<w:tc><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:tc>`, html.EscapeString(c))
				}
				body.WriteString("</w:tr>")
			}
			body.WriteString("</w:tbl>")
		}
	}
	for _, item := range DOCXList {
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

// DOCXList are the list items DOCX adds after the sections.
var DOCXList = []string{"术前停用抗血小板药物须经主管医生同意。", "术后每日评估下肢肿胀和疼痛。"}
