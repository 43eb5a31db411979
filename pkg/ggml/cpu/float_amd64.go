//go:build !noasm

package cpu

import "github.com/llamafile-go/llamafile/pkg/ggml"

// floatRowKernels are the amd64 float row kernels of one level: binary16
// conversions, the float32 dot product, the sum of squares, AddScaled and
// the F16 activation converter.
type floatRowKernels struct {
	f16ToF32  func(dst []float32, src []byte)
	f32ToF16  func(dst []byte, src []float32)
	roundF16  convertFunc
	dotF32    func(a, b []float32) float32
	sumSqF32  func(x []float32) float64
	addScaled func(dst, x []float32, s float32)
}

// useFloatAMD64 installs the best float row kernels that need no more
// than f.
func useFloatAMD64(k *kernelSet, f legacyFeatures) {
	var fk floatRowKernels
	switch {
	case f.avx512:
		fk = floatAVX512()
	case f.avx2:
		fk = floatAVX2()
	default:
		return
	}
	k.f16ToF32 = fk.f16ToF32
	k.f32ToF16 = fk.f32ToF16
	k.convert[ggml.TypeF16] = fk.roundF16
	k.dotF32 = fk.dotF32
	k.sumSqF32 = fk.sumSqF32
	k.addScaled = fk.addScaled
}

func floatAVX512() floatRowKernels {
	return floatRowKernels{
		f16ToF32: func(dst []float32, src []byte) {
			if len(dst) > 0 {
				_ = src[2*len(dst)-1]
				fp16ToFP32AVX512(&dst[0], &src[0], len(dst))
			}
		},
		f32ToF16: func(dst []byte, src []float32) {
			if len(src) > 0 {
				_ = dst[2*len(src)-1]
				fp32ToFP16AVX512(&dst[0], &src[0], len(src))
			}
		},
		roundF16: func(dst []byte, x []float32) {
			if len(x) > 0 {
				_ = dst[4*len(x)-1]
				roundF16AVX512(&dst[0], &x[0], len(x))
			}
		},
		dotF32: func(a, b []float32) float32 {
			if len(a) == 0 {
				return 0
			}
			_ = b[len(a)-1]
			return dotF32AVX512(&a[0], &b[0], len(a))
		},
		sumSqF32: func(x []float32) float64 {
			if len(x) == 0 {
				return 0
			}
			return sumSqF32AVX512(&x[0], len(x))
		},
		addScaled: func(dst, x []float32, s float32) {
			if len(x) > 0 {
				_ = dst[len(x)-1]
				addScaledAVX512(&dst[0], &x[0], len(x), s)
			}
		},
	}
}

// floatAVX2 returns the AVX2 (FMA, F16C) row kernels. The conversions
// leave the elements past the last whole step of 8 to the generic ones,
// which give the same results.
func floatAVX2() floatRowKernels {
	return floatRowKernels{
		f16ToF32: func(dst []float32, src []byte) {
			n := len(dst) &^ 7
			if n > 0 {
				_ = src[2*n-1]
				fp16ToFP32AVX2(&dst[0], &src[0], n)
			}
			fp16ToFP32Generic(dst[n:], src[2*n:])
		},
		f32ToF16: func(dst []byte, src []float32) {
			n := len(src) &^ 7
			if n > 0 {
				_ = dst[2*n-1]
				fp32ToFP16AVX2(&dst[0], &src[0], n)
			}
			convertF16BytesGeneric(dst[2*n:], src[n:])
		},
		roundF16: func(dst []byte, x []float32) {
			n := len(x) &^ 7
			if n > 0 {
				_ = dst[4*n-1]
				roundF16AVX2(&dst[0], &x[0], n)
			}
			convertF16Generic(dst[4*n:], x[n:])
		},
		dotF32: func(a, b []float32) float32 {
			if len(a) == 0 {
				return 0
			}
			_ = b[len(a)-1]
			return dotF32AVX2(&a[0], &b[0], len(a))
		},
		sumSqF32: func(x []float32) float64 {
			if len(x) == 0 {
				return 0
			}
			return sumSqF32AVX2(&x[0], len(x))
		},
		addScaled: func(dst, x []float32, s float32) {
			if len(x) > 0 {
				_ = dst[len(x)-1]
				addScaledAVX2(&dst[0], &x[0], len(x), s)
			}
		},
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

//go:noescape
func fp16ToFP32AVX2(dst *float32, src *byte, n int)

//go:noescape
func fp32ToFP16AVX2(dst *byte, src *float32, n int)

//go:noescape
func roundF16AVX2(dst *byte, src *float32, n int)

//go:noescape
func dotF32AVX2(a, b *float32, n int) float32

//go:noescape
func sumSqF32AVX2(x *float32, n int) float64

//go:noescape
func addScaledAVX2(dst, x *float32, n int, s float32)
