package rag

import (
	"fmt"
	"testing"
)

// BenchmarkFuse sets the topic stage's cost beside fusion alone, on a
// query's usual pool (30 candidates from each ranking, three topic tags
// each): compare the two ns/op of one run.
func BenchmarkFuse(b *testing.B) {
	tags := []string{"bisphosphonate", "drug-holiday", "monitoring", "vte", "prophylaxis", "arthroplasty", "dxa", "fracture"}
	pool := func(prefix string) []Scored {
		out := make([]Scored, 30)
		for i := range out {
			out[i] = Scored{Chunk: Chunk{ID: fmt.Sprintf("%s%02d", prefix, i),
				Topics: []string{tags[i%len(tags)], tags[(i+3)%len(tags)], tags[(i+5)%len(tags)]}}, Score: float64(30 - i)}
		}
		return out
	}
	c := Candidates{Dense: pool("d"), Lexical: append(pool("d")[10:20], pool("l")[:20]...)}
	b.Run("fusion alone", func(b *testing.B) {
		for b.Loop() {
			Fuse(c, 10, 1)
		}
	})
	r := &Retriever{denseWeight: 1}
	b.Run("with the topic stage", func(b *testing.B) {
		for b.Loop() {
			r.fuse("q", nil, c, 10)
		}
	})
}
