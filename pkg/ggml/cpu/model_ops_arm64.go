//go:build !noasm

package cpu

import "golang.org/x/sys/cpu"

func init() {
	if cpu.ARM64.HasASIMD {
		swigluVec = swigluVecNEONGo
		softMaxExp = softMaxExpNEONGo
	}
}

// swigluVecNEONGo is swigluVec with NEON.
func swigluVecNEONGo(dst, x, g []float32) {
	if len(x) == 0 {
		return
	}
	_, _ = dst[len(x)-1], g[len(x)-1]
	swigluVecNEON(&dst[0], &x[0], &g[0], len(x))
}

// softMaxExpNEONGo is softMaxExp with NEON: the whole blocks in assembly,
// the last partial block through softMaxTail.
func softMaxExpNEONGo(y []float32, max float32) float64 {
	n := len(y) &^ 15
	var sum float64
	if n > 0 {
		sum = softMaxExpNEON(&y[0], n, max)
	}
	var lanes [16]float32
	if tail := softMaxTail(&lanes, y); tail != nil {
		softMaxExpNEON(&lanes[0], len(lanes), max)
		sum += softMaxTailSum(&lanes, tail)
	}
	return sum
}

// swigluVecNEON is swigluVec (n a positive multiple of 8) with NEON,
// bit-identical to swigluVecGeneric.
//
//go:noescape
func swigluVecNEON(dst, x, y *float32, n int)

// softMaxExpNEON is softMaxExp (n a positive multiple of 16) with NEON,
// bit-identical to softMaxExpGeneric.
//
//go:noescape
func softMaxExpNEON(y *float32, n int, max float32) float64
