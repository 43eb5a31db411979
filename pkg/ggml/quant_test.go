package ggml

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// quantTypes are the types Quantize must support.
var quantTypes = []Type{TypeF32, TypeF16, TypeBF16, TypeQ4_0, TypeQ4_1, TypeQ5_0,
	TypeQ5_1, TypeQ8_0, TypeQ8_1, TypeQ2_K, TypeQ3_K, TypeQ4_K, TypeQ5_K, TypeQ6_K, TypeQ8_K,
	TypeIQ4_NL, TypeIQ4_XS, TypeTQ1_0, TypeTQ2_0, TypeMXFP4}

func normalData(r *rand.Rand, n int, sigma float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * sigma)
	}
	return x
}

// relRMS returns the RMS of got-want relative to the RMS of want.
func relRMS(got, want []float32) float64 {
	var se, s2 float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		se += d * d
		s2 += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(se / s2)
}

func TestCanQuantize(t *testing.T) {
	for _, typ := range quantTypes {
		if !CanQuantize(typ) {
			t.Errorf("CanQuantize(%s) = false", typ)
		}
	}
	for _, typ := range []Type{TypeIQ2_XXS, TypeI32, Type(4), Type(1 << 20)} {
		if CanQuantize(typ) {
			t.Errorf("CanQuantize(%s) = true", typ)
		}
	}
}

// TestQuantizeRoundTrip quantizes Gaussian data and checks that the round
// trip error is within what each format's bit width allows (measured values
// are about 4/5 of these bounds).
func TestQuantizeRoundTrip(t *testing.T) {
	bound := map[Type]float64{
		TypeF32: 0, TypeF16: 3e-4, TypeBF16: 2.2e-3,
		TypeQ8_0: 0.007, TypeQ8_1: 0.007, TypeQ8_K: 0.0085,
		TypeQ6_K: 0.022, TypeQ5_0: 0.055, TypeQ5_1: 0.05, TypeQ5_K: 0.045,
		TypeQ4_0: 0.11, TypeQ4_1: 0.10, TypeQ4_K: 0.09,
		TypeQ3_K: 0.19, TypeQ2_K: 0.37,
		TypeIQ4_NL: 0.095, TypeIQ4_XS: 0.095, TypeMXFP4: 0.14,
		TypeTQ1_0: 0.85, TypeTQ2_0: 0.85, // ternary: meant for ternary weights
	}
	r := rand.New(rand.NewPCG(11, 12))
	const rowLen, rows = 512, 8
	x := normalData(r, rowLen*rows, 0.03)
	for _, typ := range quantTypes {
		q, err := Quantize(typ, x, rowLen, nil)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		want, _ := typ.RowBytes(rowLen * rows)
		if int64(len(q)) != want {
			t.Fatalf("%s: %d bytes, want %d", typ, len(q), want)
		}
		y := make([]float32, len(x))
		if err := Dequantize(typ, q, y); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		e := relRMS(y, x)
		t.Logf("%-5s relative RMS error %.5f", typ, e)
		if e > bound[typ] {
			t.Errorf("%s: relative RMS error %.5f > %.5f", typ, e, bound[typ])
		}
	}
}

// TestQuantizeBlockBounds checks the per-element error of the scaled
// formats: no element is off by more than half a step (plus the binary16
// rounding of the scale), except where codes clip at the range ends.
func TestQuantizeBlockBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	x := normalData(r, 32*64, 1)
	for _, tt := range []struct {
		typ   Type
		steps float64 // number of steps across [-amax, amax] or [min, max]
	}{{TypeQ8_0, 254}, {TypeQ5_1, 31}, {TypeQ4_1, 15}} {
		q, err := Quantize(tt.typ, x, 32, nil)
		if err != nil {
			t.Fatal(err)
		}
		y := make([]float32, len(x))
		if err := Dequantize(tt.typ, q, y); err != nil {
			t.Fatal(err)
		}
		for b := 0; b < len(x); b += 32 {
			lo, hi := minMax(x[b : b+32])
			if tt.typ == TypeQ8_0 {
				a := max(-lo, hi)
				lo, hi = -a, a
			}
			step := float64(hi-lo) / tt.steps
			for i := b; i < b+32; i++ {
				if d := math.Abs(float64(y[i] - x[i])); d > 0.5*step*1.01+1e-3*math.Abs(float64(x[i])) {
					t.Fatalf("%s: element %d: |%g - %g| = %g > half step %g", tt.typ, i, y[i], x[i], d, step/2)
				}
			}
		}
	}
}

func TestQuantizeSpecialBlocks(t *testing.T) {
	blocks := map[string]func(i int) float32{
		"zero":     func(int) float32 { return 0 },
		"constant": func(int) float32 { return 0.75 },
		"negative": func(i int) float32 { return -1 - float32(i%7)/8 },
		"one spike": func(i int) float32 {
			if i == 100 {
				return 5
			}
			return 0
		},
	}
	for name, f := range blocks {
		x := make([]float32, 512)
		for i := range x {
			x[i] = f(i)
		}
		for _, typ := range quantTypes {
			q, err := Quantize(typ, x, 256, nil)
			if err != nil {
				t.Fatal(err)
			}
			y := make([]float32, len(x))
			if err := Dequantize(typ, q, y); err != nil {
				t.Fatal(err)
			}
			ternary := typ == TypeTQ1_0 || typ == TypeTQ2_0
			for i := range y {
				if !ternary && (math.IsNaN(float64(y[i])) || math.Abs(float64(y[i]-x[i])) > 0.5*math.Abs(float64(x[i]))+0.1) {
					t.Fatalf("%s %s: element %d = %g, want about %g", name, typ, i, y[i], x[i])
				}
				if name == "zero" && y[i] != 0 {
					t.Fatalf("%s %s: element %d = %g, want 0", name, typ, i, y[i])
				}
			}
		}
	}
}

