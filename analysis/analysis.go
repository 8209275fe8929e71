// Package analysis turns Chinese and English clinical text into index terms:
// Chinese words from the gse segmenter (with its embedded dictionary and the
// project's lexicon), English words lowercased and Snowball-stemmed, stop
// words dropped, and the concepts of the vocabulary (data/concepts.yaml:
// drugs with their brands, tests, procedures, conditions, lay words and
// abbreviations in both languages) found in them. The lexical indexes and the built-in embedder both use
// it, so a query is analysed the same way as the text it should find.
package analysis

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/abadojack/whatlanggo"
	"github.com/go-ego/gse"
	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"
)

// Analyzer segments and normalises text. It is safe for concurrent use
// once built.
type Analyzer struct {
	seg      gse.Segmenter
	vocab    *Vocabulary
	concepts map[string]string // joined terms of a concept's name -> concept ID
	longest  int               // terms in the longest name
	// ancestors[id] are id's broader concepts, transitively.
	ancestors map[string][]string
	// localWords are the terms of the names of the concept "local" (本院,
	// our protocol), which ask for the hospital's own documents.
	localWords map[string]bool
	// fuzzy holds the names a question may misspell (fuzzy.go).
	fuzzy fuzzyIndex
	// simp converts traditional Chinese to simplified (traditional.go).
	simp *simplifier
	// unstemmed are one-word brand names kept whole: stemmed, Evenity
	// would be "even", and every "is it even worth it" would name
	// romosozumab.
	unstemmed map[string]bool
	// whole are Chinese brand names, whose inner words mean nothing and
	// must not match: 邦罗力 (ibandronate) holds 罗力, which is also
	// inside 普罗力 (denosumab).
	whole map[string]bool
	// termsCache remembers the terms of long texts (Terms).
	termsCache memo[string, []string]
	// cased finds the case-sensitive abbreviations (abbr_cased) in text as
	// written.
	cased []casedName
}

// casedName is one case-sensitive abbreviation and its concept.
type casedName struct {
	re *regexp.Regexp
	id string
}

// casedConcepts returns the concepts text names by case-sensitive
// abbreviations, as written (OP, not "op").
func (a *Analyzer) casedConcepts(text string) []string {
	var out []string
	for _, c := range a.cased {
		if c.re.MatchString(text) {
			out = append(out, c.id)
		}
	}
	return out
}

// LocalConcept is the concept of a question that names the hospital.
const LocalConcept = "local"

// New loads the embedded simplified-Chinese dictionary (about 2 s) and the
// shipped vocabulary (analysis/data).
func New() (*Analyzer, error) {
	v, err := LoadVocabulary(Embedded())
	if err != nil {
		return nil, err
	}
	return NewWith(v)
}

// NewWith builds an Analyzer on a vocabulary loaded by LoadVocabulary.
func NewWith(v *Vocabulary) (*Analyzer, error) {
	a := &Analyzer{vocab: v, concepts: map[string]string{}, ancestors: map[string][]string{}, unstemmed: map[string]bool{}, whole: map[string]bool{}}
	a.termsCache.max = termsCacheCap
	for _, c := range v.Concepts {
		for _, ab := range c.AbbrCased {
			a.cased = append(a.cased, casedName{regexp.MustCompile(`\b` + regexp.QuoteMeta(ab) + `\b`), c.ID})
		}
		for _, b := range c.Brands {
			if w := strings.ToLower(b.Name); latinWord.MatchString(w) {
				a.unstemmed[w] = true
			} else if hasHan(w) {
				a.whole[w] = true
			}
		}
	}
	a.seg.SkipLog = true
	if err := a.seg.LoadDictEmbed("zh_s"); err != nil {
		return nil, err
	}
	simp, err := newSimplifier()
	if err != nil {
		return nil, err
	}
	a.simp = simp
	words := slices.Clone(v.Words)
	for _, c := range v.Concepts {
		for _, name := range c.Names() {
			if hasHan(name) {
				words = append(words, strings.ToLower(norm.NFKC.String(name)))
			}
		}
	}
	for _, w := range words {
		// Every Chinese name is one word of the lexicon: the segmenter
		// emits it whole besides its parts.
		if err := a.seg.AddToken(w, 2000, "n"); err != nil {
			return nil, err
		}
	}
	for _, c := range v.Concepts {
		a.ancestors[c.ID] = v.Ancestors(c.ID)
		for _, name := range c.Names() {
			// A name maps to its concept only when all its terms occur in
			// order. Analysis drops one-letter words, so a name with one
			// ("x ray") would match far too much; refuse it.
			normalised := joinCompounds(strings.ToLower(norm.NFKC.String(name)))
			for _, f := range strings.FieldsFunc(normalised, func(r rune) bool { return !isWordRune(r) }) {
				if len(f) == 1 && !unicode.IsDigit(rune(f[0])) && !hasHan(f) && !enStop[f] {
					return nil, fmt.Errorf("analysis: the name %q of concept %s has the one-letter word %q, which analysis drops", name, c.ID, f)
				}
			}
			terms := a.Words(name)
			if len(terms) == 0 {
				return nil, fmt.Errorf("analysis: the name %q of concept %s has only stop words", name, c.ID)
			}
			// Two names that analyse to the same terms ("ache" and "aches",
			// "needle" and "no needles") would leave the terms to whichever
			// concept came last.
			key := strings.Join(terms, " ")
			if other, ok := a.concepts[key]; ok && other != c.ID {
				return nil, fmt.Errorf("analysis: the name %q of concept %s analyses to %q, which concept %s's name does too", name, c.ID, key, other)
			}
			a.concepts[key] = c.ID
			a.longest = max(a.longest, len(terms))
			if hasHan(name) {
				a.concepts[strings.ToLower(norm.NFKC.String(name))] = c.ID
			}
		}
	}
	a.fuzzy = newFuzzyIndex(v)
	a.localWords = map[string]bool{ConceptTerm(LocalConcept): true}
	if c, ok := v.Concept(LocalConcept); ok {
		for _, name := range c.Names() {
			for _, t := range a.Terms(name) {
				if !strings.HasPrefix(t, conceptPrefix) {
					a.localWords[t] = true
				}
			}
		}
	}
	return a, nil
}

