// Package rag is the retrieval core of OrthoCDS: the document and chunk
// types every store holds, the Store and Embedder interfaces it needs, and
// the batched hybrid Retriever that embeds a whole batch of queries in one
// call, searches it in one store round trip and fuses dense and lexical
// rankings by reciprocal rank fusion.
package rag

import (
	"context"

	"github.com/orthocds/orthocds"
)

// Kinds of document a store holds. Stores hold more than guidelines:
// hospitals' own documents now, student cases and evaluation items later.
const (
	KindGuideline = "guideline"
	KindDocument  = "document"
)

// Citation is where a chunk's text comes from, shown with every hit.
type Citation struct {
	Body      string `json:"body,omitempty"`      // issuing body
	Guideline string `json:"guideline,omitempty"` // guideline or document title
	Year      int    `json:"year,omitempty"`
	Section   string `json:"section,omitempty"`
	DOI       string `json:"doi,omitempty"`
	URL       string `json:"url,omitempty"`
	Evidence  string `json:"evidence,omitempty"` // evidence grade as the source states it
	Strength  string `json:"strength,omitempty"` // strength as the source states it
	GradeNote string `json:"grade_note,omitempty"`
	// Grade says how the source grades the passage, naming the source and
	// in its own system ("ACCP 2012: 1B"), or plainly that it gives none or
	// that the grade is not yet checked; GradeZH says it in Chinese.
	Grade   string `json:"grade,omitempty"`
	GradeZH string `json:"grade_zh,omitempty"`
	Path    string `json:"path,omitempty"` // file name, for ingested documents
	// OCR marks a passage of a hospital document read by OCR from the
	// image of its page: quote it with that caveat.
	OCR bool `json:"ocr,omitempty"`
}

// Document is one unit of ingestion: a guideline entry or a hospital file.
// It is written, replaced and deleted as a whole, in one transaction.
type Document struct {
	ID     string
	Kind   string
	Title  string
	Source string // the file path or corpus key that identifies it on re-ingest
	Hash   string // sha256 of the content; equal hash means nothing to do
	Chunks []Chunk
}

// Chunk is the unit of retrieval.
type Chunk struct {
	ID          string   `json:"id"`
	DocID       string   `json:"doc_id"`
	Ord         int      `json:"ord"`
	Kind        string   `json:"kind"`
	Langs       []string `json:"langs"`
	Title       string   `json:"title"`
	HeadingPath []string `json:"heading_path,omitempty"`
	Page        int      `json:"page,omitempty"` // 1-based PDF page; 0 when not paged
	Text        string   `json:"text"`
	Topics      []string `json:"topics,omitempty"`
	Year        int      `json:"year,omitempty"`
	SourceKey   string   `json:"source_key,omitempty"` // short source name used by filters, e.g. "ACCP"
	Superseded  bool     `json:"superseded,omitempty"`
	Citation    Citation `json:"citation"`
	// Asks are other wordings of what the chunk answers (how people ask
	// about it): indexed and embedded with it, never shown.
	Asks []string `json:"-"`
	// Asked are questions people asked that the chunk answers (labelled
	// questions): lexical terms only, since an embedding model's context
	// holds the chunk and its asks, not every question ever put to it.
	Asked  []string  `json:"-"`
	Terms  []string  `json:"-"` // analysed terms for the lexical index
	Vector []float32 `json:"-"`
}

// Filter narrows a query. Empty fields do not filter.
type Filter struct {
	Langs   []string `json:"langs,omitempty"`
	Topics  []string `json:"topics,omitempty"`
	Sources []string `json:"sources,omitempty"`
	Kinds   []string `json:"kinds,omitempty"`
	YearMin int      `json:"year_min,omitempty"`
	YearMax int      `json:"year_max,omitempty"`
	// IncludeSuperseded keeps entries that a newer one replaces.
	IncludeSuperseded bool `json:"include_superseded,omitempty"`
}

