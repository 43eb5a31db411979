package cpu

import (
	"fmt"
	"math"
)

// Kernels for the steps of a model's forward pass between the matrix
// products (package model), with a generic Go version that is the
// fallback and the test oracle, and SIMD versions where the CPU has them.

// AttnAccumulateF16 adds the value rows of nk consecutive keys to the
// accumulators of rows queries the way ggml's one-query flash attention
// does with an F16 value cache: for each key j in order and each query r,
//
//	acc_r = f16(f16(acc_r · ms[j*rows+r]) + v_j · vs[j*rows+r])
//
// where f16 rounds to the nearest F16 value (ties to even) and the
// multiply-add is fused (ggml_vec_scale_f16, then ggml_vec_mad_f16 with
// FMA). acc holds rows accumulators of dv = len(acc)/rows float32 values
// (F16 values, as f16 leaves them), v holds the nk value rows, dv F16
// values each, one after the other. A factor ms of 1 leaves the
// accumulator as it is, as skipping the scale would. It panics if the
// lengths do not fit (a programming error).
func AttnAccumulateF16(acc []float32, rows int, v []byte, nk int, ms, vs []float32) {
	if rows <= 0 || nk <= 0 {
		return
	}
	dv := len(acc) / rows
	if len(acc) != rows*dv || len(v) < 2*nk*dv || len(ms) < nk*rows || len(vs) < nk*rows {
		panic(fmt.Sprintf("cpu: AttnAccumulateF16: %d accumulator values for %d rows, %d value bytes and %d, %d factors for %d keys",
			len(acc), rows, len(v), len(ms), len(vs), nk))
	}
	if dv == 0 {
		return
	}
	attnAccF16(acc, rows, dv, v, nk, ms, vs)
}

// attnAccF16 is AttnAccumulateF16 after its checks: the best kernel for
// the CPU (chosen at start-up), which falls back to the generic one for
// the shapes it does not handle.
var attnAccF16 = attnAccF16Generic

func attnAccF16Generic(acc []float32, rows, dv int, v []byte, nk int, ms, vs []float32) {
	for j := 0; j < nk; j++ {
		row := v[2*j*dv : 2*(j+1)*dv]
		for r := 0; r < rows; r++ {
			a := acc[r*dv : (r+1)*dv]
			m, s := ms[j*rows+r], vs[j*rows+r]
			for i := range a {
				x := roundHalf(a[i] * m)
				a[i] = roundHalf(fma32(halfAt(row[2*i:]), s, x))
			}
		}
	}
}

// fma32 returns x*y + z rounded once to float32 (up to double rounding
// through float64 in cases too rare to matter).
func fma32(x, y, z float32) float32 {
	return float32(math.FMA(float64(x), float64(y), float64(z)))
}

// roundHalf rounds x to the nearest F16 value (ties to even) as a
// conversion to F16 and back does: F16's 10-bit mantissa for normal
// values, multiples of 2^-24 below 2^-14, infinity from 65520 on, NaN as
// F16's quiet NaN.
func roundHalf(x float32) float32 {
	b := math.Float32bits(x)
	if b&0x7fffffff-0x38800000 < 0x477ff000-0x38800000 {
		// Normal F16: round away the 13 low mantissa bits, nearest even.
		b += 0xfff + (b>>13)&1
		return math.Float32frombits(b &^ 0x1fff)
	}
	sign, abs := b&0x80000000, b&0x7fffffff
	switch {
	case abs < 0x38800000:
		// Subnormal F16 (or zero): adding 0.5, whose unit in the last
		// place is 2^-24, rounds to a multiple of 2^-24.
		v := math.Float32frombits(abs) + 0.5
		return math.Float32frombits(sign | math.Float32bits(v-0.5))
	case abs <= 0x7f800000:
		return math.Float32frombits(sign | 0x7f800000)
	}
	return math.Float32frombits(sign | 0x7fc00000)
}

// SwiGLUVec writes silu(x)·g to dst (dst may alias x or g) as ggml's
// ggml_vec_swiglu_f32 does with AVX-512, the build llama.cpp's reference
// outputs come from: each whole block of 16 elements takes ggml's
// vectorized exp (a polynomial, within about 1.5 ulp, flushing below
// -104 to 0 and above 88.4 to infinity), silu(x) = x/(1+exp(-x)) and a
// product with g; the elements after the last whole block take a float32
// exp, as ggml_silu_f32 does. Blocks start at x[0], so a row split into
// pieces must be split at multiples of 16 to give the same results. It
// panics if the lengths differ.
func SwiGLUVec(dst, x, g []float32) {
	if len(dst) != len(x) || len(g) != len(x) {
		panic("cpu: SwiGLUVec: slices differ in length")
	}
	n := len(x) &^ 15
	swigluVec(dst[:n], x[:n], g[:n])
	for i := n; i < len(x); i++ {
		v := x[i]
		dst[i] = v / (1 + expf(-v)) * g[i]
	}
}

