package evals

import (
	"context"
	"testing"

	"github.com/orthocds/orthocds/internal/corpustest"
	"github.com/orthocds/orthocds/rag"
)

// TestStarterRetrieval holds retrieval quality on the starter question set
// with the built-in embedder and hybrid search over the shipped corpus,
// printing hit@1 and hit@5 overall and per language. Measured last on 375
// questions over 302 entries: hit@1 0.79, hit@5 0.95 (zh 0.94, en 0.96).
func TestStarterRetrieval(t *testing.T) {
	items, err := LoadRetrieval(Data(), "retrieval-starter.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	f := corpus(t)
	qs := make([]rag.Query, len(items))
	for i, it := range items {
		qs[i] = rag.Query{Text: it.Question, K: 5}
	}
	// Send batches of at most rag.MaxBatch, as a client must.
	var res [][]rag.Hit
	for start := 0; start < len(qs); start += rag.MaxBatch {
		part, err := f.Retriever.Search(context.Background(), qs[start:min(start+rag.MaxBatch, len(qs))])
		if err != nil {
			t.Fatal(err)
		}
		res = append(res, part...)
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
		t.Logf("%-3s n=%d hit@1=%.3f hit@5=%.3f", k, c.n, h1, h5)
		// hit@5 >= 0.85 per language is the bound the knowledge-base issue
		// sets; hit@1 >= 0.60 guards against regressions.
		if h5 < 0.85 || h1 < 0.6 {
			t.Errorf("%s: hit@1 %.3f (bound 0.60), hit@5 %.3f (bound 0.85)", k, h1, h5)
		}
	}
}

// corpus indexes the shipped guidelines for one test.
func corpus(t *testing.T) *corpustest.Fixture {
	t.Helper()
	f, err := corpustest.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Store.Close() })
	return f
}
