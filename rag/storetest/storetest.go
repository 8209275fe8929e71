// Package storetest is the conformance suite every rag.Store passes: the
// embedded store and PostgreSQL run the same tests, so they behave alike.
package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/rag"
)

// Harness opens stores for the suite.
type Harness struct {
	// Open returns a new, empty store.
	Open func(t *testing.T) rag.Store
	// Reopen closes s and opens the same storage again.
	Reopen func(t *testing.T, s rag.Store) rag.Store
}

// Model is the embedding model the suite binds stores to.
var Model = rag.ModelInfo{Name: "storetest", Dim: 4}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"ModelMismatch", testModelMismatch},
		{"BatchOrderAndRanking", testBatch},
		{"Lexical", testLexical},
		{"LexicalWeighsRareTerms", testLexicalIDF},
		{"Filters", testFilters},
		{"ReplaceBySourceAndID", testReplace},
		{"AtomicPut", testAtomicPut},
		{"DeleteAndHashes", testDelete},
		{"Persistence", testPersistence},
		{"ResetAndRebind", testReset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, h) })
	}
}

func open(t *testing.T, h Harness) rag.Store {
	t.Helper()
	s := h.Open(t)
	if err := s.Init(context.Background(), Model); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return s
}

// doc builds a one-chunk document whose vector points along axis.
func doc(id string, axis int, terms ...string) rag.Document {
	v := make([]float32, Model.Dim)
	v[axis] = 1
	return rag.Document{ID: id, Kind: rag.KindDocument, Title: id, Source: "src/" + id, Hash: "h-" + id,
		Chunks: []rag.Chunk{{ID: id + "#0", DocID: id, Kind: rag.KindDocument, Langs: []string{"en"},
			Title: id, Text: "text of " + id, Terms: terms, Vector: v, Year: 2020, SourceKey: "HOSP",
			Citation: rag.Citation{Guideline: id, Path: "src/" + id}}}}
}

func axis(i int) []float32 {
	v := make([]float32, Model.Dim)
	v[i] = 1
	return v
}

func mustPut(t *testing.T, s rag.Store, docs ...rag.Document) {
	t.Helper()
	if err := s.PutDocuments(context.Background(), docs); err != nil {
		t.Fatalf("PutDocuments: %v", err)
	}
}

func mustSearch(t *testing.T, s rag.Store, qs ...rag.StoreQuery) []rag.Candidates {
	t.Helper()
	got, err := s.Search(context.Background(), qs)
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if len(got) != len(qs) {
		t.Fatalf("Search returned %d results for %d queries", len(got), len(qs))
	}
	return got
}

func ids(ss []rag.Scored) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.Chunk.ID)
	}
	return out
}

func testModelMismatch(t *testing.T, h Harness) {
	s := open(t, h)
	mustPut(t, s, doc("a", 0))
	err := s.Init(context.Background(), rag.ModelInfo{Name: "other", Dim: 4})
	if got := orthocds.ErrorCode(err); got != orthocds.ECONFLICT {
		t.Fatalf("Init with another model: code %q (err %v), want %q", got, err, orthocds.ECONFLICT)
	}
	s = h.Reopen(t, s)
	err = s.Init(context.Background(), rag.ModelInfo{Name: Model.Name, Dim: 8})
	if got := orthocds.ErrorCode(err); got != orthocds.ECONFLICT {
		t.Fatalf("Init with another dimension after reopen: code %q, want %q", got, orthocds.ECONFLICT)
	}
}

func testBatch(t *testing.T, h Harness) {
	s := open(t, h)
	mustPut(t, s, doc("a", 0), doc("b", 1), doc("c", 2))
	near := []float32{0.9, 0.1, 0, 0}
	got := mustSearch(t, s,
		rag.StoreQuery{Vector: axis(2), K: 1},
		rag.StoreQuery{Vector: near, K: 2},
		rag.StoreQuery{Vector: axis(1), K: 3},
	)
	want := [][]string{{"c#0"}, {"a#0", "b#0"}, {"b#0"}}
	for i := range want {
		if diff := cmp.Diff(want[i], ids(got[i].Dense)[:len(want[i])]); diff != "" {
			t.Errorf("query %d dense (-want +got):\n%s", i, diff)
		}
	}
	if c := got[0].Dense[0].Score; c < 0.999 || c > 1.001 {
		t.Errorf("cosine of identical vectors = %v, want 1", c)
	}
	if c := got[0].Dense[0].Chunk; c.Citation.Guideline != "c" || c.Text != "text of c" || c.Year != 2020 {
		t.Errorf("chunk fields not returned: %+v", c)
	}
	if n := len(got[2].Dense); n != 3 {
		t.Errorf("k=3 over 3 chunks returned %d", n)
	}
}

