//go:build !noasm

package cpu

import (
	"unsafe"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"golang.org/x/sys/cpu"
)

// neonFeatures are the arm64 SIMD extensions the NEON kernels use.
type neonFeatures struct {
	asimd   bool // Advanced SIMD (NEON), ARMv8.0
	dotProd bool // SDOT/UDOT (FEAT_DotProd, ARMv8.2 optional, ARMv8.4)
}

// detectNEON reads the CPU's features (see neonDotProdOS for systems where
// golang.org/x/sys/cpu cannot tell).
func detectNEON() neonFeatures {
	return neonFeatures{
		asimd:   cpu.ARM64.HasASIMD,
		dotProd: cpu.ARM64.HasASIMD && (cpu.ARM64.HasASIMDDP || neonDotProdOS()),
	}
}

// useNEON installs the arm64 NEON kernels the CPU supports.
func useNEON(k *kernelSet) {
	useNEONFeatures(k, detectNEON())
}

// useNEONFeatures installs the NEON kernels that need no more than f. Tests
// call it with subsets of the CPU's features to run every variant.
//
// Every quantized weight type gets a tile kernel (neon_tile_arm64.go), which
// MatMul uses for generation and prompts alike; the vecDot kernels below
// serve the rows left over at the end of a matrix. All of them give the
// generic kernels' results bit for bit (the generic kernels as the Go
// compiler builds them for arm64, with fused multiply-adds).
//
// The float kernels widen F16 to float32 (FCVTL, ARMv8.0 NEON) and multiply
// in float32: ggml's FP16-arithmetic path (FEAT_FP16) accumulates in half
// precision, far from the generic kernels' float32, so it is not used.
func useNEONFeatures(k *kernelSet, f neonFeatures) {
	if !f.asimd {
		return
	}
	k.dotF32 = dotF32NEON
	useNEONConvert(k)
	k.vecDot[ggml.TypeF32] = vecDotF32NEON
	k.vecDot[ggml.TypeF16] = vecDotF16NEON
	if f.dotProd {
		k.vecDot[ggml.TypeQ8_0] = vecDotQ8_0SDOT
		k.vecDot[ggml.TypeQ4_0] = vecDotQ4_0SDOT
		k.vecDot[ggml.TypeIQ4_NL] = vecDotIQ4_NLSDOT
		k.vecDot[ggml.TypeQ4_K] = vecDotQ4_KSDOT
		k.vecDot[ggml.TypeQ5_K] = vecDotQ5_KSDOT
		k.vecDot[ggml.TypeQ6_K] = vecDotQ6_KSDOT
	} else {
		k.vecDot[ggml.TypeQ8_0] = vecDotQ8_0NEON
		k.vecDot[ggml.TypeQ4_0] = vecDotQ4_0NEON
		k.vecDot[ggml.TypeIQ4_NL] = vecDotIQ4_NLNEON
		k.vecDot[ggml.TypeQ4_K] = vecDotQ4_KNEON
		k.vecDot[ggml.TypeQ5_K] = vecDotQ5_KNEON
		k.vecDot[ggml.TypeQ6_K] = vecDotQ6_KNEON
	}
	useNEONTiles(k, f)
}

// The assembly kernels take raw pointers; the Go wrappers below check the
// slice lengths first (by slicing), so the kernels never read out of bounds.

//go:noescape
func dotF32Asm(n int, x, y *byte) float32 // n a positive multiple of 64

//go:noescape
func dotF16Asm(n int, w, a *byte) float32 // n a positive multiple of 64

//go:noescape
func dotQ8_0SDOTAsm(nb int, w, a *byte) float32

//go:noescape
func dotQ8_0NEONAsm(nb int, w, a *byte) float32

//go:noescape
func dotQ4_0SDOTAsm(nb int, w, a *byte) float32

//go:noescape
func dotQ4_0NEONAsm(nb int, w, a *byte) float32

//go:noescape
func dotIQ4_NLSDOTAsm(nb int, w, a *byte) float32

//go:noescape
func dotIQ4_NLNEONAsm(nb int, w, a *byte) float32

//go:noescape
func dotQ4_KSDOTAsm(nb int, w, a *byte) float32

//go:noescape
func dotQ4_KNEONAsm(nb int, w, a *byte) float32

//go:noescape
func dotQ5_KSDOTAsm(nb int, w, a *byte) float32

//go:noescape
func dotQ5_KNEONAsm(nb int, w, a *byte) float32

//go:noescape
func dotQ6_KSDOTAsm(nb int, w, a *byte) float32

//go:noescape
func dotQ6_KNEONAsm(nb int, w, a *byte) float32

// The float kernels give the generic kernels' results bit for bit: the
// assembly sums whole groups of 64 elements in the same lanes and order,
// and the tail is added here as the generic kernels add it.

