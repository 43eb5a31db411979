//go:build !noasm

package cpu

import (
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"golang.org/x/sys/cpu"
)

// kqImpl is one SIMD dot-product kernel for a K-quant weight type against
// Q8_K activations, with whether this CPU can run it.
type kqImpl struct {
	name string
	t    ggml.Type
	ok   bool
	dot  vecDotFunc
	// no128 marks a kernel that is exact only for activation quants in
	// [-127, 127], which is all the Q8_K converter produces.
	no128 bool
}

// kqFeatures are the CPU features the K-quant kernels need.
type kqFeatures struct {
	avx2 bool // AVX2, FMA and F16C
	bmi2 bool
	// avx512 is AVX-512 F, BW and VL with VNNI (on top of avx2).
	avx512 bool
	vbmi   bool // AVX-512 VBMI (VPERMB)
	gfni   bool // GFNI with AVX-512 encodings
}

func kqDetect() kqFeatures {
	f16c := hasF16C()
	return kqFeatures{
		avx2: cpu.X86.HasAVX2 && cpu.X86.HasFMA && f16c,
		bmi2: cpu.X86.HasBMI2,
		avx512: cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL &&
			cpu.X86.HasAVX512VNNI,
		vbmi: cpu.X86.HasAVX512VBMI,
		gfni: cpu.X86.HasAVX512GFNI,
	}
}

// kqImpls lists the K-quant kernels, for each type from the least to the
// most capable, so that installing the supported ones in order leaves the
// best one in place.
func kqImpls(f kqFeatures) []kqImpl {
	return []kqImpl{
		{"Q4_K/AVX2", ggml.TypeQ4_K, f.avx2, vecDotQ4_KAVX2, false},
		{"Q6_K/AVX2", ggml.TypeQ6_K, f.avx2, vecDotQ6_KAVX2, false},
		{"Q5_K/AVX2", ggml.TypeQ5_K, f.avx2, vecDotQ5_KAVX2, false},
		{"Q3_K/AVX2", ggml.TypeQ3_K, f.avx2, vecDotQ3_KAVX2, false},
		{"Q2_K/AVX2", ggml.TypeQ2_K, f.avx2, vecDotQ2_KAVX2, false},
		{"Q4_K/AVX512", ggml.TypeQ4_K, f.avx2 && f.avx512, vecDotQ4_KAVX512, false},
		{"Q6_K/AVX512", ggml.TypeQ6_K, f.avx2 && f.avx512, vecDotQ6_KAVX512, false},
		{"IQ4_XS/AVX2", ggml.TypeIQ4_XS, f.avx2 && f.bmi2, vecDotIQ4_XSAVX2, true},
	}
}

// The most tokens the AVX-512 and the AVX2 tile kernels take in one call.
// The Q8_K panels (the converted rows themselves) come in groups of the
// smallest maximum among the installed tile kernels. The AVX-512 Q4_K and
// Q5_K kernels take kqTileTokens tokens at once; the other AVX-512 ones
// take kqTileTokensAsm, and their wrapper calls them once per such group.
const (
	kqTileTokens    = 16
	kqTileTokensAsm = 8
	kqTileTokens2   = 4
)

// kqTileRows is the multiple of rows MatMul hands the K-quant tile
// kernels (they take any number): MatMul's units of work are tileGroups
// such groups, and each unit streams its tokens' activations once for all
// its rows, so the more rows, the less activation traffic per row.
const kqTileRows = 8

// kqTileMaxBlocks is the most blocks per row that the AVX-512 Q6_K tile
// kernel, with a scale table for the whole row in its frame, takes; longer
// rows go through the vecDot kernel.
const kqTileMaxBlocks = 256

// kqTile is one tile kernel, with whether this CPU can run it.
type kqTile struct {
	name   string
	t      ggml.Type
	ok     bool
	k      tileKernel
	tokens int // the most tokens per call
}

