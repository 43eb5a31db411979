package cpu

import (
	"encoding/binary"
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// halfToFloat converts IEEE 754 binary16 bits to float32 exactly (NaNs
// stay NaNs, their quiet bit as given). It is written to inline into the
// kernels: shift exponent and mantissa into place and rebias the exponent,
// with fix-ups for infinities/NaNs and for zeros/subnormals, which are
// normalized by a float subtraction.
func halfToFloat(h uint16) float32 {
	o := uint32(h&0x7fff) << 13
	exp := o & 0x0f800000
	o += (127 - 15) << 23
	if exp == 0x0f800000 { // Inf or NaN: exponent all ones
		o += (128 - 16) << 23
	} else if exp == 0 { // zero or subnormal: value = o' - 2^-14
		o = math.Float32bits(math.Float32frombits(o+1<<23) - 0x1p-14)
	}
	return math.Float32frombits(o | uint32(h&0x8000)<<16)
}

// bf16ToFloat converts bfloat16 bits to float32 exactly.
func bf16ToFloat(h uint16) float32 { return ggml.BF16ToFP32(h) }

// le16 reads a little-endian uint16 at b[0:2].
func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }

// le32 reads a little-endian uint32 at b[0:4].
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// halfAt reads binary16 bits at b[0:2] and converts them to float32.
func halfAt(b []byte) float32 { return halfToFloat(le16(b)) }

// f32At reads a little-endian float32 at b[0:4].
func f32At(b []byte) float32 { return math.Float32frombits(le32(b)) }

// putHalf stores f as binary16 (rounded to nearest even) at b[0:2].
func putHalf(b []byte, f float32) {
	h := ggml.FP32ToFP16(f)
	b[0], b[1] = byte(h), byte(h>>8)
}
