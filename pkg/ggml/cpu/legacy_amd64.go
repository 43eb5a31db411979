//go:build !noasm

package cpu

import (
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"golang.org/x/sys/cpu"
)

// legacyFeatures are the CPU features the legacy and float kernels use.
// Each level includes the ones before it.
type legacyFeatures struct {
	avx2    bool // AVX2, FMA and F16C
	avxvnni bool // AVX-VNNI (VEX-encoded VPDPBUSD on YMM registers)
	avx512  bool // AVX-512 F, BW, VL, DQ and VNNI, BMI2 (and the AVX2 set)
}

func legacyDetect() legacyFeatures {
	f16c := hasF16C()
	var f legacyFeatures
	f.avx2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && f16c
	f.avxvnni = f.avx2 && cpu.X86.HasAVXVNNI
	f.avx512 = f.avx2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL &&
		cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VNNI && cpu.X86.HasBMI2
	return f
}

// legacyLevel is a named set of features, for running each kernel family
// on its own (tests, benchmarks).
type legacyLevel struct {
	name string
	f    legacyFeatures
}

// legacyLevels lists the feature levels this CPU supports, least capable
// first; "generic" (no features) is always there.
func legacyLevels() []legacyLevel {
	f := legacyDetect()
	levels := []legacyLevel{{"generic", legacyFeatures{}}}
	if f.avx2 {
		levels = append(levels, legacyLevel{"AVX2", legacyFeatures{avx2: true}})
	}
	if f.avxvnni {
		levels = append(levels, legacyLevel{"AVX-VNNI", legacyFeatures{avx2: true, avxvnni: true}})
	}
	if f.avx512 {
		levels = append(levels, legacyLevel{"AVX-512", legacyFeatures{avx2: true, avx512: true}})
	}
	return levels
}

// legacyTile is one tile kernel, with whether this CPU can run it, the
// panels it reads and, for the float types, the vecDot kernel that
// computes the same for one pair (installed with it).
type legacyTile struct {
	name string
	t    ggml.Type
	ok   bool
	k    tileKernel
	pk   panelKind
	dot  vecDotFunc
}

// legacyTiles lists the tile kernels, for each type from the least to the
// most capable, so that installing the supported ones in order leaves the
// best one in place. Every level has a kernel for every type, so the
// panels installed last (those of the best level) suit all of them.
func legacyTiles(f legacyFeatures) []legacyTile {
	vnni := f.avx2 && f.avxvnni
	var (
		p0_16 = panelKind{packQ8_0, 16, panelTokenBytes32}
		p1_8  = panelKind{packQ8_1, 8, panelTokenBytes32}
		p0_4  = panelKind{packQ8_0, 4, panelTokenBytes32}
		p1_2  = panelKind{packQ8_1, 2, panelTokenBytes32}
	)
	z := func(fn tileAsm, bb int) tileKernel { return tileKernel{asmTile(fn, bb), 16} }
	y := func(fn tileAsm, bb int) tileKernel { return tileKernel{asmTile(fn, bb), 8} }
	return []legacyTile{
		{"Q4_0/AVX2", ggml.TypeQ4_0, f.avx2, y(tileQ4_0AVX2, q4_0Bytes), p0_4, nil},
		{"Q4_1/AVX2", ggml.TypeQ4_1, f.avx2, y(tileQ4_1AVX2, q4_1Bytes), p1_2, nil},
		{"Q5_0/AVX2", ggml.TypeQ5_0, f.avx2, y(tileQ5_0AVX2, q5_0Bytes), p0_4, nil},
		{"Q5_1/AVX2", ggml.TypeQ5_1, f.avx2, y(tileQ5_1AVX2, q5_1Bytes), p1_2, nil},
		{"Q8_0/AVX2", ggml.TypeQ8_0, f.avx2, y(tileQ8_0AVX2, q8_0Bytes), p0_4, nil},
		{"IQ4_NL/AVX2", ggml.TypeIQ4_NL, f.avx2, y(tileIQ4_NLAVX2, iq4nlBytes), p0_4, nil},
		{"Q4_0/AVX-VNNI", ggml.TypeQ4_0, vnni, y(tileQ4_0AVXVNNI, q4_0Bytes), p0_4, nil},
		{"Q4_1/AVX-VNNI", ggml.TypeQ4_1, vnni, y(tileQ4_1AVXVNNI, q4_1Bytes), p1_2, nil},
		{"Q5_0/AVX-VNNI", ggml.TypeQ5_0, vnni, y(tileQ5_0AVXVNNI, q5_0Bytes), p0_4, nil},
		{"Q5_1/AVX-VNNI", ggml.TypeQ5_1, vnni, y(tileQ5_1AVXVNNI, q5_1Bytes), p1_2, nil},
		{"Q8_0/AVX-VNNI", ggml.TypeQ8_0, vnni, y(tileQ8_0AVXVNNI, q8_0Bytes), p0_4, nil},
		{"IQ4_NL/AVX-VNNI", ggml.TypeIQ4_NL, vnni, y(tileIQ4_NLAVXVNNI, iq4nlBytes), p0_4, nil},
		{"Q4_0/AVX512", ggml.TypeQ4_0, f.avx512, z(tileQ4_0AVX512, q4_0Bytes), p0_16, nil},
		{"Q4_1/AVX512", ggml.TypeQ4_1, f.avx512, z(tileQ4_1AVX512, q4_1Bytes), p1_8, nil},
		{"Q5_0/AVX512", ggml.TypeQ5_0, f.avx512, z(tileQ5_0AVX512, q5_0Bytes), p0_16, nil},
		{"Q5_1/AVX512", ggml.TypeQ5_1, f.avx512, z(tileQ5_1AVX512, q5_1Bytes), p1_8, nil},
		{"Q8_0/AVX512", ggml.TypeQ8_0, f.avx512, z(tileQ8_0AVX512, q8_0Bytes), p0_16, nil},
		{"IQ4_NL/AVX512", ggml.TypeIQ4_NL, f.avx512, z(tileIQ4_NLAVX512, iq4nlBytes), p0_16, nil},
		// Float activations are their own panels.
		{"F16/AVX2", ggml.TypeF16, f.avx2, tileKernel{asmFloatTile2(tileF16AVX2, 2), 3}, panelKind{tokens: 4}, asmFloatDot2(vecDotF16AVX2, 2)},
		{"F32/AVX2", ggml.TypeF32, f.avx2, tileKernel{asmFloatTile2(tileF32AVX2, 4), 3}, panelKind{tokens: 4}, asmFloatDot2(vecDotF32AVX2, 4)},
		{"F16/AVX512", ggml.TypeF16, f.avx512, tileKernel{asmFloatTile(tileF16AVX512, 2), 4}, panelKind{tokens: 6}, asmFloatDot(vecDotF16AVX512, 2)},
		{"F32/AVX512", ggml.TypeF32, f.avx512, tileKernel{asmFloatTile(tileF32AVX512, 4), 4}, panelKind{tokens: 6}, asmFloatDot(vecDotF32AVX512, 4)},
	}
}