// kqTiles lists the K-quant tile kernels, least capable first. All the
// K-quant kernels sum each block exactly and combine the blocks in the same
// float32 order, so a tile kernel computes what every vecDot kernel of its
// type computes; a single token goes through the given vecDot kernel.
func kqTiles(f kqFeatures) []kqTile {
	avx512 := f.avx2 && f.avx512
	t2 := func(fn kqTileAsm, dot func(nb int, x, y *byte) float32, bb int) tileKernel {
		return kqTileKernel(fn, kqDotMatVec(dot), bb, kqTileTokens2, kqTileTokens2, 0)
	}
	t8 := func(fn kqTileAsm, dot func(nb int, x, y *byte) float32, bb int) tileKernel {
		return kqTileKernel(fn, kqDotMatVec(dot), bb, kqTileTokens, kqTileTokensAsm, 0)
	}
	return []kqTile{
		{"Q4_K/AVX2", ggml.TypeQ4_K, f.avx2, t2(kqTileQ4KAVX2, kqDotQ4KAVX2, q4_KBytes), kqTileTokens2},
		{"Q6_K/AVX2", ggml.TypeQ6_K, f.avx2, t2(kqTileQ6KAVX2, kqDotQ6KAVX2, q6_KBytes), kqTileTokens2},
		{"Q5_K/AVX2", ggml.TypeQ5_K, f.avx2, t2(kqTileQ5KAVX2, kqDotQ5KAVX2, q5_KBytes), kqTileTokens2},
		{"Q4_K/AVX512", ggml.TypeQ4_K, avx512, kqTileKernel(kqTileQ4KAVX512, kqRows4(kqRows4Q4KAVX512, kqRowsQ4KAVX512, kqRows4MaxQ4K), q4_KBytes, kqTileTokens, kqTileTokens, 0), kqTileTokens},
		{"Q6_K/AVX512", ggml.TypeQ6_K, avx512, kqTileKernel(kqTileQ6KAVX512, kqRows4(kqRows4Q6KAVX512, kqRowsQ6KAVX512, kqRows4MaxQ6K), q6_KBytes, kqTileTokens, kqTileTokensAsm, kqTileMaxBlocks), kqTileTokens},
		{"Q5_K/AVX512", ggml.TypeQ5_K, avx512, kqTileKernel(kqTileQ5KAVX512, kqDotMatVec(kqDotQ5KAVX2), q5_KBytes, kqTileTokens, kqTileTokens, 0), kqTileTokens},
		{"Q3_K/AVX512", ggml.TypeQ3_K, avx512, t8(kqTileQ3KAVX512, kqDotQ3KAVX2, q3_KBytes), kqTileTokens},
		{"Q2_K/AVX512", ggml.TypeQ2_K, avx512, t8(kqTileQ2KAVX512, kqDotQ2KAVX2, q2_KBytes), kqTileTokens},
		{"IQ4_XS/AVX512", ggml.TypeIQ4_XS, avx512 && f.bmi2, t8(kqTileIQ4XSAVX512, kqDotIQ4XSAVX2, iq4xsBytes), kqTileTokens},
	}
}

// kqMatVec is a single token's matrix-vector product: out[r] is the vecDot
// of weight row r (rows rows from w, ws bytes apart, nb blocks each) with
// the Q8_K row y. Its callers have checked the bounds.
type kqMatVec func(nb int, w []byte, ws, rows int, y []byte, out []float32)

// kqDotMatVec makes a kqMatVec of a vecDot kernel, called once per row.
func kqDotMatVec(dot func(nb int, x, y *byte) float32) kqMatVec {
	return func(nb int, w []byte, ws, rows int, y []byte, out []float32) {
		for r := 0; r < rows; r++ {
			out[r] = dot(nb, &w[r*ws], &y[0])
		}
	}
}

