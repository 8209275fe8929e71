package postgres

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/rag"
)

// The conformance suite holds for a store keeping half-precision vectors
// under its own HNSW build parameters.
func TestConformanceHalfvec(t *testing.T) {
	needDB(t)
	conformance(t, Config{Index: IndexOptions{VectorType: VectorFloat16, M: 8, EfConstruction: 32}})
}

func TestIndexOptionsRefused(t *testing.T) {
	for _, tc := range []struct {
		opts  IndexOptions
		field string
	}{
		{IndexOptions{VectorType: "float16"}, "DATABASE_VECTOR_TYPE"},
		{IndexOptions{M: 1}, "DATABASE_HNSW_M"},
		{IndexOptions{M: 101}, "DATABASE_HNSW_M"},
		{IndexOptions{EfConstruction: 2}, "DATABASE_HNSW_EF_CONSTRUCTION"},
		{IndexOptions{M: 32, EfConstruction: 40}, "DATABASE_HNSW_EF_CONSTRUCTION"},
	} {
		_, err := Open(context.Background(), Config{URL: "postgres://127.0.0.1:1/x", Index: tc.opts})
		if orthocds.ErrorCode(err) != orthocds.EINVALID || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: %v, want an invalid %s", tc.opts, err, tc.field)
		}
	}
}

// columnAndIndex returns the embedding column's type and the HNSW index's
// definition.
func columnAndIndex(t *testing.T, db *DB) (string, string) {
	t.Helper()
	ctx := context.Background()
	var typ, def string
	err := db.pool.QueryRow(ctx, `SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
		WHERE a.attrelid = 'chunks'::regclass AND a.attname = 'embedding'`).Scan(&typ)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.pool.QueryRow(ctx, "SELECT indexdef FROM pg_indexes WHERE indexname = 'chunks_embedding_idx' AND schemaname = current_schema()").Scan(&def); err != nil {
		t.Fatal(err)
	}
	return typ, def
}

