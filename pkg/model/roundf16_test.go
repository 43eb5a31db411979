package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// TestRoundF16 compares roundF16 with a conversion to F16 and back on
// every F16 value's neighbourhood and on random float32 bit patterns.
func TestRoundF16(t *testing.T) {
	check := func(x float32) {
		want := ggml.FP16ToFP32(ggml.FP32ToFP16(x))
		got := roundF16(x)
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("roundF16(%g = %#08x) = %g (%#08x), want %g (%#08x)", x, math.Float32bits(x), got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
	for h := 0; h < 1<<16; h++ {
		f := ggml.FP16ToFP32(uint16(h))
		b := math.Float32bits(f)
		for d := -4096; d <= 4096; d += 512 {
			check(math.Float32frombits(b + uint32(d)))
		}
		check(math.Float32frombits(b + 0x1000)) // midpoint to the next F16
		check(math.Float32frombits(b - 0x1000))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1 << 20 {
		check(math.Float32frombits(r.Uint32()))
	}
}

// TestMadF16 checks madF16 against roundF16, across F16's range (tiny,
// normal, overflowing).
func TestMadF16(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a := make([]float32, 4096)
	v := make([]float32, len(a))
	for i := range a {
		e := float64(r.IntN(40) - 28) // 2^-28 .. 2^11
		a[i] = roundF16(float32((r.Float64()*2 - 1) * math.Exp2(e)))
		v[i] = float32((r.Float64()*2 - 1) * math.Exp2(e+float64(r.IntN(8))))
	}
	for _, s := range []float32{0, 1, 0.3, 7.5, 1e-3} {
		mad := append([]float32(nil), a...)
		madF16(mad, v, s)
		scale := append([]float32(nil), a...)
		madF16(scale, nil, s)
		for i := range a {
			if w := roundF16(a[i] + v[i]*s); math.Float32bits(mad[i]) != math.Float32bits(w) {
				t.Fatalf("madF16: %g + %g*%g = %g, want %g", a[i], v[i], s, mad[i], w)
			}
			if w := roundF16(a[i] * s); math.Float32bits(scale[i]) != math.Float32bits(w) {
				t.Fatalf("madF16 (scale): %g*%g = %g, want %g", a[i], s, scale[i], w)
			}
		}
	}
}