// kqTileAsm is the signature of the assembly tile kernels: rows weight rows
// from w (ws bytes apart) times nt Q8_K rows of nb blocks from pan
// (contiguous), into out[t*ldo+r].
type kqTileAsm func(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

// kqTileKernel wraps an assembly tile kernel for weights of bb bytes per
// block, checking the bounds the assembly relies on. It takes at most
// maxTokens tokens and calls fn with at most asmTokens at a time. A single
// token, or rows of more than maxBlocks blocks (if maxBlocks > 0), go
// through mv, which computes the same one token at a time.
func kqTileKernel(fn kqTileAsm, mv kqMatVec, bb, maxTokens, asmTokens, maxBlocks int) tileKernel {
	return tileKernel{rows: kqTileRows, fn: func(w []byte, wStride, rows int, panel []byte, nt, cols int, out []float32, ldo int) {
		nb, ok := kqTileArgs(w, wStride, rows, panel, nt, cols, out, ldo, bb, maxTokens)
		if !ok {
			return
		}
		token := func(t int) { mv(nb, w, wStride, rows, panel[t*nb*q8_KBytes:], out[t*ldo:]) }
		if nt == 1 || maxBlocks > 0 && nb > maxBlocks {
			for t := 0; t < nt; t++ {
				token(t)
			}
			return
		}
		for t0 := 0; t0 < nt; t0 += asmTokens {
			if n := min(asmTokens, nt-t0); n > 1 {
				fn(&w[0], wStride, rows, &panel[t0*nb*q8_KBytes], nb, n, &out[t0*ldo], ldo)
			} else {
				token(t0)
			}
		}
	}}
}

// kqTileArgs checks the bounds the K-quant assembly kernels rely on, for
// a call of a tileKernel on weights of bb bytes a block taking at most
// maxTokens tokens, and returns the blocks per row. It returns false when
// no kernel need run: no rows or tokens, or rows of no blocks (whose
// outputs it clears).
func kqTileArgs(w []byte, wStride, rows int, panel []byte, nt, cols int, out []float32, ldo, bb, maxTokens int) (nb int, ok bool) {
	nb = cols / qkK
	if rows <= 0 || nt <= 0 {
		return nb, false
	}
	if nt > maxTokens {
		panic("cpu: K-quant tile kernel: too many tokens")
	}
	if nb == 0 {
		for t := 0; t < nt; t++ {
			clear(out[t*ldo : t*ldo+rows])
		}
		return nb, false
	}
	_ = w[(rows-1)*wStride+nb*bb-1]
	_ = panel[nt*nb*q8_KBytes-1]
	_ = out[(nt-1)*ldo+rows-1]
	return nb, true
}

// useKQuantsAMD64 installs the amd64 kernels for the K-quant types (Q2_K to
// Q6_K, IQ4_XS) against Q8_K activations that this CPU supports.
func useKQuantsAMD64(k *kernelSet) { useKQuants(k, kqDetect()) }

// useKQuants installs the K-quant kernels that need no more than f.
func useKQuants(k *kernelSet, f kqFeatures) {
	for _, im := range kqImpls(f) {
		if im.ok {
			k.vecDot[im.t] = im.dot
		}
	}
	var tokens [maxType]int
	for _, kt := range kqTiles(f) {
		if kt.ok {
			k.tile[kt.t] = kt.k
			tokens[kt.t] = kt.tokens
		}
	}
	pt := 0
	for _, n := range tokens {
		if n > 0 && (pt == 0 || n < pt) {
			pt = n
		}
	}
	if pt > 0 {
		// The converted Q8_K rows are the panels.
		k.panel[ggml.TypeQ8_K] = panelKind{tokens: pt}
	}
	useKQuantsPacked(k, f)
}

//go:noescape
func kqDotQ4KAVX2(nb int, x, y *byte) float32

//go:noescape
func kqDotQ5KAVX2(nb int, x, y *byte) float32

//go:noescape
func kqDotQ3KAVX2(nb int, x, y *byte) float32

//go:noescape
func kqDotQ2KAVX2(nb int, x, y *byte) float32

//go:noescape
func kqDotIQ4XSAVX2(nb int, x, y *byte) float32

// kqDotQ4KAVX512 is the AVX-512 Q4_K vecDot: kqRowsQ4KAVX512 for one row.
func kqDotQ4KAVX512(nb int, x, y *byte) float32 {
	var r float32
	kqRowsQ4KAVX512(nb, x, 0, 1, y, &r)
	return r
}

// kqDotQ6KAVX512 is the AVX-512 Q6_K vecDot: kqRowsQ6KAVX512 for one row.
func kqDotQ6KAVX512(nb int, x, y *byte) float32 {
	var r float32
	kqRowsQ6KAVX512(nb, x, 0, 1, y, &r)
	return r
}

//go:noescape
func kqRowsQ4KAVX512(nb int, w *byte, ws, rows int, y *byte, out *float32)

//go:noescape
func kqRows4Q4KAVX512(nb int, w *byte, ws, rows int, y *byte, out *float32)

// kqRows4 makes a kqMatVec of an assembly kernel for groups of four rows
// and one for single rows (both give the vecDot results bit for bit): the
// groups of four go through four, when rows have at most maxBlocks blocks,
// and the rest through one.
//
// The four-row kernels prefetch the next group as one stream, since the
// hardware prefetchers do not follow four rows read side by side. With
// long rows the group is far ahead of its use and the prefetched lines
// are evicted first: the Q6_K one was slower than the single-row kernel
// on a 5632-column matrix (and faster on 2048 columns); the Q4_K one was
// not, its blocks being smaller.
func kqRows4(four, one func(nb int, w *byte, ws, rows int, y *byte, out *float32), maxBlocks int) kqMatVec {
	return func(nb int, w []byte, ws, rows int, y []byte, out []float32) {
		r4 := rows &^ 3
		if nb > maxBlocks {
			r4 = 0
		}
		if r4 > 0 {
			four(nb, &w[0], ws, r4, &y[0], &out[0])
		}
		if rows > r4 {
			one(nb, &w[r4*ws], ws, rows-r4, &y[0], &out[r4])
		}
	}
}

// The longest rows, in blocks, that go through the four-row kernels.
const (
	kqRows4MaxQ4K = math.MaxInt
	kqRows4MaxQ6K = 8
)

//go:noescape
func kqRowsQ6KAVX512(nb int, w *byte, ws, rows int, y *byte, out *float32)

//go:noescape
func kqRows4Q6KAVX512(nb int, w *byte, ws, rows int, y *byte, out *float32)

//go:noescape
func kqTileQ4KAVX2(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func kqTileQ5KAVX2(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func kqTileQ6KAVX2(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func kqTileQ4KAVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func kqTileQ6KAVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func kqTileQ5KAVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func kqTileQ3KAVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func kqTileQ2KAVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func kqTileIQ4XSAVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)

//go:noescape
func kqDotQ6KAVX2(nb int, x, y *byte) float32

// kqBlocks returns the number of 256-element blocks in n and panics, as the
// generic kernels do, if w or a is shorter than nb blocks of wb and Q8_K
// bytes.
func kqBlocks(n int, w, a []byte, wb int) int {
	nb := n / qkK
	_ = w[:nb*wb]
	_ = a[:nb*q8_KBytes]
	return nb
}

func vecDotQ4_KAVX2(n int, w, a []byte) float32 {
	nb := kqBlocks(n, w, a, q4_KBytes)
	if nb == 0 {
		return 0
	}
	return kqDotQ4KAVX2(nb, &w[0], &a[0])
}

func vecDotQ6_KAVX2(n int, w, a []byte) float32 {
	nb := kqBlocks(n, w, a, q6_KBytes)
	if nb == 0 {
		return 0
	}
	return kqDotQ6KAVX2(nb, &w[0], &a[0])
}

func vecDotQ5_KAVX2(n int, w, a []byte) float32 {
	nb := kqBlocks(n, w, a, q5_KBytes)
	if nb == 0 {
		return 0
	}
	return kqDotQ5KAVX2(nb, &w[0], &a[0])
}

func vecDotQ3_KAVX2(n int, w, a []byte) float32 {
	nb := kqBlocks(n, w, a, q3_KBytes)
	if nb == 0 {
		return 0
	}
	return kqDotQ3KAVX2(nb, &w[0], &a[0])
}

func vecDotQ2_KAVX2(n int, w, a []byte) float32 {
	nb := kqBlocks(n, w, a, q2_KBytes)
	if nb == 0 {
		return 0
	}
	return kqDotQ2KAVX2(nb, &w[0], &a[0])
}

func vecDotIQ4_XSAVX2(n int, w, a []byte) float32 {
	nb := kqBlocks(n, w, a, iq4xsBytes)
	if nb == 0 {
		return 0
	}
	return kqDotIQ4XSAVX2(nb, &w[0], &a[0])
}

func vecDotQ4_KAVX512(n int, w, a []byte) float32 {
	nb := kqBlocks(n, w, a, q4_KBytes)
	if nb == 0 {
		return 0
	}
	return kqDotQ4KAVX512(nb, &w[0], &a[0])
}

func vecDotQ6_KAVX512(n int, w, a []byte) float32 {
	nb := kqBlocks(n, w, a, q6_KBytes)
	if nb == 0 {
		return 0
	}
	return kqDotQ6KAVX512(nb, &w[0], &a[0])
}
