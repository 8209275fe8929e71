package searchbench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/philippgille/chromem-go"
	"github.com/tmc/langchaingo/schema"
	lcpgvector "github.com/tmc/langchaingo/vectorstores/pgvector"

	"github.com/orthocds/orthocds/embedstore"
	"github.com/orthocds/orthocds/postgres"
	"github.com/orthocds/orthocds/rag"
)

// A Method is one way of searching the dataset.
type Method interface {
	Name() string
	// Load indexes the dataset, reporting the copy and index-build times.
	Load(ctx context.Context, d *Dataset) (LoadTimes, error)
	// Search answers queries as one batch where the method can, returning
	// row indexes best first.
	Search(ctx context.Context, qs [][]float32, k int) ([][]int, error)
	// Batched says whether Search sends the batch as one call; a method
	// that cannot is measured one query at a time.
	Batched() bool
	Close() error
}

// LoadTimes are the two phases of loading.
type LoadTimes struct {
	Copy  time.Duration
	Index time.Duration
}

// Selectivities are the filtered searches measured: the share of rows a
// filter keeps, each row tagged with the topic that selects it (a row
// whose index is a multiple of 1/share).
var Selectivities = []float64{0.5, 0.1, 0.01}

// selectTopic is the topic that selects a share of the rows.
func selectTopic(share float64) string { return fmt.Sprintf("select-%g", share*100) }

// selected reports whether row i carries share's topic.
func selected(i int, share float64) bool { return i%int(math.Round(1/share)) == 0 }

// documents wraps the dataset's rows as one-chunk documents; the chunk ID
// is the row index, and the topics say which filtered searches keep it.
func documents(d *Dataset) []rag.Document {
	docs := make([]rag.Document, d.N)
	for i := range docs {
		id := strconv.Itoa(i)
		var topics []string
		for _, s := range Selectivities {
			if selected(i, s) {
				topics = append(topics, selectTopic(s))
			}
		}
		docs[i] = rag.Document{ID: id, Kind: rag.KindDocument, Hash: id,
			Chunks: []rag.Chunk{{ID: id, DocID: id, Kind: rag.KindDocument, Langs: []string{"en"}, Topics: topics, Vector: d.Row(i)}}}
	}
	return docs
}

func storeQueries(qs [][]float32, k int) []rag.StoreQuery {
	sq := make([]rag.StoreQuery, len(qs))
	for i, q := range qs {
		sq[i] = rag.StoreQuery{Vector: q, K: k}
	}
	return sq
}

// filteredQueries are storeQueries keeping only the rows of one share.
func filteredQueries(qs [][]float32, k int, share float64) []rag.StoreQuery {
	sq := storeQueries(qs, k)
	for i := range sq {
		sq[i].Filter = rag.Filter{Topics: []string{selectTopic(share)}}
	}
	return sq
}

// Filterer is a Method that can search with a filter.
type Filterer interface {
	SearchFiltered(ctx context.Context, qs [][]float32, k int, share float64) ([][]int, error)
}

func (e *Embedded) SearchFiltered(ctx context.Context, qs [][]float32, k int, share float64) ([][]int, error) {
	cs, err := e.s.Search(ctx, filteredQueries(qs, k, share))
	if err != nil {
		return nil, err
	}
	return denseRows(cs)
}

func (p *Postgres) SearchFiltered(ctx context.Context, qs [][]float32, k int, share float64) ([][]int, error) {
	cs, err := p.db.Search(ctx, filteredQueries(qs, k, share))
	if err != nil {
		return nil, err
	}
	return denseRows(cs)
}

func denseRows(cs []rag.Candidates) ([][]int, error) {
	out := make([][]int, len(cs))
	for i, c := range cs {
		for _, s := range c.Dense {
			row, err := strconv.Atoi(s.Chunk.ID)
			if err != nil {
				return nil, err
			}
			out[i] = append(out[i], row)
		}
	}
	return out, nil
}

// Embedded is our embedded store (exact, blocked scoring of the batch).
type Embedded struct {
	dir string
	s   *embedstore.Store
}

// NewEmbedded opens the embedded store in an empty directory.
func NewEmbedded(dir string) *Embedded { return &Embedded{dir: dir} }

func (e *Embedded) Name() string  { return "embedded (ours, exact)" }
func (e *Embedded) Batched() bool { return true }

func (e *Embedded) Load(ctx context.Context, d *Dataset) (LoadTimes, error) {
	s, err := embedstore.Open(e.dir)
	if err != nil {
		return LoadTimes{}, err
	}
	e.s = s
	if err := s.Init(ctx, rag.ModelInfo{Name: "bench", Dim: d.Dim}); err != nil {
		return LoadTimes{}, err
	}
	// In writes of 10,000 documents, as an ingest would: one write of a
	// million would hold its whole encoded frame in memory at once.
	docs := documents(d)
	start := time.Now()
	for i := 0; i < len(docs); i += 10_000 {
		if err := s.PutDocuments(ctx, docs[i:min(i+10_000, len(docs))]); err != nil {
			return LoadTimes{}, err
		}
	}
	return LoadTimes{Copy: time.Since(start)}, nil
}

