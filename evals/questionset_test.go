package evals

import (
	"context"
	"slices"
	"testing"

	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/rag"
)

// TestQuestionSetMatchesCorpus keeps the retrieval set honest as the corpus
// grows: every gold ID is a current entry (a superseded one can never be a
// hit by default), every current entry answers at least one question, and
// the set keeps the size the knowledge-base issue asks for.
func TestQuestionSetMatchesCorpus(t *testing.T) {
	items, err := LoadRetrieval(Data(), "retrieval-starter.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	oos, err := LoadOutOfScope(Data(), "out-of-scope.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	c, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	langs := map[string]int{}
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.ID] {
			t.Errorf("question ID %s is used twice", it.ID)
		}
		seen[it.ID] = true
		langs[it.Lang]++
		for _, id := range it.Gold {
			e, ok := c.Get(id)
			switch {
			case !ok:
				t.Errorf("%s: gold %s is not in the corpus", it.ID, id)
			case e.SupersededBy != "":
				t.Errorf("%s: gold %s is superseded by %s; name the current entry", it.ID, id, e.SupersededBy)
			}
			covered[id] = true
		}
	}
	for _, e := range c.Entries {
		if e.SupersededBy == "" && !covered[e.ID] {
			t.Errorf("entry %s answers no question in the set", e.ID)
		}
	}
	if len(items) < 200 || langs["zh"] < 80 || langs["en"] < 80 || len(oos) < 30 {
		t.Errorf("set has %d questions (zh %d, en %d) and %d out of scope; want >= 200 (80 per language) and >= 30",
			len(items), langs["zh"], langs["en"], len(oos))
	}
}

// TestSupersededEntries checks version handling on the shipped corpus: a
// search for the exact title of a superseded entry does not return it by
// default, and returns it marked superseded when asked to include such
// entries.
func TestSupersededEntries(t *testing.T) {
	f := corpus(t)
	var old []guidelines.Entry
	for _, e := range f.Corpus.Entries {
		if e.SupersededBy != "" {
			old = append(old, e)
		}
	}
	if len(old) == 0 {
		t.Fatal("the corpus has no superseded entry to test with")
	}
	qs := make([]rag.Query, 0, 2*len(old))
	for _, e := range old {
		qs = append(qs, rag.Query{Text: e.Title.EN + " " + e.Text.EN, K: 10})
		qs = append(qs, rag.Query{Text: e.Title.EN + " " + e.Text.EN, K: 10, Filter: rag.Filter{IncludeSuperseded: true}})
	}
	res, err := f.Retriever.Search(context.Background(), qs)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range old {
		current, withOld := res[2*i], res[2*i+1]
		for _, h := range current {
			if h.Superseded {
				t.Errorf("default search for %s returned superseded %s", e.ID, h.DocID)
			}
		}
		j := slices.IndexFunc(withOld, func(h rag.Hit) bool { return h.DocID == e.ID })
		if j < 0 {
			t.Errorf("search including superseded entries did not find %s by its own text", e.ID)
			continue
		}
		if !withOld[j].Superseded {
			t.Errorf("%s is shown without its superseded mark", e.ID)
		}
	}
}
