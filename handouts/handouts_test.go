package handouts

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/guidelines"
)

func corpus(t *testing.T) *guidelines.Corpus {
	t.Helper()
	c, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func set(t *testing.T) *Set {
	t.Helper()
	s, err := Load(corpus(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every template sentence rests on entries that exist and are current
// (Load checks it; this shows it holds for the shipped file), and a file
// breaking any rule is refused, naming the field.
func TestTemplates(t *testing.T) {
	s := set(t)
	if got := strings.Join(s.Topics(), ","); got != "osteoporosis,vte" {
		t.Errorf("topics %s", got)
	}
	c := corpus(t)
	for _, topic := range s.Topics() {
		tm, _ := s.Template(topic)
		n := 0
		for _, sec := range tm.Sections {
			for _, sn := range sec.Sentences {
				n++
				for _, id := range sn.Entries {
					if e, ok := c.Get(id); !ok || e.SupersededBy != "" {
						t.Errorf("%s: %q rests on %s, not a current entry", topic, sn.EN, id)
					}
				}
			}
		}
		if n < 5 {
			t.Errorf("%s: %d sentences", topic, n)
		}
	}
	common, _ := data.ReadFile("data/common-chars-3500.txt")
	good, _ := data.ReadFile("data/templates.yaml")
	for name, tc := range map[string]struct{ from, to, field string }{
		"unknown entry":   {"[aaos-2011-prophylaxis]", "[aaos-2011-no-such]", "templates/0/sections/0/sentences/0/entries"},
		"no entries":      {"entries: [aaos-2011-prophylaxis]", "entries: []", "templates/0/sections/0/sentences/0/entries"},
		"missing zh":      {"zh: 预防通常至少持续10到14天。", "zh: ''", "templates/0/sections/0/sentences/2"},
		"unknown kind":    {"kind: why", "kind: because", "templates/0/sections/1/kind"},
		"unknown field":   {"  - topic: vte\n", "  - topic: vte\n    colour: red\n", "colour"},
		"duplicate topic": {"topic: osteoporosis", "topic: vte", "templates/1/topic"},
	} {
		b := bytes.Replace(good, []byte(tc.from), []byte(tc.to), 1)
		if bytes.Equal(b, good) {
			t.Fatalf("%s: nothing replaced", name)
		}
		_, err := LoadFS(fstest.MapFS{"data/templates.yaml": {Data: b}, "data/common-chars-3500.txt": {Data: common}}, c)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: %v, want an error naming %s", name, err, tc.field)
		}
	}
}

// A superseded entry cannot carry a sentence.
func TestTemplateRefusesSuperseded(t *testing.T) {
	c := corpus(t)
	var old string
	for _, e := range c.Entries {
		if e.SupersededBy != "" {
			old = e.ID
			break
		}
	}
	if old == "" {
		t.Skip("the corpus has no superseded entry")
	}
	good, _ := data.ReadFile("data/templates.yaml")
	common, _ := data.ReadFile("data/common-chars-3500.txt")
	b := bytes.Replace(good, []byte("[aaos-2011-prophylaxis]"), []byte("["+old+"]"), 1)
	if _, err := LoadFS(fstest.MapFS{"data/templates.yaml": {Data: b}, "data/common-chars-3500.txt": {Data: common}}, c); err == nil || !strings.Contains(err.Error(), "superseded") {
		t.Errorf("a superseded entry: %v", err)
	}
}

func ptr(v float64) *float64 { return &v }

// A handout for a card says only what the card's entries say, numbers
// its notes in order of first use, and draws the risk as people.
func TestBuild(t *testing.T) {
	s := set(t)
	dmab := []string{"ects-2017-denosumab-transition", "ects-2017-denosumab-rebound", "endo-2019-denosumab-no-stop", "nogg-2022-denosumab-stop"}
	h, err := s.Build(Request{Topic: "osteoporosis", Lang: "both", Entries: dmab})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Langs) != 2 || h.Langs[0].Lang != "zh" || h.Langs[1].Lang != "en" {
		t.Fatalf("pages %+v", h.Langs)
	}
	for i, n := range h.Notes {
		if n.N != i+1 || !contains(dmab, n.EntryID) {
			t.Errorf("note %+v: not numbered in order or not among the card's entries", n)
		}
	}
	for _, pg := range h.Langs {
		for _, sec := range pg.Sections {
			for _, sn := range sec.Sentences {
				if len(sn.Notes) == 0 {
					t.Errorf("%s: %q has no note", pg.Lang, sn.Text)
				}
			}
		}
	}
	// The VTE card with its risk: 12.3% is 12 filled figures of 100.
	vte := []string{"zhang-2015-vte-risk-factors", "xu-2019-dvt-risk", "wang-2023-ml-vs-caprini"}
	h, err = s.Build(Request{Topic: "vte", Lang: "en", Entries: vte, Predictor: "vte-arthroplasty", Probability: ptr(0.123)})
	if err != nil {
		t.Fatal(err)
	}
	r := h.Langs[0].Risk
	if r == nil || r.Affected != 12 || strings.Count(r.SVG, `class="person affected"`) != 12 || strings.Count(r.SVG, `class="person`) != 100 ||
		!strings.Contains(r.Sentence, "about 12 would have this") || !strings.Contains(r.SVG, "<desc") {
		t.Errorf("risk picture: %+v", r)
	}
	for _, sec := range h.Langs[0].Sections {
		if sec.Kind == "recommend" {
			t.Errorf("sentences beyond the card's entries: %+v", sec)
		}
	}
	h, _ = s.Build(Request{Topic: "vte", Lang: "zh", Predictor: "vte-arthroplasty", Probability: ptr(0.004)})
	if r := h.Langs[0].Risk; r.Affected != 0 || !strings.Contains(r.Sentence, "不到1人") {
		t.Errorf("0.4%%: %+v", r.Sentence)
	}
	var buf bytes.Buffer
	if err := Render(&buf, h); err != nil || !strings.Contains(buf.String(), `data-affected="0"`) || !strings.Contains(buf.String(), "<sup") {
		t.Errorf("render: %v", err)
	}
}

// Bad input names the field.
func TestBuildBadInput(t *testing.T) {
	s := set(t)
	for _, tc := range []struct {
		r     Request
		field string
	}{
		{Request{Topic: "knitting"}, "topic"},
		{Request{Topic: "vte", Lang: "fr"}, "lang"},
		{Request{Topic: "vte", Predictor: "vte-arthroplasty", Probability: ptr(1.5)}, "probability"},
		{Request{Topic: "vte", Predictor: "vte-arthroplasty"}, "probability"},
		{Request{Topic: "vte", Probability: ptr(0.1)}, "predictor"},
		{Request{Topic: "vte", Predictor: "no-such", Probability: ptr(0.1)}, "predictor"},
		{Request{Topic: "vte", Entries: []string{"ects-2017-denosumab-rebound"}}, "entries"},
	} {
		_, err := s.Build(tc.r)
		var oe *orthocds.Error
		if !errors.As(err, &oe) || oe.Field != tc.field {
			t.Errorf("%+v: %v, want an error naming %s", tc.r, err, tc.field)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Reading level on fixed texts, against counts worked by hand.
//
// "The cat sat on the mat. It was a sunny day." has 2 sentences and 11
// words; every word has one syllable except "sunny" (two), so 12
// syllables: 0.39 x 11/2 + 11.8 x 12/11 - 15.59 = 2.145 + 12.873 - 15.59
// = -0.57.
//
// "Prophylaxis reduces thromboembolism." has 1 sentence, 3 words; by the
// rule "prophylaxis" has 4 vowel groups (o, y, a, i), "reduces" 3 (e, u,
// e), "thromboembolism" 4 (o, oe, o, i): 11 syllables, so 0.39 x 3 + 11.8
// x 11/3 - 15.59 = 1.17 + 43.267 - 15.59 = 28.85, far above target.
//
// "我们今天去看医生。医生说要多走路。" has 2 sentences of 8 and 7 Han
// characters (mean 7.5), all common; "双膦酸盐。" adds a sentence of 4 of
// which 膦 is not among the 3,500: 19 characters, 18 common, mean 19/3.
func TestReadability(t *testing.T) {
	s := set(t)
	for _, tc := range []struct {
		text, lang             string
		grade, mean, share     float64
		sentences, words, syll int
		above                  bool
	}{
		{"The cat sat on the mat. It was a sunny day.", "en", -0.57, 0, 0, 2, 11, 12, false},
		{"Prophylaxis reduces thromboembolism.", "en", 28.85, 0, 0, 1, 3, 11, true},
		{"我们今天去看医生。医生说要多走路。", "zh", 0, 7.5, 1, 2, 0, 0, false},
		{"我们今天去看医生。医生说要多走路。双膦酸盐。", "zh", 0, 6.33, 0.95, 3, 0, 0, false},
	} {
		r := s.Measure(tc.text, tc.lang)
		if r.Grade != tc.grade || r.MeanSentenceChars != tc.mean || r.CommonShare != tc.share || r.Sentences != tc.sentences ||
			r.Words != tc.words || r.Syllables != tc.syll || r.AboveTarget != tc.above {
			t.Errorf("%q: %+v", tc.text, r)
		}
	}
	// The shipped templates, as whole handouts, are measured; print them.
	for _, topic := range s.Topics() {
		for _, lang := range []string{"en", "zh"} {
			h, _ := s.Build(Request{Topic: topic, Lang: lang})
			t.Logf("%s %s: %+v", topic, lang, h.Langs[0].Readability)
		}
	}
}

// An answer's citations find the handout that covers them (topic auto).
func TestAutoTopic(t *testing.T) {
	s := set(t)
	h, err := s.Build(Request{Topic: Auto, Lang: "en", Entries: []string{"aaos-2011-prophylaxis", "accp-2012-tha-tka-agents", "csobmr-2022-osta"}})
	if err != nil || h.Topic != "vte" || len(h.Notes) != 2 {
		t.Fatalf("%v %+v", err, h)
	}
	for _, r := range []Request{{Topic: Auto}, {Topic: Auto, Entries: []string{"csobmr-2022-osta"}}} {
		var oe *orthocds.Error
		if _, err := s.Build(r); !errors.As(err, &oe) || oe.Field != "entries" {
			t.Errorf("%+v: %v", r, err)
		}
	}
}
