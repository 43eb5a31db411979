//go:build !noasm

package cpu

import "golang.org/x/sys/cpu"

func init() {
	if cpu.X86.HasAVX512F {
		swigluVec = func(dst, x, g []float32) {
			if len(x) > 0 {
				_, _ = dst[len(x)-1], g[len(x)-1]
				swigluVecAVX512(&dst[0], &x[0], &g[0], len(x))
			}
		}
	}
	if cpu.X86.HasAVX512F {
		softMaxExp = func(y []float32, max float32) float64 {
			if len(y) == 0 {
				return 0
			}
			return softMaxExpAVX512(&y[0], len(y), max)
		}
	} else if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		swigluVec = func(dst, x, g []float32) {
			if len(x) > 0 {
				_, _ = dst[len(x)-1], g[len(x)-1]
				swigluVecAVX2(&dst[0], &x[0], &g[0], len(x))
			}
		}
		softMaxExp = softMaxExpAVX2Padded
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasFMA {
		attnAccF16 = func(acc []float32, rows, dv int, v []byte, nk int, ms, vs []float32) {
			if dv%16 != 0 {
				attnAccF16Generic(acc, rows, dv, v, nk, ms, vs)
				return
			}
			attnAccF16AVX512(&acc[0], rows, dv, &v[0], nk, &ms[0], &vs[0])
		}
	} else if cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX {
		attnAccF16 = func(acc []float32, rows, dv int, v []byte, nk int, ms, vs []float32) {
			if dv%8 != 0 {
				attnAccF16Generic(acc, rows, dv, v, nk, ms, vs)
				return
			}
			attnAccF16AVX2(&acc[0], rows, dv, &v[0], nk, &ms[0], &vs[0])
		}
	}
}

// attnAccF16AVX512 is attnAccF16 for dv a multiple of 16 (AVX-512F; its
// conversions include F16C's).
//
//go:noescape
func attnAccF16AVX512(acc *float32, rows, dv int, v *byte, nk int, ms, vs *float32)

// attnAccF16AVX2 is attnAccF16 for dv a multiple of 8 (AVX2, FMA, F16C).
//
//go:noescape
func attnAccF16AVX2(acc *float32, rows, dv int, v *byte, nk int, ms, vs *float32)

// swigluVecAVX512 is swigluVec (n a multiple of 16) with AVX-512F.
//
//go:noescape
func swigluVecAVX512(dst, x, y *float32, n int)

// softMaxExpAVX512 is softMaxExp (n > 0) with AVX-512F.
//
//go:noescape
func softMaxExpAVX512(y *float32, n int, max float32) float64

// softMaxExpAVX2Padded is softMaxExp with AVX2: whole blocks in place, the
// last partial block through softMaxTail.
func softMaxExpAVX2Padded(y []float32, max float32) float64 {
	var sum float64
	if whole := len(y) / 16; whole > 0 {
		sum = softMaxExpAVX2(&y[0], whole, max)
	}
	var lanes [16]float32
	if tail := softMaxTail(&lanes, y); tail != nil {
		softMaxExpAVX2(&lanes[0], 1, max)
		sum += softMaxTailSum(&lanes, tail)
	}
	return sum
}

// swigluVecAVX2 is swigluVec (n a multiple of 16) with AVX2 and FMA.
//
//go:noescape
func swigluVecAVX2(dst, x, y *float32, n int)

// softMaxExpAVX2 is softMaxExp over blocks whole blocks of 16 with AVX2
// and FMA.
//
//go:noescape
func softMaxExpAVX2(y *float32, blocks int, max float32) float64
