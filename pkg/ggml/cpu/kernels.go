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

// kernelSet is the dispatch table: one entry per type, generic Go by default
// and replaced by SIMD versions where the CPU supports them.
type kernelSet struct {
	vecDot   [maxType]vecDotFunc  // by weight type
	convert  [maxType]convertFunc // by vec_dot type
	dotF32   func(a, b []float32) float32
	sumSqF32 func(x []float32) float64
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
	k := genericKernelSet()
	useArchKernels(k)
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
