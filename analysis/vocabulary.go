package analysis

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/internal/yamlx"
)

//go:embed data/concepts.yaml data/sources.yaml data/lexicon.yaml data/negation.yaml
var dataFS embed.FS

// Embedded returns the shipped vocabulary files (data/concepts.yaml,
// data/sources.yaml, data/lexicon.yaml).
func Embedded() fs.FS {
	sub, err := fs.Sub(dataFS, "data")
	if err != nil {
		panic(err) // the embedded tree always has data/
	}
	return sub
}

// Concept kinds.
var conceptKinds = []string{"drug", "drug-class", "test", "procedure", "condition", "finding", "score", "device", "topic", "body"}

// Markets a brand may be sold in: mainland China, Hong Kong, Taiwan, the
// United States, the United Kingdom and the European Union.
var markets = []string{"CN", "HK", "TW", "US", "UK", "EU"}

// Concept is one clinical idea with every name it goes by.
type Concept struct {
	ID      string   `yaml:"id"`
	Kind    string   `yaml:"kind"`
	Broader []string `yaml:"broader"`
	// Generic concepts are too broad to show that a text is in the domain
	// ("treatment", "治疗").
	Generic bool     `yaml:"generic"`
	En      []string `yaml:"en"`
	Zh      []string `yaml:"zh"`
	Abbr    []string `yaml:"abbr"`
	// AbbrCased are abbreviations that name the concept only as written,
	// in capitals: OP is osteoporosis, "op" an operation.
	AbbrCased    []string `yaml:"abbr_cased"`
	Lay          LayNames `yaml:"lay"`
	Misspellings []string `yaml:"misspellings"`
	Brands       []Brand  `yaml:"brands"`
	// UnconfirmedMarkets are markets where no brand name has been
	// confirmed from a source: the drug may be sold there under one, or
	// not sold there at all, and no source found says which.
	UnconfirmedMarkets []string `yaml:"unconfirmed_markets"`
	// NotSoldIn are markets where the drug is not on sale.
	NotSoldIn []string `yaml:"not_sold_in"`
	// GenericOnly drugs are known to patients by their generic name.
	GenericOnly bool `yaml:"generic_only"`
	// Topics are the corpus's topic tags that stand for this concept: an
	// entry tagged drug-holiday is about the holiday concept whatever its
	// wording.
	Topics []string `yaml:"topics"`
	// Phrases are wordings of the concept that no fixed name covers,
	// as regular expressions (RE2, case-insensitive, on NFKC text): "a
	// fracture that's 2 years old", "the dentist wants to do implants".
	// A question that matches one names the concept (analysis.QueryTerms;
	// guideline entries and documents are read by their names only).
	Phrases []string `yaml:"phrases"`
}

// LayNames are everyday words for a concept, per language.
type LayNames struct {
	En []string `yaml:"en"`
	Zh []string `yaml:"zh"`
}

// Brand is a trade name in the markets it is sold in, with its source.
type Brand struct {
	Name    string   `yaml:"name"`
	Markets []string `yaml:"markets"`
	Source  string   `yaml:"source"`
	// GenericName says the source's label gives the generic name as the
	// trade name: in those markets the drug is sold by that name.
	GenericName bool `yaml:"generic_name"`
	// Combination names what else the product holds when the brand is a
	// fixed combination (Duavee is conjugated estrogens with bazedoxifene).
	Combination string `yaml:"combination"`
}

// Source is where brand names were checked.
type Source struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	URL   string `yaml:"url"`
	// Seen is the date a page naming the brand was read; empty for a
	// regulator's database that is yet to be checked.
	Seen string `yaml:"seen"`
}

// Names returns every name of the concept: clinical names in both
// languages, abbreviations, lay words, misspellings and brands.
func (c *Concept) Names() []string {
	out := slices.Concat(c.En, c.Zh, c.Abbr, c.Lay.En, c.Lay.Zh, c.Misspellings)
	for _, b := range c.Brands {
		out = append(out, b.Name)
	}
	return out
}

