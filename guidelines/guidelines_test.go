package guidelines

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/orthocds/orthocds"
)

func TestEmbeddedCorpus(t *testing.T) {
	c, err := Load(Embedded())
	if err != nil {
		t.Fatalf("embedded corpus does not load: %v", err)
	}
	if n := len(c.Entries); n < 40 {
		t.Errorf("corpus has %d entries, want at least 40", n)
	}
	perDomain := map[string]int{}
	for _, e := range c.Entries {
		perDomain[e.Domain]++
		d := e.Document()
		if len(d.Chunks) != 1 || !strings.Contains(d.Chunks[0].Text, e.Text.ZH) || !strings.Contains(d.Chunks[0].Text, e.Text.EN) {
			t.Errorf("%s: chunk does not carry both languages", e.ID)
		}
		if e.Source.DOI == "" && e.Source.URL == "" {
			t.Errorf("%s: no DOI or URL", e.ID)
		}
	}
	for _, d := range Domains {
		if perDomain[d] < 3 {
			t.Errorf("domain %s has %d entries, want at least 3", d, perDomain[d])
		}
	}
}

const goodFile = `source:
  key: T
  body: Test body
  title: Test guideline
  year: 2020
  reference: Test ref
  doi: 10.1/x
  grading: none
entries:
  - id: t-1
    section: "1"
    domain: vte
    topics: [prophylaxis]
    population: {en: adults, zh: 成人}
    title: {en: Title, zh: 标题}
    text: {en: Text, zh: 正文}
    grade: {status: stated, strength: Strong}
    verified: {against: full-text, via: "https://example.org/t", where: rec 1, checked: "2026-12-04", grade: Strong}
`

func TestBadFiles(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(string) string
		wantField string
	}{
		{"missing source body", func(s string) string { return strings.Replace(s, "  body: Test body\n", "", 1) }, "bad.yaml: source.body"},
		{"no source at all", func(s string) string { return s[strings.Index(s, "entries:"):] }, "bad.yaml: source."},
		{"no doi or url", func(s string) string { return strings.Replace(s, "  doi: 10.1/x\n", "", 1) }, "bad.yaml: source.doi"},
		{"missing chinese text", func(s string) string { return strings.Replace(s, "zh: 正文", "zh: ''", 1) }, "bad.yaml: entries[0] (t-1).text.zh"},
		{"unknown field", func(s string) string { return strings.Replace(s, "  year: 2020\n", "  year: 2020\n  yaer: 1\n", 1) }, "bad.yaml"},
		{"bad grade status", func(s string) string { return strings.Replace(s, "status: stated", "status: high", 1) }, "bad.yaml: entries[0] (t-1).grade.status"},
		{"unverified grade with value", func(s string) string {
			return strings.Replace(s, "status: stated", "status: not-verified, note: x", 1)
		}, "bad.yaml: entries[0] (t-1).grade"},
		{"stated, record removed", func(s string) string {
			return s[:strings.Index(s, "    verified:")]
		}, "bad.yaml: entries[0] (t-1).verified"},
		{"a number the record does not trace", func(s string) string {
			return strings.Replace(s, "en: Text,", "en: Text for 12 days,", 1)
		}, "bad.yaml: entries[0] (t-1).verified.numbers"},
		{"a Chinese number the record does not trace", func(s string) string {
			return strings.Replace(s, "zh: 正文", "zh: 正文14天", 1)
		}, "bad.yaml: entries[0] (t-1).verified.numbers"},
		{"a traced item without its meaning", func(s string) string {
			return strings.Replace(strings.Replace(s, "en: Text,", "en: Text for 12 days,", 1), "grade: Strong}", "grade: Strong, numbers: [\"12\"]}", 1)
		}, "bad.yaml: entries[0] (t-1).verified.numbers[0]"},
		{"a record on a not-verified entry", func(s string) string {
			return strings.Replace(s, "{status: stated, strength: Strong}", "{status: not-verified, note: x}", 1)
		}, "bad.yaml: entries[0] (t-1).grade.status"},
		{"a record giving a grade the entry says is not given", func(s string) string {
			return strings.Replace(s, "{status: stated, strength: Strong}", "{status: not-graded, note: x}", 1)
		}, "bad.yaml: entries[0] (t-1).verified.grade"},
		{"a check date that is not a date", func(s string) string {
			return strings.Replace(s, `checked: "2026-12-04"`, "checked: last week", 1)
		}, "bad.yaml: entries[0] (t-1).verified.checked"},
		{"unknown kind of source read", func(s string) string {
			return strings.Replace(s, "against: full-text", "against: memory", 1)
		}, "bad.yaml: entries[0] (t-1).verified.against"},
		{"bad domain", func(s string) string { return strings.Replace(s, "domain: vte", "domain: cardiology", 1) }, "bad.yaml: entries[0] (t-1).domain"},
		{"dangling superseded_by", func(s string) string {
			return s + "    superseded_by: t-9\n"
		}, "bad.yaml: entries[t-1].superseded_by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"good.yaml": {Data: []byte(strings.ReplaceAll(goodFile, "t-1", "g-1"))},
				"bad.yaml": {Data: []byte(tt.edit(goodFile))}}
			_, err := Load(fsys)
			if err == nil {
				t.Fatal("Load accepted a bad file")
			}
			if orthocds.ErrorCode(err) != orthocds.EINVALID {
				t.Fatalf("error kind %q, want invalid: %v", orthocds.ErrorCode(err), err)
			}
			if !strings.HasPrefix(err.Error(), tt.wantField) {
				t.Errorf("error %q does not start with %q", err, tt.wantField)
			}
		})
	}
}

