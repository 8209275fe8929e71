package handouts

import (
	"html/template"
	"io"
)

// Render writes the handout as a printable HTML page (A4; two languages
// side by side when both were asked for). No patient identifier is on it:
// the page has a blank line where the doctor may write the name by hand.
func Render(w io.Writer, h *Handout) error {
	return page.Execute(w, h)
}

var page = template.Must(template.New("handout").Funcs(template.FuncMap{
	"svg": func(s string) template.HTML { return template.HTML(s) }, // made by iconArray: numbers and escaped text only
}).Parse(`<!doctype html>
<html lang="{{(index .Langs 0).Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{(index .Langs 0).Title}}</title>
<style>
@page { size: A4; margin: 15mm; }
body { font-family: "Noto Sans", "Noto Sans CJK SC", sans-serif; font-size: 12pt; line-height: 1.5; color: #000; margin: 0 auto; max-width: 190mm; }
.pages { display: flex; gap: 8mm; }
.page { flex: 1; }
h1 { font-size: 17pt; margin: 0 0 4mm; }
h2 { font-size: 13pt; margin: 5mm 0 1mm; }
p.s { margin: 0 0 2mm; }
sup { font-size: 8pt; }
.risk { border: 1px solid #000; padding: 3mm; margin: 3mm 0; }
.risk svg { width: 60mm; height: 60mm; }
.notes { font-size: 9pt; border-top: 1px solid #000; margin-top: 5mm; padding-top: 2mm; }
.name { margin: 0 0 4mm; }
.disclaimer { font-size: 9pt; font-style: italic; }
.level { font-size: 8pt; color: #333; }
@media print { .level { display: none; } }
</style>
</head>
<body>
<div class="pages">
{{range .Langs}}
<article class="page" lang="{{.Lang}}">
<h1>{{.Title}}</h1>
<p class="name">{{if eq .Lang "zh"}}姓名：{{else}}Name:{{end}} ______________________</p>
{{with .Risk}}<section class="risk" data-affected="{{.Affected}}">
{{svg .SVG}}
<p class="s">{{.Sentence}}</p>
<p class="s">{{.Baseline}}</p>
</section>{{end}}
{{range .Sections}}<section class="section" data-kind="{{.Kind}}">
<h2>{{.Heading}}</h2>
{{range .Sentences}}<p class="s">{{.Text}}{{range .Notes}}<sup class="note-ref">[{{.}}]</sup>{{end}}</p>
{{end}}</section>
{{end}}
<section class="notes"><strong>{{.NotesTitle}}</strong>
<ol>{{range .NoteLines}}<li value="{{.N}}" data-entry="{{.EntryID}}">{{.Text}}</li>{{end}}</ol>
</section>
<p class="disclaimer">{{.Disclaimer}}</p>
<p class="level" data-mode="{{.Mode}}">{{if eq .Mode "llm"}}Written by {{.Model}} from the cited entries; {{len .Dropped}} unsupported sentence(s) removed.{{else}}From the project's templates.{{end}}{{with .Fallback}} {{.}}{{end}}</p>
<p class="level" data-above-target="{{.Readability.AboveTarget}}">{{if eq .Lang "zh"}}可读性：平均每句 {{.Readability.MeanSentenceChars}} 个汉字，常用字占 {{.Readability.CommonShare}}{{else}}Reading level: Flesch-Kincaid grade {{.Readability.Grade}}{{end}}{{if .Readability.AboveTarget}} — {{if eq .Lang "zh"}}高于目标{{else}}above target{{end}} ({{.Readability.Target}}){{end}}</p>
</article>
{{end}}
</div>
</body>
</html>
`))
