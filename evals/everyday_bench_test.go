package evals

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/embedder"
	"github.com/orthocds/orthocds/embedstore"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/rag"
)

// BenchmarkEverydaySearch sets the whole retrieval path with the concept
// layer (concepts in the analyzer, concept coverage, the questions asked
// before in the index: what the binary runs) beside the same path on
// words alone (an empty concept table, no coverage), on the shipped corpus
// in the embedded store, one batch of rag.MaxBatch everyday-wording
// questions per operation. Compare the two ns/op of one run; each reports
// queries/s. Issue 16 allows the concept layer to cost at most 10% of
// batched throughput.
func BenchmarkEverydaySearch(b *testing.B) {
	items, err := LoadRetrieval(guidelines.Embedded(), everydayTune)
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]rag.Query, rag.MaxBatch)
	for i := range batch {
		batch[i] = rag.Query{Text: items[i*len(items)/len(batch)].Question, K: 10}
	}
	concepts, err := analysis.Shared()
	if err != nil {
		b.Fatal(err)
	}
	words, err := wordsOnly()
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		a        *analysis.Analyzer
		coverage bool
	}{
		{"words alone", words, false},
		{"with the concept layer", concepts, true},
	} {
		r := benchRetriever(b, tc.a, tc.coverage)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := r.Search(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "queries/s")
		})
	}
}

// wordsOnly is an analyzer with the shipped lexicon and no concepts.
func wordsOnly() (*analysis.Analyzer, error) {
	lexicon, err := fs.ReadFile(analysis.Embedded(), "lexicon.yaml")
	if err != nil {
		return nil, err
	}
	v, err := analysis.LoadVocabulary(fstest.MapFS{
		"concepts.yaml": {Data: []byte("concepts: []\n")},
		"sources.yaml":  {Data: []byte("sources: []\n")},
		"lexicon.yaml":  {Data: lexicon},
	})
	if err != nil {
		return nil, err
	}
	return analysis.NewWith(v)
}

// benchRetriever indexes the shipped corpus with a in an embedded store.
func benchRetriever(b *testing.B, a *analysis.Analyzer, coverage bool) *rag.Retriever {
	b.Helper()
	st, err := embedstore.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	e := embedder.NewHash(a)
	ctx := context.Background()
	if err := st.Init(ctx, e.Model()); err != nil {
		b.Fatal(err)
	}
	c, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := rag.NewIndexer(st, e, a).Sync(ctx, rag.KindGuideline, c.Documents()); err != nil {
		b.Fatal(err)
	}
	r := rag.NewRetriever(st, e, a)
	if coverage {
		r = r.WithCoverage(analysis.NewCoverage(a, c.Documents(), analysis.CoverageWeights()))
	}
	return r
}