func TestSupersedes(t *testing.T) {
	old := strings.Replace(goodFile, "t-1", "t-old", 1) + "    superseded_by: t-new\n"
	newer := strings.Replace(strings.Replace(goodFile, "t-1", "t-new", 1), "key: T", "key: T2", 1) + "    supersedes: [t-old]\n"
	c, err := Load(fstest.MapFS{"a.yaml": {Data: []byte(old)}, "b.yaml": {Data: []byte(newer)}})
	if err != nil {
		t.Fatal(err)
	}
	o, _ := c.Get("t-old")
	if !o.Document().Chunks[0].Superseded {
		t.Error("an entry with superseded_by is not marked superseded")
	}
	n, _ := c.Get("t-new")
	if n.Document().Chunks[0].Superseded {
		t.Error("the current entry is marked superseded")
	}
}

func TestStats(t *testing.T) {
	c, err := Load(Embedded())
	if err != nil {
		t.Fatal(err)
	}
	s := c.Stats()
	var sum int
	for _, n := range s.ByDomain {
		sum += n
	}
	if sum != s.Entries || s.ByLang["en"] != s.Entries || s.ByLang["zh"] != s.Entries {
		t.Errorf("stats do not add up: %+v", s)
	}
	if len(s.Missing) != 0 {
		t.Errorf("entries missing fields: %v", s.Missing)
	}
	var accp int
	for _, e := range c.Entries {
		if e.Source.Key == "ACCP" {
			accp++
		}
	}
	if accp == 0 || s.BySource["ACCP 2012"] != accp {
		t.Errorf("ACCP 2012 entries: stats %d, corpus %d", s.BySource["ACCP 2012"], accp)
	}
}

func TestVerifyReport(t *testing.T) {
	traced := strings.NewReplacer("t-1", "t-traced", "en: Text,", "en: Give it for 10 to 14 days,",
		"grade: Strong}", `grade: Strong, numbers: ["10: lower end of the duration", "14: upper end"]}`).Replace(goodFile)
	second := strings.NewReplacer("t-1", "t-secondary", "key: T", "key: T2", "against: full-text", "against: secondary-summary").Replace(goodFile)
	unchecked := strings.NewReplacer("t-1", "t-unchecked", "key: T", "key: T3", "grading: none", "grading: none\n  unverified: full text not reachable",
		"{status: stated, strength: Strong}", "{status: not-verified, note: not checked}").Replace(goodFile)
	unchecked = unchecked[:strings.Index(unchecked, "    verified:")]
	c, err := Load(fstest.MapFS{"a.yaml": {Data: []byte(traced)}, "b.yaml": {Data: []byte(second)}, "c.yaml": {Data: []byte(unchecked)}})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Verify()
	if r.Entries != 3 || r.Verified != 1 || r.FullText != 1 || r.Stated != 2 || r.Secondary != 1 {
		t.Errorf("report: %d entries, %d verified, %d full text, %d secondary, %d stated; want 3, 1, 1, 1, 2", r.Entries, r.Verified, r.FullText, r.Secondary, r.Stated)
	}
	reasons := map[string]string{}
	for _, u := range r.Unverified {
		reasons[u.ID] = u.Reason
	}
	if !strings.Contains(reasons["t-secondary"], "third-party") || reasons["t-unchecked"] != "full text not reachable" || len(reasons) != 2 {
		t.Errorf("unverified reasons: %v", reasons)
	}
	var b strings.Builder
	r.Print(&b)
	if !strings.Contains(b.String(), "1 of 3 entries verified (33.3%)") || !strings.Contains(b.String(), "t-unchecked") {
		t.Errorf("printed report:\n%s", b.String())
	}
	for _, tt := range []struct{ id, lang, want string }{
		{"t-traced", "en", "T 2020: Strong"},
		{"t-secondary", "en", "T2 2020: Strong (from a third-party summary, not the source itself)"},
		{"t-unchecked", "en", "T3 2020: grade not yet checked against the source, so none is shown"},
		{"t-unchecked", "zh", "T3 2020：分级尚未与原文核对，不予显示"},
	} {
		e, _ := c.Get(tt.id)
		if got := e.GradeLabel(tt.lang); got != tt.want {
			t.Errorf("%s GradeLabel(%s) = %q, want %q", tt.id, tt.lang, got, tt.want)
		}
		if got := e.Citation().Grade; tt.lang == "en" && got != tt.want {
			t.Errorf("%s citation grade %q, want %q", tt.id, got, tt.want)
		}
	}
}

