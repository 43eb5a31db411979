package ggml

import (
	"math"
	"testing"
)

// fp16Oracle rounds f to binary16 with float64 arithmetic: an independent
// statement of IEEE round-to-nearest-even, including subnormals and
// overflow to infinity.
func fp16Oracle(f float32) uint16 {
	var sign uint16
	if math.Signbit(float64(f)) {
		sign = 0x8000
	}
	a := math.Abs(float64(f))
	switch {
	case math.IsNaN(a):
		return sign | 0x7e00
	case a == 0:
		return sign
	}
	_, e := math.Frexp(a) // a = m * 2^e, m in [0.5, 1)
	e--                   // a = m' * 2^e, m' in [1, 2)
	if e < -14 {
		e = -14
	}
	ulp := math.Ldexp(1, e-10)
	q := math.RoundToEven(a / ulp) // units of ulp; exact
	v := q * ulp
	if v >= 65520 || math.IsInf(a, 0) {
		return sign | 0x7c00
	}
	if v >= 65504 {
		return sign | 0x7bff
	}
	// Encode v, which is a representable binary16 value.
	if v < math.Ldexp(1, -14) {
		return sign | uint16(v/math.Ldexp(1, -24))
	}
	fr, ex := math.Frexp(v)
	mant := uint16((fr*2 - 1) * 1024)
	return sign | uint16(ex-1+15)<<10 | mant
}

func TestFP16RoundTripAll(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := FP16ToFP32(uint16(h))
		isNaN := h&0x7c00 == 0x7c00 && h&0x3ff != 0
		if isNaN != math.IsNaN(float64(f)) {
			t.Fatalf("FP16ToFP32(%#04x) = %v: NaN-ness wrong", h, f)
		}
		want := uint16(h)
		if isNaN {
			want = uint16(h)&0x8000 | 0x7e00
		}
		if got := FP32ToFP16(f); got != want {
			t.Fatalf("FP32ToFP16(FP16ToFP32(%#04x) = %v) = %#04x, want %#04x", h, f, got, want)
		}
		if !isNaN {
			// Exactness: compare against a direct float64 evaluation.
			exp, mant := h>>10&0x1f, float64(h&0x3ff)
			var v float64
			switch exp {
			case 0:
				v = math.Ldexp(mant, -24)
			case 0x1f:
				v = math.Inf(1)
			default:
				v = math.Ldexp(1+mant/1024, int(exp)-15)
			}
			if h&0x8000 != 0 {
				v = -v
			}
			if float64(f) != v {
				t.Fatalf("FP16ToFP32(%#04x) = %v, want %v", h, f, v)
			}
		}
	}
}

func TestFP16NaNKeepsPayload(t *testing.T) {
	// A signalling binary16 NaN comes back quiet, payload kept.
	if got := math.Float32bits(FP16ToFP32(0x7c01)); got != 0x7fc02000 {
		t.Errorf("FP16ToFP32(0x7c01) bits = %#08x, want 0x7fc02000", got)
	}
	if got := math.Float32bits(FP16ToFP32(0xfe00)); got != 0xffc00000 {
		t.Errorf("FP16ToFP32(0xfe00) bits = %#08x, want 0xffc00000", got)
	}
}

// fp32Samples returns float32 bit patterns that cover every exponent, the
// neighbourhood of each binary16 rounding boundary, and a spread of others.
func fp32Samples() []uint32 {
	var s []uint32
	for u := uint64(0); u < 1<<32; u += 4093 { // prime stride
		s = append(s, uint32(u))
	}
	for h := uint32(0); h < 0x7c00; h++ {
		f := math.Float32bits(FP16ToFP32(uint16(h)))
		next := math.Float32bits(FP16ToFP32(uint16(h + 1)))
		mid := f + (next-f)/2 // midpoint in float32 bits (same binade or exact)
		for _, c := range []uint32{f, mid - 1, mid, mid + 1} {
			s = append(s, c, c|0x80000000)
		}
	}
	s = append(s, 0x7f800000, 0xff800000, 0x7f7fffff, 0x477fefff, 0x477ff000, 0x477ff001,
		0x33000000, 0x33000001, 0x32ffffff, 0x7f800001, 0xffc00001, 1, 0x80000001)
	return s
}

func TestFP32ToFP16(t *testing.T) {
	for _, u := range fp32Samples() {
		f := math.Float32frombits(u)
		if got, want := FP32ToFP16(f), fp16Oracle(f); got != want {
			t.Fatalf("FP32ToFP16(%g, bits %#08x) = %#04x, want %#04x", f, u, got, want)
		}
	}
}

// bf16Oracle rounds f to bfloat16 by comparing the two candidates'
// distances in float64.
func bf16Oracle(f float32) uint16 {
	u := math.Float32bits(f)
	if math.IsNaN(float64(f)) {
		return uint16(u>>16) | 0x40
	}
	lo := uint16(u >> 16)
	hi := lo + 1
	val := func(h uint16) float64 {
		if h&0x7f80 == 0x7f80 { // one past the largest finite: 2^128
			return math.Copysign(math.Ldexp(1, 128), float64(f))
		}
		return float64(BF16ToFP32(h))
	}
	if u&0xffff == 0 {
		return lo
	}
	dl := math.Abs(float64(f) - val(lo))
	dh := math.Abs(val(hi) - float64(f))
	switch {
	case dl < dh:
		return lo
	case dh < dl:
		return hi
	case lo&1 == 0:
		return lo
	}
	return hi
}

func TestBF16(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := BF16ToFP32(uint16(h))
		if got := math.Float32bits(f); got != uint32(h)<<16 {
			t.Fatalf("BF16ToFP32(%#04x) bits = %#08x", h, got)
		}
		if math.IsNaN(float64(f)) {
			continue
		}
		if got := FP32ToBF16(f); got != uint16(h) {
			t.Fatalf("FP32ToBF16(BF16ToFP32(%#04x)) = %#04x", h, got)
		}
	}
	for _, u := range fp32Samples() {
		f := math.Float32frombits(u)
		if got, want := FP32ToBF16(f), bf16Oracle(f); got != want {
			t.Fatalf("FP32ToBF16(%g, bits %#08x) = %#04x, want %#04x", f, u, got, want)
		}
	}
	// NaNs stay NaN, quiet, with their sign.
	for _, u := range []uint32{0x7f800001, 0xff800001, 0x7fc00000, 0x7f810000} {
		got := FP32ToBF16(math.Float32frombits(u))
		if got&0x7f80 != 0x7f80 || got&0x7f == 0 || got&0x40 == 0 || got>>15 != uint16(u>>31) {
			t.Errorf("FP32ToBF16(NaN %#08x) = %#04x, not a quiet NaN of the same sign", u, got)
		}
	}
}
