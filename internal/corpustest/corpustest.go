// Package corpustest builds, for tests, the shipped guideline corpus indexed
// in an embedded store with the built-in embedder: the same components the
// binary runs on its defaults.
package corpustest

import (
	"context"

	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/embedder"
	"github.com/orthocds/orthocds/embedstore"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/rag"
)

// Fixture is an indexed corpus.
type Fixture struct {
	Analyzer  *analysis.Analyzer
	Embedder  rag.Embedder
	Store     rag.Store
	Retriever *rag.Retriever
	Corpus    *guidelines.Corpus
}

// Open indexes the shipped corpus into an embedded store in dir.
func Open(dir string) (*Fixture, error) {
	a, err := analysis.Shared()
	if err != nil {
		return nil, err
	}
	e := embedder.NewHash(a)
	st, err := embedstore.Open(dir)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err := st.Init(ctx, e.Model()); err != nil {
		return nil, err
	}
	c, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		return nil, err
	}
	if _, err := rag.NewIndexer(st, e, a).Sync(ctx, rag.KindGuideline, c.Documents()); err != nil {
		return nil, err
	}
	return &Fixture{Analyzer: a, Embedder: e, Store: st, Retriever: rag.NewRetriever(st, e, a), Corpus: c}, nil
}
