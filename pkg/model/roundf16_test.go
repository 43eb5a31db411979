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
