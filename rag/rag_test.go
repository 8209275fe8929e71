package rag

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orthocds/orthocds"
)

func sc(ids ...string) []Scored {
	out := make([]Scored, len(ids))
	for i, id := range ids {
		out[i] = Scored{Chunk: Chunk{ID: id}, Score: float64(len(ids) - i)}
	}
	return out
}

func TestFuse(t *testing.T) {
	// b is second in both rankings and beats a and c, each first in one only.
	got := Fuse(Candidates{Dense: sc("a", "b", "d"), Lexical: sc("c", "b")}, 3, 1)
	var ids []string
	for _, h := range got {
		ids = append(ids, h.ID)
	}
	if diff := cmp.Diff([]string{"b", "a", "c"}, ids); diff != "" {
		t.Errorf("fused order (-want +got):\n%s", diff)
	}
	if b := got[0]; b.DenseRank != 2 || b.LexicalRank != 2 || b.Score != 2.0/62 {
		t.Errorf("b: ranks %d/%d score %v", b.DenseRank, b.LexicalRank, b.Score)
	}
	// Each ranking's first place alone: equal weights tie (broken by ID),
	// a down-weighted dense ranking lets the lexical first place win.
	if got = Fuse(Candidates{Dense: sc("a"), Lexical: sc("c")}, 1, 1); got[0].ID != "a" {
		t.Errorf("equal fusion put %s first, want a", got[0].ID)
	}
	if got = Fuse(Candidates{Dense: sc("a"), Lexical: sc("c")}, 1, 0.2); got[0].ID != "c" {
		t.Errorf("weighted fusion put %s first, want c", got[0].ID)
	}
}

// fakeCoverer says every chunk named in covered names all the question's
// concepts, and weighs coverage w for every question.
type fakeCoverer struct {
	w       float64
	covered map[string]bool
}

func (f fakeCoverer) Weight(string) float64 { return f.w }
func (f fakeCoverer) Measure(_ []string, id, _, _ string, _ []string) float64 {
	if f.covered[id] {
		return 1
	}
	return 0
}