func (e *Embedded) Search(ctx context.Context, qs [][]float32, k int) ([][]int, error) {
	cs, err := e.s.Search(ctx, storeQueries(qs, k))
	if err != nil {
		return nil, err
	}
	return denseRows(cs)
}

func (e *Embedded) Close() error {
	if e.s == nil {
		return nil
	}
	return e.s.Close()
}

// Postgres is our PostgreSQL + pgvector store: a whole batch in one
// statement, HNSW index, binary COPY bulk load. Index chooses the
// representation (4-byte vector by default, or halfvec) and the HNSW
// build parameters.
type Postgres struct {
	URL, Schema string
	EfSearch    int
	Index       postgres.IndexOptions
	// ExactBelow is passed to postgres.Config: negative keeps every
	// filtered query on HNSW, as before exact filtered search.
	ExactBelow int
	// AlwaysIterative keeps pgvector's iterative scans on for every batch,
	// as the store did before choosing per batch: the side-by-side
	// baseline of each ef_search.
	AlwaysIterative bool
	db              *postgres.DB
	dim             int
}

// label names the representation: "pgvector" for today's, with halfvec
// and build parameters when set.
func (p *Postgres) label() string {
	l := "pgvector"
	if p.Index.VectorType == postgres.VectorFloat16 {
		l += " halfvec"
	}
	if p.Index.M != 0 || p.Index.EfConstruction != 0 {
		l += fmt.Sprintf(" m %d ef_construction %d", cmp.Or(p.Index.M, 16), cmp.Or(p.Index.EfConstruction, 64))
	}
	return l
}

func (p *Postgres) Name() string {
	return fmt.Sprintf("%s (ours, HNSW ef_search %d)", p.label(), p.EfSearch)
}
func (p *Postgres) Batched() bool { return true }

func (p *Postgres) open(ctx context.Context) error {
	if p.db != nil {
		p.db.Close()
	}
	// The HNSW build is fast only while the graph fits in
	// maintenance_work_mem: about 4 GB for a million 768-d vectors.
	db, err := postgres.Open(ctx, postgres.Config{URL: p.URL, Schema: p.Schema, EfSearch: p.EfSearch,
		MaintenanceWorkMem: "6GB", Index: p.Index, ExactBelow: p.ExactBelow, AlwaysIterative: p.AlwaysIterative})
	if err != nil {
		return err
	}
	p.db = db
	return nil
}

func (p *Postgres) Load(ctx context.Context, d *Dataset) (LoadTimes, error) {
	if err := dropSchema(ctx, p.URL, p.Schema); err != nil {
		return LoadTimes{}, err
	}
	if err := p.open(ctx); err != nil {
		return LoadTimes{}, err
	}
	p.dim = d.Dim
	model := rag.ModelInfo{Name: "bench", Dim: d.Dim}
	if err := p.db.Init(ctx, model); err != nil {
		return LoadTimes{}, err
	}
	st, err := p.db.BulkLoad(ctx, documents(d))
	return LoadTimes{Copy: st.Copy, Index: st.Index}, err
}

// SetEfSearch reconnects with another hnsw.ef_search.
func (p *Postgres) SetEfSearch(ctx context.Context, ef int) error {
	p.EfSearch = ef
	if err := p.open(ctx); err != nil {
		return err
	}
	return p.db.Init(ctx, rag.ModelInfo{Name: "bench", Dim: p.dim})
}

func (p *Postgres) Search(ctx context.Context, qs [][]float32, k int) ([][]int, error) {
	cs, err := p.db.Search(ctx, storeQueries(qs, k))
	if err != nil {
		return nil, err
	}
	return denseRows(cs)
}

func (p *Postgres) Close() error {
	if p.db != nil {
		p.db.Close()
	}
	return dropSchema(context.Background(), p.URL, p.Schema)
}

// Langchain is langchaingo's pgvector vector store, the usual Go baseline:
// one query per round trip.
type Langchain struct {
	URL, Schema string
	pool        *pgxpool.Pool
	store       lcpgvector.Store
	emb         *tableEmbedder
}

func (l *Langchain) Name() string  { return "langchaingo pgvector (loop)" }
func (l *Langchain) Batched() bool { return false }

// tableEmbedder hands langchaingo the dataset's vectors: a text names its
// row ("r12") or query ("q3").
type tableEmbedder struct {
	d       *Dataset
	queries [][]float32
}

