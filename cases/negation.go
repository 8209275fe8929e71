package cases

import (
	"regexp"
	"strings"
)

// Negation in a plan (NegEx-style trigger and scope). A positive rubric
// item is not met by words inside a negated scope: "I would not give
// zoledronic acid" does not give it, "no need to monitor markers" does
// not monitor them, 不需要唑来膦酸 does not give it. The scope runs from
// the trigger to the end of its clause (English: punctuation or "but";
// Chinese: punctuation or 但, at most twelve characters).
var (
	planEnNegation = regexp.MustCompile(`(?i)\b(?:no|not|never|without|avoid|avoiding|don't|do not|does not|doesn't|won't|would not|instead of|rather than)\b`)
	planEnScopeEnd = regexp.MustCompile(`(?i)[,.;:!?()]|\bbut\b`)
	planZhNegation = regexp.MustCompile(`不需要|不用|不要|不必|没有|避免|而非|不|无|未|没|勿|别`)
	planZhScopeEnd = regexp.MustCompile(`[，。；：！？、,.;:!?（）()]|但`)
	// Words that contain a negating character without negating (不完全骨折
	// is an incomplete fracture; 无论 is "whatever").
	planZhNotNegation = regexp.MustCompile(`不完全|不稳定|不良反应|不适|无论|未来|无法|无效|未愈合|不愈合`)
)

// negationTrigger reports whether phrase itself states a negation ("no
// routine duplex", 没有药物假期): such a phrase is matched on the plan as
// written.
func negationTrigger(phrase string) bool {
	return planEnNegation.MatchString(phrase) || planZhNegation.MatchString(planZhNotNegation.ReplaceAllString(phrase, ""))
}

// blankNegated returns text with every negated scope replaced by spaces
// (rune for rune), and the scopes themselves, trigger included, for
// saying what voided an item.
func blankNegated(text string) (string, []string) {
	runes := []rune(text)
	var scopes []string
	blank := func(from, to, trigger int) { // rune offsets
		if to <= from {
			return
		}
		scopes = append(scopes, strings.TrimSpace(string(runes[trigger:to])))
		for i := from; i < to; i++ {
			runes[i] = ' '
		}
	}
	runeAt := func(s string, byteOff int) int { return len([]rune(s[:byteOff])) }
	for _, m := range planEnNegation.FindAllStringIndex(text, -1) {
		rest := text[m[1]:]
		end := len(rest)
		if e := planEnScopeEnd.FindStringIndex(rest); e != nil {
			end = e[0]
		}
		blank(runeAt(text, m[1]), runeAt(text, m[1]+end), runeAt(text, m[0]))
	}
	masked := planZhNotNegation.ReplaceAllStringFunc(text, func(s string) string {
		return strings.Repeat("　", len([]rune(s)))
	})
	mr := []rune(masked)
	for _, m := range planZhNegation.FindAllStringIndex(masked, -1) {
		at := runeAt(masked, m[0])
		if at > 0 && at+1 < len(mr) && mr[at-1] == mr[at+1] { // A-not-A: 要不要
			continue
		}
		start := runeAt(masked, m[1])
		end := start
		for end < len(mr) && end-start < 12 && !planZhScopeEnd.MatchString(string(mr[end])) {
			end++
		}
		blank(start, end, at)
	}
	return string(runes), scopes
}