// Vocabulary is the validated concept table, its sources and the
// segmenter's extra words.
type Vocabulary struct {
	Concepts []Concept
	Sources  []Source
	// Words are Chinese words added to the segmenter besides every Chinese
	// concept name.
	Words   []string
	byID    map[string]*Concept
	byTopic map[string]string
	phrases []phrase
}

// TopicConcept returns the concept a corpus topic tag stands for.
func (v *Vocabulary) TopicConcept(topic string) (string, bool) {
	id, ok := v.byTopic[topic]
	return id, ok
}

// Concept returns the concept with id.
func (v *Vocabulary) Concept(id string) (*Concept, bool) {
	c, ok := v.byID[id]
	return c, ok
}

// LoadVocabulary reads concepts.yaml, sources.yaml and lexicon.yaml from
// fsys and validates them; errors name the file and the field.
func LoadVocabulary(fsys fs.FS) (*Vocabulary, error) {
	var cf struct {
		Concepts []Concept `yaml:"concepts"`
	}
	var sf struct {
		Sources []Source `yaml:"sources"`
	}
	var lf struct {
		Words []string `yaml:"words"`
	}
	for name, v := range map[string]any{"concepts.yaml": &cf, "sources.yaml": &sf, "lexicon.yaml": &lf} {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		if err := yamlx.UnmarshalStrict(b, v); err != nil {
			return nil, orthocds.Invalid(name, "%v", err)
		}
	}
	v := &Vocabulary{Concepts: cf.Concepts, Sources: sf.Sources, Words: lf.Words, byID: map[string]*Concept{}, byTopic: map[string]string{}}
	if err := v.validate(); err != nil {
		return nil, err
	}
	return v, nil
}

