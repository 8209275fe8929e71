package embedstore

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The scoring kernel in use (SIMD when built with GOEXPERIMENT=simd on an
// AVX2 CPU) agrees with a float64 reference for batch sizes that do and do
// not fill its four-query tiles, and dimensions that do and do not fill its
// eight-wide lanes.
func TestScoreBlock(t *testing.T) {
	t.Logf("kernel %s", Kernel())
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dim := range []int{8, 20, 384, 768} {
		for _, nq := range []int{1, 3, 4, 9} {
			for _, nr := range []int{1, 5, 64} {
				qs, block := make([]float32, nq*dim), make([]float32, nr*dim)
				for i := range qs {
					qs[i] = float32(rng.NormFloat64())
				}
				for i := range block {
					block[i] = float32(rng.NormFloat64())
				}
				out := make([]float32, nq*nr)
				scoreBlock(qs, nq, block, nr, dim, out)
				for q := range nq {
					for r := range nr {
						var want float64
						for j := range dim {
							want += float64(qs[q*dim+j]) * float64(block[r*dim+j])
						}
						if got := float64(out[q*nr+r]); math.Abs(got-want) > 1e-4*math.Sqrt(float64(dim))*4 {
							t.Fatalf("dim %d, %d queries, %d rows: score[%d][%d] = %v, want %v", dim, nq, nr, q, r, got, want)
						}
					}
				}
			}
		}
	}
}
