//go:build !noasm

package cpu

import (
	"encoding/binary"
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// useNEONConvert installs the NEON activation converters, sum of squares
// and BF16 dot product (ARMv8.0 NEON). The converters give the generic
// converters' bytes for finite inputs; the sum of squares adds in another
// order (within 1e-14 relative); the BF16 dot product gives the generic
// result bit for bit.
func useNEONConvert(k *kernelSet) {
	k.convert[ggml.TypeQ8_0] = quantizeQ8_0NEON
	k.convert[ggml.TypeQ8_1] = quantizeQ8_1NEON
	k.convert[ggml.TypeQ8_K] = quantizeQ8_KNEON
	k.sumSqF32 = sumSqF32NEON
	k.vecDot[ggml.TypeBF16] = vecDotBF16NEON
}

// quantizeQ8_0NEON is quantizeQ8_0Generic. The assembly stops at a block
// whose 127/amax overflows (amax below about 3.7e-37), which the generic
// code quantizes.
func quantizeQ8_0NEON(dst []byte, x []float32) {
	nb := len(x) / qk
	dst = dst[:nb*q8_0Bytes]
	for b := 0; b < nb; {
		b += quantizeQ8_0NEONAsm(&dst[b*q8_0Bytes], &x[b*qk], nb-b)
		if b < nb {
			quantizeQ8_0Generic(dst[b*q8_0Bytes:(b+1)*q8_0Bytes], x[b*qk:(b+1)*qk])
			b++
		}
	}
}

// quantizeQ8_1NEON is quantizeQ8_1Generic, as quantizeQ8_0NEON.
func quantizeQ8_1NEON(dst []byte, x []float32) {
	nb := len(x) / qk
	dst = dst[:nb*q8_1Bytes]
	for b := 0; b < nb; {
		b += quantizeQ8_1NEONAsm(&dst[b*q8_1Bytes], &x[b*qk], nb-b)
		if b < nb {
			quantizeQ8_1Generic(dst[b*q8_1Bytes:(b+1)*q8_1Bytes], x[b*qk:(b+1)*qk])
			b++
		}
	}
}

// quantizeQ8_KNEON is quantizeQ8_KGeneric: the value of largest magnitude
// comes from the block's largest and smallest values (the first of the
// two magnitudes if they tie, found by a scan), the quants and sums from
// the assembly.
func quantizeQ8_KNEON(dst []byte, x []float32) {
	nb := len(x) / qkK
	dst = dst[:nb*q8_KBytes]
	for b := 0; b < nb; b++ {
		v := x[b*qkK : (b+1)*qkK]
		y := dst[b*q8_KBytes : (b+1)*q8_KBytes]
		mx, mn := minMaxNEONAsm(&v[0])
		amx, amn := abs32(mx), abs32(mn)
		vmax := mx
		switch {
		case amn > amx:
			vmax = mn
		case amn == amx && mx != mn:
			for _, f := range v {
				if abs32(f) == amx {
					vmax = f
					break
				}
			}
		}
		if vmax == 0 {
			clear(y)
			continue
		}
		iscale := -127 / vmax
		if math.IsInf(float64(iscale), 0) || vmax != vmax {
			quantizeQ8_KGeneric(y, v)
			continue
		}
		quantizeQ8_KNEONAsm(&y[4], &v[0], iscale)
		binary.LittleEndian.PutUint32(y, math.Float32bits(1/iscale))
	}
}

func sumSqF32NEON(x []float32) float64 {
	n8 := len(x) &^ 7
	var s float64
	if n8 > 0 {
		s = sumSqNEONAsm(&x[0], n8)
	}
	for _, v := range x[n8:] {
		s += float64(v * v)
	}
	return s
}

// vecDotBF16NEON is vecDotBF16Generic: the assembly does the whole groups
// of 32, the tail is added here in float64.
func vecDotBF16NEON(n int, w, a []byte) float32 {
	w, a = w[:2*n], a[:2*n]
	n32 := n &^ 31
	var sum float64
	if n32 > 0 {
		sum = dotBF16NEONAsm(n32, &w[0], &a[0])
	}
	for i := n32; i < n; i++ {
		sum += float64(bf16ToFloat(le16(w[2*i:])) * bf16ToFloat(le16(a[2*i:])))
	}
	return float32(sum)
}

//go:noescape
func quantizeQ8_0NEONAsm(dst *byte, x *float32, nb int) int

//go:noescape
func quantizeQ8_1NEONAsm(dst *byte, x *float32, nb int) int

//go:noescape
func minMaxNEONAsm(x *float32) (mx, mn float32)

//go:noescape
func quantizeQ8_KNEONAsm(y *byte, x *float32, iscale float32)

//go:noescape
func sumSqNEONAsm(x *float32, n int) float64

//go:noescape
func dotBF16NEONAsm(n int, w, a *byte) float64