// legacyPackedTiles lists the tile kernels that read packed weights
// (layoutLegacy16), with the panels of the AVX-512 tiles.
func legacyPackedTiles(f legacyFeatures) []legacyTile {
	z := func(fn tileAsm, bb int) tileKernel { return tileKernel{asmTile(fn, bb), 16} }
	return []legacyTile{
		{"Q4_0/AVX512P", ggml.TypeQ4_0, f.avx512, z(tileQ4_0AVX512P, q4_0Bytes), panelKind{}, nil},
		{"Q4_1/AVX512P", ggml.TypeQ4_1, f.avx512, z(tileQ4_1AVX512P, q4_1Bytes), panelKind{}, nil},
		{"Q5_0/AVX512P", ggml.TypeQ5_0, f.avx512, z(tileQ5_0AVX512P, q5_0Bytes), panelKind{}, nil},
		{"Q5_1/AVX512P", ggml.TypeQ5_1, f.avx512, z(tileQ5_1AVX512P, q5_1Bytes), panelKind{}, nil},
		{"Q8_0/AVX512P", ggml.TypeQ8_0, f.avx512, z(tileQ8_0AVX512P, q8_0Bytes), panelKind{}, nil},
		{"IQ4_NL/AVX512P", ggml.TypeIQ4_NL, f.avx512, z(tileIQ4_NLAVX512P, iq4nlBytes), panelKind{}, nil},
	}
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

// asmFloatTile2 wraps an AVX2 float tile kernel, which sums whole steps of
// 8 elements, as a tileFunc: floatTail adds the rest.
func asmFloatTile2(fn tileAsm, eb int) tileFunc {
	tile := asmFloatTile(fn, eb)
	return func(w []byte, wStride, rows int, panel []byte, nt, cols int, out []float32, ldo int) {
		tile(w, wStride, rows, panel, nt, cols, out, ldo)
		if c8 := cols &^ 7; c8 < cols && rows > 0 {
			for t := 0; t < nt; t++ {
				a := panel[t*cols*4 : (t+1)*cols*4]
				o := out[t*ldo : t*ldo+rows]
				for r := range o {
					o[r] = floatTail(eb, w[r*wStride:], a, c8, cols, o[r])
				}
			}
		}
	}
}

// asmFloatDot2 wraps an AVX2 float vecDot as asmFloatTile2 does.
func asmFloatDot2(fn func(n int, w, a *byte) float32, eb int) vecDotFunc {
	dot := asmFloatDot(fn, eb)
	return func(n int, w, a []byte) float32 {
		s := dot(n, w, a)
		if c8 := n &^ 7; c8 < n {
			s = floatTail(eb, w, a, c8, n, s)
		}
		return s
	}
}

// floatTail adds to s the products of elements [from, to) of a weight row
// (F16 if eb is 2, else F32) and a float32 activation row, in order.
func floatTail(eb int, w, a []byte, from, to int, s float32) float32 {
	for i := from; i < to; i++ {
		var x float32
		if eb == 2 {
			x = halfAt(w[2*i:])
		} else {
			x = f32At(w[4*i:])
		}
		s += x * f32At(a[4*i:])
	}
	return s
}

// useLegacyAMD64 installs the amd64 kernels for the float types and the
// 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) and the
// activation converters.
func useLegacyAMD64(k *kernelSet) { useLegacy(k, legacyDetect()) }

// useLegacy installs the kernels of useLegacyAMD64 that need no more
// than f.
func useLegacy(k *kernelSet, f legacyFeatures) {
	for _, lt := range legacyTiles(f) {
		if lt.ok {
			k.tile[lt.t] = lt.k
			k.panel[vecDotTypes[lt.t]] = lt.pk
			if lt.dot != nil {
				k.vecDot[lt.t] = lt.dot
			}
			if f.avx512 && lt.t == ggml.TypeQ8_0 && lt.k.rows == 8 {
				// For one token, the 8-row Q8_0 tile streams the
				// weights faster than the 16-row AVX-512 one, whose
				// transposition of 16 rows of 32-byte blocks costs
				// more than it saves at one token
				// (BenchmarkMatVecTiles, 2 threads: 57-65 against
				// 48-52 GB/s, and 43-45 against 34-37 while other
				// tenants load the memory bus). The other types stream
				// faster with their AVX-512 tiles. Its one-token panel
				// is the same. The last one listed wins: AVX-VNNI if
				// there.
				k.vecTile[lt.t] = lt.k
			}
		}
	}
	for _, lt := range legacyPackedTiles(f) {
		if lt.ok {
			k.packed[lt.t] = packedKernel{tile: lt.k, pack: legacyPacker(lt.t), layout: layoutLegacy16}
		}
	}
	if f.avx512 {
		k.packed[ggml.TypeF16] = packedKernel{
			tile: tileKernel{asmFloatTile(tileF16AVX512P, 2), 4}, pack: floatPacker(2, 4), layout: layoutFloat4, cols: 16,
		}
		k.packed[ggml.TypeF32] = packedKernel{
			tile: tileKernel{asmFloatTile(tileF32AVX512P, 4), 4}, pack: floatPacker(4, 4), layout: layoutFloat4, cols: 16,
		}
	}
	useFloatAMD64(k, f)
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
		{"Q8_0/AVX2", ggml.TypeQ8_0, f.avx2, asmQuantize(quantizeQ8_0AVX2, qk, q8_0Bytes)},
		{"Q8_1/AVX2", ggml.TypeQ8_1, f.avx2, asmQuantize(quantizeQ8_1AVX2, qk, q8_1Bytes)},
		{"Q8_K/AVX2", ggml.TypeQ8_K, f.avx2, asmQuantize(quantizeQ8_KAVX2, qkK, q8_KBytes)},
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

//go:noescape
func quantizeQ8_0AVX2(dst *byte, x *float32, nb int)

//go:noescape
func quantizeQ8_1AVX2(dst *byte, x *float32, nb int)

//go:noescape
func quantizeQ8_KAVX2(dst *byte, x *float32, nb int)

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
func tileQ4_0AVX512P(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ4_1AVX512P(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_0AVX512P(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_1AVX512P(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ8_0AVX512P(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileIQ4_NLAVX512P(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileF16AVX512P(w *byte, ws, rows int, pan *byte, cols, nt int, out *float32, ldo int)

//go:noescape
func tileF32AVX512P(w *byte, ws, rows int, pan *byte, cols, nt int, out *float32, ldo int)

//go:noescape
func tileF16AVX512(w *byte, ws, rows int, pan *byte, cols, nt int, out *float32, ldo int)

//go:noescape
func tileF32AVX512(w *byte, ws, rows int, pan *byte, cols, nt int, out *float32, ldo int)

//go:noescape
func vecDotF16AVX512(n int, w, a *byte) float32

//go:noescape
func vecDotF32AVX512(n int, w, a *byte) float32

//go:noescape
func tileQ4_0AVX2(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ4_1AVX2(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_0AVX2(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_1AVX2(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ8_0AVX2(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileIQ4_NLAVX2(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ4_0AVXVNNI(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ4_1AVXVNNI(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_0AVXVNNI(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ5_1AVXVNNI(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileQ8_0AVXVNNI(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileIQ4_NLAVXVNNI(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func tileF16AVX2(w *byte, ws, rows int, pan *byte, cols, nt int, out *float32, ldo int)

//go:noescape
func tileF32AVX2(w *byte, ws, rows int, pan *byte, cols, nt int, out *float32, ldo int)

//go:noescape
func vecDotF16AVX2(n int, w, a *byte) float32

//go:noescape
func vecDotF32AVX2(n int, w, a *byte) float32
