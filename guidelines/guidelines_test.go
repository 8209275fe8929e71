package guidelines

import (
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
