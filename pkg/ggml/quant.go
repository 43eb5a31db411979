package ggml

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Quantize converts src, a whole number of rows of rowLen elements each, to
// type t, appends the result to dst and returns the extended slice.
//
// The bytes are those llama.cpp's quantizer (ggml_quantize_chunk without an
// importance matrix) writes: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1 and Q8_K
// follow ggml's reference quantizers (quantize_row_*_ref), and Q2_K to Q6_K
// follow the same search for scales (make_qx_quants, make_qkx2_quants,
// make_q3_quants), each in float32 with ggml's order of operations; so do
// IQ4_NL, IQ4_XS, TQ1_0, TQ2_0 and MXFP4. F16 and BF16 round to nearest
// even; F32 copies. Q8_1 and Q8_K are the formats ggml's CPU kernels
// quantize activations to for their dot products.
//
// Quantize is safe for concurrent use; callers that want speed on large
// tensors can quantize disjoint groups of rows in parallel.
//
// Quantize fails when t is not supported (see CanQuantize), when rowLen is
// not a positive multiple of t's block size, or when len(src) is not a
// multiple of rowLen.
func Quantize(t Type, src []float32, rowLen int, dst []byte) ([]byte, error) {
	if !CanQuantize(t) {
		return dst, fmt.Errorf("ggml: quantize: type %s is not supported", t)
	}
	if rowLen <= 0 {
		return dst, fmt.Errorf("ggml: quantize %s: row length %d is not positive", t, rowLen)
	}
	rowBytes, err := t.RowBytes(int64(rowLen))
	if err != nil {
		return dst, fmt.Errorf("ggml: quantize: row length: %w", err)
	}
	if len(src)%rowLen != 0 {
		return dst, fmt.Errorf("ggml: quantize %s: %d elements is not a whole number of rows of %d", t, len(src), rowLen)
	}
	n := int(rowBytes) * (len(src) / rowLen)
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	// Without an importance matrix every block is quantized on its own,
	// so rows need no separate treatment.
	quantizers[t](src, out)
	return dst[:len(dst)+n], nil
}

// CanQuantize reports whether Quantize supports type t.
func CanQuantize(t Type) bool {
	return int(t) < len(quantizers) && quantizers[t] != nil
}

// quantizers maps a type to its converter from float32; dst has exactly the
// bytes of len(src) elements. The table is never modified.
var quantizers = [...]func(src []float32, dst []byte){
	TypeF32:  quantF32,
	TypeF16:  quantF16,
	TypeBF16: quantBF16,
	TypeQ4_0: quantQ4_0,
	TypeQ4_1: quantQ4_1,
	TypeQ5_0: quantQ5_0,
	TypeQ5_1: quantQ5_1,
	TypeQ8_0: quantQ8_0,
	TypeQ8_1: quantQ8_1,
	TypeQ2_K: quantQ2K,
	TypeQ3_K: quantQ3K,
	TypeQ4_K: quantQ4K,
	TypeQ5_K: quantQ5K,
	TypeQ6_K: quantQ6K,
	TypeQ8_K: quantQ8K,

	TypeIQ4_NL: quantIQ4NL,
	TypeIQ4_XS: quantIQ4XS,
	TypeTQ1_0:  quantTQ1_0,
	TypeTQ2_0:  quantTQ2_0,
	TypeMXFP4:  quantMXFP4,
}

// putHalf stores f as little-endian binary16.
func putHalf(b []byte, f float32) { binary.LittleEndian.PutUint16(b, FP32ToFP16(f)) }

// abs32 returns |f| by clearing the sign bit, as C's fabsf does.
func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

func quantF32(src []float32, dst []byte) {
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

func quantF16(src []float32, dst []byte) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToFP16(v))
	}
}

func quantBF16(src []float32, dst []byte) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToBF16(v))
	}
}

// A note on float32 arithmetic: ggml's quantizers run in float32 without
// fused multiply-add. Go may fuse x*y+z into one instruction on some
// targets; an explicit float32(x*y) conversion rounds the product and
// prevents that, so products that feed a sum are written that way.

// absMax returns the element of largest magnitude (the first one on ties)
// and that magnitude.
func absMax(x []float32) (max, amax float32) {
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, max = a, v
		}
	}
	return max, amax
}

// inverse returns 1/d, or 0 when d is 0, as ggml's quantizers compute the
// inverse of a block's scale.
func inverse(d float32) float32 {
	if d == 0 {
		return 0
	}
	return 1 / d
}

