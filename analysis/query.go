package analysis

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// QueryTerms returns the lexical terms of a question. Beyond Terms it
// understands two things a question written as a vignette carries:
//
//   - findings stated as absent ("no fractures", "没骨折过") do not count:
//     the condition and finding concepts inside a negated scope, and their
//     words, are dropped (a drug or procedure inside one stays: "I don't
//     want injections" is about injections);
//   - numbers with their scale become the category they fall in: a T-score
//     of -2.5 or lower is osteoporosis and one between -1.0 and -2.5
//     osteopenia (WHO 1994), one below -3.0 also very high fracture risk
//     (AACE 2020), an mJOA of 15 to 17 is mild myelopathy and a
//     lower one moderate or severe (WFNS 2019, as the corpus states); a
//     T-score in the osteoporosis range with a fracture the question does
//     not rule out is severe osteoporosis (WHO 1994).
//
// Its listed misspellings read as the names they misspell (respell), and
// names misspelt in ways nobody listed are matched loosely (fuzzy.go).
func (a *Analyzer) QueryTerms(text string) []string {
	text = withApostrophes(a.fuzzy.respell(a.simp.simplify(norm.NFKC.String(text))))
	// A negated stretch that names a condition or finding is blanked before
	// analysis, so that neither its words nor a concept spanning its edge
	// ("hip, no fractures" is no hip fracture) count.
	runes := []rune(text)
	for _, r := range negation.question.ranges(text) {
		scope := string(runes[r.from:r.to])
		for id := range a.find(a.Words(scope), false) {
			if c, ok := a.vocab.Concept(id); ok && (c.Kind == "condition" || c.Kind == "finding") {
				for i := r.from; i < r.to; i++ {
					runes[i] = ' '
				}
				break
			}
		}
	}
	terms := a.Terms(string(runes))
	numeric := numericConcepts(text)
	for _, id := range numeric {
		terms = append(terms, ConceptTerm(id))
	}
	// A T-score in the osteoporosis range with a fracture the question does
	// not rule out is severe (established) osteoporosis (WHO 1994).
	if slices.Contains(numeric, "osteoporosis") && a.namesFracture(terms) {
		terms = append(terms, ConceptTerm(severeOsteoporosis))
	}
	// Wordings no fixed name covers ("a fracture that's 2 years old"), and
	// names misspelt.
	for _, id := range append(a.phraseConcepts(string(runes)), a.fuzzyConcepts(string(runes))...) {
		terms = append(terms, ConceptTerm(id))
		for _, b := range a.ancestors[id] {
			terms = append(terms, ConceptTerm(b))
		}
	}
	return terms
}

// severeOsteoporosis is the concept of a T-score of -2.5 or lower with a
// fragility fracture; fractureConcept is any fracture.
const (
	severeOsteoporosis = "severeop"
	fractureConcept    = "fracture"
)

// namesFracture reports whether terms name a fracture, or a kind of one.
func (a *Analyzer) namesFracture(terms []string) bool {
	return slices.ContainsFunc(terms, func(t string) bool {
		id, ok := strings.CutPrefix(t, conceptPrefix)
		return ok && (id == fractureConcept || slices.Contains(a.ancestors[id], fractureConcept))
	})
}

// phraseConcepts returns the concepts whose phrases (concepts.yaml) text
// matches. Questions and the stretches a plan rules out (NamedLongest) are
// read this way; guideline entries and documents, edited text that uses the
// concepts' names, are not, which keeps indexing a large corpus cheap.
func (a *Analyzer) phraseConcepts(text string) []string {
	var out []string
	lower := strings.ToLower(text)
	han := hasHan(text)
	latin := strings.IndexFunc(text, func(r rune) bool { return r < utf8.RuneSelf && unicode.IsLetter(r) }) >= 0
	for _, p := range a.vocab.phrases {
		// A Chinese wording needs Chinese text, an English one letters.
		if p.han && !han || !p.han && !latin {
			continue
		}
		if p.match(text, lower) {
			out = append(out, p.id)
		}
	}
	return out
}

// Numbers with their scale: a T-score (t-score, T score, T值) or an mJOA
// score followed by its value; a negative number after a scan, DXA or
// 骨密度 is a T-score read off a report.
var (
	tScoreRe         = regexp.MustCompile(`(?i)\bt(?:[- ]?(?:score|值)\s*(?:of|is|was|only|为|是|只有|仅|=|:|：)?\s*([-−–]?\s*\d+(?:\.\d+)?)|\s*[=:：]?\s*([-−–]\s*\d+(?:\.\d+)?))`)
	densityReadingRe = regexp.MustCompile(`(?i)(?:\b(?:scan|scans|dxa|dexa|density|bmd|reading|result|results)\b|骨密度|扫描|检查结果|报告)[^\d\n.?!。？！−–-]{0,20}([-−–]\s*\d(?:\.\d+)?)(?:[^\d.]|\.(?:\D|$)|$)`)
	mjoaRe           = regexp.MustCompile(`(?i)\bmjoa\s*(?:score|评分)?\s*(?:of|is|was|为|是|=|:|：)?\s*(\d{1,2})`)
)

// tScoreCategories are the categories a T-score falls in: osteoporosis at
// -2.5 or lower and osteopenia between -1.0 and -2.5 (WHO 1994), and very
// high fracture risk below -3.0 (AACE 2020).
func tScoreCategories(v float64) []string {
	switch {
	case v < -3.0:
		return []string{"osteoporosis", "veryhigh"}
	case v <= -2.5:
		return []string{"osteoporosis"}
	case v < -1.0:
		return []string{"osteopenia"}
	}
	return nil
}

// parseReading reads a signed number as a report writes it ("- 2.7",
// "−2.7").
func parseReading(s string) (float64, error) {
	return strconv.ParseFloat(strings.NewReplacer("−", "-", "–", "-", " ", "").Replace(s), 64)
}

// numericConcepts returns the categories that the numbers of text fall in.
func numericConcepts(text string) []string {
	text = norm.NFKC.String(text)
	var out []string
	for _, m := range tScoreRe.FindAllStringSubmatch(text, -1) {
		if v, err := parseReading(m[1] + m[2]); err == nil {
			out = append(out, tScoreCategories(v)...)
		}
	}
	// A bone density reading given without its name ("my scan says -1.8",
	// 骨密度-2.7) is a T-score: a Z-score is named as one, and a BMD in
	// g/cm² is never negative.
	for _, m := range densityReadingRe.FindAllStringSubmatch(text, -1) {
		if tScoreRe.MatchString(m[0]) {
			continue // counted above
		}
		if v, err := parseReading(m[1]); err == nil && v >= -6 {
			out = append(append(out, "tscore"), tScoreCategories(v)...)
		}
	}
	for _, m := range mjoaRe.FindAllStringSubmatch(text, -1) {
		v, err := strconv.Atoi(m[1])
		switch {
		case err != nil || v > 18:
		case v >= 15:
			out = append(out, "mild")
		default:
			out = append(out, "moderatesevere")
		}
	}
	return out
}
