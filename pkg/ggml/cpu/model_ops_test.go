package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// TestRoundHalf compares roundHalf with a conversion to F16 and back near
// every F16 value and on random bit patterns.
func TestRoundHalf(t *testing.T) {
	check := func(x float32) {
		want := ggml.FP16ToFP32(ggml.FP32ToFP16(x))
		got := roundHalf(x)
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("roundHalf(%g = %#08x) = %#08x, want %#08x", x, math.Float32bits(x), math.Float32bits(got), math.Float32bits(want))
		}
	}
	for h := 0; h < 1<<16; h++ {
		b := math.Float32bits(ggml.FP16ToFP32(uint16(h)))
		for _, d := range []int32{-0x1001, -0x1000, -0xfff, -1, 0, 1, 0xfff, 0x1000, 0x1001} {
			check(math.Float32frombits(uint32(int32(b) + d)))
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 1 << 18 {
		check(math.Float32frombits(r.Uint32()))
	}
}

// attnAccCase makes random accumulators (F16 values), value rows and
// online-softmax factors: ms is 1 (no new maximum) or in (0, 1), vs in
// (0, 1], with magnitudes across F16's range.
func attnAccCase(r *rand.Rand, rows, dv, nk int) (acc []float32, v []byte, ms, vs []float32) {
	acc = make([]float32, rows*dv)
	for i := range acc {
		e := float64(r.IntN(36) - 26)
		acc[i] = roundHalf(float32((r.Float64()*2 - 1) * math.Exp2(e)))
	}
	v = make([]byte, 2*nk*dv)
	for i := 0; i < nk*dv; i++ {
		e := float64(r.IntN(30) - 20)
		h := ggml.FP32ToFP16(float32((r.Float64()*2 - 1) * math.Exp2(e)))
		v[2*i], v[2*i+1] = byte(h), byte(h>>8)
	}
	ms = make([]float32, nk*rows)
	vs = make([]float32, nk*rows)
	for i := range ms {
		ms[i], vs[i] = 1, float32(r.Float64())
		if r.IntN(3) == 0 {
			ms[i], vs[i] = float32(r.Float64()), 1
		}
	}
	return acc, v, ms, vs
}

// TestAttnAccumulateF16 checks the generic kernel against its definition
// (a conversion to F16 and back, a float64 fused multiply-add) and the
// kernel in use against the generic one, bit for bit, for head sizes the
// SIMD kernels take and ones they leave to the generic kernel.
func TestAttnAccumulateF16(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	f16 := func(x float32) float32 { return ggml.FP16ToFP32(ggml.FP32ToFP16(x)) }
	for _, dv := range []int{8, 16, 24, 32, 64, 80, 128, 256} {
		for _, rows := range []int{1, 2, 3, 8} {
			for _, nk := range []int{1, 2, 7, 33} {
				acc, v, ms, vs := attnAccCase(r, rows, dv, nk)
				want := append([]float32(nil), acc...)
				for j := 0; j < nk; j++ {
					for q := 0; q < rows; q++ {
						for i := 0; i < dv; i++ {
							a := &want[q*dv+i]
							x := f16(*a * ms[j*rows+q])
							vv := float64(ggml.FP16ToFP32(uint16(v[2*(j*dv+i)]) | uint16(v[2*(j*dv+i)+1])<<8))
							*a = f16(float32(math.FMA(vv, float64(vs[j*rows+q]), float64(x))))
						}
					}
				}
				gen := append([]float32(nil), acc...)
				attnAccF16Generic(gen, rows, dv, v, nk, ms, vs)
				got := append([]float32(nil), acc...)
				AttnAccumulateF16(got, rows, v, nk, ms, vs)
				for i := range want {
					if math.Float32bits(gen[i]) != math.Float32bits(want[i]) {
						t.Fatalf("generic, dv %d, rows %d, keys %d: acc[%d] = %g, want %g", dv, rows, nk, i, gen[i], want[i])
					}
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("dv %d, rows %d, keys %d: acc[%d] = %g, want %g", dv, rows, nk, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func BenchmarkAttnAccumulateF16(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	acc, v, ms, vs := attnAccCase(r, 8, 64, 256)
	for _, c := range []struct {
		name string
		fn   func(acc []float32, rows, dv int, v []byte, nk int, ms, vs []float32)
	}{{"generic", attnAccF16Generic}, {"best", attnAccF16}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				c.fn(acc, 8, 64, v, 256, ms, vs)
			}
		})
	}
}

// TestExpVec checks ggml's vectorized exp (generic lane) against math.Exp:
// within 2.5 ulp where the result is normal (ggml: 1.45 ulp plus rounding), 0 and infinity where ggml
// flushes, and NaN for NaN.
func TestExpVec(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for range 1 << 16 {
		x := float32(r.Float64()*174 - 87) // normal results
		got, want := expVec(x), math.Exp(float64(x))
		if ulp := math.Abs(float64(got)-want) / float64(math.Nextafter32(float32(want), float32(math.Inf(1)))-float32(want)); ulp > 2.5 {
			t.Fatalf("expVec(%g) = %g, want %g (%.2f ulp)", x, got, want, ulp)
		}
	}
	for _, c := range []struct{ x, want float32 }{{0, 1}, {-200, 0}, {200, float32(math.Inf(1))}, {float32(math.Inf(-1)), 0}, {float32(math.Inf(1)), float32(math.Inf(1))}} {
		if got := expVec(c.x); got != c.want {
			t.Errorf("expVec(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if got := expVec(float32(math.NaN())); got == got {
		t.Errorf("expVec(NaN) = %g", got)
	}
}

// swigluInputs are random activations over the range where silu is
// interesting, plus values whose exp is subnormal, flushed or infinite,
// and NaN.
func swigluInputs(r *rand.Rand, n int) (x, g []float32) {
	x, g = make([]float32, n), make([]float32, n)
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 87, -87, 88.5, -88.5, 95, -95, 103, -103, 104.5, -104.5, 150, -150, 200, -200,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for i := range x {
		x[i] = float32(r.NormFloat64() * 4)
		if r.IntN(8) == 0 {
			x[i] = special[r.IntN(len(special))]
		}
		g[i] = float32(r.NormFloat64())
	}
	return x, g
}

// TestSwiGLUVec checks SwiGLUVec against its definition (expVec on whole
// blocks of 16, a float32 exp after them) and the kernel in use against
// the generic one, bit for bit.
func TestSwiGLUVec(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b }
	for _, n := range []int{0, 1, 15, 16, 17, 64, 100, 5632} {
		x, g := swigluInputs(r, n)
		want := make([]float32, n)
		for i, v := range x {
			e := expVec(-v)
			if i >= n&^15 {
				e = expf(-v)
			}
			want[i] = v / (1 + e) * g[i]
		}
		got := make([]float32, n)
		SwiGLUVec(got, x, g)
		gen := make([]float32, n&^15)
		swigluVecGeneric(gen, x[:n&^15], g[:n&^15])
		for i := range want {
			if !same(got[i], want[i]) {
				t.Fatalf("n %d: SwiGLUVec x[%d] = %g: %g, want %g", n, i, x[i], got[i], want[i])
			}
			if i < len(gen) && !same(gen[i], want[i]) {
				t.Fatalf("n %d: generic x[%d] = %g: %g, want %g", n, i, x[i], gen[i], want[i])
			}
		}
		// In place, as the model calls it.
		SwiGLUVec(x, x, g)
		for i := range want {
			if !same(x[i], want[i]) {
				t.Fatalf("n %d, in place: element %d: %g, want %g", n, i, x[i], want[i])
			}
		}
	}
}

func BenchmarkSwiGLUVec(b *testing.B) {
	r := rand.New(rand.NewPCG(17, 18))
	x, g := swigluInputs(r, 5632)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	dst := make([]float32, len(x))
	b.Run("SwiGLU", func(b *testing.B) {
		for range b.N {
			SwiGLU(dst, x, g)
		}
	})
	b.Run("SwiGLUVec", func(b *testing.B) {
		for range b.N {
			SwiGLUVec(dst, x, g)
		}
	})
	b.Run("generic", func(b *testing.B) {
		for range b.N {
			swigluVecGeneric(dst, x, g)
		}
	})
}

// TestSoftMaxExp checks SoftMaxExp against its definition (expVec of each
// element minus max, sums of blocks of 16 in the order of
// _mm512_reduce_add_ps, zeros for the padding) and the kernel in use
// against the generic one, bit for bit, on rows with masked (-Inf) scores.
func TestSoftMaxExp(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, n := range []int{0, 1, 7, 15, 16, 17, 33, 63, 64, 100, 256} {
		x := make([]float32, n)
		max := float32(math.Inf(-1))
		for i := range x {
			x[i] = float32(r.NormFloat64() * 6)
			if r.IntN(6) == 0 {
				x[i] = float32(math.Inf(-1)) // masked
			}
			if r.IntN(20) == 0 {
				x[i] = -150 // flushed to 0
			}
			max = fmax(max, x[i])
		}
		if n > 0 && max == float32(math.Inf(-1)) {
			x[0], max = 0, 0
		}
		want := make([]float32, n)
		var wantSum float64
		for b := 0; b < n; b += 16 {
			var lanes [16]float32
			for i := b; i < min(b+16, n); i++ {
				want[i] = expVec(x[i] - max)
				lanes[i-b] = want[i]
			}
			s := float32(0)
			h := [8]float32{}
			for i := range h {
				h[i] = lanes[i] + lanes[i+8]
			}
			s = (h[0] + h[4] + (h[2] + h[6])) + (h[1] + h[5] + (h[3] + h[7]))
			wantSum += float64(s)
		}
		for _, k := range []struct {
			name string
			fn   func([]float32, float32) float64
		}{{"generic", softMaxExpGeneric}, {"best", SoftMaxExp}} {
			got := append([]float32(nil), x...)
			sum := k.fn(got, max)
			if math.Float64bits(sum) != math.Float64bits(wantSum) {
				t.Errorf("%s n %d: sum %v, want %v", k.name, n, sum, wantSum)
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s n %d: y[%d] = e^(%g - %g) = %g, want %g", k.name, n, i, x[i], max, got[i], want[i])
				}
			}
		}
	}
}

func fmax(a, b float32) float32 {
	if b > a {
		return b
	}
	return a
}

func BenchmarkSoftMaxExp(b *testing.B) {
	r := rand.New(rand.NewPCG(21, 22))
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	y := make([]float32, len(x))
	for _, k := range []struct {
		name string
		fn   func([]float32, float32) float64
	}{{"generic", softMaxExpGeneric}, {"best", SoftMaxExp}} {
		b.Run(k.name, func(b *testing.B) {
			for range b.N {
				copy(y, x)
				k.fn(y, 3)
			}
		})
	}
}

// expSweep returns float32 values dense around the edges of ggml's
// vectorized exp of x and of -x: subnormal and flushed results (x near
// -87..-104), overflow (88..89), |n| near 192 (x near ±133), plus random
// values, zeros, infinities, NaN and subnormal inputs.
func expSweep(r *rand.Rand) []float32 {
	var xs []float32
	for _, rg := range [][2]float32{{-105, -86}, {86, 105}, {-134, -132}, {132, 134}, {-1, 1}} {
		for _, sign := range []float32{1, -1} {
			lo, hi := rg[0]*sign, rg[1]*sign
			if lo > hi {
				lo, hi = hi, lo
			}
			// Every float32 from lo to hi at a stride giving about 4096 values.
			a, b := math.Float32bits(lo), math.Float32bits(hi)
			if a > b {
				a, b = b, a
			}
			step := max((b-a)/4096, 1)
			for u := a; u <= b; u += step {
				xs = append(xs, math.Float32frombits(u))
			}
		}
	}
	for range 8192 {
		xs = append(xs, float32(r.Float64()*400-200))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, 1e-40, -1e-40,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e38, -1e38)
	r.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
	return xs
}

// TestExpKernelsSweep compares the swigluVec and softMaxExp in use with
// the generic ones bit for bit on expSweep's values (NaN as any NaN).
func TestExpKernelsSweep(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	xs := expSweep(r)
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b }

	n := len(xs) &^ 15
	g := make([]float32, n)
	for i := range g {
		g[i] = float32(r.NormFloat64())
	}
	got, want := make([]float32, n), make([]float32, n)
	swigluVec(got, xs[:n], g)
	swigluVecGeneric(want, xs[:n], g)
	for i := range want {
		if !same(got[i], want[i]) {
			t.Fatalf("swigluVec x[%d] = %g (%#08x), g %g: %g (%#08x), want %g (%#08x)", i, xs[i], math.Float32bits(xs[i]), g[i],
				got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}

	// max 0 leaves y as it is (y - 0); a max of 3 shifts the flush
	// thresholds. Lengths that are not multiples of 16 take the tail path.
	finite := make([]float32, 0, len(xs))
	for _, x := range xs {
		if x == x {
			finite = append(finite, x)
		}
	}
	for _, m := range []float32{0, 3, -40} {
		for _, l := range []int{len(finite), len(finite) - 7, 9} {
			y1 := append([]float32(nil), finite[:l]...)
			y2 := append([]float32(nil), finite[:l]...)
			s1, s2 := softMaxExp(y1, m), softMaxExpGeneric(y2, m)
			for i := range y2 {
				if !same(y1[i], y2[i]) {
					t.Fatalf("softMaxExp max %g: e^(%g - %g) = %g (%#08x), want %g (%#08x)", m, finite[i], m,
						y1[i], math.Float32bits(y1[i]), y2[i], math.Float32bits(y2[i]))
				}
			}
			if math.Float64bits(s1) != math.Float64bits(s2) && !(s1 != s1 && s2 != s2) {
				t.Errorf("softMaxExp max %g, n %d: sum %v, want %v", m, l, s1, s2)
			}
		}
	}
}