// truncInt converts f to an integer rounding toward zero, as a C cast does.
func truncInt(f float32) int { return int(int32(f)) }

// Legacy quants: blocks of 32 with one scale (and a minimum for the _1
// types). The four-bit codes of elements j and j+16 share byte j.

func quantQ4_0(src []float32, dst []byte) {
	for ; len(src) > 0; src, dst = src[32:], dst[18:] {
		x, y := src[:32], dst[:18]
		max, _ := absMax(x)
		d := max / -8
		id := inverse(d)
		putHalf(y, d)
		for j := 0; j < 16; j++ {
			x0 := float32(x[j] * id)
			x1 := float32(x[j+16] * id)
			q0 := min(15, int8(truncInt(x0+8.5)))
			q1 := min(15, int8(truncInt(x1+8.5)))
			y[2+j] = byte(q0) | byte(q1)<<4
		}
	}
}

// minMax returns the smallest and largest elements of x.
func minMax(x []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

func quantQ4_1(src []float32, dst []byte) {
	for ; len(src) > 0; src, dst = src[32:], dst[20:] {
		x, y := src[:32], dst[:20]
		lo, hi := minMax(x)
		d := (hi - lo) / 15
		id := inverse(d)
		putHalf(y, d)
		putHalf(y[2:], lo)
		for j := 0; j < 16; j++ {
			x0 := float32((x[j] - lo) * id)
			x1 := float32((x[j+16] - lo) * id)
			q0 := min(15, int8(truncInt(x0+0.5)))
			q1 := min(15, int8(truncInt(x1+0.5)))
			y[4+j] = byte(q0) | byte(q1)<<4
		}
	}
}

func quantQ5_0(src []float32, dst []byte) {
	for ; len(src) > 0; src, dst = src[32:], dst[22:] {
		x, y := src[:32], dst[:22]
		max, _ := absMax(x)
		d := max / -16
		id := inverse(d)
		putHalf(y, d)
		var qh uint32
		for j := 0; j < 16; j++ {
			x0 := float32(x[j] * id)
			x1 := float32(x[j+16] * id)
			q0 := byte(min(31, int8(truncInt(x0+16.5))))
			q1 := byte(min(31, int8(truncInt(x1+16.5))))
			y[6+j] = q0&0xf | (q1&0xf)<<4
			qh |= uint32(q0>>4&1)<<j | uint32(q1>>4&1)<<(j+16)
		}
		binary.LittleEndian.PutUint32(y[2:], qh)
	}
}

func quantQ5_1(src []float32, dst []byte) {
	for ; len(src) > 0; src, dst = src[32:], dst[24:] {
		x, y := src[:32], dst[:24]
		lo, hi := minMax(x)
		d := (hi - lo) / 31
		id := inverse(d)
		putHalf(y, d)
		putHalf(y[2:], lo)
		var qh uint32
		for j := 0; j < 16; j++ {
			x0 := float32((x[j] - lo) * id)
			x1 := float32((x[j+16] - lo) * id)
			q0 := byte(truncInt(x0 + 0.5))
			q1 := byte(truncInt(x1 + 0.5))
			y[8+j] = q0&0xf | (q1&0xf)<<4
			qh |= uint32(q0>>4&1)<<j | uint32(q1>>4&1)<<(j+16)
		}
		binary.LittleEndian.PutUint32(y[4:], qh)
	}
}

// roundAway rounds f to the nearest integer, halves away from zero, as C's
// roundf does.
func roundAway(f float32) int { return int(math.Round(float64(f))) }

func quantQ8_0(src []float32, dst []byte) {
	for ; len(src) > 0; src, dst = src[32:], dst[34:] {
		x, y := src[:32], dst[:34]
		_, amax := absMax(x)
		d := amax / 127
		id := inverse(d)
		putHalf(y, d)
		for j, v := range x {
			y[2+j] = byte(int8(roundAway(v * id)))
		}
	}
}

func quantQ8_1(src []float32, dst []byte) {
	for ; len(src) > 0; src, dst = src[32:], dst[36:] {
		x, y := src[:32], dst[:36]
		_, amax := absMax(x)
		d := amax / 127
		id := inverse(d)
		putHalf(y, d)
		sum := 0
		for j, v := range x {
			q := int8(roundAway(v * id))
			y[4+j] = byte(q)
			sum += int(q)
		}
		putHalf(y[2:], float32(sum)*d)
	}
}