// swigluVec is SwiGLUVec's whole blocks (len(x) a multiple of 16): the
// best kernel for the CPU, chosen at start-up.
var swigluVec = swigluVecGeneric

func swigluVecGeneric(dst, x, g []float32) {
	g = g[:len(x)]
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = v / (1 + expVec(0-v)) * g[i]
	}
}

// SoftMaxExp sets y[i] = e^(y[i]-max) and returns their sum, as ggml's
// ggml_vec_soft_max_f32 does with AVX-512 (the build llama.cpp's
// reference outputs come from) over y padded with -Inf to a whole number
// of 16-element blocks, as its tiled flash attention pads a tile of
// scores: each block takes ggml's vectorized exp (see [SwiGLUVec]), its
// 16 values are summed in float32 in _mm512_reduce_add_ps's order, and
// the block sums are added in float64. Padding contributes exact zeros, so
// the last partial block is summed as if padded.
func SoftMaxExp(y []float32, max float32) float64 {
	return softMaxExp(y, max)
}

// softMaxExp is SoftMaxExp: the best kernel for the CPU, chosen at
// start-up.
var softMaxExp = softMaxExpGeneric

func softMaxExpGeneric(y []float32, max float32) float64 {
	var sum float64
	for b := 0; b < len(y); b += 16 {
		var lanes [16]float32 // padding lanes stay 0, as e^-Inf is
		blk := y[b:min(b+16, len(y))]
		for i, v := range blk {
			lanes[i] = expVec(v - max)
			blk[i] = lanes[i]
		}
		sum += float64(reduceAdd16(&lanes))
	}
	return sum
}

// softMaxTail starts SoftMaxExp's last partial block for kernels that take
// whole blocks of 16 only: it copies the elements of y after its whole
// blocks into lanes and returns them (nil if there are none). The caller
// runs its kernel on lanes, then softMaxTailSum.
func softMaxTail(lanes *[16]float32, y []float32) []float32 {
	tail := y[len(y)&^15:]
	if len(tail) == 0 {
		return nil
	}
	copy(lanes[:], tail)
	return tail
}

// softMaxTailSum finishes softMaxTail: the padding lanes are zeroed (as
// -Inf padding gives, whatever the kernel made of them), the results go
// back to tail, and the block's sum is returned.
func softMaxTailSum(lanes *[16]float32, tail []float32) float64 {
	clear(lanes[len(tail):])
	copy(tail, lanes[:])
	return float64(reduceAdd16(lanes))
}

// reduceAdd16 sums 16 float32 lanes in the order of _mm512_reduce_add_ps:
// the upper 8 onto the lower 8, the upper 4 of those onto the lower 4,
// then lanes 2,3 onto 0,1, then lane 1 onto lane 0.
func reduceAdd16(v *[16]float32) float32 {
	var h [8]float32
	for i := range h {
		h[i] = v[i+8] + v[i]
	}
	q := [4]float32{h[4] + h[0], h[5] + h[1], h[6] + h[2], h[7] + h[3]}
	return (q[0] + q[2]) + (q[1] + q[3])
}

// expVec is one lane of ggml's AVX-512 ggml_v_expf: e^x = 2^n·(1+p(b)),
// with n = round(x·log2 e) and b = x - n·ln 2 in two parts, p a degree-5
// polynomial evaluated with fused multiply-adds, the result scaled as
// VSCALEFPS does (one rounding), and |n| > 192 giving 0 or infinity.
func expVec(x float32) float32 {
	const r = 0x1.8p23
	z := fma32(x, 0x1.715476p+0, r)
	n := z - r
	b := fma32(-n, 0x1.7f7d1cp-20, fma32(-n, 0x1.62e4p-1, x))
	u := b * b
	j := fma32(fma32(fma32(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fma32(0x1.555e66p-3, b, 0x1.fffdb6p-2)), u, fma32(0x1.ffffecp-1, b, 1))
	switch {
	case n != n:
		return n
	case n > 192:
		return float32(math.Inf(1))
	case n < -192:
		return 0
	}
	if n >= -125 && n <= 127 {
		// j is in [0.7, 1.5): j·2^n is a normal float32, exact by adding
		// n to j's exponent.
		return math.Float32frombits(math.Float32bits(j) + uint32(int32(n))<<23)
	}
	// j·2^n is exact in float64; the conversion rounds it once.
	return float32(math.Ldexp(float64(j), int(n)))
}
