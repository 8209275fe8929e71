package analysis

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// phrase is a compiled Concept.Phrases entry; han tells a Chinese
// wording (one that holds a Chinese character) from an English one.
// need lists words, in lower case, of which any text the phrase matches
// holds at least one; none when the pattern has no such words.
type phrase struct {
	re   *regexp.Regexp
	id   string
	han  bool
	need []string
}

// newPhrase compiles pattern, case-insensitive, for concept id.
func newPhrase(pattern, id string) (phrase, error) {
	re, err := regexp.Compile(`(?i)` + pattern)
	if err != nil {
		return phrase{}, err
	}
	p := phrase{re: re, id: id, han: hasHan(pattern)}
	if tree, err := syntax.Parse(pattern, syntax.Perl); err == nil {
		p.need = required(tree.Simplify())
	}
	return p, nil
}

// match reports whether the phrase matches text; lower is text in lower
// case. Every question of a search batch is read against every phrase,
// so a phrase none of whose needed words lower holds is passed over
// without running its expression.
func (p phrase) match(text, lower string) bool {
	if len(p.need) > 0 && !containsAny(lower, p.need) {
		return false
	}
	return p.re.MatchString(text)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// required returns literals, in lower case, at least one of which every
// match of re contains, or none when it cannot tell: a literal is
// required; a concatenation requires what its most telling part requires
// (one long literal over several short ones); an alternation requires one
// of what each branch requires; a repetition at least once requires what
// its body does; anything else (a class, an optional part) requires
// nothing.
func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}
	case syntax.OpCapture:
		return required(re.Sub[0])
	case syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min > 0 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		for _, sub := range re.Sub {
			if r := required(sub); len(r) > 0 && better(r, best) {
				best = r
			}
		}
		return best
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			r := required(sub)
			if len(r) == 0 {
				return nil
			}
			out = append(out, r...)
		}
		return out
	}
	return nil
}

// better reports whether literal set a filters better than b: fewer
// alternatives first, then a longer shortest literal.
func better(a, b []string) bool {
	if len(b) == 0 || len(a) != len(b) {
		return len(b) == 0 || len(a) < len(b)
	}
	return shortest(a) > shortest(b)
}

func shortest(s []string) int {
	n := -1
	for _, x := range s {
		if n < 0 || len(x) < n {
			n = len(x)
		}
	}
	return n
}
