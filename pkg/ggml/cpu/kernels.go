package cpu

import "github.com/llamafile-go/llamafile/pkg/ggml"

// maxType bounds the ggml type ids the dispatch tables cover.
const maxType = 64

// vecDotFunc returns the dot product of n elements: one weight row w (in the
// weight type) and one activation row a (in the weight type's vec_dot
// type). n is a multiple of the weight type's block size; w and a hold at
// least the bytes of n elements.
type vecDotFunc func(n int, w, a []byte) float32

// convertFunc converts one row of float32 activations into dst, which holds
// exactly the row's bytes in the target type. len(x) is a multiple of the
// target type's block size.
type convertFunc func(dst []byte, x []float32)

// tileFunc is a multi-token tile kernel: it multiplies rows weight rows by
// nt activation rows packed into a panel, writing
//
//	out[t*ldo + r] = dot(weight row r, activation t)
//
// for r in [0, rows) and t in [0, nt). Weight row r starts at
// w[r*wStride:]; each row has cols elements. rows is a positive multiple of
// the kernel's tileKernel.rows, nt is in [1, panelKind.tokens] of the
// weight type's vec_dot type, and panel holds the nt tokens as the panel
// packer of that type lays them out (see panelFunc). Each result must equal
// (bit for bit, ideally) what the weight type's vecDot gives for the same
// row and activation, because MatMul computes rows that do not fill a
// group of tileKernel.rows with vecDot, and because results must not
// depend on how rows and tokens are split among threads.
//
// A tile kernel keeps its accumulators in registers and loads, unpacks
// (and, for the amd64 kernels, transposes) each weight block once for all
// nt tokens: with a batch of prompt tokens this turns the memory-bound
// matrix-vector product into a compute-bound one. It also serves nt == 1
// (generation), so a weight type with a tile kernel uses it for every
// MatMul.
//
// To add one for another weight type: install k.tile[type] (and, if its
// vec_dot type has no packer yet, k.panel[vec_dot type]) from the
// architecture's use* function.
type tileFunc func(w []byte, wStride, rows int, panel []byte, nt, cols int, out []float32, ldo int)

// tileKernel is a tile kernel and the row granularity it works in.
type tileKernel struct {
	fn   tileFunc
	rows int // rows per call are a multiple of this
}

// packedKernel is a tile kernel that reads weights rearranged by pack,
// which lays out each group of tile.rows rows so that the kernel streams
// through one contiguous range instead of tile.rows rows at once, with no
// transposing in the inner loop. A packed group occupies the bytes its
// rows did. Results equal those of the type's vecDot bit for bit.
type packedKernel struct {
	tile tileKernel
	// pack rearranges tile.rows rows of cols elements (row r at
	// src[r*rowBytes:]) into dst, which holds tile.rows*rowBytes bytes.
	pack   func(dst, src []byte, rowBytes, cols int)
	layout uint8 // identifies the layout; 0 means none
	cols   int   // if > 0, pack needs cols to be a multiple of it
}

// panelFunc packs nt activation rows of cols elements, already converted
// to a vec_dot type (row t at src[t*srcStride:]), into dst, which holds
// exactly nt*panelKind.tokenBytes(cols) bytes, in the layout the tile
// kernels of that vec_dot type read.
type panelFunc func(dst, src []byte, srcStride, nt, cols int)

// panelKind describes the panels of one vec_dot type. Activations are
// packed in groups of tokens rows; the last group may be smaller. A nil
// pack with tokens > 0 means the converted rows themselves are the panel
// (tokenBytes is then unused).
type panelKind struct {
	pack       panelFunc
	tokens     int                // tokens per group (the tile kernels' maximum nt)
	tokenBytes func(cols int) int // panel bytes per token
}

// kernelSet is the dispatch table: one entry per type, generic Go by default
// and replaced by SIMD versions where the CPU supports them.
type kernelSet struct {
	vecDot [maxType]vecDotFunc // by weight type
	tile   [maxType]tileKernel // by weight type; fn is nil where there is none
	// vecTile is, by weight type, a tile kernel for a single token
	// (generation) where another than tile streams the weights faster;
	// it reads the same one-token panel and gives the same results.
	vecTile  [maxType]tileKernel
	convert  [maxType]convertFunc  // by vec_dot type
	panel    [maxType]panelKind    // by vec_dot type; pack is nil where there is none
	packed   [maxType]packedKernel // by weight type; layout is 0 where there is none
	dotF32   func(a, b []float32) float32
	sumSqF32 func(x []float32) float64

	// Row operations behind the exported functions of ops.go; slices
	// have the lengths those functions check.
	f16ToF32  func(dst []float32, src []byte) // binary16 bytes to float32
	f32ToF16  func(dst []byte, src []float32) // float32 to binary16 bytes
	addScaled func(dst, x []float32, s float32)
}

// tileFor returns the tile kernel for n tokens of weight type t: vecTile
// for one token where there is one, else tile.
func (k *kernelSet) tileFor(t ggml.Type, n int) tileKernel {
	if n == 1 && k.vecTile[t].fn != nil {
		return k.vecTile[t]
	}
	return k.tile[t]
}

// vecDotTypes maps each supported weight type to the type its activations
// are converted to (ggml-cpu's type_traits_cpu[].vec_dot_type).
var vecDotTypes = [maxType]ggml.Type{
	ggml.TypeF32:    ggml.TypeF32,
	ggml.TypeF16:    ggml.TypeF16,
	ggml.TypeBF16:   ggml.TypeBF16,
	ggml.TypeQ4_0:   ggml.TypeQ8_0,
	ggml.TypeQ4_1:   ggml.TypeQ8_1,
	ggml.TypeQ5_0:   ggml.TypeQ8_0,
	ggml.TypeQ5_1:   ggml.TypeQ8_1,
	ggml.TypeQ8_0:   ggml.TypeQ8_0,
	ggml.TypeQ2_K:   ggml.TypeQ8_K,
	ggml.TypeQ3_K:   ggml.TypeQ8_K,
	ggml.TypeQ4_K:   ggml.TypeQ8_K,
	ggml.TypeQ5_K:   ggml.TypeQ8_K,
	ggml.TypeQ6_K:   ggml.TypeQ8_K,
	ggml.TypeIQ4_NL: ggml.TypeQ8_0,
	ggml.TypeIQ4_XS: ggml.TypeQ8_K,
}

// kern is the dispatch table in use, chosen once at start-up.
var kern = newKernelSet()

func newKernelSet() *kernelSet {
	k := baseKernelSet()
	useArchKernels(k)
	return k
}

// baseKernelSet is the complete generic kernel set, before the
// architecture's kernels replace entries.
func baseKernelSet() *kernelSet {
	k := genericKernelSet()
	k.f16ToF32 = fp16ToFP32Generic
	k.f32ToF16 = convertF16BytesGeneric
	k.addScaled = addScaledGeneric
	return k
}

// Supported reports whether t can be a weight type of a [Matrix].
func Supported(t ggml.Type) bool {
	return uint(t) < maxType && kern.vecDot[t] != nil
}

// VecDotType returns the type activations are converted to before they are
// multiplied with weights of type t, and false if t is not a supported
// weight type.
func VecDotType(t ggml.Type) (ggml.Type, bool) {
	if !Supported(t) {
		return 0, false
	}
	return vecDotTypes[t], true
}
