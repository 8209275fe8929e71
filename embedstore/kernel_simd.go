//go:build goexperiment.simd && amd64

package embedstore

import (
	"simd/archsimd"
	"unsafe"
)

func init() {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		scoreBlock = scoreBlockAVX2
		kernel = "avx2-fma"
	}
}

// scoreBlockAVX2 scores four queries against two rows at a time with
// 8-wide fused multiply-adds: each row chunk is loaded once for four
// queries and each query chunk once for two rows, and the four query vectors stay in L1 while the row block
// streams from L2. A single query scores four rows at a time, which keeps
// four independent accumulators busy. The slices are checked once here;
// the inner loops then address them by offset, without per-load bounds
// checks (which otherwise cost more than the arithmetic).
func scoreBlockAVX2(qs []float32, nq int, block []float32, nr, dim int, out []float32) {
	if dim%8 != 0 || len(qs) < nq*dim || len(block) < nr*dim || len(out) < nq*nr {
		scoreBlockGo(qs, nq, block, nr, dim, out)
		return
	}
	if nq == 0 || nr == 0 {
		return
	}
	stride := uintptr(dim) * 4
	qp, bp := unsafe.Pointer(&qs[0]), unsafe.Pointer(&block[0])
	q := 0
	for ; q+4 <= nq; q += 4 {
		q0 := unsafe.Add(qp, uintptr(q)*stride)
		q1, q2, q3 := unsafe.Add(q0, stride), unsafe.Add(q0, 2*stride), unsafe.Add(q0, 3*stride)
		r := 0
		// Tiles of four queries by two rows: six loads feed eight FMAs.
		for ; r+2 <= nr; r += 2 {
			ra := unsafe.Add(bp, uintptr(r)*stride)
			rb := unsafe.Add(ra, stride)
			var a0, a1, a2, a3, b0, b1, b2, b3 archsimd.Float32x8
			for off := uintptr(0); off < stride; off += 32 {
				x0, x1, x2, x3 := load(q0, off), load(q1, off), load(q2, off), load(q3, off)
				v := load(ra, off)
				a0, a1, a2, a3 = v.MulAdd(x0, a0), v.MulAdd(x1, a1), v.MulAdd(x2, a2), v.MulAdd(x3, a3)
				w := load(rb, off)
				b0, b1, b2, b3 = w.MulAdd(x0, b0), w.MulAdd(x1, b1), w.MulAdd(x2, b2), w.MulAdd(x3, b3)
			}
			out[q*nr+r], out[q*nr+r+1] = hsum(a0), hsum(b0)
			out[(q+1)*nr+r], out[(q+1)*nr+r+1] = hsum(a1), hsum(b1)
			out[(q+2)*nr+r], out[(q+2)*nr+r+1] = hsum(a2), hsum(b2)
			out[(q+3)*nr+r], out[(q+3)*nr+r+1] = hsum(a3), hsum(b3)
		}
		for ; r < nr; r++ {
			row := unsafe.Add(bp, uintptr(r)*stride)
			var a0, a1, a2, a3 archsimd.Float32x8
			for off := uintptr(0); off < stride; off += 32 {
				v := load(row, off)
				a0 = v.MulAdd(load(q0, off), a0)
				a1 = v.MulAdd(load(q1, off), a1)
				a2 = v.MulAdd(load(q2, off), a2)
				a3 = v.MulAdd(load(q3, off), a3)
			}
			out[q*nr+r] = hsum(a0)
			out[(q+1)*nr+r] = hsum(a1)
			out[(q+2)*nr+r] = hsum(a2)
			out[(q+3)*nr+r] = hsum(a3)
		}
	}
	for ; q < nq; q++ {
		qv := unsafe.Add(qp, uintptr(q)*stride)
		o := out[q*nr : (q+1)*nr]
		r := 0
		// One row at a time, read front to back with four accumulators:
		// a single sequential stream, which the hardware prefetcher follows
		// best when the scan is memory-bound.
		if dim%32 == 0 {
			for ; r < nr; r++ {
				row := unsafe.Add(bp, uintptr(r)*stride)
				var a0, a1, a2, a3 archsimd.Float32x8
				for off := uintptr(0); off < stride; off += 128 {
					a0 = load(qv, off).MulAdd(load(row, off), a0)
					a1 = load(qv, off+32).MulAdd(load(row, off+32), a1)
					a2 = load(qv, off+64).MulAdd(load(row, off+64), a2)
					a3 = load(qv, off+96).MulAdd(load(row, off+96), a3)
				}
				o[r] = hsum(a0.Add(a1).Add(a2.Add(a3)))
			}
		}
		for ; r < nr; r++ {
			o[r] = Dot(qs[q*dim:(q+1)*dim], block[r*dim:(r+1)*dim])
		}
	}
}

// load reads eight float32s at p+off; the caller has checked the bounds.
func load(p unsafe.Pointer, off uintptr) archsimd.Float32x8 {
	return archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(p, off)))
}

func hsum(v archsimd.Float32x8) float32 {
	s := v.GetLo().Add(v.GetHi())
	s = s.AddPairs(s)
	s = s.AddPairs(s)
	return s.GetElem(0)
}
