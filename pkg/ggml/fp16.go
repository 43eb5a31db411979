package ggml

import "math"

// FP16ToFP32 converts an IEEE 754 binary16 value, given by its bits, to
// float32. The conversion is exact for every input: subnormals become
// normal float32 values, infinities stay infinite and NaNs stay NaN with
// their payload kept and the quiet bit set, as ggml's conversion does.
func FP16ToFP32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		if mant == 0 {
			return math.Float32frombits(sign | 0x7f800000)
		}
		return math.Float32frombits(sign | 0x7fc00000 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: mant * 2^-24, exactly representable in float32.
	v := float32(mant) * (1.0 / (1 << 24))
	return math.Float32frombits(sign | math.Float32bits(v))
}

// FP32ToFP16 converts f to IEEE 754 binary16 bits, rounding to nearest with
// ties to even. Values too large for binary16 become infinities, tiny values
// become subnormals or zero, and every NaN becomes the quiet NaN 0x7e00 with
// f's sign. The result is bit for bit that of ggml's portable conversion
// (ggml_compute_fp32_to_fp16), which llama.cpp uses to write F16 tensors and
// the scales of quantized blocks; for numbers it also equals the F16C
// instruction VCVTPS2PH.
func FP32ToFP16(f float32) uint16 {
	w := math.Float32bits(f)
	sign := uint16(w>>16) & 0x8000
	abs := w & 0x7fffffff
	if abs > 0x7f800000 {
		return sign | 0x7e00
	}
	if abs >= 0x477ff000 {
		// At or above 65520, the midpoint between the largest finite
		// binary16 (65504) and 2^16: rounds to infinity.
		return sign | 0x7c00
	}
	if abs < 0x38800000 {
		// Below 2^-14, the smallest normal binary16: the result is a
		// subnormal (or zero) counted in units of 2^-24. Adding 0.5 makes
		// the FPU round the value to a whole number of units, nearest
		// even, in the low mantissa bits.
		v := math.Float32frombits(abs) + 0.5
		return sign | uint16(math.Float32bits(v)-0x3f000000)
	}
	// Normal: rebias the exponent and round the 13 dropped mantissa bits
	// to nearest even; a carry out of the mantissa bumps the exponent.
	odd := (abs >> 13) & 1
	abs += 0xfff + odd
	return sign | uint16((abs-0x38000000)>>13)
}

// BF16ToFP32 converts a bfloat16 value, given by its bits, to float32. The
// conversion is exact.
func BF16ToFP32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// FP32ToBF16 converts f to bfloat16 bits, rounding to nearest with ties to
// even, as ggml_compute_fp32_to_bf16 does: subnormals are kept (not flushed)
// and a NaN keeps its sign and top payload bits with the quiet bit forced.
func FP32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}