// The representation is chosen when a model is first bound; a store built
// earlier keeps its own whatever the configuration says, and searches the
// same.
func TestIndexRepresentation(t *testing.T) {
	needDB(t)
	ctx := context.Background()
	model := rag.ModelInfo{Name: "rep", Dim: 8}
	docs := make([]rag.Document, bulkRows)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range docs {
		// Distinct directions: HNSW graphs over many identical vectors
		// are poorly connected, and two near-identical vectors tie in
		// half precision (a periodic formula once made d4612 a twin of
		// the query's d10), which is not what this test is about.
		v := make([]float32, 8)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		id := fmt.Sprintf("d%d", i)
		docs[i] = rag.Document{ID: id, Kind: rag.KindDocument, Hash: id,
			Chunks: []rag.Chunk{{ID: id + "#0", DocID: id, Langs: []string{"en"}, Text: id, Vector: v}}}
	}
	query := []rag.StoreQuery{{Vector: docs[10].Chunks[0].Vector, K: 3}}

	half := openDB(t, Config{Index: IndexOptions{VectorType: VectorFloat16, M: 12, EfConstruction: 48}})
	if err := half.Init(ctx, model); err != nil {
		t.Fatal(err)
	}
	if err := half.PutDocuments(ctx, docs); err != nil { // bulk load: COPY into halfvec, index built after
		t.Fatal(err)
	}
	typ, def := columnAndIndex(t, half)
	if typ != "halfvec(8)" || !strings.Contains(def, "halfvec_cosine_ops") || !strings.Contains(def, "m='12'") ||
		!strings.Contains(def, "ef_construction='48'") {
		t.Errorf("halfvec store: column %s, index %s", typ, def)
	}
	res, err := half.Search(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	if len(res[0].Dense) == 0 || res[0].Dense[0].Score < 0.999 {
		t.Fatalf("halfvec store: the query's own vector is not first: %+v", res[0].Dense)
	}
	same := res[0].Dense[0].Chunk.ID

	plain := openDB(t, Config{})
	if err := plain.Init(ctx, model); err != nil {
		t.Fatal(err)
	}
	schema := plain.pool.Config().ConnConfig.RuntimeParams["search_path"]
	plain.Close()
	// Reopened with halfvec configured, the vector store stays vector.
	again := openDB(t, Config{Schema: strings.TrimSuffix(schema, ",public"), Index: IndexOptions{VectorType: VectorFloat16}})
	if err := again.Init(ctx, model); err != nil {
		t.Fatal(err)
	}
	if got := again.Index().VectorType; got != VectorFloat32 {
		t.Errorf("a vector store reopened with halfvec configured reports %s", got)
	}
	if err := again.PutDocuments(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if typ, def := columnAndIndex(t, again); typ != "vector(8)" || !strings.Contains(def, "vector_cosine_ops") || strings.Contains(def, "halfvec") {
		t.Errorf("vector store after reopening: column %s, index %s", typ, def)
	}
	res, err = again.Search(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	if len(res[0].Dense) == 0 || res[0].Dense[0].Chunk.ID != same {
		t.Errorf("the vector store's first hit %+v, the halfvec store's %s", res[0].Dense, same)
	}
	// Reset unbinds the representation: the next Init takes the configured one.
	if err := again.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := again.Init(ctx, model); err != nil {
		t.Fatal(err)
	}
	if typ, _ := columnAndIndex(t, again); typ != "halfvec(8)" || again.Index().VectorType != VectorFloat16 {
		t.Errorf("after Reset and Init with halfvec configured: column %s, Index %+v", typ, again.Index())
	}
}

// A filter that keeps few rows is answered exactly: with an HNSW search
// deliberately shallow (ef_search 10), the top 10 among the 1% of rows
// a topic or a source keeps are still exactly the brute-force top 10.
func TestSelectiveFilterIsExact(t *testing.T) {
	needDB(t)
	ctx := context.Background()
	db := openDB(t, Config{EfSearch: 10})
	const n, dim = 6000, 16
	if err := db.Init(ctx, rag.ModelInfo{Name: "filter", Dim: dim}); err != nil {
		t.Fatal(err)
	}
	vec := func(seed int) []float32 {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(math.Sin(float64(seed*(j+7))*0.61) + 0.3*math.Cos(float64(seed+j)*1.3))
		}
		return v
	}
	docs := make([]rag.Document, n)
	rare := map[string]bool{}
	for i := range docs {
		id := fmt.Sprintf("c%d", i)
		topics, source := []string{"common"}, "big"
		if i%100 == 0 {
			topics, source = []string{"rare"}, "small"
			rare[id+"#0"] = true
		}
		docs[i] = rag.Document{ID: id, Kind: rag.KindDocument, Hash: id, Source: id,
			Chunks: []rag.Chunk{{ID: id + "#0", DocID: id, Langs: []string{"en"}, Text: id, Topics: topics, SourceKey: source, Vector: vec(i)}}}
	}
	if err := db.PutDocuments(ctx, docs); err != nil {
		t.Fatal(err)
	}
	cos := func(a, b []float32) float64 {
		var ab, aa, bb float64
		for i := range a {
			ab, aa, bb = ab+float64(a[i]*b[i]), aa+float64(a[i]*a[i]), bb+float64(b[i]*b[i])
		}
		return ab / math.Sqrt(aa*bb)
	}
	for _, f := range []rag.Filter{{Topics: []string{"rare"}}, {Sources: []string{"small"}}} {
		var qs []rag.StoreQuery
		for i := range 32 {
			qs = append(qs, rag.StoreQuery{Vector: vec(n + 17*i), K: 10, Filter: f})
		}
		res, err := db.Search(ctx, qs)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range qs {
			// Brute force over the kept rows.
			var best []string
			for j := range docs {
				if id := docs[j].Chunks[0].ID; rare[id] {
					best = append(best, id)
				}
			}
			slices.SortFunc(best, func(a, b string) int {
				va, vb := vec(atoi(t, a)), vec(atoi(t, b))
				return cmpFloat(cos(q.Vector, vb), cos(q.Vector, va))
			})
			best = best[:10]
			var got []string
			for _, h := range res[i].Dense {
				got = append(got, h.Chunk.ID)
			}
			if !slices.Equal(got, best) {
				t.Fatalf("filter %+v, query %d: got %v, exact %v", f, i, got, best)
			}
		}
	}
}

func atoi(t *testing.T, id string) int {
	var i int
	if _, err := fmt.Sscanf(id, "c%d#0", &i); err != nil {
		t.Fatal(err)
	}
	return i
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Iterative index scans are off unless a batch needs them; where one does
// (a filter, or more rows wanted than half of ef_search) every query still
// gets its k rows from HNSW, which without them stops at ef_search rows.
func TestIterativeScansWhereNeeded(t *testing.T) {
	needDB(t)
	ctx := context.Background()
	db := openDB(t, Config{EfSearch: 10})
	const n, dim = 6000, 16
	if err := db.Init(ctx, rag.ModelInfo{Name: "iterative", Dim: dim}); err != nil {
		t.Fatal(err)
	}
	vec := func(seed int) []float32 {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(math.Sin(float64(seed*(j+3))*0.37) + 0.2*math.Cos(float64(seed+2*j)*0.9))
		}
		return v
	}
	docs := make([]rag.Document, n)
	for i := range docs {
		id := fmt.Sprintf("c%d", i)
		topic := []string{"even"}
		if i%2 == 1 {
			topic = []string{"odd"}
		}
		docs[i] = rag.Document{ID: id, Kind: rag.KindDocument, Hash: id, Source: id,
			Chunks: []rag.Chunk{{ID: id + "#0", DocID: id, Langs: []string{"en"}, Text: id, Topics: topic, Vector: vec(i)}}}
	}
	if err := db.PutDocuments(ctx, docs); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		k         int
		filter    rag.Filter
		iterative bool
	}{
		{"k within half of ef_search", 5, rag.Filter{}, false},
		{"k past half of ef_search", 40, rag.Filter{}, true},
		{"half the rows kept by a filter", 10, rag.Filter{Topics: []string{"odd"}}, true},
	} {
		var qs []rag.StoreQuery
		for i := range 16 {
			qs = append(qs, rag.StoreQuery{Vector: vec(n + 13*i), K: tc.k, Filter: tc.filter})
		}
		if got := db.iterativeNeeded(qs, usedFields(qs)); got != tc.iterative {
			t.Errorf("%s: iterativeNeeded %v, want %v", tc.name, got, tc.iterative)
		}
		res, err := db.Search(ctx, qs)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range res {
			if len(c.Dense) != tc.k {
				t.Fatalf("%s, query %d: %d dense rows, want %d", tc.name, i, len(c.Dense), tc.k)
			}
			for _, s := range c.Dense {
				if len(tc.filter.Topics) > 0 && !slices.Contains(s.Chunk.Topics, "odd") {
					t.Fatalf("%s, query %d: %s is not kept by the filter", tc.name, i, s.Chunk.ID)
				}
			}
		}
	}
}