func (t *tableEmbedder) EmbedDocuments(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, s := range texts {
		n, err := strconv.Atoi(s[1:])
		if err != nil || s[0] != 'r' {
			return nil, fmt.Errorf("unknown text %q", s)
		}
		out[i] = t.d.Row(n)
	}
	return out, nil
}

func (t *tableEmbedder) EmbedQuery(_ context.Context, s string) ([]float32, error) {
	n, err := strconv.Atoi(s[1:])
	if err != nil || s[0] != 'q' || n >= len(t.queries) {
		return nil, fmt.Errorf("unknown query %q", s)
	}
	return t.queries[n], nil
}

func (l *Langchain) Load(ctx context.Context, d *Dataset) (LoadTimes, error) {
	if err := dropSchema(ctx, l.URL, l.Schema); err != nil {
		return LoadTimes{}, err
	}
	pc, err := pgxpool.ParseConfig(l.URL)
	if err != nil {
		return LoadTimes{}, err
	}
	pc.ConnConfig.RuntimeParams["search_path"] = l.Schema + ",public"
	if l.pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
		return LoadTimes{}, err
	}
	if _, err := l.pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{l.Schema}.Sanitize()); err != nil {
		return LoadTimes{}, err
	}
	l.emb = &tableEmbedder{d: d}
	// No HNSW index: its search wraps the table in a MATERIALIZED CTE, so
	// the planner could not use one, and maintaining it would only slow the
	// load (see docs/benchmarks.md).
	l.store, err = lcpgvector.New(ctx, lcpgvector.WithConn(l.pool), lcpgvector.WithEmbedder(l.emb),
		lcpgvector.WithVectorDimensions(d.Dim), lcpgvector.WithCollectionName("bench"))
	if err != nil {
		return LoadTimes{}, err
	}
	start := time.Now()
	const batch = 2000
	for i := 0; i < d.N; i += batch {
		docs := make([]schema.Document, 0, batch)
		for j := i; j < min(i+batch, d.N); j++ {
			docs = append(docs, schema.Document{PageContent: "r" + strconv.Itoa(j), Metadata: map[string]any{"row": j}})
		}
		if _, err := l.store.AddDocuments(ctx, docs); err != nil {
			return LoadTimes{}, err
		}
	}
	_, err = l.pool.Exec(ctx, "ANALYZE")
	return LoadTimes{Copy: time.Since(start)}, err
}

func (l *Langchain) Search(ctx context.Context, qs [][]float32, k int) ([][]int, error) {
	l.emb.queries = qs
	out := make([][]int, len(qs))
	for i := range qs {
		docs, err := l.store.SimilaritySearch(ctx, "q"+strconv.Itoa(i), k)
		if err != nil {
			return nil, err
		}
		for _, doc := range docs {
			row, ok := doc.Metadata["row"].(float64)
			if !ok {
				return nil, errors.New("langchaingo result without its row")
			}
			out[i] = append(out[i], int(row))
		}
	}
	return out, nil
}

func (l *Langchain) Close() error {
	if l.pool != nil {
		l.pool.Close()
	}
	return dropSchema(context.Background(), l.URL, l.Schema)
}

// Chromem is chromem-go, an in-memory Go vector store that scores one query
// at a time across all cores.
type Chromem struct {
	col *chromem.Collection
}

func (c *Chromem) Name() string  { return "chromem-go (exact, loop)" }
func (c *Chromem) Batched() bool { return false }

func (c *Chromem) Load(ctx context.Context, d *Dataset) (LoadTimes, error) {
	db := chromem.NewDB()
	noEmbed := func(context.Context, string) ([]float32, error) {
		return nil, errors.New("vectors are precomputed")
	}
	col, err := db.CreateCollection("bench", nil, noEmbed)
	if err != nil {
		return LoadTimes{}, err
	}
	c.col = col
	docs := make([]chromem.Document, d.N)
	for i := range docs {
		docs[i] = chromem.Document{ID: strconv.Itoa(i), Embedding: d.Row(i), Content: "r"}
	}
	start := time.Now()
	err = col.AddDocuments(ctx, docs, runtime.GOMAXPROCS(0))
	return LoadTimes{Copy: time.Since(start)}, err
}

func (c *Chromem) Search(ctx context.Context, qs [][]float32, k int) ([][]int, error) {
	out := make([][]int, len(qs))
	for i, q := range qs {
		res, err := c.col.QueryEmbedding(ctx, q, k, nil, nil)
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			row, err := strconv.Atoi(r.ID)
			if err != nil {
				return nil, err
			}
			out[i] = append(out[i], row)
		}
	}
	return out, nil
}

func (c *Chromem) Close() error { return nil }

func dropSchema(ctx context.Context, url, schema string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	return err
}
