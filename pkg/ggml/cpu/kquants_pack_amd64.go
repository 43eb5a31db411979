//go:build !noasm

package cpu

import "github.com/llamafile-go/llamafile/pkg/ggml"

// layoutQ4K16 is the packed Q4_K layout of the AVX-512 kernel
// kqPackedQ4KAVX512: groups of 16 rows, block column by block column, as
// _asm/kquant describes it.
const layoutQ4K16 = 3

// kqPackRows is the rows per group of the packed K-quant layouts.
const kqPackRows = 16

// packQ4K16 is the pack function of layoutQ4K16: kqPackRows rows of cols
// elements (row r at src[r*rowBytes:]) into dst.
func packQ4K16(dst, src []byte, rowBytes, cols int) {
	const g = kqPackRows
	nb := cols / qkK
	pbb := g * q4_KBytes
	dst = dst[:nb*pbb]
	_ = src[(g-1)*rowBytes+nb*q4_KBytes-1]
	for b := 0; b < nb; b++ {
		col := (*[g * q4_KBytes]byte)(dst[b*pbb:])
		for r := 0; r < g; r++ {
			x := (*[q4_KBytes]byte)(src[r*rowBytes+b*q4_KBytes:])
			*(*[2]byte)(col[2*r:]) = *(*[2]byte)(x[0:])
			*(*[2]byte)(col[32+2*r:]) = *(*[2]byte)(x[2:])
			for i := 0; i < 12; i++ {
				col[64+16*i+r] = x[4+i]
			}
			for k := 0; k < 32; k++ {
				*(*[4]byte)(col[256+64*k+4*r:]) = *(*[4]byte)(x[16+4*k:])
			}
		}
	}
}

// kqPackScratch is the scratch area of the packed kernels: the scales of
// a block and three registers per token, with room to align it to 64
// bytes.
const kqPackScratch = 1024 + 192*kqTileTokens + 64

// kqPackedTile wraps an assembly kernel for packed groups of kqPackRows
// rows of bb bytes per block.
func kqPackedTile(fn func(w *byte, groups int, pan *byte, nb, nt int, out *float32, ldo int, scratch *byte), bb int) tileKernel {
	return tileKernel{rows: kqPackRows, fn: func(w []byte, wStride, rows int, panel []byte, nt, cols int, out []float32, ldo int) {
		nb := cols / qkK
		if rows <= 0 || nt <= 0 {
			return
		}
		if nt > kqTileTokens || rows%kqPackRows != 0 || wStride != nb*bb {
			panic("cpu: packed K-quant kernel: bad call")
		}
		if nb == 0 {
			for t := 0; t < nt; t++ {
				clear(out[t*ldo : t*ldo+rows])
			}
			return
		}
		_ = w[rows*wStride-1]
		_ = panel[nt*nb*q8_KBytes-1]
		_ = out[(nt-1)*ldo+rows-1]
		var scratch [kqPackScratch]byte
		fn(&w[0], rows/kqPackRows, &panel[0], nb, nt, &out[0], ldo, &scratch[0])
	}}
}

// useKQuantsPacked installs the packed K-quant layouts this CPU has
// kernels for.
func useKQuantsPacked(k *kernelSet, f kqFeatures) {
	if f.avx2 && f.avx512 && f.vbmi {
		k.packed[ggml.TypeQ4_K] = packedKernel{tile: kqPackedTile(kqPackedQ4KAVX512, q4_KBytes), pack: packQ4K16, layout: layoutQ4K16}
	}
}

//go:noescape
func kqPackedQ4KAVX512(w *byte, groups int, pan *byte, nb, nt int, out *float32, ldo int, scratch *byte)
