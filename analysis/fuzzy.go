package analysis

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	edlib "github.com/hbollon/go-edlib"
	"golang.org/x/text/unicode/norm"
)

// Misspelt names. The vocabulary lists the misspellings people are known
// to make ("zolendronic acid", 唑来磷酸); a question can hold one nobody
// has listed ("teriparatied", 地疏单抗, 后突成形). For the names most often
// typed from memory (drugs, scores, procedures and conditions), a
// question's word one edit away (two for a long word) from exactly one
// concept's name names that concept; in Chinese, a stretch one character
// off (a homophone picked from the input method's list) does. Only
// questions are read this way (QueryTerms), not guideline entries or
// documents, which are edited text.

// fuzzyKinds are the kinds of concept whose names are matched loosely.
var fuzzyKinds = map[string]bool{"drug": true, "score": true, "procedure": true, "condition": true}

// Lengths below which a name is matched exactly only: a short word one
// edit from a name is as likely another word.
const (
	fuzzyMinLatin = 7 // letters; two edits from 10
	fuzzyMinHan   = 4 // characters, one edit
)

// fuzzyName is a name matched loosely, with its concept.
type fuzzyName struct {
	name  string
	runes []rune
	id    string
}

// fuzzyIndex holds the loosely matched names: Latin single words by first
// letter (a typo rarely changes it), Han names by length, and every Han
// name of those kinds (and of three characters or more, of any kind), whose
// exact occurrences no loose match may overlap (伊班膦酸钠 holds no misspelt
// 阿仑膦酸).
type fuzzyIndex struct {
	latin    map[byte][]fuzzyName
	han      map[int][]fuzzyName
	hanExact map[rune][]string // by first character
	// misspelt finds the listed misspellings, and respelt gives each
	// (lower case) the name it misspells (respell).
	misspelt *regexp.Regexp
	respelt  map[string]string
}

// respell rewrites a question's listed misspellings to the name each
// misspells, so that a longer name built on one still reads: 严重骨质酥松
// is 严重骨质疏松 (severe osteoporosis), "established osteoperosis"
// established osteoporosis. The name is the concept's first in the
// misspelling's script.
func (ix fuzzyIndex) respell(text string) string {
	if ix.misspelt == nil {
		return text
	}
	return ix.misspelt.ReplaceAllStringFunc(text, func(m string) string { return ix.respelt[strings.ToLower(m)] })
}

func newFuzzyIndex(v *Vocabulary) fuzzyIndex {
	ix := fuzzyIndex{latin: map[byte][]fuzzyName{}, han: map[int][]fuzzyName{}, hanExact: map[rune][]string{}, respelt: map[string]string{}}
	var misspelt []string
	for _, c := range v.Concepts {
		for _, m := range c.Misspellings {
			m = strings.ToLower(norm.NFKC.String(m))
			names := c.En
			if hasHan(m) {
				names = c.Zh
			}
			// A misspelling that holds a name of its concept, or is held by
			// one ("rivaroxaban tablets", "zoledronic" of zoledronic acid),
			// is a longer or shorter form, left as written.
			if len(names) == 0 || slices.ContainsFunc(c.Names(), func(n string) bool {
				n = strings.ToLower(norm.NFKC.String(n))
				return n != m && (strings.Contains(m, n) || strings.Contains(n, m))
			}) {
				continue
			}
			ix.respelt[m] = names[0]
			if hasHan(m) {
				misspelt = append(misspelt, regexp.QuoteMeta(m))
			} else {
				misspelt = append(misspelt, `\b`+regexp.QuoteMeta(m)+`\b`)
			}
		}
	}
	if len(misspelt) > 0 {
		// Longest first: the alternation takes the first that matches.
		slices.SortFunc(misspelt, func(a, b string) int { return len(b) - len(a) })
		ix.misspelt = regexp.MustCompile(`(?i)` + strings.Join(misspelt, "|"))
	}
	for _, c := range v.Concepts {
		for _, name := range c.Names() {
			name = strings.ToLower(norm.NFKC.String(name))
			n := utf8.RuneCountInString(name)
			if !fuzzyKinds[c.Kind] {
				// Any other concept's name of three characters or more
				// blocks loose matches too: 膝关节术 (knee surgery) is
				// no misspelt 膝关节镜 (arthroscopy).
				if hanWord.MatchString(name) && n >= 3 {
					first, _ := utf8.DecodeRuneInString(name)
					ix.hanExact[first] = append(ix.hanExact[first], name)
				}
				continue
			}
			switch {
			case latinWord.MatchString(name) && n >= fuzzyMinLatin:
				ix.latin[name[0]] = append(ix.latin[name[0]], fuzzyName{name: name, id: c.ID})
			case hanWord.MatchString(name) && n >= fuzzyMinHan:
				ix.han[n] = append(ix.han[n], fuzzyName{name, []rune(name), c.ID})
				fallthrough
			case hasHan(name):
				first, _ := utf8.DecodeRuneInString(name)
				ix.hanExact[first] = append(ix.hanExact[first], name)
			}
		}
	}
	return ix
}

