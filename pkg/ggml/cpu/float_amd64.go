//go:build !noasm

package cpu

import "github.com/llamafile-go/llamafile/pkg/ggml"

// useFloatAMD64 installs the AVX-512 float row kernels: binary16
// conversions, the float32 dot product, the sum of squares, AddScaled and
// the F16 activation converter.
func useFloatAMD64(k *kernelSet, f legacyFeatures) {
	if !f.avx512 {
		return
	}
	k.f16ToF32 = func(dst []float32, src []byte) {
		if len(dst) > 0 {
			_ = src[2*len(dst)-1]
			fp16ToFP32AVX512(&dst[0], &src[0], len(dst))
		}
	}
	k.f32ToF16 = func(dst []byte, src []float32) {
		if len(src) > 0 {
			_ = dst[2*len(src)-1]
			fp32ToFP16AVX512(&dst[0], &src[0], len(src))
		}
	}
	k.convert[ggml.TypeF16] = func(dst []byte, x []float32) {
		if len(x) > 0 {
			_ = dst[4*len(x)-1]
			roundF16AVX512(&dst[0], &x[0], len(x))
		}
	}
	k.dotF32 = func(a, b []float32) float32 {
		if len(a) == 0 {
			return 0
		}
		_ = b[len(a)-1]
		return dotF32AVX512(&a[0], &b[0], len(a))
	}
	k.sumSqF32 = func(x []float32) float64 {
		if len(x) == 0 {
			return 0
		}
		return sumSqF32AVX512(&x[0], len(x))
	}
	k.addScaled = func(dst, x []float32, s float32) {
		if len(x) > 0 {
			_ = dst[len(x)-1]
			addScaledAVX512(&dst[0], &x[0], len(x), s)
		}
	}
}

//go:noescape
func fp16ToFP32AVX512(dst *float32, src *byte, n int)

//go:noescape
func fp32ToFP16AVX512(dst *byte, src *float32, n int)

//go:noescape
func roundF16AVX512(dst *byte, src *float32, n int)

//go:noescape
func dotF32AVX512(a, b *float32, n int) float32

//go:noescape
func sumSqF32AVX512(x *float32, n int) float64

//go:noescape
func addScaledAVX512(dst, x *float32, n int, s float32)
