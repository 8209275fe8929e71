package handouts

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/predictors"
)

// Risk is a predictor's probability as people: an icon array of 100 and a
// natural-frequency sentence, beside the rate in the population the model's
// starting rate comes from. Never a relative risk.
type Risk struct {
	Predictor   string  `json:"predictor"`
	Probability float64 `json:"probability"`
	// Affected is the probability as a count out of 100 (rounded).
	Affected int    `json:"affected"`
	Sentence string `json:"sentence"`
	// Baseline says the population rate in the same form.
	BaselineAffected int    `json:"baseline_affected"`
	Baseline         string `json:"baseline"`
	// SVG is the icon array, with its text alternative inside (title and
	// desc): filled figures are the people who have the outcome, outlined
	// ones those who do not, so it reads in black and white.
	SVG string `json:"svg"`
}

type riskInput struct {
	def predictors.Definition
	p   float64
}

// per100 is p as a count out of 100 and the words for it.
func per100(p float64, lang string) (int, string) {
	n := int(math.Round(100 * p))
	switch {
	case n == 0 && p > 0:
		return 0, map[string]string{"en": "fewer than 1", "zh": "不到1"}[lang]
	case n == 100 && p < 1:
		return 100, map[string]string{"en": "more than 99", "zh": "超过99"}[lang]
	}
	return n, fmt.Sprint(n)
}

func (r *riskInput) picture(lang string) *Risk {
	n, words := per100(r.p, lang)
	b, bwords := per100(r.def.BaseRate, lang)
	outcome := pick(guidelines.Text{EN: r.def.Outcome.EN, ZH: r.def.Outcome.ZH}, lang)
	out := &Risk{Predictor: r.def.ID, Probability: r.p, Affected: n, BaselineAffected: b}
	if lang == "zh" {
		out.Sentence = fmt.Sprintf("模型估计：和您情况相似的100个人中，约%s人会出现这种情况（%s），约%d人不会。", words, outcome, 100-n)
		out.Baseline = fmt.Sprintf("作为对照：在模型起始发生率所依据的已发表人群中，每100人约有%s人出现。这是模型的估计，不是确定的结果。", bwords)
	} else {
		out.Sentence = fmt.Sprintf("The model estimates that out of 100 people like you, about %s would have this (%s) and about %d would not.",
			words, strings.ToLower(outcome[:1])+outcome[1:], 100-n)
		out.Baseline = fmt.Sprintf("For comparison: in the published group the model's starting rate comes from, about %s out of 100 had it. "+
			"This is an estimate from a model, not a certainty.", bwords)
	}
	out.SVG = iconArray(n, out.Sentence)
	return out
}

// iconArray draws 100 figures, 10 to a row, the first affected ones
// filled. Each figure is a group of class "person" (and "affected" when
// filled), so a reader or a test can count them.
func iconArray(affected int, alt string) string {
	var b strings.Builder
	const cell = 24
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="risk-title risk-desc" class="icon-array" data-affected="%d">`,
		10*cell, 10*cell, 10*cell, 10*cell, affected)
	fmt.Fprintf(&b, `<title id="risk-title">%s</title><desc id="risk-desc">%s</desc>`,
		html.EscapeString(fmt.Sprintf("%d of 100", affected)), html.EscapeString(alt))
	for i := range 100 {
		x, y := (i%10)*cell, (i/10)*cell
		class, fill := "person", "none"
		if i < affected {
			class, fill = "person affected", "#000"
		}
		fmt.Fprintf(&b, `<g class="%s" transform="translate(%d %d)" fill="%s" stroke="#000" stroke-width="1.5">`+
			`<circle cx="12" cy="6" r="4"/><path d="M5 22 v-7 a7 6 0 0 1 14 0 v7 z"/></g>`, class, x, y, fill)
	}
	b.WriteString(`</svg>`)
	return b.String()
}
