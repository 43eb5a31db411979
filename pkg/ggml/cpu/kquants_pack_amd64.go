//go:build !noasm

package cpu

import (
	"encoding/binary"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// The packed K-quant layouts of the AVX-512 kernels kqPackedQ4KAVX512,
// kqPackedQ5KAVX512 and kqPackedQ6KAVX512: groups of 16 rows, block column by block column,
// as _asm/kquant describes them.
const (
	layoutQ4K16 = 3
	layoutQ6K16 = 4
	layoutQ5K16 = 5
)

// kqPackRows is the rows per group of the packed K-quant layouts.
const kqPackRows = 16

// packQ4K16 is the pack function of layoutQ4K16: kqPackRows rows of cols
// elements (row r at src[r*rowBytes:]) into dst.
func packQ4K16(dst, src []byte, rowBytes, cols int) {
	packQ4KLike(dst, src, rowBytes, cols, q4_KBytes, 16, 256, -1)
}

// packQ5K16 is the pack function of layoutQ5K16: layoutQ4K16's column
// (d, dmin, scales, quants) with the rows' fifth bits before the quants.
func packQ5K16(dst, src []byte, rowBytes, cols int) {
	packQ4KLike(dst, src, rowBytes, cols, q5_KBytes, 48, 768, 16)
}

// packQ4KLike packs Q4_K or Q5_K rows (bb bytes a block, the quants at qs,
// the fifth bits at qh or none if qh < 0) into columns of d, dmin, the
// scales, the fifth bits at 256 and the quants at qsAt.
func packQ4KLike(dst, src []byte, rowBytes, cols, bb, qs, qsAt, qh int) {
	const g = kqPackRows
	nb := cols / qkK
	pbb := g * bb
	dst = dst[:nb*pbb]
	_ = src[(g-1)*rowBytes+nb*bb-1]
	for b := 0; b < nb; b++ {
		col := dst[b*pbb : (b+1)*pbb]
		// Fixed-size views, so that the loops below need no bounds
		// checks (with them packing went at a third of the speed).
		ds, sc, qcol := (*[64]byte)(col), (*[192]byte)(col[64:]), (*[2048]byte)(col[qsAt:])
		var hcol *[512]byte
		if qh >= 0 {
			hcol = (*[512]byte)(col[256:])
		}
		for r := 0; r < g; r++ {
			x := src[r*rowBytes+b*bb : r*rowBytes+(b+1)*bb]
			*(*[2]byte)(ds[2*r:]) = *(*[2]byte)(x[0:])
			*(*[2]byte)(ds[32+2*r:]) = *(*[2]byte)(x[2:])
			s := (*[12]byte)(x[4:])
			for i := 0; i < 12; i++ {
				sc[16*i+r] = s[i]
			}
			q := (*[128]byte)(x[qs:])
			for k := 0; k < 32; k++ {
				*(*[4]byte)(qcol[64*k+4*r:]) = *(*[4]byte)(q[4*k:])
			}
			if hcol != nil {
				h := (*[32]byte)(x[qh:])
				for k := 0; k < 8; k++ {
					*(*[4]byte)(hcol[64*k+4*r:]) = *(*[4]byte)(h[4*k:])
				}
			}
		}
	}
}

// packQ6K16 is the pack function of layoutQ6K16. It works on eight
// values at a time in a uint64: a sub-block of 16 is 16 bytes of ql (the
// low or high nibbles) and 16 of qh (one bit pair of each), so that
// packing goes at the speed of the copies (as the other packers; a loop
// over single values made loading a Q4_K_M model's Q6_K matrices 3x
// slower).
func packQ6K16(dst, src []byte, rowBytes, cols int) {
	const g = kqPackRows
	const lo2 = 0x0303030303030303
	nb := cols / qkK
	pbb := g * q6_KBytes
	dst = dst[:nb*pbb]
	_ = src[(g-1)*rowBytes+nb*q6_KBytes-1]
	for b := 0; b < nb; b++ {
		col := (*[g * q6_KBytes]byte)(dst[b*pbb:])
		for r := 0; r < g; r++ {
			x := (*[q6_KBytes]byte)(src[r*rowBytes+b*q6_KBytes:])
			*(*[2]byte)(col[2*r:]) = *(*[2]byte)(x[208:])
			for i := 0; i < 8; i++ {
				*(*[2]byte)(col[32+32*i+2*r:]) = *(*[2]byte)(x[192+2*i:])
			}
			for sb := 0; sb < 16; sb++ {
				// Values 16sb..16sb+15: quarter q of half n, from
				// offset l0 of its 32.
				n, q, l0 := sb/8, sb%8/2, 16*(sb%2)
				ql := x[64*n+32*(q&1)+l0:]
				qh := x[128+32*n+l0:]
				nshift, hshift := uint(4*(q>>1)), uint(2*q)
				u0 := binary.LittleEndian.Uint64(ql)>>nshift&0x0f0f0f0f0f0f0f0f | (binary.LittleEndian.Uint64(qh)>>hshift&lo2)<<4
				u1 := binary.LittleEndian.Uint64(ql[8:])>>nshift&0x0f0f0f0f0f0f0f0f | (binary.LittleEndian.Uint64(qh[8:])>>hshift&lo2)<<4
				o3 := uint32(u1 >> 32)
				d := col[288+64*3*sb+4*r:]
				binary.LittleEndian.PutUint32(d, uint32(u0)|(o3&0x03030303)<<6)
				binary.LittleEndian.PutUint32(d[64:], uint32(u0>>32)|(o3>>2&0x03030303)<<6)
				binary.LittleEndian.PutUint32(d[128:], uint32(u1)|(o3>>4&0x03030303)<<6)
			}
		}
	}
}

// kqPackedTile wraps an assembly kernel for packed groups of kqPackRows
// rows of bb bytes per block (whose scratch area is in its own frame).
func kqPackedTile(fn func(w *byte, groups int, pan *byte, nb, nt int, out *float32, ldo int), bb int) tileKernel {
	return tileKernel{rows: kqPackRows, fn: func(w []byte, wStride, rows int, panel []byte, nt, cols int, out []float32, ldo int) {
		nb, ok := kqTileArgs(w, wStride, rows, panel, nt, cols, out, ldo, bb, kqTileTokens)
		if !ok {
			return
		}
		if rows%kqPackRows != 0 || wStride != nb*bb {
			panic("cpu: packed K-quant kernel: rows not in whole packed groups")
		}
		fn(&w[0], rows/kqPackRows, &panel[0], nb, nt, &out[0], ldo)
	}}
}

// useKQuantsPacked installs the packed K-quant layouts this CPU has
// kernels for.
func useKQuantsPacked(k *kernelSet, f kqFeatures) {
	if f.avx2 && f.avx512 && f.vbmi {
		k.packed[ggml.TypeQ4_K] = packedKernel{tile: kqPackedTile(kqPackedQ4KAVX512, q4_KBytes), pack: packQ4K16, layout: layoutQ4K16}
	}
	if f.avx2 && f.avx512 && f.vbmi && f.gfni {
		k.packed[ggml.TypeQ5_K] = packedKernel{tile: kqPackedTile(kqPackedQ5KAVX512, q5_KBytes), pack: packQ5K16, layout: layoutQ5K16}
	}
	if f.avx2 && f.avx512 && f.gfni {
		k.packed[ggml.TypeQ6_K] = packedKernel{tile: kqPackedTile(kqPackedQ6KAVX512, q6_KBytes), pack: packQ6K16, layout: layoutQ6K16}
	}
}

//go:noescape
func kqPackedQ5KAVX512(w *byte, groups int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func kqPackedQ6KAVX512(w *byte, groups int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func kqPackedQ4KAVX512(w *byte, groups int, pan *byte, nb, nt int, out *float32, ldo int)
