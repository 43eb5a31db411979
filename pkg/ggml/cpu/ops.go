package cpu

import "math"

// Element-wise operations on float32 rows. Unless a doc comment says
// otherwise, the slices must have equal lengths (the functions panic
// otherwise, as an out-of-range index would) and dst may alias an input.

// Dot returns the dot product of a and b, accumulated in float32 lanes as
// ggml_vec_dot_f32 does with AVX-512.
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("cpu: Dot: slices differ in length")
	}
	return kern.dotF32(a, b)
}

// sumSqF32Generic is the sum of squares, each square rounded to float32 and
// accumulated in float64 (ggml's rms_norm).
func sumSqF32Generic(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v * v)
	}
	return s
}

// RMSNorm writes x / sqrt(mean(x²) + eps) * weight to dst, as ggml's
// rms_norm followed by mul does: the sum of squares is accumulated in
// float64, the scale is 1/sqrtf(mean+eps) in float32, and the product with
// weight is a separate float32 multiplication. A nil weight skips it.
func RMSNorm(dst, x, weight []float32, eps float32) {
	n := len(x)
	dst = dst[:n]
	if n == 0 {
		return
	}
	mean := float32(kern.sumSqF32(x) / float64(n))
	scale := 1 / float32(math.Sqrt(float64(mean+eps)))
	if weight == nil {
		for i, v := range x {
			dst[i] = v * scale
		}
		return
	}
	weight = weight[:n]
	for i, v := range x {
		dst[i] = float32(v*scale) * weight[i]
	}
}

// SoftMax replaces x with softmax(x) as ggml_soft_max does: subtract the
// maximum, exponentiate in float32, sum in float64, multiply by the float32
// reciprocal of the sum. Entries of -Inf (masked) become 0.
func SoftMax(x []float32) {
	if len(x) == 0 {
		return
	}
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	var sum float64
	for i, v := range x {
		e := expf(v - m)
		x[i] = e
		sum += float64(e)
	}
	s := float32(1 / sum)
	for i := range x {
		x[i] *= s
	}
}

// expf is e^x rounded to float32.
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// SiLU writes x * sigmoid(x) = x / (1 + e^-x) to dst (ggml_silu_f32).
func SiLU(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = v / (1 + expf(-v))
	}
}

// SwiGLU writes silu(x) * g to dst (ggml_vec_swiglu_f32): the gated
// feed-forward activation.
func SwiGLU(dst, x, g []float32) {
	dst, g = dst[:len(x)], g[:len(x)]
	for i, v := range x {
		dst[i] = v / (1 + expf(-v)) * g[i]
	}
}

// Add writes a + b to dst.
func Add(dst, a, b []float32) {
	dst, b = dst[:len(a)], b[:len(a)]
	for i, v := range a {
		dst[i] = v + b[i]
	}
}

// Mul writes a * b (element-wise) to dst.
func Mul(dst, a, b []float32) {
	dst, b = dst[:len(a)], b[:len(a)]
	for i, v := range a {
		dst[i] = v * b[i]
	}
}

// Scale multiplies x by s in place.
func Scale(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

// AddScaled adds s * x to dst (ggml_vec_mad_f32: dst += x*s). The
// product may be fused with the addition (as ggml does with FMA).
func AddScaled(dst, x []float32, s float32) {
	kern.addScaled(dst[:len(x)], x, s)
}

func addScaledGeneric(dst, x []float32, s float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] += v * s
	}
}

// FP32ToFP16Row converts src to IEEE binary16 in dst, two little-endian
// bytes per element (len(dst) must be 2*len(src)), rounding to nearest even.
func FP32ToFP16Row(dst []byte, src []float32) {
	if len(dst) != 2*len(src) {
		panic("cpu: FP32ToFP16Row: dst must hold 2 bytes per element")
	}
	kern.f32ToF16(dst, src)
}

// FP16ToFP32Row converts binary16 values (two little-endian bytes each) in
// src to float32 in dst (len(src) must be 2*len(dst)).
func FP16ToFP32Row(dst []float32, src []byte) {
	if len(src) != 2*len(dst) {
		panic("cpu: FP16ToFP32Row: src must hold 2 bytes per element")
	}
	kern.f16ToF32(dst, src)
}

func fp16ToFP32Generic(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = halfAt(src[2*i:])
	}
}

// FP32ToBF16Row converts src to bfloat16 in dst, two little-endian bytes
// per element, rounding to nearest even.
func FP32ToBF16Row(dst []byte, src []float32) {
	if len(dst) != 2*len(src) {
		panic("cpu: FP32ToBF16Row: dst must hold 2 bytes per element")
	}
	convertBF16Generic(dst, src)
}

// BF16ToFP32Row converts bfloat16 values in src to float32 in dst.
func BF16ToFP32Row(dst []float32, src []byte) {
	if len(src) != 2*len(dst) {
		panic("cpu: BF16ToFP32Row: src must hold 2 bytes per element")
	}
	for i := range dst {
		dst[i] = bf16ToFloat(le16(src[2*i:]))
	}
}
