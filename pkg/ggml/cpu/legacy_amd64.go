//go:build !noasm

package cpu

import (
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"golang.org/x/sys/cpu"
)

// legacyFeatures are the CPU features the legacy and float kernels use.
type legacyFeatures struct {
	avx2   bool // AVX2, FMA and F16C
	avx512 bool // AVX-512 F, BW, VL, DQ and VNNI, BMI2 (and the AVX2 set)
}

func legacyDetect() legacyFeatures {
	_, _, ecx, _ := legacyCPUID(1, 0)
	f16c := ecx&(1<<29) != 0
	var f legacyFeatures
	f.avx2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && f16c
	f.avx512 = f.avx2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL &&
		cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VNNI && cpu.X86.HasBMI2
	return f
}

// legacyTile is one tile kernel, with whether this CPU can run it.
type legacyTile struct {
	name string
	t    ggml.Type
	ok   bool
	k    tileKernel
}

// legacyTiles lists the tile kernels, for each type from the least to the
// most capable, so that installing the supported ones in order leaves the
// best one in place.
func legacyTiles(f legacyFeatures) []legacyTile {
	z := func(fn tileAsm, bb int) tileKernel { return tileKernel{asmTile(fn, bb), 16} }
	return []legacyTile{
		{"Q4_0/AVX512", ggml.TypeQ4_0, f.avx512, z(tileQ4_0AVX512, q4_0Bytes)},
		{"Q4_1/AVX512", ggml.TypeQ4_1, f.avx512, z(tileQ4_1AVX512, q4_1Bytes)},
		{"Q5_0/AVX512", ggml.TypeQ5_0, f.avx512, z(tileQ5_0AVX512, q5_0Bytes)},
		{"Q5_1/AVX512", ggml.TypeQ5_1, f.avx512, z(tileQ5_1AVX512, q5_1Bytes)},
		{"Q8_0/AVX512", ggml.TypeQ8_0, f.avx512, z(tileQ8_0AVX512, q8_0Bytes)},
		{"IQ4_NL/AVX512", ggml.TypeIQ4_NL, f.avx512, z(tileIQ4_NLAVX512, iq4nlBytes)},
		{"F16/AVX512", ggml.TypeF16, f.avx512, tileKernel{asmFloatTile(tileF16AVX512, 2), 4}},
		{"F32/AVX512", ggml.TypeF32, f.avx512, tileKernel{asmFloatTile(tileF32AVX512, 4), 4}},
	}
}

// legacyDots lists the vecDot kernels, least capable first. The float ones
// compute what their tile kernels compute for one pair.
func legacyDots(f legacyFeatures) []legacyDot {
	return []legacyDot{
		{"F16/AVX512", ggml.TypeF16, f.avx512, asmFloatDot(vecDotF16AVX512, 2)},
		{"F32/AVX512", ggml.TypeF32, f.avx512, asmFloatDot(vecDotF32AVX512, 4)},
	}
}

// legacyDot is one vecDot kernel, with whether this CPU can run it.
type legacyDot struct {
	name string
	t    ggml.Type
	ok   bool
	fn   vecDotFunc
}

// asmFloatTile wraps an assembly float tile kernel for weights of eb bytes
// per element (activations are float32 rows, cols apart) as a tileFunc.
func asmFloatTile(fn tileAsm, eb int) tileFunc {
	return func(w []byte, wStride, rows int, panel []byte, nt, cols int, out []float32, ldo int) {
		if rows <= 0 || nt <= 0 {
			return
		}
		if cols == 0 {
			for t := 0; t < nt; t++ {
				clear(out[t*ldo : t*ldo+rows])
			}
			return
		}
		_ = w[(rows-1)*wStride+cols*eb-1]
		_ = panel[nt*cols*4-1]
		_ = out[(nt-1)*ldo+rows-1]
		fn(&w[0], wStride, rows, &panel[0], cols, nt, &out[0], ldo)
	}
}

// asmFloatDot wraps an assembly float vecDot for weights of eb bytes per
// element.
func asmFloatDot(fn func(n int, w, a *byte) float32, eb int) vecDotFunc {
	return func(n int, w, a []byte) float32 {
		if n <= 0 {
			return 0
		}
		_ = w[n*eb-1]
		_ = a[n*4-1]
		return fn(n, &w[0], &a[0])
	}
}

