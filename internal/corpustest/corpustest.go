// Package corpustest builds, for tests, the shipped guideline corpus indexed
// in an embedded store (or PostgreSQL) with the built-in embedder: the same
// components the binary runs on its defaults.
package corpustest

import (
	"context"

	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/embedder"
	"github.com/orthocds/orthocds/embedstore"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/postgres"
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
	st, err := embedstore.Open(dir)
	if err != nil {
		return nil, err
	}
	return index(st)
}

// OpenPostgres indexes the shipped corpus into the PostgreSQL store at
// url (a database of its own, made by pgtest.NewDatabase).
func OpenPostgres(url string) (*Fixture, error) {
	st, err := postgres.Open(context.Background(), postgres.Config{URL: url})
	if err != nil {
		return nil, err
	}
	f, err := index(st)
	if err != nil {
		st.Close()
	}
	return f, err
}

func index(st rag.Store) (*Fixture, error) {
	a, err := analysis.Shared()
	if err != nil {
		return nil, err
	}
	e := embedder.NewHash(a)
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
	r := rag.NewRetriever(st, e, a).WithCoverage(analysis.NewCoverage(a, c.Documents(), analysis.CoverageWeights()))
	return &Fixture{Analyzer: a, Embedder: e, Store: st, Retriever: r, Corpus: c}, nil
}
