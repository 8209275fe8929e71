package analysis

import (
	"regexp"
	"strconv"
	"strings"

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
//     osteopenia (WHO 1994), an mJOA of 15 to 17 is mild myelopathy and a
//     lower one moderate or severe (WFNS 2019, as the corpus states).
func (a *Analyzer) QueryTerms(text string) []string {
	text = norm.NFKC.String(text)
	// A negated stretch that names a condition or finding is blanked before
	// analysis, so that neither its words nor a concept spanning its edge
	// ("hip, no fractures" is no hip fracture) count.
	runes := []rune(text)
	for _, r := range negatedRanges(text) {
		scope := string(runes[r[0]:r[1]])
		for id := range a.find(a.Words(scope), false) {
			if c, ok := a.vocab.Concept(id); ok && (c.Kind == "condition" || c.Kind == "finding") {
				for i := r[0]; i < r[1]; i++ {
					runes[i] = ' '
				}
				break
			}
		}
	}
	terms := a.Terms(string(runes))
	for _, id := range numericConcepts(text) {
		terms = append(terms, ConceptTerm(id))
	}
	return terms
}

// Negation triggers (NegEx-style) that state a finding absent, and what
// ends their scope. "not" and 不 are left out: in questions they negate a
// wish or an action ("I don't want injections", 不想打针, 不能做), not a
// finding. English scope runs at most five words and stops at punctuation
// or a conjunction; Chinese scope runs to the next punctuation, at most
// eight characters.
var (
	enNegation   = regexp.MustCompile(`(?i)\b(?:no|without|never|denies|denied|absence of|free of|negative for|has not had|have not had)\b`)
	enScopeEnd   = regexp.MustCompile(`(?i)[,.;:?!()/-]|\b(?:but|however|and|although|except|yet|with)\b`)
	zhNegation   = regexp.MustCompile(`没有|没|未|无`)
	zhScopeEnd   = regexp.MustCompile(`[，。；：？！、,.;:?!（）()]|但|但是|却|而且`)
	fiveWords    = regexp.MustCompile(`^\s*\S+(?:\s+\S+){0,4}`)
	zhNotNegated = regexp.MustCompile(`无论|未来|无法|无效|无需`)
)

// aNotA reports whether the negating character at runes[i] sits in an
// A-not-A question (能不能, 要不要, 有没有, 值不值).
func aNotA(runes []rune, i int) bool {
	return i > 0 && i+1 < len(runes) && runes[i-1] == runes[i+1]
}

// NegatedScopes returns the stretches of text that a negation trigger
// governs: "no fractures" gives "fractures", "没骨折过" gives "骨折过".
// Question forms are not negations: A-not-A (有没有) and words that merely
// contain a negating character (无法, 未来).
func NegatedScopes(text string) []string {
	text = norm.NFKC.String(text)
	runes := []rune(text)
	var out []string
	for _, r := range negatedRanges(text) {
		out = append(out, strings.TrimSpace(string(runes[r[0]:r[1]])))
	}
	return out
}

// negatedRanges returns the negated scopes of NFKC text as rune ranges.
func negatedRanges(text string) [][2]int {
	var out [][2]int
	runeAt := func(byteOff int) int { return len([]rune(text[:byteOff])) }
	for _, m := range enNegation.FindAllStringIndex(text, -1) {
		rest := text[m[1]:]
		if e := enScopeEnd.FindStringIndex(rest); e != nil {
			rest = rest[:e[0]]
		}
		// At most five words.
		if w := fiveWords.FindStringIndex(rest); w != nil && w[1] > w[0] {
			out = append(out, [2]int{runeAt(m[1] + w[0]), runeAt(m[1] + w[1])})
		}
	}
	masked := zhNotNegated.ReplaceAllStringFunc(text, func(s string) string {
		return strings.Repeat("　", len([]rune(s))) // same length in runes, no trigger inside
	})
	mrunes := []rune(masked)
	for _, m := range zhNegation.FindAllStringIndex(masked, -1) {
		if aNotA(mrunes, len([]rune(masked[:m[0]]))) {
			continue
		}
		start := len([]rune(masked[:m[1]]))
		end := start
		for end < len(mrunes) && end-start < 8 && !zhScopeEnd.MatchString(string(mrunes[end])) {
			end++
		}
		if end > start {
			out = append(out, [2]int{start, end})
		}
	}
	return out
}

// Numbers with their scale: a T-score (t-score, T score, T值) or an mJOA
// score followed by its value.
var (
	tScoreRe = regexp.MustCompile(`(?i)\bt(?:[- ]?(?:score|值)\s*(?:of|is|was|only|为|是|只有|仅|=|:|：)?\s*([-−–]?\s*\d+(?:\.\d+)?)|\s*[=:：]?\s*([-−–]\s*\d+(?:\.\d+)?))`)
	mjoaRe   = regexp.MustCompile(`(?i)\bmjoa\s*(?:score|评分)?\s*(?:of|is|was|为|是|=|:|：)?\s*(\d{1,2})`)
)

// numericConcepts returns the categories that the numbers of text fall in.
func numericConcepts(text string) []string {
	text = norm.NFKC.String(text)
	var out []string
	for _, m := range tScoreRe.FindAllStringSubmatch(text, -1) {
		v, err := strconv.ParseFloat(strings.NewReplacer("−", "-", "–", "-", " ", "").Replace(m[1]+m[2]), 64)
		switch {
		case err != nil:
		case v <= -2.5:
			out = append(out, "osteoporosis")
		case v < -1.0:
			out = append(out, "osteopenia")
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