func testLexical(t *testing.T, h Harness) {
	s := open(t, h)
	mustPut(t, s, doc("a", 0, "denosumab", "stop"), doc("b", 1, "aspirin", "arthroplasti"),
		doc("c", 2, "地舒单抗", "停药", "denosumab"))
	got := mustSearch(t, s,
		rag.StoreQuery{Vector: axis(3), Terms: []string{"aspirin"}, K: 5},
		rag.StoreQuery{Vector: axis(3), Terms: []string{"地舒单抗", "停药"}, K: 5},
		rag.StoreQuery{Vector: axis(3), Terms: []string{"nothing"}, K: 5},
	)
	if diff := cmp.Diff([]string{"b#0"}, ids(got[0].Lexical)); diff != "" {
		t.Errorf("aspirin (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"c#0"}, ids(got[1].Lexical)); diff != "" {
		t.Errorf("chinese terms (-want +got):\n%s", diff)
	}
	if len(got[2].Lexical) != 0 {
		t.Errorf("unknown term matched %v", ids(got[2].Lexical))
	}
}

// A store ranks lexical matches by BM25: a term found in few chunks
// weighs more than one found in most, and a short chunk more than a long
// one with the same matches. ts_rank alone, without inverse document
// frequency, puts the chunk with "common" three times second.
func testLexicalIDF(t *testing.T, h Harness) {
	s := open(t, h)
	docs := []rag.Document{
		doc("many-common", 0, "common", "common", "common", "filler"),
		doc("rare", 1, "rare", "filler", "filler", "filler"),
	}
	for i := range 8 {
		docs = append(docs, doc(fmt.Sprint("other", i), 2, "common", "filler", "word", "word"))
	}
	docs = append(docs, doc("short-rare", 3, "rare"), doc("long-rare", 3, "rare", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"))
	mustPut(t, s, docs...)
	got := mustSearch(t, s,
		rag.StoreQuery{Vector: axis(0), Terms: []string{"common", "rare"}, K: 3},
		rag.StoreQuery{Vector: axis(0), Terms: []string{"rare"}, K: 3},
	)
	if diff := cmp.Diff([]string{"short-rare#0", "rare#0", "long-rare#0"}, ids(got[0].Lexical)); diff != "" {
		t.Errorf("common and rare: the rare term's chunks come first, shortest first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"short-rare#0", "rare#0", "long-rare#0"}, ids(got[1].Lexical)); diff != "" {
		t.Errorf("rare alone, by length (-want +got):\n%s", diff)
	}
}

func testFilters(t *testing.T, h Harness) {
	s := open(t, h)
	a, b, c := doc("a", 0, "x"), doc("b", 0, "x"), doc("c", 0, "x")
	b.Chunks[0].Langs, b.Chunks[0].Topics, b.Chunks[0].Year = []string{"zh", "en"}, []string{"vte"}, 2012
	c.Chunks[0].Superseded, c.Chunks[0].SourceKey, c.Chunks[0].Kind = true, "ACCP", rag.KindGuideline
	mustPut(t, s, a, b, c)
	tests := []struct {
		f    rag.Filter
		want []string
	}{
		{rag.Filter{}, []string{"a#0", "b#0"}},
		{rag.Filter{IncludeSuperseded: true}, []string{"a#0", "b#0", "c#0"}},
		{rag.Filter{Langs: []string{"zh"}}, []string{"b#0"}},
		{rag.Filter{Topics: []string{"vte"}}, []string{"b#0"}},
		{rag.Filter{YearMax: 2015}, []string{"b#0"}},
		{rag.Filter{YearMin: 2015}, []string{"a#0"}},
		{rag.Filter{Sources: []string{"ACCP"}, IncludeSuperseded: true}, []string{"c#0"}},
		{rag.Filter{Kinds: []string{rag.KindGuideline}}, []string{}},
	}
	for _, tt := range tests {
		got := mustSearch(t, s, rag.StoreQuery{Vector: axis(0), Terms: []string{"x"}, K: 10, Filter: tt.f})
		for name, list := range map[string][]rag.Scored{"dense": got[0].Dense, "lexical": got[0].Lexical} {
			gotIDs := ids(list)
			slices.Sort(gotIDs)
			if diff := cmp.Diff(tt.want, gotIDs); diff != "" {
				t.Errorf("filter %+v %s (-want +got):\n%s", tt.f, name, diff)
			}
		}
	}
}

func testReplace(t *testing.T, h Harness) {
	s := open(t, h)
	mustPut(t, s, doc("a", 0, "old"))
	// Same Source, new ID: the file changed and was ingested again.
	n := doc("a2", 1, "new")
	n.Source = "src/a"
	mustPut(t, s, n)
	got := mustSearch(t, s, rag.StoreQuery{Vector: axis(0), Terms: []string{"old"}, K: 5})
	if diff := cmp.Diff([]string{"a2#0"}, ids(got[0].Dense)); diff != "" {
		t.Errorf("after replace by source (-want +got):\n%s", diff)
	}
	if len(got[0].Lexical) != 0 {
		t.Errorf("old terms still indexed: %v", ids(got[0].Lexical))
	}
	// Same ID: replaced in place.
	mustPut(t, s, doc("a2", 2, "newer"))
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != 1 || st.Chunks != 1 {
		t.Errorf("stats after two replacements = %+v, want 1 document and 1 chunk", st)
	}
}

func testAtomicPut(t *testing.T, h Harness) {
	s := open(t, h)
	mustPut(t, s, doc("keep", 0))
	bad := doc("bad", 1)
	bad.Chunks[0].Vector = []float32{1, 2} // wrong dimension
	err := s.PutDocuments(context.Background(), []rag.Document{doc("good", 2), bad})
	if err == nil {
		t.Fatal("PutDocuments with a bad vector succeeded")
	}
	hashes, err := s.DocumentHashes(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"keep": "h-keep"}, hashes); diff != "" {
		t.Errorf("a failed batch changed stored documents (-want +got):\n%s", diff)
	}
}

func testDelete(t *testing.T, h Harness) {
	s := open(t, h)
	g := doc("g", 0)
	g.Kind = rag.KindGuideline
	mustPut(t, s, doc("a", 0), doc("b", 1), g)
	if err := s.DeleteDocuments(context.Background(), []string{"a", "missing"}); err != nil {
		t.Fatal(err)
	}
	hashes, err := s.DocumentHashes(context.Background(), rag.KindDocument)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"b": "h-b"}, hashes); diff != "" {
		t.Errorf("hashes (-want +got):\n%s", diff)
	}
	for hash, want := range map[string]bool{"h-b": true, "h-a": false} {
		id, ok, err := s.FindByHash(context.Background(), hash)
		if err != nil || ok != want {
			t.Errorf("FindByHash(%q) = %q, %v, %v; want found=%v", hash, id, ok, err, want)
		}
	}
}

func testPersistence(t *testing.T, h Harness) {
	s := open(t, h)
	mustPut(t, s, doc("a", 0, "alpha"), doc("b", 1, "beta"))
	if err := s.DeleteDocuments(context.Background(), []string{"b"}); err != nil {
		t.Fatal(err)
	}
	s = h.Reopen(t, s)
	if err := s.Init(context.Background(), Model); err != nil {
		t.Fatalf("Init after reopen: %v", err)
	}
	got := mustSearch(t, s, rag.StoreQuery{Vector: axis(0), Terms: []string{"alpha", "beta"}, K: 5})
	if diff := cmp.Diff([]string{"a#0"}, ids(got[0].Dense)); diff != "" {
		t.Errorf("dense after reopen (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a#0"}, ids(got[0].Lexical)); diff != "" {
		t.Errorf("lexical after reopen (-want +got):\n%s", diff)
	}
}

func testReset(t *testing.T, h Harness) {
	s := open(t, h)
	mustPut(t, s, doc("a", 0, "alpha"))
	ctx := context.Background()
	if err := s.Reset(ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	other := rag.ModelInfo{Name: "other", Dim: 6}
	if err := s.Init(ctx, other); err != nil {
		t.Fatalf("Init with another model after Reset: %v", err)
	}
	v := make([]float32, 6)
	v[0] = 1
	d := rag.Document{ID: "b", Kind: rag.KindDocument, Hash: "h-b", Chunks: []rag.Chunk{{ID: "b#0", DocID: "b",
		Langs: []string{"en"}, Text: "b", Terms: []string{"beta"}, Vector: v}}}
	mustPut(t, s, d)
	got := mustSearch(t, s, rag.StoreQuery{Vector: v, Terms: []string{"alpha", "beta"}, K: 5})
	if diff := cmp.Diff([]string{"b#0"}, ids(got[0].Dense)); diff != "" {
		t.Errorf("after Reset (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"b#0"}, ids(got[0].Lexical)); diff != "" {
		t.Errorf("lexical after Reset (-want +got):\n%s", diff)
	}
	s = h.Reopen(t, s)
	if err := s.Init(ctx, other); err != nil {
		t.Errorf("the new binding did not survive a reopen: %v", err)
	}
}