var (
	latinWord  = regexp.MustCompile(`^[a-z]+$`)
	latinWords = regexp.MustCompile(`[a-z]+`)
	hanWord    = regexp.MustCompile(`^\p{Han}+$`)
)

// fuzzyConcepts returns the concepts text names through a misspelt name:
// each word (Latin) or stretch of characters (Han) within reach of exactly
// one concept's name, and not itself a name.
func (a *Analyzer) fuzzyConcepts(text string) []string {
	text = strings.ToLower(norm.NFKC.String(text))
	var out []string
	for _, w := range latinWords.FindAllString(text, -1) {
		if len(w) < fuzzyMinLatin || a.isName(w) {
			continue
		}
		reach := 1
		if len(w) >= 10 {
			reach = 2
		}
		if id := only(a.fuzzy.latin[w[0]], w, reach); id != "" {
			out = append(out, id)
		}
	}
	for _, run := range HanRuns(text) {
		r := []rune(run)
		exact := make([]bool, len(r)) // runes inside an exact name
		i := 0                        // rune index of byte offset at
		for at, c := range run {
			for _, name := range a.fuzzy.hanExact[c] {
				if strings.HasPrefix(run[at:], name) {
					for j := i; j < i+utf8.RuneCountInString(name); j++ {
						exact[j] = true
					}
				}
			}
			i++
		}
		for n, names := range a.fuzzy.han {
			for i := 0; i+n <= len(r); i++ {
				window := r[i : i+n]
				if slices.Contains(exact[i:i+n], true) {
					continue
				}
				if id := oneOff(names, window); id != "" && !a.isName(string(window)) {
					out = append(out, id)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// only returns the one concept whose names come within reach of s, or ""
// when none or several do.
func only(names []fuzzyName, s string, reach int) string {
	found := ""
	n := utf8.RuneCountInString(s)
	for _, f := range names {
		if d := utf8.RuneCountInString(f.name) - n; d > reach || d < -reach {
			continue
		}
		if edlib.OSADamerauLevenshteinDistance(s, f.name) <= reach {
			if found != "" && found != f.id {
				return ""
			}
			found = f.id
		}
	}
	return found
}

// oneOff returns the one concept whose name differs from window in one
// character, or "" when none or several do.
func oneOff(names []fuzzyName, window []rune) string {
	found := ""
	for _, f := range names {
		diff := 0
		for i, c := range f.runes {
			if c != window[i] {
				if diff++; diff > 1 {
					break
				}
			}
		}
		if diff == 1 {
			if found != "" && found != f.id {
				return ""
			}
			found = f.id
		}
	}
	return found
}

// isName reports whether s is exactly a concept's name (one analysed
// term, or a Chinese name).
func (a *Analyzer) isName(s string) bool {
	if _, ok := a.concepts[s]; ok {
		return true
	}
	w := a.Words(s)
	if len(w) != 1 {
		return false
	}
	_, ok := a.concepts[w[0]]
	return ok
}