// LocalTerms reports whether a question's terms name the hospital ("本院",
// "our protocol": the concept "local"), and returns the terms without the
// words that did, so that a search of the hospital's documents matches on
// what the question is about rather than on "本院".
func (a *Analyzer) LocalTerms(terms []string) (bool, []string) {
	if !slices.Contains(terms, ConceptTerm(LocalConcept)) {
		return false, terms
	}
	rest := make([]string, 0, len(terms))
	for _, t := range terms {
		if !a.localWords[t] {
			rest = append(rest, t)
		}
	}
	return true, rest
}

// Vocabulary is the concept table the Analyzer maps text to.
func (a *Analyzer) Vocabulary() *Vocabulary { return a.vocab }

// Concepts returns the concepts named in terms (names as long as the
// longest), with counts, each with its broader concepts: "Fosamax" is
// alendronate, a bisphosphonate, an antiresorptive and an osteoporosis
// drug. Chinese and English names of one idea share a concept ID. The
// lexical index and the built-in embedder use these.
func (a *Analyzer) Concepts(terms []string) map[string]int {
	return a.find(terms, true)
}

func (a *Analyzer) find(terms []string, broader bool) map[string]int {
	found := map[string]int{}
	for i := range terms {
		for n := 1; n <= a.longest && i+n <= len(terms); n++ {
			if id, ok := a.concepts[strings.Join(terms[i:i+n], " ")]; ok {
				found[id]++
				if broader {
					for _, b := range a.ancestors[id] {
						found[b]++
					}
				}
			}
		}
	}
	return found
}

// Generic reports whether a concept is too broad to show that a text is
// in the domain (unknown concepts count as generic).
func (a *Analyzer) Generic(id string) bool {
	c, ok := a.vocab.Concept(id)
	return !ok || c.Generic
}

// ConceptName returns a concept's name in lang (zh or en), for showing
// which concept a text was matched by.
func (a *Analyzer) ConceptName(id, lang string) string { return a.vocab.Name(id, lang) }

// DomainConcepts returns the specific (not generic) concepts that text
// names, in no particular order, without their broader concepts: two texts
// share a domain concept only when they name the same thing (a protocol on
// zoledronic acid is not thereby about every bisphosphonate).
func (a *Analyzer) DomainConcepts(text string) []string {
	var out []string
	for id := range a.find(a.Words(text), false) {
		if c, ok := a.vocab.Concept(id); ok && !c.Generic {
			out = append(out, id)
		}
	}
	return out
}

// Named returns every concept text names, generic ones included (exercise,
// warfarin), without their broader concepts, sorted: what a plan says, for
// grading it, where DomainConcepts is what places a text in the domain.
func (a *Analyzer) Named(text string) []string {
	var out []string
	for id := range a.find(a.Words(text), false) {
		out = append(out, id)
	}
	out = append(out, a.casedConcepts(text)...)
	// A student misspells as a patient does: "enoxaprin" (fuzzy.go).
	out = append(out, a.fuzzyConcepts(text)...)
	slices.Sort(out)
	return slices.Compact(out)
}

