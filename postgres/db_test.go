package postgres

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/postgres/pgtest"
	"github.com/orthocds/orthocds/rag"
	"github.com/orthocds/orthocds/rag/storetest"
)

var testURL string

func TestMain(m *testing.M) {
	var err error
	testURL, err = pgtest.NewDatabase("orthocds_test_postgres")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func needDB(t *testing.T) {
	t.Helper()
	if testURL == "" {
		t.Skip(pgtest.SkipMessage)
	}
}

func openDB(t *testing.T, cfg Config) *DB {
	t.Helper()
	cfg.URL = testURL
	if cfg.Schema == "" {
		cfg.Schema = pgtest.Schema(t)
	}
	db, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	needDB(t)
	conformance(t, Config{})
}

// conformance runs the store suite on stores opened with cfg; a reopened
// store is opened with the default configuration, as a later process
// would be, and must keep what the first one built.
func conformance(t *testing.T, cfg Config) {
	schemas := map[rag.Store]string{}
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) rag.Store {
			db := openDB(t, cfg)
			schemas[db] = db.pool.Config().ConnConfig.RuntimeParams["search_path"]
			return db
		},
		Reopen: func(t *testing.T, old rag.Store) rag.Store {
			old.Close()
			sp := schemas[old]
			db := openDB(t, Config{Schema: strings.TrimSuffix(sp, ",public")})
			schemas[db] = sp
			return db
		},
	})
}

// countingTracer counts round trips to the server: single statements and
// pipelined batches.
type countingTracer struct{ n atomic.Int64 }

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *countingTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *countingTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *countingTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// A batch of 64 queries must cost one statement, one round trip, whatever
// the batch size; a loop would cost 64.
func TestBatchIsOneRoundTrip(t *testing.T) {
	needDB(t)
	tr := &countingTracer{}
	db := openDB(t, Config{Tracer: tr})
	ctx := context.Background()
	model := rag.ModelInfo{Name: "rt", Dim: 8}
	if err := db.Init(ctx, model); err != nil {
		t.Fatal(err)
	}
	var docs []rag.Document
	for i := range 200 {
		v := make([]float32, 8)
		v[i%8], v[(i+1)%8] = 1, float32(i%5)/5
		id := fmt.Sprintf("d%d", i)
		docs = append(docs, rag.Document{ID: id, Kind: rag.KindDocument, Hash: id,
			Chunks: []rag.Chunk{{ID: id + "#0", DocID: id, Langs: []string{"en"}, Text: id,
				Terms: []string{fmt.Sprintf("t%d", i%10)}, Vector: v}}})
	}
	if err := db.PutDocuments(ctx, docs); err != nil {
		t.Fatal(err)
	}
	qs := make([]rag.StoreQuery, 64)
	for i := range qs {
		v := make([]float32, 8)
		v[i%8] = 1
		qs[i] = rag.StoreQuery{Vector: v, Terms: []string{fmt.Sprintf("t%d", i%10)}, K: 10}
	}
	before := tr.n.Load()
	got, err := db.Search(ctx, qs)
	if err != nil {
		t.Fatal(err)
	}
	if n := tr.n.Load() - before; n != 1 {
		t.Errorf("a batch of 64 queries took %d round trips, want 1", n)
	}
	for i, c := range got {
		if len(c.Dense) != 10 || len(c.Lexical) != 10 {
			t.Fatalf("query %d: %d dense and %d lexical results, want 10 and 10", i, len(c.Dense), len(c.Lexical))
		}
	}
	// The batch is split into statements of GroupSize queries; every query
	// still gets its own answer, the same as when sent alone.
	for _, i := range []int{0, GroupSize - 1, GroupSize, len(qs) - 1} {
		alone, err := db.Search(ctx, qs[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ids(alone[0].Dense), ids(got[i].Dense)); diff != "" {
			t.Errorf("query %d in the batch differs from the same query alone (-alone +batch):\n%s", i, diff)
		}
	}
}

func ids(ss []rag.Scored) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Chunk.ID)
	}
	return out
}

