package cpu

import (
	"encoding/binary"
	"math"
)

// Panels of Q8_0 and Q8_1 activations for the tile kernels of the
// 32-element block types. A group of nt tokens is laid out block by block:
// for each block of 32 elements, the nt tokens' 32 quants (nt*32 bytes),
// then their scales d as float32 (nt*4 bytes), then one more 32-bit value
// per token (nt*4 bytes): for Q8_0 minus the sum of the block's quants (an
// int32, which the kernels scale by their weights' offset), for Q8_1 its
// stored sum s = d*sum(quants) as float32. That is 40*nt bytes per block.

const panelBlockBytes = 40

func panelTokenBytes32(cols int) int { return cols / qk * panelBlockBytes }

// packQ8_0 is the panelFunc of Q8_0 activations.
func packQ8_0(dst, src []byte, srcStride, nt, cols int) {
	nb := cols / qk
	dst = dst[:nb*nt*panelBlockBytes]
	for b := 0; b < nb; b++ {
		blk := dst[b*nt*panelBlockBytes : (b+1)*nt*panelBlockBytes]
		for t := 0; t < nt; t++ {
			y := (*[q8_0Bytes]byte)(src[t*srcStride+b*q8_0Bytes:])
			q := (*[qk]byte)(blk[qk*t:])
			*q = [qk]byte(y[2:])
			binary.LittleEndian.PutUint32(blk[qk*nt+4*t:], math.Float32bits(halfAt(y[0:])))
			binary.LittleEndian.PutUint32(blk[(qk+4)*nt+4*t:], uint32(-sumInt8(q)))
		}
	}
}

// packQ8_1 is the panelFunc of Q8_1 activations.
func packQ8_1(dst, src []byte, srcStride, nt, cols int) {
	nb := cols / qk
	dst = dst[:nb*nt*panelBlockBytes]
	for b := 0; b < nb; b++ {
		blk := dst[b*nt*panelBlockBytes : (b+1)*nt*panelBlockBytes]
		for t := 0; t < nt; t++ {
			y := (*[q8_1Bytes]byte)(src[t*srcStride+b*q8_1Bytes:])
			*(*[qk]byte)(blk[qk*t:]) = [qk]byte(y[4:])
			binary.LittleEndian.PutUint32(blk[qk*nt+4*t:], math.Float32bits(halfAt(y[0:])))
			binary.LittleEndian.PutUint32(blk[(qk+4)*nt+4*t:], math.Float32bits(halfAt(y[2:])))
		}
	}
}

// sumInt8 is the sum of 32 signed bytes: the sum of the bytes read as
// unsigned, in 16-bit lanes eight bytes at a time, less 256 for each
// negative one.
func sumInt8(q *[qk]byte) int32 {
	const lo16, lsb = 0x00ff00ff00ff00ff, 0x0101010101010101
	var u, neg uint64
	for j := 0; j < qk; j += 8 {
		x := binary.LittleEndian.Uint64(q[j:])
		u += x&lo16 + x>>8&lo16 // four lanes, each at most 8*255
		neg += x >> 7 & lsb     // eight lanes, each at most 4
	}
	// The lane sums land in the top lane of the products.
	return int32(u*0x0001000100010001>>48) - 256*int32(neg*lsb>>56)
}