// TestQuantizeRowsAndAppend checks that rows are independent, that output
// is appended to dst, and that several rows at once equal one at a time.
func TestQuantizeRowsAndAppend(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const rowLen, rows = 768, 3
	x := normalData(r, rowLen*rows, 1)
	for _, typ := range quantTypes {
		all, err := Quantize(typ, x, rowLen, nil)
		if err != nil {
			t.Fatal(err)
		}
		prefix := []byte("prefix")
		var one []byte
		one = append(one, prefix...)
		for i := 0; i < rows; i++ {
			if one, err = Quantize(typ, x[i*rowLen:(i+1)*rowLen], rowLen, one); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.HasPrefix(one, prefix) || !bytes.Equal(one[len(prefix):], all) {
			t.Errorf("%s: row-by-row quantization differs from all rows at once", typ)
		}
	}
}

func TestQuantizeErrors(t *testing.T) {
	x := make([]float32, 512)
	tests := []struct {
		name   string
		typ    Type
		src    []float32
		rowLen int
		want   string
	}{
		{"unsupported", TypeIQ2_XXS, x, 256, "not supported"},
		{"unknown", Type(4), x, 256, "not supported"},
		{"zero row", TypeQ4_0, x, 0, "not positive"},
		{"negative row", TypeQ4_0, x, -32, "not positive"},
		{"partial block", TypeQ4_K, x, 128, "not a multiple of the block size"},
		{"partial row", TypeQ8_0, x, 96, "not a whole number of rows"},
		{"partial row f16", TypeF16, x[:7], 2, "not a whole number of rows"},
	}
	for _, tt := range tests {
		dst := []byte("keep")
		got, err := Quantize(tt.typ, tt.src, tt.rowLen, dst)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
		if string(got) != "keep" {
			t.Errorf("%s: dst changed to %q on error", tt.name, got)
		}
	}
	// An empty source is fine and appends nothing.
	if got, err := Quantize(TypeQ4_0, nil, 32, []byte("a")); err != nil || string(got) != "a" {
		t.Errorf("empty source: %q, %v", got, err)
	}
}

func TestNearestInt(t *testing.T) {
	for _, tt := range []struct {
		f    float32
		want int
	}{{0, 0}, {0.5, 0}, {1.5, 2}, {2.5, 2}, {-0.5, 0}, {-1.5, -2}, {-2.49, -2}, {3.51, 4}, {4194303, 4194303}, {-4194303, -4194303}} {
		if got := nearestInt(tt.f); got != tt.want {
			t.Errorf("nearestInt(%g) = %d, want %d", tt.f, got, tt.want)
		}
	}
}

var benchTypes = []Type{TypeF16, TypeBF16, TypeQ4_0, TypeQ4_1, TypeQ5_0, TypeQ5_1, TypeQ8_0,
	TypeQ8_1, TypeQ2_K, TypeQ3_K, TypeQ4_K, TypeQ5_K, TypeQ6_K, TypeQ8_K, TypeIQ4_NL, TypeIQ4_XS}

func BenchmarkQuantize(b *testing.B) {
	x := normalData(rand.New(rand.NewPCG(1, 1)), 4096, 1)
	for _, typ := range benchTypes {
		b.Run(typ.String(), func(b *testing.B) {
			n, _ := typ.RowBytes(4096)
			dst := make([]byte, 0, n)
			b.SetBytes(4 * 4096)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Quantize(typ, x, 4096, dst[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDequantize(b *testing.B) {
	x := normalData(rand.New(rand.NewPCG(1, 1)), 4096, 1)
	for _, typ := range append(benchTypes[:len(benchTypes):len(benchTypes)], TypeIQ2_XXS, TypeIQ3_S) {
		src, err := Quantize(typ, x, 4096, nil)
		if err != nil {
			// No quantizer: dequantize random blocks instead.
			src = randomBlocks(rand.New(rand.NewPCG(2, 2)), typ, 4096/typ.BlockSize())
		}
		b.Run(typ.String(), func(b *testing.B) {
			dst := make([]float32, 4096)
			b.SetBytes(4 * 4096)
			b.ReportAllocs()
			for b.Loop() {
				if err := Dequantize(typ, src, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func ExampleQuantize() {
	x := make([]float32, 32)
	for i := range x {
		x[i] = float32(i-16) / 16
	}
	q, _ := Quantize(TypeQ8_0, x, len(x), nil)
	y := make([]float32, len(x))
	_ = Dequantize(TypeQ8_0, q, y)
	fmt.Println(len(q), y[0], y[31])
	// Output: 34 -0.99993896 0.9369507
}
