// Package searchbench measures batched vector search side by side: our
// PostgreSQL + pgvector store, a loop of single queries through
// langchaingo's pgvector store, our embedded store and chromem-go, all on
// the same synthetic vectors in one run, with exact search as the ground
// truth for recall@k. `orthocds bench search` runs it.
package searchbench

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/orthocds/orthocds/embedstore"
)

// Dataset is a synthetic corpus and its queries, unit vectors in rows.
type Dataset struct {
	N, Dim   int
	Clusters int
	Vectors  []float32 // N rows of Dim
	Queries  []float32 // len(Queries)/Dim rows
	Truth    [][]int   // exact top-k row indexes per query
	K        int
}

// Row returns vector i.
func (d *Dataset) Row(i int) []float32 { return d.Vectors[i*d.Dim : (i+1)*d.Dim] }

// Query returns query i.
func (d *Dataset) Query(i int) []float32 { return d.Queries[i*d.Dim : (i+1)*d.Dim] }

// NumQueries is the number of queries.
func (d *Dataset) NumQueries() int { return len(d.Queries) / d.Dim }

// spread is the noise around a cluster centre: a point's cosine to its
// centre is about 1/sqrt(1+spread²) = 0.78, so clusters overlap enough for
// approximate search to make real mistakes.
const spread = 0.8

// Generate builds n clustered vectors of dim dimensions and nq queries
// drawn from the same clusters, deterministically from seed. Clusters
// hold about 100 points each, of unequal sizes.
func Generate(n, dim, nq int, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	clusters := max(8, n/100)
	centres := make([]float32, clusters*dim)
	for i := range centres {
		centres[i] = float32(rng.NormFloat64())
	}
	for c := range clusters {
		normalize(centres[c*dim : (c+1)*dim])
	}
	// Zipf-like cluster popularity: a few large clusters, many small ones.
	weights := make([]float64, clusters)
	var total float64
	for c := range weights {
		weights[c] = 1 / math.Sqrt(float64(c+1))
		total += weights[c]
	}
	cum := make([]float64, clusters)
	acc := 0.0
	for c, w := range weights {
		acc += w / total
		cum[c] = acc
	}
	pick := func() int {
		u := rng.Float64()
		lo, hi := 0, clusters-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cum[mid] < u {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo
	}
	point := func(dst []float32) {
		c := centres[pick()*dim:]
		scale := spread / math.Sqrt(float64(dim))
		for j := range dst {
			dst[j] = c[j] + float32(scale*rng.NormFloat64())
		}
		normalize(dst)
	}
	d := &Dataset{N: n, Dim: dim, Clusters: clusters, Vectors: make([]float32, n*dim), Queries: make([]float32, nq*dim)}
	for i := range n {
		point(d.Vectors[i*dim : (i+1)*dim])
	}
	for i := range nq {
		point(d.Queries[i*dim : (i+1)*dim])
	}
	return d
}

// ComputeTruth finds the exact top k of every query by brute force, in
// parallel over queries, and returns how long it took.
func (d *Dataset) ComputeTruth(k int) time.Duration {
	start := time.Now()
	nq := d.NumQueries()
	d.K = k
	d.Truth = make([][]int, nq)
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for q := range next {
				d.Truth[q] = exactTopK(d, d.Query(q), k)
			}
		}()
	}
	for q := range nq {
		next <- q
	}
	close(next)
	wg.Wait()
	return time.Since(start)
}

// FilteredTruth is each query's exact top k among the rows a share's
// filter keeps.
func (d *Dataset) FilteredTruth(k int, share float64) [][]int {
	out := make([][]int, d.NumQueries())
	for q := range out {
		out[q] = exactTopKWhere(d, d.Query(q), k, func(i int) bool { return selected(i, share) })
	}
	return out
}

func exactTopK(d *Dataset, q []float32, k int) []int {
	return exactTopKWhere(d, q, k, nil)
}

func exactTopKWhere(d *Dataset, q []float32, k int, keep func(int) bool) []int {
	best := make([]int, 0, k+1)
	scores := make([]float32, 0, k+1)
	for i := range d.N {
		if keep != nil && !keep(i) {
			continue
		}
		s := embedstore.Dot(q, d.Row(i))
		if len(best) == k && s <= scores[k-1] {
			continue
		}
		j := len(best)
		best, scores = append(best, i), append(scores, s)
		for ; j > 0 && scores[j-1] < s; j-- {
			best[j], scores[j] = best[j-1], scores[j-1]
		}
		best[j], scores[j] = i, s
		if len(best) > k {
			best, scores = best[:k], scores[:k]
		}
	}
	return best
}

// Recall is the mean fraction of each query's exact top k found in got.
func (d *Dataset) Recall(first int, got [][]int) float64 {
	return recallAgainst(d.Truth[first:], got)
}

// recallAgainst is the mean fraction of truth[i] found in got[i].
func recallAgainst(truths [][]int, got [][]int) float64 {
	if len(got) == 0 {
		return 0
	}
	var sum float64
	for i, g := range got {
		truth := truths[i]
		in := make(map[int]bool, len(truth))
		for _, t := range truth {
			in[t] = true
		}
		hit := 0
		for _, x := range g {
			if in[x] {
				hit++
			}
		}
		sum += float64(hit) / float64(len(truth))
	}
	return sum / float64(len(got))
}

func normalize(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range v {
		v[i] *= inv
	}
}

// MemoryBandwidth measures how fast one core streams the dataset's vectors
// (bytes per second): the floor for any exact single-query scan.
func (d *Dataset) MemoryBandwidth() float64 {
	var best time.Duration
	var sink float32
	for range 3 {
		start := time.Now()
		var s0, s1, s2, s3 float32
		v := d.Vectors
		i := 0
		for ; i+4 <= len(v); i += 4 {
			s0 += v[i]
			s1 += v[i+1]
			s2 += v[i+2]
			s3 += v[i+3]
		}
		sink += s0 + s1 + s2 + s3
		if el := time.Since(start); best == 0 || el < best {
			best = el
		}
	}
	if sink == 42 { // keep the loop
		best++
	}
	return float64(len(d.Vectors)*4) / best.Seconds()
}
