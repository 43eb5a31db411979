//go:build !noasm

package cpu

import (
	"encoding/binary"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// Packed weights of the 32-element block types for the AVX-512 tile
// kernels (layoutLegacy16): each group of 16 rows is stored block column
// by block column, each column as the 16 rows' fp16 scales d, for Q4_1
// and Q5_1 their fp16 mins, for Q5_0 and Q5_1 their 32-bit high bits qh,
// then the quants in the order of the kernel's registers: register k
// (64 bytes) holds dword k of row r's quants at 4r. See the generator in
// _asm/legacy.

const (
	layoutLegacy16 = 1
	layoutFloat4   = 2 // F16 and F32 rows for the AVX-512 float tiles, see floatPacker
)

// floatPacker returns the pack function of packedKernel for F16 (eb = 2)
// or F32 (eb = 4) weights in groups of g rows: step by step of 16
// elements, the g rows' 16 elements one after the other. cols must be a
// multiple of 16.
func floatPacker(eb, g int) func(dst, src []byte, rowBytes, cols int) {
	return func(dst, src []byte, rowBytes, cols int) {
		sb := 16 * eb
		steps := cols / 16
		dst = dst[:steps*g*sb]
		_ = src[(g-1)*rowBytes+steps*sb-1]
		// Array conversions move the 32 or 64 bytes of a step inline,
		// where copy calls memmove for each.
		for s := 0; s < steps; s++ {
			for r := 0; r < g; r++ {
				d, o := dst[(s*g+r)*sb:], src[r*rowBytes+s*sb:]
				if sb == 32 {
					*(*[32]byte)(d) = *(*[32]byte)(o)
				} else {
					*(*[64]byte)(d) = *(*[64]byte)(o)
				}
			}
		}
	}
}

// legacyPackSpec gives where a block's fields are (offsets in the block;
// -1 if absent) and how many quant bytes it has.
type legacyPackSpec struct {
	bb           int // block bytes
	mOff, qhOff  int
	qsOff, qsLen int
}

func legacyPackSpecOf(t ggml.Type) legacyPackSpec {
	switch t {
	case ggml.TypeQ4_0, ggml.TypeIQ4_NL:
		return legacyPackSpec{bb: 18, mOff: -1, qhOff: -1, qsOff: 2, qsLen: 16}
	case ggml.TypeQ4_1:
		return legacyPackSpec{bb: 20, mOff: 2, qhOff: -1, qsOff: 4, qsLen: 16}
	case ggml.TypeQ5_0:
		return legacyPackSpec{bb: 22, mOff: -1, qhOff: 2, qsOff: 6, qsLen: 16}
	case ggml.TypeQ5_1:
		return legacyPackSpec{bb: 24, mOff: 2, qhOff: 4, qsOff: 8, qsLen: 16}
	case ggml.TypeQ8_0:
		return legacyPackSpec{bb: 34, mOff: -1, qhOff: -1, qsOff: 2, qsLen: 32}
	}
	panic("cpu: no packed layout for " + t.String())
}

// legacyPacker returns the pack function of packedKernel for type t with
// groups of 16 rows. It goes row by row, so that it reads each row in
// order (a block column of all 16 rows at a time read 16 streams of the
// mapped file), and moves each field with one load and one store: Q4_0
// packs at 1.45 GB/s a thread in cache where it did at 1.16, and loading
// TestRepackLoad1GB's 1.1 GB Q8_0 model took 0.58-0.79 s against 0.90.
func legacyPacker(t ggml.Type) func(dst, src []byte, rowBytes, cols int) {
	sp := legacyPackSpecOf(t)
	const g = 16
	// Where the fields of a packed column start.
	mOff, qhOff := 2*g, 2*g
	if sp.mOff >= 0 {
		qhOff += 2 * g
	}
	qsOff := qhOff
	if sp.qhOff >= 0 {
		qsOff += 4 * g
	}
	le := binary.LittleEndian
	return func(dst, src []byte, rowBytes, cols int) {
		nb := cols / qk
		pbb := g * sp.bb
		dst = dst[:nb*pbb]
		for r := 0; r < g; r++ {
			row := src[r*rowBytes : r*rowBytes+nb*sp.bb]
			for b := 0; b < nb; b++ {
				x := row[b*sp.bb : (b+1)*sp.bb]
				col := dst[b*pbb : (b+1)*pbb]
				le.PutUint16(col[2*r:], le.Uint16(x))
				if sp.mOff >= 0 {
					le.PutUint16(col[mOff+2*r:], le.Uint16(x[sp.mOff:]))
				}
				if sp.qhOff >= 0 {
					le.PutUint32(col[qhOff+4*r:], le.Uint32(x[sp.qhOff:]))
				}
				qs := x[sp.qsOff : sp.qsOff+sp.qsLen]
				c := col[qsOff+4*r:]
				for k := 0; k+4 <= len(qs); k += 4 {
					le.PutUint32(c[16*k:], le.Uint32(qs[k:]))
				}
			}
		}
	}
}
