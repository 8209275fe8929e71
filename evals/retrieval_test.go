package evals

import (
	"context"
	"testing"

	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/embedder"
	"github.com/orthocds/orthocds/embedstore"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/rag"
)

// TestStarterRetrieval holds retrieval quality on the starter question set
// with the built-in embedder and hybrid search over the shipped corpus.
// Measured when written: hit@1 18/22, hit@5 22/22.
func TestStarterRetrieval(t *testing.T) {
	items, err := LoadRetrieval(Data(), "retrieval-starter.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	a, err := analysis.Shared()
	if err != nil {
		t.Fatal(err)
	}
	e := embedder.NewHash(a)
	st, err := embedstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.Init(ctx, e.Model()); err != nil {
		t.Fatal(err)
	}
	corpus, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	var docs []rag.Document
	for _, en := range corpus.Entries {
		docs = append(docs, en.Document())
	}
	if _, err := rag.NewIndexer(st, e, a).Sync(ctx, rag.KindGuideline, docs); err != nil {
		t.Fatal(err)
	}
	qs := make([]rag.Query, len(items))
	for i, it := range items {
		qs[i] = rag.Query{Text: it.Question, K: 5}
	}
	res, err := rag.NewRetriever(st, e, a).Search(ctx, qs)
	if err != nil {
		t.Fatal(err)
	}
	type tally struct{ n, hit1, hit5 int }
	per := map[string]*tally{"all": {}, "zh": {}, "en": {}}
	for i, hits := range res {
		ids := make([]string, len(hits))
		for j, h := range hits {
			ids[j] = h.DocID
		}
		r := Rank(ids, items[i].Gold)
		for _, k := range []string{"all", items[i].Lang} {
			per[k].n++
			if r == 1 {
				per[k].hit1++
			}
			if r > 0 {
				per[k].hit5++
			}
		}
		if r == 0 {
			t.Logf("miss %s %q: got %v", items[i].ID, items[i].Question, ids)
		}
	}
	for _, k := range []string{"all", "zh", "en"} {
		c := per[k]
		h1, h5 := float64(c.hit1)/float64(c.n), float64(c.hit5)/float64(c.n)
		t.Logf("%-3s n=%d hit@1=%.2f hit@5=%.2f", k, c.n, h1, h5)
		if h5 < 0.9 || h1 < 0.7 {
			t.Errorf("%s: hit@1 %.2f (bound 0.70), hit@5 %.2f (bound 0.90)", k, h1, h5)
		}
	}
}
