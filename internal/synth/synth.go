// Package synth holds what the writers of synthetic test models share: a
// fully specified pseudo-random sequence and the encoding of float32
// weights into GGUF tensor types as ggml's reference code does, so that
// a synthetic file is the same byte for byte on every run and platform
// and llama.cpp's outputs recorded for it stay valid.
package synth

import (
	"encoding/binary"
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// Rand is splitmix64: tiny, and fully specified here.
type Rand uint64

// Next returns the next 64 random bits.
func (r *Rand) Next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Uniform returns a float32 in [-1, 1).
func (r *Rand) Uniform() float32 {
	return float32(int64(r.Next()>>40)-(1<<23)) / (1 << 23)
}

// Encode stores x as typ: F32, F16 (rounded to nearest even) or Q8_0 as
// ggml's reference quantize_row_q8_0 does (scale amax/127, rounding half
// away from zero). It panics for another type: a test's mistake.
func Encode(typ ggml.Type, x []float32) []byte {
	switch typ {
	case ggml.TypeF32:
		b := make([]byte, 4*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	case ggml.TypeF16:
		b := make([]byte, 2*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint16(b[2*i:], ggml.FP32ToFP16(v))
		}
		return b
	case ggml.TypeQ8_0:
		b := make([]byte, 0, len(x)/32*34)
		for i := 0; i < len(x); i += 32 {
			var amax float32
			for _, v := range x[i : i+32] {
				amax = max(amax, float32(math.Abs(float64(v))))
			}
			d := amax / 127
			id := float32(0)
			if d != 0 {
				id = 1 / d
			}
			b = binary.LittleEndian.AppendUint16(b, ggml.FP32ToFP16(d))
			for _, v := range x[i : i+32] {
				b = append(b, byte(int8(math.Round(float64(v*id)))))
			}
		}
		return b
	}
	panic("synth: Encode: unsupported type " + typ.String())
}