// casedAbbr is the form of a case-sensitive abbreviation.
var casedAbbr = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,4}$`)

func (v *Vocabulary) validate() error {
	sources := map[string]bool{}
	for i, s := range v.Sources {
		f := fmt.Sprintf("sources.yaml/sources/%d", i)
		switch {
		case s.ID == "" || sources[s.ID]:
			return orthocds.Invalid(f+"/id", "is empty or used twice (%q)", s.ID)
		case s.Title == "" || !strings.HasPrefix(s.URL, "http"):
			return orthocds.Invalid(f, "source %s needs a title and an http(s) url", s.ID)
		}
		sources[s.ID] = true
	}
	for i := range v.Concepts {
		c := &v.Concepts[i]
		if c.ID == "" || v.byID[c.ID] != nil {
			return orthocds.Invalid(fmt.Sprintf("concepts.yaml/concepts/%d/id", i), "is empty or used twice (%q)", c.ID)
		}
		v.byID[c.ID] = c
	}
	owner := map[string]string{} // normalised name -> concept
	for i := range v.Concepts {
		c := &v.Concepts[i]
		f := fmt.Sprintf("concepts.yaml/concepts/%d (%s)", i, c.ID)
		if !slices.Contains(conceptKinds, c.Kind) {
			return orthocds.Invalid(f+"/kind", "%q is not one of %s", c.Kind, strings.Join(conceptKinds, ", "))
		}
		if len(c.En)+len(c.Zh) == 0 {
			return orthocds.Invalid(f, "a concept needs a name in en or zh")
		}
		if c.Kind == "drug" && (len(c.En) == 0 || len(c.Zh) == 0) {
			return orthocds.Invalid(f, "a drug needs its names in both languages")
		}
		for j, a := range c.AbbrCased {
			if !casedAbbr.MatchString(a) {
				return orthocds.Invalid(fmt.Sprintf("%s/abbr_cased/%d", f, j), "%q is not two to five capitals or digits, starting with a capital", a)
			}
		}
		for _, b := range c.Broader {
			if v.byID[b] == nil || b == c.ID {
				return orthocds.Invalid(f+"/broader", "%q is not another concept", b)
			}
		}
		for j, b := range c.Brands {
			bf := fmt.Sprintf("%s/brands/%d", f, j)
			switch {
			case b.Name == "":
				return orthocds.Invalid(bf+"/name", "is required")
			case !sources[b.Source]:
				return orthocds.Invalid(bf+"/source", "%q is not in sources.yaml", b.Source)
			case len(b.Markets) == 0:
				return orthocds.Invalid(bf+"/markets", "names where the brand is sold")
			}
			for _, m := range b.Markets {
				if !slices.Contains(markets, m) {
					return orthocds.Invalid(bf+"/markets", "%q is not one of %s", m, strings.Join(markets, ", "))
				}
			}
		}
		for _, t := range c.Topics {
			if t == "" || v.byTopic[t] != "" {
				return orthocds.Invalid(f+"/topics", "topic %q is empty or claimed by concept %s too", t, v.byTopic[t])
			}
			v.byTopic[t] = c.ID
		}
		for j, p := range c.Phrases {
			ph, err := newPhrase(p, c.ID)
			if err != nil || p == "" || ph.re.MatchString("") {
				return orthocds.Invalid(fmt.Sprintf("%s/phrases/%d", f, j), "%q is not a regular expression that needs some text: %v", p, err)
			}
			v.phrases = append(v.phrases, ph)
		}
		for field, list := range map[string][]string{"unconfirmed_markets": c.UnconfirmedMarkets, "not_sold_in": c.NotSoldIn} {
			for _, m := range list {
				if !slices.Contains(markets, m) {
					return orthocds.Invalid(f+"/"+field, "%q is not one of %s", m, strings.Join(markets, ", "))
				}
			}
		}
		for _, name := range c.Names() {
			key := strings.ToLower(norm.NFKC.String(strings.TrimSpace(name)))
			if key == "" {
				return orthocds.Invalid(f, "has an empty name")
			}
			if other, ok := owner[key]; ok && other != c.ID {
				return orthocds.Invalid(f, "the name %q belongs to concept %s too", name, other)
			}
			owner[key] = c.ID
		}
	}
	if cycle := v.cycle(); cycle != "" {
		return orthocds.Invalid("concepts.yaml", "broader concepts form a cycle through %s", cycle)
	}
	for i, w := range v.Words {
		if !hasHan(w) {
			return orthocds.Invalid(fmt.Sprintf("lexicon.yaml/words/%d", i), "%q has no Chinese character", w)
		}
	}
	return nil
}

// cycle returns a concept on a cycle of broader links, or "".
func (v *Vocabulary) cycle() string {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var visit func(id string) bool
	visit = func(id string) bool {
		switch state[id] {
		case visiting:
			return true
		case done:
			return false
		}
		state[id] = visiting
		for _, b := range v.byID[id].Broader {
			if visit(b) {
				return true
			}
		}
		state[id] = done
		return false
	}
	for _, c := range v.Concepts {
		if visit(c.ID) {
			return c.ID
		}
	}
	return ""
}

// Ancestors returns id's broader concepts, transitively, without id.
func (v *Vocabulary) Ancestors(id string) []string {
	var out []string
	var walk func(string)
	walk = func(x string) {
		for _, b := range v.byID[x].Broader {
			if !slices.Contains(out, b) {
				out = append(out, b)
				walk(b)
			}
		}
	}
	if _, ok := v.byID[id]; ok {
		walk(id)
	}
	return out
}

// Name returns the concept's first name in lang (zh or en), falling back
// to the other language and then the ID.
func (v *Vocabulary) Name(id, lang string) string {
	c, ok := v.byID[id]
	if !ok {
		return id
	}
	first, second := c.En, c.Zh
	if lang == "zh" {
		first, second = c.Zh, c.En
	}
	if len(first) > 0 {
		return first[0]
	}
	if len(second) > 0 {
		return second[0]
	}
	return id
}