// TestNoStatedGradeWithoutRecord: in the shipped corpus every stated grade
// carries a verification record naming the copy read and the place in it.
func TestNoStatedGradeWithoutRecord(t *testing.T) {
	c, err := Load(Embedded())
	if err != nil {
		t.Fatal(err)
	}
	stated := 0
	for _, e := range c.Entries {
		if e.Grade.Status != GradeStated {
			continue
		}
		stated++
		if e.Verified == nil || e.Verified.Via == "" || e.Verified.Where == "" || e.Verified.Grade == "" {
			t.Errorf("%s: grade stated without a full verification record: %+v", e.ID, e.Verified)
		}
	}
	if stated == 0 {
		t.Error("no stated grade in the corpus; the check checks nothing")
	}
}

// Every current entry of the shipped corpus is asked about in both
// languages, and the wordings reach the index (terms and embedding) but
// never the text shown.
func TestEmbeddedAsks(t *testing.T) {
	c, err := Load(Embedded())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Entries {
		if e.SupersededBy != "" {
			continue
		}
		if len(e.Asks.EN) == 0 || len(e.Asks.ZH) == 0 {
			t.Errorf("%s: asks en %d, zh %d; want at least one wording in each language (asks/%s.yaml)", e.ID, len(e.Asks.EN), len(e.Asks.ZH), e.Domain)
			continue
		}
		ch := e.Document().Chunks[0]
		if !slices.Contains(ch.Asks, e.Asks.ZH[0]) || strings.Contains(ch.Text, e.Asks.ZH[0]) {
			t.Errorf("%s: the Chinese wording is not among the chunk's asks or shows in its text", e.ID)
		}
	}
}

func TestBadAsks(t *testing.T) {
	old := strings.Replace(goodFile, "t-1", "t-old", 1) + "    superseded_by: t-1\n"
	tests := []struct {
		name, asks, wantField string
	}{
		{"unknown entry", "asks:\n  t-9: {en: [\"Why?\"]}\n", "asks/a.yaml: asks.t-9"},
		{"superseded entry", "asks:\n  t-old: {en: [\"Why?\"]}\n", "asks/a.yaml: asks.t-old"},
		{"no wording", "asks:\n  t-1: {}\n", "asks/a.yaml: asks.t-1"},
		{"empty wording", "asks:\n  t-1: {en: [\" \"]}\n", "asks/a.yaml: asks.t-1.en[0]"},
		{"Chinese wording without Chinese", "asks:\n  t-1: {zh: [\"why\"]}\n", "asks/a.yaml: asks.t-1.zh[0]"},
		{"English wording in Chinese", "asks:\n  t-1: {en: [\"为什么\"]}\n", "asks/a.yaml: asks.t-1.en[0]"},
		{"too long", "asks:\n  t-1: {en: [\"" + strings.Repeat("why ", 60) + "\"]}\n", "asks/a.yaml: asks.t-1.en[0]"},
		{"unknown field", "asks:\n  t-1: {fr: [\"pourquoi\"]}\n", "asks/a.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"g.yaml": {Data: []byte(goodFile + "    supersedes: [t-old]\n")}, "o.yaml": {Data: []byte(strings.Replace(old, "key: T", "key: T0", 1))},
				"asks/a.yaml": {Data: []byte(tt.asks)}}
			_, err := Load(fsys)
			if err == nil {
				t.Fatal("Load accepted bad asks")
			}
			if orthocds.ErrorCode(err) != orthocds.EINVALID || !strings.HasPrefix(err.Error(), tt.wantField) {
				t.Errorf("error %q (%s), want invalid starting with %q", err, orthocds.ErrorCode(err), tt.wantField)
			}
		})
	}
	// The same entry in two files is refused; good wordings load, and
	// change the entry's hash so stores built before them re-index.
	two := fstest.MapFS{"g.yaml": {Data: []byte(goodFile)},
		"asks/a.yaml": {Data: []byte("asks:\n  t-1: {en: [\"Why?\"]}\n")}, "asks/b.yaml": {Data: []byte("asks:\n  t-1: {zh: [\"为什么\"]}\n")}}
	if _, err := Load(two); err == nil || !strings.HasPrefix(err.Error(), "asks/b.yaml: asks.t-1") {
		t.Errorf("an entry asked about in two files: %v", err)
	}
	without, err := Load(fstest.MapFS{"g.yaml": {Data: []byte(goodFile)}})
	if err != nil {
		t.Fatal(err)
	}
	with, err := Load(fstest.MapFS{"g.yaml": {Data: []byte(goodFile)}, "asks/a.yaml": {Data: []byte("asks:\n  t-1: {en: [\"Why?\"], zh: [\"为什么\"]}\n")}})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := with.Get("t-1")
	e0, _ := without.Get("t-1")
	if got := e.Document().Chunks[0].Asks; !slices.Equal(got, []string{"Why?", "为什么"}) {
		t.Errorf("chunk asks %q", got)
	}
	if e.Document().Hash == e0.Document().Hash {
		t.Error("adding wordings did not change the entry's hash")
	}
}