func TestFuseWithCoverage(t *testing.T) {
	// b is second in both rankings; a (first dense) and c (first lexical)
	// tie; d is last in the dense ranking and absent from the lexical one.
	c := Candidates{Dense: sc("a", "b", "d"), Lexical: sc("c", "b")}
	tests := []struct {
		name string
		cov  Coverer
		want []string
	}{
		{"no coverage stage", nil, []string{"b", "a"}},
		{"weight 0 for the question", fakeCoverer{w: 0, covered: map[string]bool{"c": true}}, []string{"b", "a"}},
		{"coverage orders candidates the rankings found alike", fakeCoverer{w: 0.06, covered: map[string]bool{"c": true}}, []string{"b", "c"}},
		// d passes a (1/63 x 1.06 > 1/61: third and first in one ranking
		// are close) but not b, which both rankings found (added, 0.06
		// would have put d first).
		{"a covered candidate does not pass one both rankings found", fakeCoverer{w: 0.06, covered: map[string]bool{"d": true}}, []string{"b", "d"}},
		{"coverage ties keep the fused order", fakeCoverer{w: 0.06, covered: map[string]bool{"a": true, "c": true}}, []string{"b", "a"}},
	}
	for _, tt := range tests {
		r := &Retriever{denseWeight: 1, coverage: tt.cov}
		var ids []string
		for _, h := range r.fuse("q", nil, c, 2) {
			ids = append(ids, h.ID)
		}
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// The topic stage lifts, below the first three, a candidate tagged like
// one of them, and never moves the first three.
func TestTopicNeighbours(t *testing.T) {
	hit := func(id string, score float64, topics ...string) Hit {
		return Hit{Chunk: Chunk{ID: id, Topics: topics}, Score: score}
	}
	tests := []struct {
		name string
		hits []Hit
		want []string
	}{
		{"a sibling of an anchor passes an unrelated candidate",
			[]Hit{hit("a", 0.05, "holiday", "bisphosphonate"), hit("b", 0.04, "vte"), hit("c", 0.03, "dxa"),
				hit("d", 0.020, "fracture"), hit("e", 0.018, "holiday", "bisphosphonate")},
			[]string{"a", "b", "c", "e", "d"}},
		{"a partial overlap gains less than the gap",
			[]Hit{hit("a", 0.05, "holiday", "bisphosphonate", "monitoring", "review"), hit("b", 0.04), hit("c", 0.03),
				hit("d", 0.020), hit("e", 0.018, "holiday")},
			[]string{"a", "b", "c", "d", "e"}},
		{"a candidate tagged like an anchor does not pass the anchors",
			[]Hit{hit("a", 0.05, "vte"), hit("b", 0.04, "dxa"), hit("c", 0.0300, "fracture"), hit("d", 0.0299, "vte")},
			[]string{"a", "b", "c", "d"}},
		{"no topics, no change",
			[]Hit{hit("a", 0.05), hit("b", 0.04), hit("c", 0.03), hit("d", 0.020), hit("e", 0.019)},
			[]string{"a", "b", "c", "d", "e"}},
	}
	for _, tt := range tests {
		topicNeighbours(tt.hits)
		var ids []string
		for _, h := range tt.hits {
			ids = append(ids, h.ID)
		}
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestValidate(t *testing.T) {
	qs := []Query{{Text: "a"}, {Text: ""}, {Text: "b", K: 51}}
	err := Validate(qs)
	var oe *orthocds.Error
	if e, ok := err.(*orthocds.Error); ok {
		oe = e
	}
	if oe == nil {
		t.Fatalf("Validate = %v", err)
	}
	want := []orthocds.FieldError{{Field: "/queries/1/text", Detail: "must not be empty"},
		{Field: "/queries/2/k", Detail: "must be between 1 and 50"}}
	if diff := cmp.Diff(want, oe.FieldErrors); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
	if qs[0].K != DefaultK {
		t.Errorf("default k not filled: %d", qs[0].K)
	}
}

// countingCoverer covers a chunk by a fixed share and counts its calls.
type countingCoverer struct {
	share map[string]float64
	calls *int
}

func (f countingCoverer) Weight(string) float64 { return 0.06 }
func (f countingCoverer) Measure(_ []string, id, _, _ string, _ []string) float64 {
	*f.calls++
	return f.share[id]
}

// Candidates that cannot reach the first k, however much they cover, are
// not measured, and the first k are those measuring every candidate gives.
func TestFuseMeasuresOnlyWhatCanRank(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	topics := []string{"vte", "arthroplasty", "bisphosphonate", "holiday", "dxa"}
	measuredLess := false
	for trial := range 200 {
		pool := func(prefix string, n int) []Scored {
			out := make([]Scored, n)
			for i := range out {
				id := fmt.Sprintf("%s%d", prefix, rng.IntN(60))
				out[i] = Scored{Chunk: Chunk{ID: id, Topics: []string{topics[rng.IntN(len(topics))], topics[rng.IntN(len(topics))]}}}
			}
			return out
		}
		c := Candidates{Dense: dedupe(pool("x", 40)), Lexical: dedupe(pool("x", 40))}
		share := map[string]float64{}
		for _, s := range append(c.Dense, c.Lexical...) {
			share[s.Chunk.ID] = rng.Float64()
		}
		k := 1 + rng.IntN(12)
		var all, pruned int
		every := (&Retriever{denseWeight: 0.03, coverage: countingCoverer{share, &all}}).fuse("q", nil, c, len(c.Dense)+len(c.Lexical))
		first := (&Retriever{denseWeight: 0.03, coverage: countingCoverer{share, &pruned}}).fuse("q", nil, c, k)
		if diff := cmp.Diff(every[:min(k, len(every))], first); diff != "" {
			t.Fatalf("trial %d, k %d: the first k differ (-every +pruned):\n%s", trial, k, diff)
		}
		measuredLess = measuredLess || pruned < all
	}
	if !measuredLess {
		t.Error("no trial passed over a candidate")
	}
}

func dedupe(s []Scored) []Scored {
	seen := map[string]bool{}
	var out []Scored
	for _, x := range s {
		if !seen[x.Chunk.ID] {
			seen[x.Chunk.ID] = true
			out = append(out, x)
		}
	}
	return out
}
