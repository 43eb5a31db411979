package cpu

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// Generic conversion of float32 activation rows to the vec_dot types.

// littleEndian reports whether float32 values are stored as their
// little-endian bytes, as the vec_dot F32 rows are: then the conversion of
// F32 activations is a copy.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

func convertF32Generic(dst []byte, x []float32) {
	dst = dst[:4*len(x)]
	if littleEndian {
		copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), 4*len(x)))
		return
	}
	for i, v := range x {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

// convertF16Generic rounds x to F16 and stores the results as float32 (see
// actRowBytes).
func convertF16Generic(dst []byte, x []float32) {
	dst = dst[:4*len(x)]
	for i, v := range x {
		u := math.Float32bits(halfToFloat(ggml.FP32ToFP16(v)))
		binary.LittleEndian.PutUint32(dst[4*i:], u)
	}
}

// convertF16BytesGeneric converts x to F16 bytes.
func convertF16BytesGeneric(dst []byte, x []float32) {
	dst = dst[:2*len(x)]
	for i, v := range x {
		binary.LittleEndian.PutUint16(dst[2*i:], ggml.FP32ToFP16(v))
	}
}

func convertBF16Generic(dst []byte, x []float32) {
	dst = dst[:2*len(x)]
	for i, v := range x {
		binary.LittleEndian.PutUint16(dst[2*i:], ggml.FP32ToBF16(v))
	}
}

// roundEven rounds v (|v| < 2^22) to the nearest integer, ties to even, as
// x86's ROUNDPS with _MM_ROUND_NEAREST and ggml's nearest_int do.
func roundEven(v float32) int32 {
	f := v + 12582912 // 1.5 * 2^23: the sum's low mantissa bits hold round(v)
	return int32(math.Float32bits(f)&0x7fffff) - 0x400000
}

// quantizeQ8_0Generic quantizes a row to Q8_0 the way ggml's AVX/AVX2
// quantize_row_q8_0 does: d = amax/127, multiplier 127/amax, round half to
// even.
func quantizeQ8_0Generic(dst []byte, x []float32) {
	nb := len(x) / qk
	dst = dst[:nb*q8_0Bytes]
	for i := 0; i < nb; i++ {
		v := (*[qk]float32)(x[i*qk : i*qk+qk])
		y := (*[q8_0Bytes]byte)(dst[i*q8_0Bytes:])
		var amax float32
		for _, f := range v {
			amax = max(amax, abs32(f))
		}
		putHalf(y[0:], amax/127)
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		for j, f := range v {
			y[2+j] = byte(int8(roundEven(f * id)))
		}
	}
}

// quantizeQ8_1Generic is quantizeQ8_0Generic plus s = d * sum(quants),
// computed from the unrounded d as ggml's AVX2 quantize_row_q8_1 does.
func quantizeQ8_1Generic(dst []byte, x []float32) {
	nb := len(x) / qk
	dst = dst[:nb*q8_1Bytes]
	for i := 0; i < nb; i++ {
		v := (*[qk]float32)(x[i*qk : i*qk+qk])
		y := (*[q8_1Bytes]byte)(dst[i*q8_1Bytes:])
		var amax float32
		for _, f := range v {
			amax = max(amax, abs32(f))
		}
		d := amax / 127
		putHalf(y[0:], d)
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		var s int32
		for j, f := range v {
			q := roundEven(f * id)
			s += q
			y[4+j] = byte(int8(q))
		}
		putHalf(y[2:], d*float32(s))
	}
}

// quantizeQ8_KGeneric quantizes a row to Q8_K as quantize_row_q8_K_ref does
// (ggml-cpu uses it on every architecture): the scale comes from the value
// of largest magnitude (first one wins), -127/max, round half to even,
// clamped at 127, plus the sums of each group of 16 quants.
func quantizeQ8_KGeneric(dst []byte, x []float32) {
	nb := len(x) / qkK
	dst = dst[:nb*q8_KBytes]
	for i := 0; i < nb; i++ {
		v := (*[qkK]float32)(x[i*qkK : i*qkK+qkK])
		y := (*[q8_KBytes]byte)(dst[i*q8_KBytes:])
		var amax, vmax float32
		for _, f := range v {
			if a := abs32(f); a > amax {
				amax, vmax = a, f
			}
		}
		if amax == 0 {
			clear(y[:])
			continue
		}
		iscale := -127 / vmax
		for g := 0; g < qkK/16; g++ {
			var s int32
			for l := 0; l < 16; l++ {
				q := min(127, roundEven(iscale*v[16*g+l]))
				s += q
				y[4+16*g+l] = byte(int8(q))
			}
			y[q8KBsumsOff+2*g], y[q8KBsumsOff+2*g+1] = byte(s), byte(uint16(s)>>8)
		}
		u := math.Float32bits(1 / iscale)
		y[0], y[1], y[2], y[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
}

func abs32(f float32) float32 {
	return math.Float32frombits(math.Float32bits(f) &^ (1 << 31))
}
