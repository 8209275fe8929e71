package embedstore

// scoreBlock writes out[q*nr+r] = Dot(query q, row r) for nq queries of qs
// and the nr rows of block, all of dim dimensions. It is the inner loop of
// exact search; a SIMD version replaces it where the build and the CPU
// allow (kernel_simd.go).
var scoreBlock = scoreBlockGo

// kernel names the scoring code in use, for benchmarks and logs.
var kernel = "go"

// Kernel reports which scoring code the embedded store uses: "go", or
// "avx2-fma" when built with GOEXPERIMENT=simd on a CPU that has it.
func Kernel() string { return kernel }

func scoreBlockGo(qs []float32, nq int, block []float32, nr, dim int, out []float32) {
	for q := range nq {
		qv := qs[q*dim : (q+1)*dim]
		o := out[q*nr : (q+1)*nr]
		for r := range nr {
			o[r] = Dot(qv, block[r*dim:(r+1)*dim])
		}
	}
}
