//go:build !noasm

package cpu

import "github.com/llamafile-go/llamafile/pkg/ggml"

// neonTile is one NEON tile kernel (see _asm/neon), with the features it
// needs and the panels it reads.
type neonTile struct {
	name string
	t    ggml.Type
	sdot bool // needs the dot-product extension
	k    tileKernel
	pk   panelKind
}

// neonTiles lists the NEON tile kernels, the ARMv8.0 variant of each type
// before its SDOT variant, so that installing the supported ones in order
// leaves the best in place. All kernels of a vec_dot type read the same
// panels.
func neonTiles() []neonTile {
	var (
		p0 = panelKind{packQ8_0, 8, panelTokenBytes32}
		p1 = panelKind{packQ8_1, 4, panelTokenBytes32}
		pk = panelKind{tokens: 4} // Q8_K rows are their own panels
	)
	l := func(fn tileAsm, bb int) tileKernel { return tileKernel{neonAsmTile(fn, bb), 4} }
	kq := func(fn tileAsm, bb int) tileKernel { return tileKernel{neonAsmTileK(fn, bb), 1} }
	return []neonTile{
		{"Q4_0/NEON", ggml.TypeQ4_0, false, l(tileQ4_0NEON, q4_0Bytes), p0},
		{"Q4_0/SDOT", ggml.TypeQ4_0, true, l(tileQ4_0SDOT, q4_0Bytes), p0},
		{"Q8_0/NEON", ggml.TypeQ8_0, false, l(tileQ8_0NEON, q8_0Bytes), p0},
		{"Q8_0/SDOT", ggml.TypeQ8_0, true, l(tileQ8_0SDOT, q8_0Bytes), p0},
		{"IQ4_NL/NEON", ggml.TypeIQ4_NL, false, l(tileIQ4_NLNEON, iq4nlBytes), p0},
		{"IQ4_NL/SDOT", ggml.TypeIQ4_NL, true, l(tileIQ4_NLSDOT, iq4nlBytes), p0},
		{"Q5_0/NEON", ggml.TypeQ5_0, false, l(tileQ5_0NEON, q5_0Bytes), p0},
		{"Q5_0/SDOT", ggml.TypeQ5_0, true, l(tileQ5_0SDOT, q5_0Bytes), p0},
		{"Q4_1/NEON", ggml.TypeQ4_1, false, l(tileQ4_1NEON, q4_1Bytes), p1},
		{"Q4_1/SDOT", ggml.TypeQ4_1, true, l(tileQ4_1SDOT, q4_1Bytes), p1},
		{"Q5_1/NEON", ggml.TypeQ5_1, false, l(tileQ5_1NEON, q5_1Bytes), p1},
		{"Q5_1/SDOT", ggml.TypeQ5_1, true, l(tileQ5_1SDOT, q5_1Bytes), p1},
		{"Q4_K/NEON", ggml.TypeQ4_K, false, kq(tileQ4_KNEON, q4_KBytes), pk},
		{"Q4_K/SDOT", ggml.TypeQ4_K, true, kq(tileQ4_KSDOT, q4_KBytes), pk},
		{"Q5_K/NEON", ggml.TypeQ5_K, false, kq(tileQ5_KNEON, q5_KBytes), pk},
		{"Q5_K/SDOT", ggml.TypeQ5_K, true, kq(tileQ5_KSDOT, q5_KBytes), pk},
		{"IQ4_XS/NEON", ggml.TypeIQ4_XS, false, kq(tileIQ4_XSNEON, iq4xsBytes), pk},
		{"IQ4_XS/SDOT", ggml.TypeIQ4_XS, true, kq(tileIQ4_XSSDOT, iq4xsBytes), pk},
		{"Q6_K/NEON", ggml.TypeQ6_K, false, kq(tileQ6_KNEON, q6_KBytes), pk},
		{"Q6_K/SDOT", ggml.TypeQ6_K, true, kq(tileQ6_KSDOT, q6_KBytes), pk},
		{"Q3_K/NEON", ggml.TypeQ3_K, false, kq(tileQ3_KNEON, q3_KBytes), pk},
		{"Q3_K/SDOT", ggml.TypeQ3_K, true, kq(tileQ3_KSDOT, q3_KBytes), pk},
		{"Q2_K/NEON", ggml.TypeQ2_K, false, kq(tileQ2_KNEON, q2_KBytes), pk},
		{"Q2_K/SDOT", ggml.TypeQ2_K, true, kq(tileQ2_KSDOT, q2_KBytes), pk},
	}
}

// useNEONTiles installs the tile kernels (and their panels) that need no
// more than f.
func useNEONTiles(k *kernelSet, f neonFeatures) {
	for _, nt := range neonTiles() {
		if nt.sdot && !f.dotProd {
			continue
		}
		k.tile[nt.t] = nt.k
		k.panel[vecDotTypes[nt.t]] = nt.pk
	}
}

// tileAsm is the signature of the assembly tile kernels: rows weight rows
// (a multiple of the kernel's rows) from w, ws bytes apart, times nt tokens of the panel
// pan, with nb blocks per row, into out[t*ldo+r].
type tileAsm func(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

// neonAsmTile wraps an assembly tile kernel for weights of bb bytes per
// block of 32 as a tileFunc, checking the bounds the assembly relies on.
func neonAsmTile(fn tileAsm, bb int) tileFunc {
	return func(w []byte, wStride, rows int, panel []byte, nt, cols int, out []float32, ldo int) {
		nb := cols / qk
		if rows <= 0 || nt <= 0 {
			return
		}
		if nb == 0 {
			for t := 0; t < nt; t++ {
				clear(out[t*ldo : t*ldo+rows])
			}
			return
		}
		_ = w[(rows-1)*wStride+nb*bb-1]
		_ = panel[nt*nb*panelBlockBytes-1]
		_ = out[(nt-1)*ldo+rows-1]
		fn(&w[0], wStride, rows, &panel[0], nb, nt, &out[0], ldo)
	}
}

// neonAsmTileK wraps an assembly K-quant tile kernel for weights of bb
// bytes per super-block, whose panel is the tokens' Q8_K rows.
func neonAsmTileK(fn tileAsm, bb int) tileFunc {
	return func(w []byte, wStride, rows int, panel []byte, nt, cols int, out []float32, ldo int) {
		nb := cols / qkK
		if rows <= 0 || nt <= 0 {
			return
		}
		if nb == 0 {
			for t := 0; t < nt; t++ {
				clear(out[t*ldo : t*ldo+rows])
			}
			return
		}
		_ = w[(rows-1)*wStride+nb*bb-1]
		_ = panel[nt*nb*q8_KBytes-1]
		_ = out[(nt-1)*ldo+rows-1]
		fn(&w[0], wStride, rows, &panel[0], nb, nt, &out[0], ldo)
	}
}

//go:noescape
func tileQ4_0SDOT(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ4_0NEON(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ8_0SDOT(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ8_0NEON(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileIQ4_NLSDOT(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileIQ4_NLNEON(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_0SDOT(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_0NEON(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ4_1SDOT(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ4_1NEON(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_1SDOT(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_1NEON(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ4_KSDOT(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ4_KNEON(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ6_KSDOT(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ6_KNEON(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_KSDOT(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_KNEON(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileIQ4_XSSDOT(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileIQ4_XSNEON(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ3_KSDOT(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ3_KNEON(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ2_KSDOT(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ2_KNEON(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)