// legacyPanels returns the panel kinds for the Q8_0 and Q8_1 tile kernels
// this CPU runs (tokens 0 where there are none).
func legacyPanels(f legacyFeatures) (q8_0, q8_1 panelKind) {
	if f.avx512 {
		return panelKind{packQ8_0, 16, panelTokenBytes32}, panelKind{packQ8_1, 8, panelTokenBytes32}
	}
	return panelKind{}, panelKind{}
}

// useLegacyAMD64 installs the amd64 kernels for the float types and the
// 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) and the
// activation converters.
func useLegacyAMD64(k *kernelSet) {
	f := legacyDetect()
	for _, lt := range legacyTiles(f) {
		if lt.ok {
			k.tile[lt.t] = lt.k
		}
	}
	k.panel[ggml.TypeQ8_0], k.panel[ggml.TypeQ8_1] = legacyPanels(f)
	if f.avx512 {
		// Float activations are their own panels.
		k.panel[ggml.TypeF16] = panelKind{tokens: 6}
		k.panel[ggml.TypeF32] = panelKind{tokens: 6}
	}
	useFloatAMD64(k, f)
	for _, ld := range legacyDots(f) {
		if ld.ok {
			k.vecDot[ld.t] = ld.fn
		}
	}
	for _, lc := range legacyConverters(f) {
		if lc.ok {
			k.convert[lc.t] = lc.fn
		}
	}
}

// legacyConverter is one activation converter, with whether this CPU can
// run it.
type legacyConverter struct {
	name string
	t    ggml.Type // the vec_dot type it converts to
	ok   bool
	fn   convertFunc
}

// legacyConverters lists the activation converters, least capable first.
func legacyConverters(f legacyFeatures) []legacyConverter {
	return []legacyConverter{
		{"Q8_0/AVX512", ggml.TypeQ8_0, f.avx512, asmQuantize(quantizeQ8_0AVX512, qk, q8_0Bytes)},
		{"Q8_1/AVX512", ggml.TypeQ8_1, f.avx512, asmQuantize(quantizeQ8_1AVX512, qk, q8_1Bytes)},
		{"Q8_K/AVX512", ggml.TypeQ8_K, f.avx512, asmQuantize(quantizeQ8_KAVX512, qkK, q8_KBytes)},
	}
}

// asmQuantize wraps an assembly quantizer of blocks of bs values into bb
// bytes as a convertFunc.
func asmQuantize(fn func(dst *byte, x *float32, nb int), bs, bb int) convertFunc {
	return func(dst []byte, x []float32) {
		nb := len(x) / bs
		if nb == 0 {
			return
		}
		_ = dst[nb*bb-1]
		fn(&dst[0], &x[0], nb)
	}
}

// tileAsm is the signature of the assembly tile kernels: rows weight rows
// from w (ws bytes apart) times nt tokens of the panel pan, with nb blocks
// per row, into out[t*ldo+r].
type tileAsm func(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

// asmTile wraps an assembly tile kernel for weights of bb bytes per block as
// a tileFunc, checking the bounds the assembly relies on.
func asmTile(fn tileAsm, bb int) tileFunc {
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

// legacyCPUID executes CPUID with the given leaf and sub-leaf.
//
//go:noescape
func legacyCPUID(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

//go:noescape
func quantizeQ8_0AVX512(dst *byte, x *float32, nb int)

//go:noescape
func quantizeQ8_1AVX512(dst *byte, x *float32, nb int)

//go:noescape
func quantizeQ8_KAVX512(dst *byte, x *float32, nb int)

//go:noescape
func tileQ4_0AVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ4_1AVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_0AVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_1AVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ8_0AVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileIQ4_NLAVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileF16AVX512(w *byte, ws, rows int, pan *byte, cols, nt int, out *float32, ldo int)

//go:noescape
func tileF32AVX512(w *byte, ws, rows int, pan *byte, cols, nt int, out *float32, ldo int)

//go:noescape
func vecDotF16AVX512(n int, w, a *byte) float32

//go:noescape
func vecDotF32AVX512(n int, w, a *byte) float32