func TestBadAsked(t *testing.T) {
	old := strings.Replace(goodFile, "t-1", "t-old", 1) + "    superseded_by: t-1\n"
	const good = `{"id":"a1","lang":"en","question":"Why?","gold":["t-1"]}` + "\n"
	tests := []struct {
		name, asked, wantField string
	}{
		{"not JSON", "{id: a1}\n", "asked/x.jsonl: line 1"},
		{"unknown field", `{"id":"a1","lang":"en","question":"Why?","gold":["t-1"],"answer":"x"}`, "asked/x.jsonl: line 1"},
		{"no ID", `{"lang":"en","question":"Why?","gold":["t-1"]}`, "asked/x.jsonl: line 1.id"},
		{"ID twice", good + "\n" + good, "asked/x.jsonl: line 3.id"},
		{"no gold", `{"id":"a1","lang":"en","question":"Why?","gold":[]}`, "asked/x.jsonl: line 1.gold"},
		{"unknown gold", `{"id":"a1","lang":"en","question":"Why?","gold":["t-1","t-9"]}`, "asked/x.jsonl: line 1.gold[1]"},
		{"superseded gold", `{"id":"a1","lang":"en","question":"Why?","gold":["t-old"]}`, "asked/x.jsonl: line 1.gold[0]"},
		{"gold twice", `{"id":"a1","lang":"en","question":"Why?","gold":["t-1","t-1"]}`, "asked/x.jsonl: line 1.gold[1]"},
		{"unknown language", `{"id":"a1","lang":"fr","question":"Pourquoi?","gold":["t-1"]}`, "asked/x.jsonl: line 1.question"},
		{"Chinese question without Chinese", `{"id":"a1","lang":"zh","question":"why","gold":["t-1"]}`, "asked/x.jsonl: line 1.question"},
		{"empty question", `{"id":"a1","lang":"en","question":" ","gold":["t-1"]}`, "asked/x.jsonl: line 1.question"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"g.yaml": {Data: []byte(goodFile + "    supersedes: [t-old]\n")}, "o.yaml": {Data: []byte(strings.Replace(old, "key: T", "key: T0", 1))},
				"asked/x.jsonl": {Data: []byte(tt.asked)}}
			_, err := Load(fsys)
			if err == nil {
				t.Fatal("Load accepted a bad labelled question")
			}
			if orthocds.ErrorCode(err) != orthocds.EINVALID || !strings.HasPrefix(err.Error(), tt.wantField) {
				t.Errorf("error %q (%s), want invalid starting with %q", err, orthocds.ErrorCode(err), tt.wantField)
			}
		})
	}
	// A good question joins its gold entry's labelled questions, in its
	// language, apart from the written wordings, and changes the entry's
	// hash.
	base := fstest.MapFS{"g.yaml": {Data: []byte(goodFile)}, "asks/a.yaml": {Data: []byte("asks:\n  t-1: {en: [\"How?\"]}\n")}}
	without, err := Load(base)
	if err != nil {
		t.Fatal(err)
	}
	base["asked/x.jsonl"] = &fstest.MapFile{Data: []byte(good + `{"id":"a2","lang":"zh","question":"为什么","gold":["t-1"]}` + "\n")}
	with, err := Load(base)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := with.Get("t-1")
	e0, _ := without.Get("t-1")
	if ch := e.Document().Chunks[0]; !slices.Equal(ch.Asks, []string{"How?"}) || !slices.Equal(ch.Asked, []string{"Why?", "为什么"}) {
		t.Errorf("chunk asks %q, asked %q", ch.Asks, ch.Asked)
	}
	if e.Document().Hash == e0.Document().Hash {
		t.Error("adding labelled questions did not change the entry's hash")
	}
}
