package storetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/orthocds/orthocds/rag"
)

// Synthetic builds n one-chunk documents of clustered unit vectors (so that
// nearest neighbours are meaningful) with a few terms each. The data is
// synthetic: random cluster centres plus noise, made from seed.
func Synthetic(n, dim, clusters int, seed uint64) []rag.Document {
	r := rand.New(rand.NewPCG(seed, 1))
	centres := make([][]float32, clusters)
	for i := range centres {
		centres[i] = unit(r, dim, nil, 0)
	}
	docs := make([]rag.Document, n)
	for i := range docs {
		c := i % clusters
		id := fmt.Sprintf("syn-%d", i)
		docs[i] = rag.Document{ID: id, Kind: rag.KindDocument, Hash: id, Source: "synthetic/" + id,
			Chunks: []rag.Chunk{{ID: id, DocID: id, Kind: rag.KindDocument, Langs: []string{"en"},
				Text: "synthetic chunk " + id, Terms: []string{fmt.Sprintf("c%d", c), fmt.Sprintf("w%d", r.IntN(500))},
				Vector: unit(r, dim, centres[c], 0.3)}}}
	}
	return docs
}

// Queries builds n queries near random cluster centres of the same space.
func Queries(docs []rag.Document, n, k int, seed uint64) []rag.StoreQuery {
	r := rand.New(rand.NewPCG(seed, 2))
	qs := make([]rag.StoreQuery, n)
	for i := range qs {
		src := docs[r.IntN(len(docs))].Chunks[0]
		qs[i] = rag.StoreQuery{Vector: unit(r, len(src.Vector), src.Vector, 0.2), Terms: src.Terms, K: k}
	}
	return qs
}

func unit(r *rand.Rand, dim int, centre []float32, noise float64) []float32 {
	v := make([]float32, dim)
	var ss float64
	for i := range v {
		x := r.NormFloat64()
		if centre != nil {
			x = float64(centre[i]) + noise*x/math.Sqrt(float64(dim))
		}
		v[i] = float32(x)
		ss += x * x
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// BenchBatchVsLoop loads n synthetic chunks into s and measures, in the
// same run on the same data, a batch of 64 queries answered by one Search
// call against the same 64 queries sent one Search call each. It reports
// queries per second for both and their ratio.
func BenchBatchVsLoop(b *testing.B, s rag.Store, n, dim int) {
	ctx := context.Background()
	if err := s.Init(ctx, rag.ModelInfo{Name: fmt.Sprintf("synthetic-%d", dim), Dim: dim}); err != nil {
		b.Fatal(err)
	}
	docs := Synthetic(n, dim, 100, 1)
	for start := 0; start < len(docs); start += 2000 {
		if err := s.PutDocuments(ctx, docs[start:min(start+2000, len(docs))]); err != nil {
			b.Fatal(err)
		}
	}
	qs := Queries(docs, 64, 20, 2)
	var batched, loop time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := s.Search(ctx, qs); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for _, q := range qs {
			if _, err := s.Search(ctx, []rag.StoreQuery{q}); err != nil {
				b.Fatal(err)
			}
		}
		batched += t1.Sub(t0)
		loop += time.Since(t1)
	}
	bq := float64(len(qs)*b.N) / batched.Seconds()
	lq := float64(len(qs)*b.N) / loop.Seconds()
	b.ReportMetric(bq, "batched-q/s")
	b.ReportMetric(lq, "loop-q/s")
	b.ReportMetric(bq/lq, "speedup")
}
