//go:build !noasm

package cpu

import (
	"bytes"
	"math"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// convertCases returns activation rows of n values that exercise the
// converters' corner cases: random rows, an all-zero block, exact
// rounding ties, a block of tiny values (127/amax overflows), equal
// largest magnitudes of both signs (Q8_K takes the first) and huge values.
func convertCases(n int) [][]float32 {
	r := newRand()
	var rows [][]float32
	for i := 0; i < 3; i++ {
		rows = append(rows, randomFloats(r, n, 3))
	}
	x := randomFloats(r, n, 1)
	clear(x[32:64])
	rows = append(rows, x)
	// Ties: a block whose amax is 127 quantizes with id = 1.
	x = make([]float32, n)
	for i := range x {
		x[i] = float32(i%64-32) + 0.5
	}
	for b := 0; b < n; b += 32 {
		x[b] = 127
	}
	rows = append(rows, x)
	x = randomFloats(r, n, 1e-38)
	rows = append(rows, x)
	for _, neg := range []bool{false, true} {
		x = randomFloats(r, n, 1)
		for b := 0; b < n; b += 32 {
			x[b+5], x[b+9] = 20, -20
			if neg {
				x[b+5], x[b+9] = -20, 20
			}
		}
		rows = append(rows, x)
	}
	rows = append(rows, randomFloats(r, n, 1e30))
	return rows
}

// TestNEONConvert requires the NEON converters' bytes to equal the generic
// converters'.
func TestNEONConvert(t *testing.T) {
	if !detectNEON().asimd {
		t.Skip("CPU lacks Advanced SIMD")
	}
	k, g := genericKernelSet(), genericKernelSet()
	useNEONConvert(k)
	for _, vt := range []ggml.Type{ggml.TypeQ8_0, ggml.TypeQ8_1, ggml.TypeQ8_K} {
		for _, n := range []int{256, 512, 1024} {
			for c, x := range convertCases(n) {
				rs := mustActRowBytes(vt, n)
				got, want := make([]byte, rs), make([]byte, rs)
				k.convert[vt](got, x)
				g.convert[vt](want, x)
				if !bytes.Equal(got, want) {
					i := 0
					for got[i] == want[i] {
						i++
					}
					t.Fatalf("%v n=%d case %d: %s: byte %d is %#x, generic %#x", vt, n, c, funcName(k.convert[vt]), i, got[i], want[i])
				}
			}
		}
		t.Logf("%v: %s gives the generic bytes", vt, funcName(k.convert[vt]))
	}
}

// TestNEONSumSqAndBF16 checks the sum of squares (another summation order,
// within 1e-14) and the BF16 dot product (bit for bit) against the generic
// kernels.
func TestNEONSumSqAndBF16(t *testing.T) {
	if !detectNEON().asimd {
		t.Skip("CPU lacks Advanced SIMD")
	}
	k, g := genericKernelSet(), genericKernelSet()
	useNEONConvert(k)
	r := newRand()
	for _, n := range neonCols(ggml.TypeF32) {
		x := randomFloats(r, n, 1)
		if got, want := k.sumSqF32(x), g.sumSqF32(x); math.Abs(got-want) > 1e-14*want {
			t.Fatalf("n=%d: sumSqF32 = %g, generic %g", n, got, want)
		}
		w, a := make([]byte, 2*n), make([]byte, 2*n)
		convertBF16Generic(w, randomFloats(r, n, 1))
		convertBF16Generic(a, randomFloats(r, n, 1))
		got, want := k.vecDot[ggml.TypeBF16](n, w, a), g.vecDot[ggml.TypeBF16](n, w, a)
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("n=%d: BF16 dot = %g, generic %g", n, got, want)
		}
	}
}