// NamedLongest is Named reading names longest first, so that a name inside
// a longer one does not count apart: "drug holiday" and 药物假期 name the
// holiday, not a medication too. It reads the concepts' phrases as well
// ("tablets for osteopenia" names an osteoporosis drug), as questions are
// read. Sorted, each once.
func (a *Analyzer) NamedLongest(text string) []string {
	out := append(a.longestNames(a.Words(text)), a.casedConcepts(text)...)
	out = append(out, a.phraseConcepts(text)...)
	out = append(out, a.fuzzyConcepts(text)...)
	slices.Sort(out)
	return slices.Compact(out)
}

// NamedUnder returns the concepts text names that are, or fall under, one
// of roots (generic ones included: warfarin is an anticoagulant however
// broad), keeping only the most specific: "a bisphosphonate such as
// zoledronic acid" names one drug, not two. Sorted.
func (a *Analyzer) NamedUnder(text string, roots []string) []string {
	var named []string
	for _, id := range append(a.longestNames(a.Words(text)), a.fuzzyConcepts(text)...) {
		if slices.Contains(named, id) {
			continue
		}
		if slices.Contains(roots, id) || slices.ContainsFunc(a.ancestors[id], func(b string) bool { return slices.Contains(roots, b) }) {
			named = append(named, id)
		}
	}
	var out []string
	for _, id := range named {
		broader := false
		for _, other := range named {
			broader = broader || (other != id && a.IsA(other, id))
		}
		if !broader {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// longestNames returns the concepts terms name, reading left to right and
// taking at each place the longest name that starts there, so that a name
// inside a longer one ("heparin" in "low molecular weight heparin") does
// not count apart.
func (a *Analyzer) longestNames(terms []string) []string {
	var out []string
	for i := 0; i < len(terms); {
		n := 0
		var id string
		for m := min(a.longest, len(terms)-i); m >= 1; m-- {
			if c, ok := a.concepts[strings.Join(terms[i:i+m], " ")]; ok {
				n, id = m, c
				break
			}
		}
		if n == 0 {
			i++
			continue
		}
		out = append(out, id)
		i += n
	}
	return out
}

// ConceptKind returns a concept's kind (drug, condition, finding, ...),
// "" for an unknown ID.
func (a *Analyzer) ConceptKind(id string) string {
	if c, ok := a.vocab.Concept(id); ok {
		return c.Kind
	}
	return ""
}

// IsA reports whether concept id is ancestor or falls under it.
func (a *Analyzer) IsA(id, ancestor string) bool {
	return id == ancestor || slices.Contains(a.ancestors[id], ancestor)
}

// compounds join clinical terms that contain a one-letter word, which
// analysis would otherwise drop: "T-score" would match any "score" and
// "vitamin D" any "vitamin".
var compounds = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\b([tz])[- ]?scores?\b`), "${1}score"},
	{regexp.MustCompile(`\b25\s*\(?\s*oh\s*\)?\s*d\d?\b`), "25ohd"},
	{regexp.MustCompile(`\b25-hydroxyvitamin[- ]?d\d?\b`), "25ohd"},
	{regexp.MustCompile(`\bvitam(?:in|ine|en)[- ]?d\d?\b`), "vitamind"}, // and two common misspellings
	{regexp.MustCompile(`\bx[- ]?rays?\b`), "xray"},
	{regexp.MustCompile(`\bvit\.?[- ]?d\d?\b`), "vitamind"},
	{regexp.MustCompile(`\bvitamin[- ]?k\b`), "vitamink"},
	{regexp.MustCompile(`\bk[- ]?lines?\b`), "kline"},
	{regexp.MustCompile(`\bd[- ]?dimers?\b`), "ddimer"},
	{regexp.MustCompile(`\bplus[- ]d\b`), "plusd"}, // Fosamax Plus D
}

// joinCompounds rewrites lower-case text so compounds are single words.
func joinCompounds(text string) string {
	for _, c := range compounds {
		text = c.re.ReplaceAllString(text, c.with)
	}
	return text
}

var (
	shared     *Analyzer
	sharedErr  error
	sharedOnce sync.Once
)

// Shared returns one Analyzer per process. Loading the dictionary is the
// slow part, and the Analyzer holds no per-caller state, so tests and the
// command share it.
func Shared() (*Analyzer, error) {
	sharedOnce.Do(func() { shared, sharedErr = New() })
	return shared, sharedErr
}

// Terms returns the index terms of text, in order, repeats kept: the
// words, then each Chinese character on its own. Single characters let a
// query word such as 钙 match text the segmenter cut differently (元素钙);
// BM25's inverse document frequency keeps common characters cheap.
func (a *Analyzer) Terms(text string) []string {
	// Long texts are a corpus's entries and labelled questions, analysed
	// again on every start of a process that opens the corpus; their terms
	// are remembered (a copy is returned, so callers may append).
	if len(text) >= termsCacheMin {
		if t, ok := a.termsCache.get(text); ok {
			return slices.Clone(t)
		}
		t := a.terms(text)
		a.termsCache.put(text, t)
		return slices.Clone(t)
	}
	return a.terms(text)
}

// Texts at least termsCacheMin bytes long have their terms remembered, up
// to termsCacheCap of them; past it the cache starts again.
const (
	termsCacheMin = 256
	termsCacheCap = 20_000
)

func (a *Analyzer) terms(text string) []string {
	text = a.simp.simplify(text)
	words := a.Words(text)
	// Concepts are terms too, so that a query word matches its synonyms in
	// either language (福善美 finds alendronate, "brittle bones" finds
	// osteoporosis), not only through the dense ranking.
	for id, n := range a.Concepts(words) {
		for range n {
			words = append(words, ConceptTerm(id))
		}
	}
	for _, id := range a.casedConcepts(text) {
		words = append(words, ConceptTerm(id))
		for _, b := range a.ancestors[id] {
			words = append(words, ConceptTerm(b))
		}
	}
	for _, run := range HanRuns(strings.ToLower(text)) {
		for _, r := range run {
			if c := string(r); !zhStop[c] {
				words = append(words, c)
			}
		}
	}
	return words
}

// TopicTerms returns the concept terms (with broader concepts) of a
// chunk's topic tags: the concept the vocabulary maps a tag to, or else
// the concepts the tag's own words name ("vertebral-fracture",
// "very-high-risk"). A tag is the corpus's statement of what an entry is
// about, whether or not its text uses a concept's name.
func (a *Analyzer) TopicTerms(topics []string) []string {
	var out []string
	for _, t := range topics {
		if id, ok := a.vocab.TopicConcept(t); ok {
			out = append(out, ConceptTerm(id))
			for _, b := range a.ancestors[id] {
				out = append(out, ConceptTerm(b))
			}
			continue
		}
		for id, n := range a.find(a.Words(strings.ReplaceAll(t, "-", " ")), true) {
			for range n {
				out = append(out, ConceptTerm(id))
			}
		}
	}
	return out
}

// conceptPrefix starts every concept term.
const conceptPrefix = "§"

// ConceptTerm is the lexical term that stands for a concept. Its
// prefix cannot occur in analysed text, which keeps only letters and digits.
func ConceptTerm(id string) string { return conceptPrefix + id }

// Words returns the segmented and stemmed words of text, without the
// single characters Terms adds: the embedder and concept matching use these.
func (a *Analyzer) Words(text string) []string {
	text = strings.ToLower(a.simp.simplify(norm.NFKC.String(text)))
	text = joinCompounds(text)
	var out []string
	for _, tok := range a.seg.CutSearch(text, true) {
		tok = strings.TrimFunc(tok, func(r rune) bool { return !isWordRune(r) })
		if tok == "" {
			continue
		}
		if hasHan(tok) {
			// The search cut lists a word's inner words just before it:
			// a brand keeps none of them.
			for a.whole[tok] && len(out) > 0 && out[len(out)-1] != tok && strings.Contains(tok, out[len(out)-1]) {
				out = out[:len(out)-1]
			}
			if !zhStop[tok] {
				out = append(out, tok)
			}
			continue
		}
		for _, w := range strings.FieldsFunc(tok, func(r rune) bool { return !isWordRune(r) }) {
			if enStop[w] || (len(w) == 1 && !unicode.IsDigit(rune(w[0]))) {
				continue
			}
			if a.unstemmed[w] {
				out = append(out, w)
				continue
			}
			out = append(out, english.Stem(w, false))
		}
	}
	return out
}

// HanRuns returns the maximal runs of Han characters in text; the embedder
// takes character bigrams from them so that it does not depend on one
// segmentation.
func HanRuns(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return !unicode.Is(unicode.Han, r) })
}

// DetectLang returns "zh", "en" or the ISO 639-1 code that whatlanggo finds.
// Text with a large share of Han characters is Chinese whatever the rest.
func DetectLang(text string) string {
	han, letters := scripts(text)
	if han == 0 && letters == 0 {
		return "und"
	}
	if chinese(text) {
		return "zh"
	}
	info := whatlanggo.Detect(text)
	if code := info.Lang.Iso6391(); code != "" && info.IsReliable() {
		return code
	}
	return "en"
}

// scripts counts text's Han characters and its other letters.
func scripts(text string) (han, letters int) {
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
		case unicode.IsLetter(r):
			letters++
		}
	}
	return han, letters
}

// chinese reports whether text has a large share of Han characters, which
// makes it Chinese whatever the rest: a Han character carries about as
// much as a short English word.
func chinese(text string) bool {
	han, letters := scripts(text)
	return han > 0 && han*4 >= letters
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