func dotF32NEON(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	n64 := n &^ 63
	var sum float32
	if n64 > 0 {
		sum = dotF32Asm(n64, (*byte)(unsafe.Pointer(&a[0])), (*byte)(unsafe.Pointer(&b[0])))
	}
	for i := n64; i < n; i++ {
		sum += float32(a[i] * b[i])
	}
	return sum
}

func vecDotF32NEON(n int, w, a []byte) float32 {
	w, a = w[:4*n], a[:4*n]
	n64 := n &^ 63
	var sum float32
	if n64 > 0 {
		sum = dotF32Asm(n64, &w[0], &a[0])
	}
	for i := n64; i < n; i++ {
		sum += float32(f32At(w[4*i:]) * f32At(a[4*i:]))
	}
	return sum
}

// vecDotF16NEON: F16 weights, activations as F16-rounded float32; the tail
// is added in float64 as in the generic kernel.
func vecDotF16NEON(n int, w, a []byte) float32 {
	w, a = w[:2*n], a[:4*n]
	n64 := n &^ 63
	var sum float64
	if n64 > 0 {
		sum = float64(dotF16Asm(n64, &w[0], &a[0]))
	}
	for i := n64; i < n; i++ {
		sum += float64(halfAt(w[2*i:]) * f32At(a[4*i:]))
	}
	return float32(sum)
}

func vecDotQ8_0SDOT(n int, w, a []byte) float32 {
	nb := n / qk
	if nb <= 0 {
		return 0
	}
	w, a = w[:nb*q8_0Bytes], a[:nb*q8_0Bytes]
	return dotQ8_0SDOTAsm(nb, &w[0], &a[0])
}

func vecDotQ8_0NEON(n int, w, a []byte) float32 {
	nb := n / qk
	if nb <= 0 {
		return 0
	}
	w, a = w[:nb*q8_0Bytes], a[:nb*q8_0Bytes]
	return dotQ8_0NEONAsm(nb, &w[0], &a[0])
}

func vecDotQ4_0SDOT(n int, w, a []byte) float32 {
	nb := n / qk
	if nb <= 0 {
		return 0
	}
	w, a = w[:nb*q4_0Bytes], a[:nb*q8_0Bytes]
	return dotQ4_0SDOTAsm(nb, &w[0], &a[0])
}

func vecDotQ4_0NEON(n int, w, a []byte) float32 {
	nb := n / qk
	if nb <= 0 {
		return 0
	}
	w, a = w[:nb*q4_0Bytes], a[:nb*q8_0Bytes]
	return dotQ4_0NEONAsm(nb, &w[0], &a[0])
}

func vecDotQ4_KSDOT(n int, w, a []byte) float32 {
	nb := n / qkK
	if nb <= 0 {
		return 0
	}
	w, a = w[:nb*q4_KBytes], a[:nb*q8_KBytes]
	return dotQ4_KSDOTAsm(nb, &w[0], &a[0])
}

func vecDotQ4_KNEON(n int, w, a []byte) float32 {
	nb := n / qkK
	if nb <= 0 {
		return 0
	}
	w, a = w[:nb*q4_KBytes], a[:nb*q8_KBytes]
	return dotQ4_KNEONAsm(nb, &w[0], &a[0])
}

func vecDotQ6_KSDOT(n int, w, a []byte) float32 {
	nb := n / qkK
	if nb <= 0 {
		return 0
	}
	w, a = w[:nb*q6_KBytes], a[:nb*q8_KBytes]
	return dotQ6_KSDOTAsm(nb, &w[0], &a[0])
}

func vecDotQ6_KNEON(n int, w, a []byte) float32 {
	nb := n / qkK
	if nb <= 0 {
		return 0
	}
	w, a = w[:nb*q6_KBytes], a[:nb*q8_KBytes]
	return dotQ6_KNEONAsm(nb, &w[0], &a[0])
}

func vecDotQ5_KSDOT(n int, w, a []byte) float32 {
	nb := n / qkK
	if nb <= 0 {
		return 0
	}
	w, a = w[:nb*q5_KBytes], a[:nb*q8_KBytes]
	return dotQ5_KSDOTAsm(nb, &w[0], &a[0])
}

func vecDotQ5_KNEON(n int, w, a []byte) float32 {
	nb := n / qkK
	if nb <= 0 {
		return 0
	}
	w, a = w[:nb*q5_KBytes], a[:nb*q8_KBytes]
	return dotQ5_KNEONAsm(nb, &w[0], &a[0])
}

func vecDotIQ4_NLSDOT(n int, w, a []byte) float32 {
	nb := n / qk
	if nb <= 0 {
		return 0
	}
	w, a = w[:nb*iq4nlBytes], a[:nb*q8_0Bytes]
	return dotIQ4_NLSDOTAsm(nb, &w[0], &a[0])
}

func vecDotIQ4_NLNEON(n int, w, a []byte) float32 {
	nb := n / qk
	if nb <= 0 {
		return 0
	}
	w, a = w[:nb*iq4nlBytes], a[:nb*q8_0Bytes]
	return dotIQ4_NLNEONAsm(nb, &w[0], &a[0])
}