func TestTSVectorQuoting(t *testing.T) {
	needDB(t)
	db := openDB(t, Config{})
	ctx := context.Background()
	terms := []string{"o'brien", `back\slash`, "骨质疏松", "a:b", "!"}
	var n int
	err := db.pool.QueryRow(ctx, "SELECT length($1::tsvector)", TSVector(terms)).Scan(&n)
	if err != nil {
		t.Fatalf("TSVector(%q) is not a valid tsvector: %v", terms, err)
	}
	if n != len(terms) {
		t.Errorf("tsvector has %d lexemes, want %d", n, len(terms))
	}
	var match bool
	if err := db.pool.QueryRow(ctx, "SELECT $1::tsvector @@ $2::tsquery", TSVector(terms), TSQuery([]string{"o'brien"})).Scan(&match); err != nil || !match {
		t.Errorf("quoted lexeme did not match itself: %v %v", match, err)
	}
}

// A large first load goes through BulkLoad: the rows arrive, the HNSW index
// exists again afterwards and is used, a second bulk load is refused, and
// a bulk load that fails leaves the store as it was.
func TestBulkLoad(t *testing.T) {
	needDB(t)
	db := openDB(t, Config{})
	ctx := context.Background()
	if err := db.Init(ctx, rag.ModelInfo{Name: "bulk", Dim: 8}); err != nil {
		t.Fatal(err)
	}
	mk := func(n int, prefix string) []rag.Document {
		docs := make([]rag.Document, n)
		for i := range docs {
			v := make([]float32, 8)
			v[i%8], v[(i+3)%8] = 1, float32(i%7)/7
			id := fmt.Sprintf("%s%d", prefix, i)
			docs[i] = rag.Document{ID: id, Kind: rag.KindDocument, Hash: id,
				Chunks: []rag.Chunk{{ID: id + "#0", DocID: id, Langs: []string{"en"}, Text: id, Vector: v}}}
		}
		return docs
	}
	bad := mk(bulkRows, "x")
	bad[len(bad)-1].Chunks[0].ID = bad[0].Chunks[0].ID // duplicate key: the COPY fails
	if _, err := db.BulkLoad(ctx, bad); err == nil {
		t.Fatal("a bulk load with a duplicate chunk ID succeeded")
	}
	count := func() (n int) {
		if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM chunks").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("a failed bulk load left %d chunks", n)
	}
	if err := db.PutDocuments(ctx, mk(bulkRows, "d")); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != bulkRows {
		t.Fatalf("%d chunks after the bulk load, want %d", n, bulkRows)
	}
	var plan string
	rows, err := db.pool.Query(ctx, "EXPLAIN SELECT id FROM chunks ORDER BY embedding <=> $1 LIMIT 5", "[1,0,0,0,0,0,0,0]")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan += line + "\n"
	}
	if !strings.Contains(plan, "chunks_embedding_idx") {
		t.Errorf("the search does not use the rebuilt HNSW index:\n%s", plan)
	}
	// The filter indexes of exact filtered search are rebuilt too.
	var filterIdx int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()
		AND indexname IN ('chunks_topics_idx', 'chunks_source_idx', 'chunks_kind_idx')`).Scan(&filterIdx); err != nil {
		t.Fatal(err)
	}
	if filterIdx != 3 {
		t.Errorf("%d of the 3 filter indexes after a bulk load", filterIdx)
	}
	if _, err := db.BulkLoad(ctx, mk(10, "e")); orthocds.ErrorCode(err) != orthocds.ECONFLICT {
		t.Errorf("bulk load into a non-empty store: %v, want a conflict", err)
	}
}

// Two processes indexing the same documents at once (a server and an
// evaluation worker starting together) both succeed, and each document is
// stored once: writers are serialised and the later one replaces.
func TestConcurrentPutDocuments(t *testing.T) {
	needDB(t)
	schema := pgtest.Schema(t)
	a := openDB(t, Config{Schema: schema})
	b := openDB(t, Config{Schema: schema})
	ctx := context.Background()
	model := rag.ModelInfo{Name: "concurrent", Dim: 4}
	docs := make([]rag.Document, 50)
	for i := range docs {
		id := fmt.Sprintf("doc%d", i)
		docs[i] = rag.Document{ID: id, Kind: rag.KindDocument, Hash: id, Source: "src-" + id,
			Chunks: []rag.Chunk{{ID: id + "#0", DocID: id, Langs: []string{"en"}, Text: id, Vector: []float32{1, float32(i), 0, 1}}}}
	}
	for round := range 5 {
		errs := make(chan error, 2)
		for _, db := range []*DB{a, b} {
			go func() {
				if err := db.Init(ctx, model); err != nil {
					errs <- err
					return
				}
				errs <- db.PutDocuments(ctx, docs)
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		var n int
		if err := a.pool.QueryRow(ctx, "SELECT count(*) FROM chunks").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(docs) {
			t.Fatalf("round %d: %d chunks, want %d", round, n, len(docs))
		}
	}
}

// The BM25 statistics that triggers keep match a recount from the chunks
// after inserts, a bulk load, replacements, deletes and a reset.
func TestTermStatsStayExact(t *testing.T) {
	needDB(t)
	db := openDB(t, Config{})
	ctx := context.Background()
	if err := db.Init(ctx, rag.ModelInfo{Name: "stats", Dim: 4}); err != nil {
		t.Fatal(err)
	}
	doc := func(id string, terms ...[]string) rag.Document {
		d := rag.Document{ID: id, Kind: rag.KindDocument, Hash: fmt.Sprint(id, terms)}
		for i, ts := range terms {
			d.Chunks = append(d.Chunks, rag.Chunk{ID: fmt.Sprintf("%s#%d", id, i), DocID: id, Ord: i, Langs: []string{"zh"},
				Text: strings.Join(ts, " "), Terms: ts, Topics: ts[1:], SourceKey: id[:1], Vector: []float32{1, 0, 0, float32(i)}})
		}
		return d
	}
	check := func(when string) {
		t.Helper()
		type stat struct {
			Term string
			DF   int
		}
		read := func(sql string) []stat {
			rows, err := db.pool.Query(ctx, sql)
			if err != nil {
				t.Fatal(err)
			}
			out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[stat])
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		kept := read(`SELECT term, df FROM term_df ORDER BY term`)
		recount := read(`SELECT u.lexeme, count(*)::int FROM chunks c, unnest(c.tsv) u GROUP BY u.lexeme ORDER BY u.lexeme`)
		if diff := cmp.Diff(recount, kept); diff != "" {
			t.Errorf("%s: term_df (-recount +kept):\n%s", when, diff)
		}
		var n, total, rn, rtotal int64
		if err := db.pool.QueryRow(ctx, `SELECT chunks, terms FROM corpus_stats`).Scan(&n, &total); err != nil {
			t.Fatal(err)
		}
		if err := db.pool.QueryRow(ctx, `SELECT count(DISTINCT c.id), coalesce(sum(cardinality(u.positions)), 0)
			FROM chunks c LEFT JOIN LATERAL unnest(c.tsv) u ON true`).Scan(&rn, &rtotal); err != nil {
			t.Fatal(err)
		}
		if n != rn || total != rtotal {
			t.Errorf("%s: corpus_stats %d chunks %d terms, recount %d and %d", when, n, total, rn, rtotal)
		}
		// filter_df, which chooses exact search for selective filters.
		keptF := read(`SELECT field || ':' || value, n::int FROM filter_df ORDER BY 1`)
		recountF := read(`SELECT f, count(*)::int FROM (
			SELECT 'topics:' || t AS f FROM chunks, unnest(topics) t
			UNION ALL SELECT 'sources:' || source_key FROM chunks
			UNION ALL SELECT 'kinds:' || kind FROM chunks) x GROUP BY f ORDER BY 1`)
		if diff := cmp.Diff(recountF, keptF); diff != "" {
			t.Errorf("%s: filter_df (-recount +kept):\n%s", when, diff)
		}
	}
	if err := db.PutDocuments(ctx, []rag.Document{doc("a", []string{"骨", "骨质疏松", "骨"}, []string{"dxa"}), doc("b", []string{"骨", "vte"})}); err != nil {
		t.Fatal(err)
	}
	check("after inserts")
	if err := db.PutDocuments(ctx, []rag.Document{doc("a", []string{"dxa", "osta"})}); err != nil {
		t.Fatal(err)
	}
	check("after replacing a document")
	if err := db.DeleteDocuments(ctx, []string{"b"}); err != nil {
		t.Fatal(err)
	}
	check("after a delete")
	if err := db.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	check("after a reset")
	if err := db.Init(ctx, rag.ModelInfo{Name: "stats", Dim: 4}); err != nil {
		t.Fatal(err)
	}
	var many []rag.Document
	for i := range bulkRows + 10 {
		many = append(many, doc(fmt.Sprint("bulk", i), []string{"骨", fmt.Sprint("t", i%7)}))
	}
	if err := db.PutDocuments(ctx, many); err != nil {
		t.Fatal(err)
	}
	check("after a bulk load")
}
