//go:build !noasm

package cpu

import (
	"math"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// TestFloatRowKernels compares the float row kernels this CPU runs with the
// generic ones.
func TestFloatRowKernels(t *testing.T) {
	ran := 0
	for _, lv := range legacyLevels() {
		if !lv.f.avx2 || lv.f.avxvnni {
			continue // no float row kernels, or the same as AVX2
		}
		k := &kernelSet{}
		useFloatAMD64(k, lv.f)
		t.Logf("testing the %s float row kernels", lv.name)
		testFloatRowKernels(t, k)
		ran++
	}
	if ran == 0 {
		t.Skip("no float row kernels on this CPU")
	}
}

func testFloatRowKernels(t *testing.T, k *kernelSet) {
	r := newRand()

	// Every binary16 value, in a row whose length has a tail.
	all := make([]byte, 2*65536+6)
	for h := 0; h < 65536; h++ {
		all[2*h], all[2*h+1] = byte(h), byte(h>>8)
	}
	got := make([]float32, len(all)/2)
	want := make([]float32, len(all)/2)
	k.f16ToF32(got, all)
	fp16ToFP32Generic(want, all)
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("f16ToF32(%#04x) = %g, generic %g", i, got[i], want[i])
		}
	}

	for _, n := range []int{1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1000, 4099} {
		x := randomFloats(r, n, 1)
		// Specials: subnormal halves, ties, overflow, infinities, zeros.
		for i, v := range []float32{1e-7, -3e-5, 6.1e-5, 65504, 65520, 1e6, float32(math.Inf(-1)), -0, 1 + 0x1p-11, 2049} {
			if i < n {
				x[(i*37)%n] = v
			}
		}
		hb, hw := make([]byte, 2*n+2), make([]byte, 2*n+2)
		k.f32ToF16(hb[:2*n], x)
		convertF16BytesGeneric(hw[:2*n], x)
		for i := range hb {
			if hb[i] != hw[i] {
				t.Fatalf("n=%d: f32ToF16 byte %d = %#x, generic %#x", n, i, hb[i], hw[i])
			}
		}
		rb, rw := make([]byte, 4*n+4), make([]byte, 4*n+4)
		k.convert[ggml.TypeF16](rb[:4*n], x)
		convertF16Generic(rw[:4*n], x)
		for i := range rb {
			if rb[i] != rw[i] {
				t.Fatalf("n=%d: F16 activation byte %d = %#x, generic %#x", n, i, rb[i], rw[i])
			}
		}

		xa, ya := randomFloats(r, n, 1), randomFloats(r, n, 1)
		var dmag float64
		for i := range xa {
			dmag += math.Abs(float64(xa[i]) * float64(ya[i]))
		}
		if g, w := k.dotF32(xa, ya), dotF32Generic(xa, ya); math.Abs(float64(g-w)) > float64(n/16+8)*1.2e-7*dmag {
			t.Fatalf("n=%d: dotF32 = %g, generic %g", n, g, w)
		}
		if g, w := k.sumSqF32(xa), sumSqF32Generic(xa); math.Abs(g-w) > 1e-14*w {
			t.Fatalf("n=%d: sumSqF32 = %g, generic %g", n, g, w)
		}
		da, dw := make([]float32, n+1), make([]float32, n+1)
		copy(da, ya)
		copy(dw, ya)
		da[n], dw[n] = 7, 7 // past the row: must stay
		k.addScaled(da[:n], xa, 0.37)
		addScaledGeneric(dw[:n], xa, 0.37)
		for i := range da {
			// One rounding less than the generic version (fused).
			if d := math.Abs(float64(da[i] - dw[i])); d > 1.2e-7*(math.Abs(float64(dw[i]))+math.Abs(float64(xa[min(i, n-1)]*0.37))) {
				t.Fatalf("n=%d: AddScaled[%d] = %g, generic %g", n, i, da[i], dw[i])
			}
		}
	}
}