// Match reports whether c passes f. Stores that filter in memory use it;
// the PostgreSQL store states the same rules in SQL.
func (f Filter) Match(c *Chunk) bool {
	if !f.IncludeSuperseded && c.Superseded {
		return false
	}
	if len(f.Langs) > 0 && !intersects(f.Langs, c.Langs) {
		return false
	}
	if len(f.Topics) > 0 && !intersects(f.Topics, c.Topics) {
		return false
	}
	if len(f.Sources) > 0 && !contains(f.Sources, c.SourceKey) {
		return false
	}
	if len(f.Kinds) > 0 && !contains(f.Kinds, c.Kind) {
		return false
	}
	if f.YearMin > 0 && c.Year < f.YearMin {
		return false
	}
	if f.YearMax > 0 && c.Year > f.YearMax {
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if contains(b, x) {
			return true
		}
	}
	return false
}

// StoreQuery is one query of a batch as the store sees it: already embedded
// and analysed. K is the number of candidates wanted from each ranking.
type StoreQuery struct {
	Vector []float32
	Terms  []string
	K      int
	Filter Filter
}

// Scored is a chunk with its score in one ranking.
type Scored struct {
	Chunk Chunk
	Score float64 // cosine similarity for dense, lexical score for lexical
}

// BM25 parameters (the common defaults) for the lexical ranking; both
// stores score with them, with IDF log(1 + (N - df + 0.5) / (df + 0.5)).
const (
	BM25K1 = 1.2
	BM25B  = 0.75
)

// Candidates are one query's two rankings, best first.
type Candidates struct {
	Dense   []Scored
	Lexical []Scored
}

// ModelInfo names the embedding model an index was built with.
type ModelInfo struct {
	Name string `json:"name"`
	Dim  int    `json:"dim"`
}

// ModelMismatch is the error a store returns when it is bound to one
// embedding model and asked to use another.
func ModelMismatch(have, want ModelInfo) error {
	return orthocds.Errorf(orthocds.ECONFLICT,
		"the index was built with embedding model %s (dimension %d) but the server embeds with %s (dimension %d); "+
			"use the same model, or index into a new data directory or database",
		have.Name, have.Dim, want.Name, want.Dim)
}

// Store holds documents and answers batched searches. Implementations must
// answer a whole batch in one round trip to their storage, write each
// PutDocuments call atomically, and refuse vectors of another model.
type Store interface {
	// Init binds the store to an embedding model. It fails with ECONFLICT
	// when the index was built with another model or dimension.
	Init(ctx context.Context, model ModelInfo) error
	// PutDocuments writes docs, each replacing any stored document with the
	// same ID or Source, all in one transaction.
	PutDocuments(ctx context.Context, docs []Document) error
	// DeleteDocuments removes documents and their chunks.
	DeleteDocuments(ctx context.Context, ids []string) error
	// DocumentHashes returns ID -> hash for the documents of one kind
	// (all kinds when kind is empty).
	DocumentHashes(ctx context.Context, kind string) (map[string]string, error)
	// FindByHash returns the ID of a document with that content hash.
	FindByHash(ctx context.Context, hash string) (id string, ok bool, err error)
	// Search answers every query of the batch, in order.
	Search(ctx context.Context, queries []StoreQuery) ([]Candidates, error)
	// Stats counts documents and chunks.
	Stats(ctx context.Context) (Stats, error)
	// Reset removes every document and the model binding, in one
	// transaction, so that the store can be bound to another model.
	Reset(ctx context.Context) error
	// Ping reports whether the store can serve.
	Ping(ctx context.Context) error
	Close() error
}

// Stats describes a store's content.
type Stats struct {
	Documents int            `json:"documents"`
	Chunks    int            `json:"chunks"`
	ByKind    map[string]int `json:"by_kind"`
	Model     ModelInfo      `json:"model"`
}

// Embedder turns texts into vectors, a whole batch per call.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	Model() ModelInfo
}

// Analyzer turns text into the terms of the lexical index.
type Analyzer interface {
	Terms(text string) []string
}

// TopicAnalyzer is an Analyzer that also turns a chunk's topic tags into
// terms (the concepts they stand for); the Indexer adds them.
type TopicAnalyzer interface {
	TopicTerms(topics []string) []string
}

// QueryAnalyzer is an Analyzer that reads questions differently from
// documents (negated findings, numbers with their scale); the Retriever
// uses it for queries.
type QueryAnalyzer interface {
	QueryTerms(text string) []string
}
