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
