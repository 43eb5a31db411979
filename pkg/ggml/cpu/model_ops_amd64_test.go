//go:build !noasm

package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestAttnAccumulateF16Levels runs each amd64 kernel the CPU supports
// against the generic one.
func TestAttnAccumulateF16Levels(t *testing.T) {
	levels := []struct {
		name  string
		ok    bool
		align int
		fn    func(acc *float32, rows, dv int, v *byte, nk int, ms, vs *float32)
	}{
		{"AVX512", cpu.X86.HasAVX512F && cpu.X86.HasFMA, 16, attnAccF16AVX512},
		{"AVX2", cpu.X86.HasAVX2 && cpu.X86.HasFMA, 8, attnAccF16AVX2},
	}
	r := rand.New(rand.NewPCG(11, 12))
	for _, l := range levels {
		if !l.ok {
			t.Logf("%s: not supported by this CPU", l.name)
			continue
		}
		t.Logf("%s: testing", l.name)
		for _, dv := range []int{8, 16, 32, 64, 96, 128} {
			if dv%l.align != 0 {
				continue
			}
			for _, rows := range []int{1, 3, 8} {
				for _, nk := range []int{1, 5, 64} {
					acc, v, ms, vs := attnAccCase(r, rows, dv, nk)
					want := append([]float32(nil), acc...)
					attnAccF16Generic(want, rows, dv, v, nk, ms, vs)
					l.fn(&acc[0], rows, dv, &v[0], nk, &ms[0], &vs[0])
					for i := range want {
						if math.Float32bits(acc[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s, dv %d, rows %d, keys %d: acc[%d] = %g, want %g", l.name, dv, rows, nk, i, acc[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestExpKernelsAVX2 runs the AVX2 SwiGLUVec and SoftMaxExp kernels (used
// where AVX-512 is missing) against the generic ones, bit for bit.
func TestExpKernelsAVX2(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2 and FMA")
	}
	r := rand.New(rand.NewPCG(23, 24))
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b }
	for _, n := range []int{16, 32, 48, 5632} {
		x, g := swigluInputs(r, n)
		want, got := make([]float32, n), make([]float32, n)
		swigluVecGeneric(want, x, g)
		swigluVecAVX2(&got[0], &x[0], &g[0], n)
		for i := range want {
			if !same(got[i], want[i]) {
				t.Fatalf("swiglu n %d: x[%d] = %g: %g, want %g", n, i, x[i], got[i], want[i])
			}
		}
	}
	for _, n := range []int{1, 15, 16, 17, 31, 64, 100} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 30) // down to subnormal and flushed results
			if r.IntN(6) == 0 {
				x[i] = float32(math.Inf(-1))
			}
		}
		x[0] = 0
		want, got := append([]float32(nil), x...), append([]float32(nil), x...)
		ws, gs := softMaxExpGeneric(want, 3), softMaxExpAVX2Padded(got, 3)
		if math.Float64bits(ws) != math.Float64bits(gs) {
			t.Errorf("softmax n %d: sum %v, want %v", n, gs, ws)
		}
		for i := range want {
			if !same(got[i], want[i]) {
				t.Fatalf("softmax n %d: e^(%g-3) = %g, want %g", n, x[i], got[i], want[i])
			}
		}
	}
}
