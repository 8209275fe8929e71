// Package corpustest builds, for tests, the shipped guideline corpus indexed
// in an embedded store (or PostgreSQL) with the built-in embedder: the same
// components the binary runs on its defaults.
package corpustest

import (
	"context"
	"io/fs"
	"strings"
	"testing/fstest"

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
	return OpenFS(dir, guidelines.Embedded())
}

// OpenFS indexes the corpus in fsys (laid out as guidelines.Embedded)
// into an embedded store in dir: the shipped corpus with some labelled
// questions left out, for cross-validation.
func OpenFS(dir string, fsys fs.FS) (*Fixture, error) {
	st, err := embedstore.Open(dir)
	if err != nil {
		return nil, err
	}
	f, err := index(st, fsys)
	if err != nil {
		st.Close()
	}
	return f, err
}

// OpenPostgres indexes the shipped corpus into the PostgreSQL store at
// url (a database of its own, made by pgtest.NewDatabase).
func OpenPostgres(url string) (*Fixture, error) {
	st, err := postgres.Open(context.Background(), postgres.Config{URL: url})
	if err != nil {
		return nil, err
	}
	f, err := index(st, guidelines.Embedded())
	if err != nil {
		st.Close()
	}
	return f, err
}

func index(st rag.Store, fsys fs.FS) (*Fixture, error) {
	a, err := analysis.Shared()
	if err != nil {
		return nil, err
	}
	e := embedder.NewHash(a)
	ctx := context.Background()
	if err := st.Init(ctx, e.Model()); err != nil {
		return nil, err
	}
	c, err := guidelines.Load(fsys)
	if err != nil {
		return nil, err
	}
	if _, err := rag.NewIndexer(st, e, a).Sync(ctx, rag.KindGuideline, c.Documents()); err != nil {
		return nil, err
	}
	r := rag.NewRetriever(st, e, a).WithCoverage(analysis.NewCoverage(a, c.Documents(), analysis.CoverageWeights()))
	return &Fixture{Analyzer: a, Embedder: e, Store: st, Retriever: r, Corpus: c}, nil
}

// WithAsked is the shipped corpus with asked as its only labelled
// questions (JSONL, as in guidelines.AskedDir; nil for none).
func WithAsked(asked []byte) (fs.FS, error) {
	src := guidelines.Embedded()
	out := fstest.MapFS{}
	err := fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path, guidelines.AskedDir+"/") {
			return err
		}
		b, err := fs.ReadFile(src, path)
		out[path] = &fstest.MapFile{Data: b}
		return err
	})
	if asked != nil {
		out[guidelines.AskedDir+"/asked.jsonl"] = &fstest.MapFile{Data: asked}
	}
	return out, err
}
