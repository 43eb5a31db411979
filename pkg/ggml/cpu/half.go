package cpu

import "math"

// halfToFloat converts IEEE 754 binary16 bits to float32 exactly.
func halfToFloat(h uint16) float32 {
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
	// Subnormal: mant * 2^-24, exact in float32.
	v := float32(mant) * (1.0 / (1 << 24))
	return math.Float32frombits(sign | math.Float32bits(v))
}

// floatToHalf converts f to binary16 bits, rounding to nearest even, as the
// F16C instruction VCVTPS2PH does for numbers.
func floatToHalf(f float32) uint16 {
	w := math.Float32bits(f)
	sign := uint16(w>>16) & 0x8000
	abs := w & 0x7fffffff
	if abs > 0x7f800000 {
		return sign | 0x7e00 | uint16((abs>>13)&0x3ff)
	}
	if abs >= 0x477ff000 { // rounds to infinity (65520 and above)
		return sign | 0x7c00
	}
	if abs < 0x38800000 {
		// Subnormal or zero in units of 2^-24: adding 0.5 lets the FPU
		// round to a whole number of units (nearest even) in the low bits.
		v := math.Float32frombits(abs) + 0.5
		return sign | uint16(math.Float32bits(v)-0x3f000000)
	}
	odd := (abs >> 13) & 1
	abs += 0xfff + odd
	return sign | uint16((abs-0x38000000)>>13)
}

// bf16ToFloat converts bfloat16 bits to float32 exactly.
func bf16ToFloat(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// floatToBF16 converts f to bfloat16 bits, rounding to nearest even and
// quieting NaNs, as ggml_compute_fp32_to_bf16 does.
func floatToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

// le16 reads a little-endian uint16 at b[0:2].
func le16(b []byte) uint16 {
	_ = b[1]
	return uint16(b[0]) | uint16(b[1])<<8
}

// le32 reads a little-endian uint32 at b[0:4].
func le32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// halfAt reads binary16 bits at b[0:2] and converts them to float32.
func halfAt(b []byte) float32 { return halfToFloat(le16(b)) }

// f32At reads a little-endian float32 at b[0:4].
func f32At(b []byte) float32 { return math.Float32frombits(le32(b)) }
