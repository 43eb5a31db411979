package cpu

import "github.com/llamafile-go/llamafile/pkg/ggml"

// Generic (portable Go) dot products of one weight row with one activation
// row in the weight type's vec_dot type. They are the fallback for CPUs
// without SIMD kernels and the oracle the SIMD kernels are tested against.

// Block sizes in bytes.
const (
	q4_0Bytes   = 18
	q4_1Bytes   = 20
	q5_0Bytes   = 22
	q5_1Bytes   = 24
	q8_0Bytes   = 34
	q8_1Bytes   = 36
	q2_KBytes   = 84
	q3_KBytes   = 110
	q4_KBytes   = 144
	q5_KBytes   = 176
	q6_KBytes   = 210
	q8_KBytes   = 292
	iq4nlBytes  = 18
	iq4xsBytes  = 136
	qk          = 32  // elements per block of the 32-element types
	qkK         = 256 // elements per super-block of the k-quants
	q8KBsumsOff = 4 + qkK
)

// iq4nlValues are the 16 non-linear levels of IQ4_NL and IQ4_XS.
var iq4nlValues = [16]int32{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

func genericKernelSet() *kernelSet {
	k := &kernelSet{}
	k.vecDot[ggml.TypeF32] = vecDotF32Generic
	k.vecDot[ggml.TypeF16] = vecDotF16Generic
	k.vecDot[ggml.TypeBF16] = vecDotBF16Generic
	k.vecDot[ggml.TypeQ4_0] = vecDotQ4_0Generic
	k.vecDot[ggml.TypeQ4_1] = vecDotQ4_1Generic
	k.vecDot[ggml.TypeQ5_0] = vecDotQ5_0Generic
	k.vecDot[ggml.TypeQ5_1] = vecDotQ5_1Generic
	k.vecDot[ggml.TypeQ8_0] = vecDotQ8_0Generic
	k.vecDot[ggml.TypeQ2_K] = vecDotQ2_KGeneric
	k.vecDot[ggml.TypeQ3_K] = vecDotQ3_KGeneric
	k.vecDot[ggml.TypeQ4_K] = vecDotQ4_KGeneric
	k.vecDot[ggml.TypeQ5_K] = vecDotQ5_KGeneric
	k.vecDot[ggml.TypeQ6_K] = vecDotQ6_KGeneric
	k.vecDot[ggml.TypeIQ4_NL] = vecDotIQ4_NLGeneric
	k.vecDot[ggml.TypeIQ4_XS] = vecDotIQ4_XSGeneric

	k.convert[ggml.TypeF32] = convertF32Generic
	k.convert[ggml.TypeF16] = convertF16Generic
	k.convert[ggml.TypeBF16] = convertBF16Generic
	k.convert[ggml.TypeQ8_0] = quantizeQ8_0Generic
	k.convert[ggml.TypeQ8_1] = quantizeQ8_1Generic
	k.convert[ggml.TypeQ8_K] = quantizeQ8_KGeneric

	k.dotF32 = dotF32Generic
	k.sumSqF32 = sumSqF32Generic
	return k
}

// Floating-point dot products follow the lane structure of ggml's AVX-512
// ggml_vec_dot_f32/f16: 64 float32 partial sums (four vectors of 16 lanes)
// over whole groups of 64 elements, reduced pairwise, then the tail added
// one element at a time.

// reduce64 sums the 64 partial sums in the order ggml's AVX-512 reduction
// does: vector 0 += vector 2, 1 += 3, 0 += 1, then the 16 lanes as a tree.
func reduce64(acc *[64]float32) float32 {
	var v [16]float32
	for l := 0; l < 16; l++ {
		v[l] = (acc[l] + acc[32+l]) + (acc[16+l] + acc[48+l])
	}
	for w := 8; w >= 1; w /= 2 {
		for l := 0; l < w; l++ {
			v[l] += v[l+w]
		}
	}
	return v[0]
}

// dotF32Generic is the dot product of two float32 slices of equal length.
func dotF32Generic(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	var acc [64]float32
	i := 0
	for ; i+64 <= n; i += 64 {
		x := (*[64]float32)(a[i : i+64])
		y := (*[64]float32)(b[i : i+64])
		for l := range acc {
			acc[l] += float32(x[l] * y[l])
		}
	}
	var sum float32
	if i > 0 {
		sum = reduce64(&acc)
	}
	for ; i < n; i++ {
		sum += float32(a[i] * b[i])
	}
	return sum
}

func vecDotF32Generic(n int, w, a []byte) float32 {
	w, a = w[:4*n], a[:4*n]
	var acc [64]float32
	i := 0
	for ; i+64 <= n; i += 64 {
		x := (*[256]byte)(w[4*i : 4*i+256])
		y := (*[256]byte)(a[4*i : 4*i+256])
		for l := range acc {
			acc[l] += float32(f32At(x[4*l:]) * f32At(y[4*l:]))
		}
	}
	var sum float32
	if i > 0 {
		sum = reduce64(&acc)
	}
	for ; i < n; i++ {
		sum += float32(f32At(w[4*i:]) * f32At(a[4*i:]))
	}
	return sum
}

// vecDotF16Generic multiplies F16 weights with activations rounded to F16
// and held as float32 (see actRowBytes). It accumulates in float32 lanes
// like ggml's AVX-512 F16 dot (which converts to float32 and uses FMA); the
// tail goes through float64 as in ggml (ggml_float).
func vecDotF16Generic(n int, w, a []byte) float32 {
	w, a = w[:2*n], a[:4*n]
	var acc [64]float32
	i := 0
	for ; i+64 <= n; i += 64 {
		x := (*[128]byte)(w[2*i : 2*i+128])
		y := (*[256]byte)(a[4*i : 4*i+256])
		for l := range acc {
			acc[l] += float32(halfAt(x[2*l:]) * f32At(y[4*l:]))
		}
	}
	var sum float64
	if i > 0 {
		sum = float64(reduce64(&acc))
	}
	for ; i < n; i++ {
		sum += float64(halfAt(w[2*i:]) * f32At(a[4*i:]))
	}
	return float32(sum)
}

// vecDotBF16Generic follows ggml's AVX-512F BF16 dot: two vectors of 16
// float32 lanes over groups of 32 elements, each reduced and added in
// float64, then the tail in float64.
func vecDotBF16Generic(n int, w, a []byte) float32 {
	w, a = w[:2*n], a[:2*n]
	var c1, c2 [16]float32
	i := 0
	for ; i+32 <= n; i += 32 {
		x := (*[64]byte)(w[2*i : 2*i+64])
		y := (*[64]byte)(a[2*i : 2*i+64])
		for l := 0; l < 16; l++ {
			c1[l] += float32(bf16ToFloat(le16(x[2*l:])) * bf16ToFloat(le16(y[2*l:])))
			c2[l] += float32(bf16ToFloat(le16(x[32+2*l:])) * bf16ToFloat(le16(y[32+2*l:])))
		}
	}
	var sum float64
	if i > 0 {
		sum = float64(reduce16(&c1)) + float64(reduce16(&c2))
	}
	for ; i < n; i++ {
		sum += float64(bf16ToFloat(le16(w[2*i:])) * bf16ToFloat(le16(a[2*i:])))
	}
	return float32(sum)
}

// reduce16 sums 16 lanes as a tree (halves added pairwise).
func reduce16(v *[16]float32) float32 {
	t := *v
	for w := 8; w >= 1; w /= 2 {
		for l := 0; l < w; l++ {
			t[l] += t[l+w]
		}
	}
	return t[0]
}

func vecDotQ4_0Generic(n int, w, a []byte) float32 {
	nb := n / qk
	w, a = w[:nb*q4_0Bytes], a[:nb*q8_0Bytes]
	var sum float32
	for i := 0; i < nb; i++ {
		x := (*[q4_0Bytes]byte)(w[i*q4_0Bytes:])
		y := (*[q8_0Bytes]byte)(a[i*q8_0Bytes:])
		var s int32
		for j := 0; j < 16; j++ {
			q := x[2+j]
			s += (int32(q&15)-8)*int32(int8(y[2+j])) + (int32(q>>4)-8)*int32(int8(y[18+j]))
		}
		sum += float32(s) * (halfAt(x[0:]) * halfAt(y[0:]))
	}
	return sum
}

func vecDotQ4_1Generic(n int, w, a []byte) float32 {
	nb := n / qk
	w, a = w[:nb*q4_1Bytes], a[:nb*q8_1Bytes]
	var sum, mins float32
	for i := 0; i < nb; i++ {
		x := (*[q4_1Bytes]byte)(w[i*q4_1Bytes:])
		y := (*[q8_1Bytes]byte)(a[i*q8_1Bytes:])
		var s int32
		for j := 0; j < 16; j++ {
			q := x[4+j]
			s += int32(q&15)*int32(int8(y[4+j])) + int32(q>>4)*int32(int8(y[20+j]))
		}
		mins += halfAt(x[2:]) * halfAt(y[2:])
		sum += float32(s) * (halfAt(x[0:]) * halfAt(y[0:]))
	}
	return sum + mins
}

func vecDotQ5_0Generic(n int, w, a []byte) float32 {
	nb := n / qk
	w, a = w[:nb*q5_0Bytes], a[:nb*q8_0Bytes]
	var sum float32
	for i := 0; i < nb; i++ {
		x := (*[q5_0Bytes]byte)(w[i*q5_0Bytes:])
		y := (*[q8_0Bytes]byte)(a[i*q8_0Bytes:])
		qh := le32(x[2:])
		var s int32
		for j := 0; j < 16; j++ {
			q := x[6+j]
			lo := int32(q&15|byte(qh>>j&1)<<4) - 16
			hi := int32(q>>4|byte(qh>>(j+16)&1)<<4) - 16
			s += lo*int32(int8(y[2+j])) + hi*int32(int8(y[18+j]))
		}
		sum += float32(s) * (halfAt(x[0:]) * halfAt(y[0:]))
	}
	return sum
}

func vecDotQ5_1Generic(n int, w, a []byte) float32 {
	nb := n / qk
	w, a = w[:nb*q5_1Bytes], a[:nb*q8_1Bytes]
	var sum, mins float32
	for i := 0; i < nb; i++ {
		x := (*[q5_1Bytes]byte)(w[i*q5_1Bytes:])
		y := (*[q8_1Bytes]byte)(a[i*q8_1Bytes:])
		qh := le32(x[4:])
		var s int32
		for j := 0; j < 16; j++ {
			q := x[8+j]
			lo := int32(q&15 | byte(qh>>j&1)<<4)
			hi := int32(q>>4 | byte(qh>>(j+16)&1)<<4)
			s += lo*int32(int8(y[4+j])) + hi*int32(int8(y[20+j]))
		}
		mins += halfAt(x[2:]) * halfAt(y[2:])
		sum += float32(s) * (halfAt(x[0:]) * halfAt(y[0:]))
	}
	return sum + mins
}

func vecDotQ8_0Generic(n int, w, a []byte) float32 {
	nb := n / qk
	w, a = w[:nb*q8_0Bytes], a[:nb*q8_0Bytes]
	var sum float32
	for i := 0; i < nb; i++ {
		x := (*[q8_0Bytes]byte)(w[i*q8_0Bytes:])
		y := (*[q8_0Bytes]byte)(a[i*q8_0Bytes:])
		// Four independent sums keep the adds from forming one long chain.
		var s0, s1, s2, s3 int32
		for j := 2; j < q8_0Bytes; j += 4 {
			s0 += int32(int8(x[j])) * int32(int8(y[j]))
			s1 += int32(int8(x[j+1])) * int32(int8(y[j+1]))
			s2 += int32(int8(x[j+2])) * int32(int8(y[j+2]))
			s3 += int32(int8(x[j+3])) * int32(int8(y[j+3]))
		}
		sum += float32((s0+s1)+(s2+s3)) * (halfAt(x[0:]) * halfAt(y[0:]))
	}
	return sum
}

func vecDotIQ4_NLGeneric(n int, w, a []byte) float32 {
	nb := n / qk
	w, a = w[:nb*iq4nlBytes], a[:nb*q8_0Bytes]
	var sum float32
	for i := 0; i < nb; i++ {
		x := (*[iq4nlBytes]byte)(w[i*iq4nlBytes:])
		y := (*[q8_0Bytes]byte)(a[i*q8_0Bytes:])
		var s int32
		for j := 0; j < 16; j++ {
			q := x[2+j]
			s += iq4nlValues[q&15]*int32(int8(y[2+j])) + iq4nlValues[q>>4]*int32(int8(y[18+j]))
		}
		sum += float32(s) * (halfAt(x[0:]) * halfAt(y[0:]))
	}
	return sum
}

// q8K returns the parts of a Q8_K block: scale, 256 quants, 16 group sums.
func q8K(b []byte) (d float32, qs *[qkK]byte, bsums *[32]byte) {
	y := (*[q8_KBytes]byte)(b)
	return f32At(y[0:]), (*[qkK]byte)(y[4 : 4+qkK]), (*[32]byte)(y[q8KBsumsOff:])
}

func bsum(b *[32]byte, g int) int32 { return int32(int16(le16(b[2*g:]))) }

func vecDotQ2_KGeneric(n int, w, a []byte) float32 {
	nb := n / qkK
	w, a = w[:nb*q2_KBytes], a[:nb*q8_KBytes]
	var sum float32
	for i := 0; i < nb; i++ {
		x := (*[q2_KBytes]byte)(w[i*q2_KBytes:])
		yd, q8, bs := q8K(a[i*q8_KBytes:])
		sc := (*[16]byte)(x[0:16])
		qs := (*[64]byte)(x[16:80])
		var mins int32
		for g := 0; g < 16; g++ {
			mins += bsum(bs, g) * int32(sc[g]>>4)
		}
		var isum int32
		for k := 0; k < 2; k++ {
			q2 := (*[32]byte)(qs[32*k : 32*k+32])
			for j := 0; j < 4; j++ {
				shift := uint(2 * j)
				base := 128*k + 32*j
				var s0, s1 int32
				for l := 0; l < 16; l++ {
					s0 += int32(int8(q8[base+l])) * int32(q2[l]>>shift&3)
					s1 += int32(int8(q8[base+16+l])) * int32(q2[16+l]>>shift&3)
				}
				g := 8*k + 2*j
				isum += int32(sc[g]&15)*s0 + int32(sc[g+1]&15)*s1
			}
		}
		dall := yd * halfAt(x[80:])
		dmin := yd * halfAt(x[82:])
		sum += dall*float32(isum) - dmin*float32(mins)
	}
	return sum
}

// q3KScales decodes the 16 six-bit scales of a Q3_K block, minus 32.
func q3KScales(b *[12]byte, sc *[16]int32) {
	for i := 0; i < 16; i++ {
		var lo byte
		if i < 8 {
			lo = b[i] & 15
		} else {
			lo = b[i-8] >> 4
		}
		hi := b[8+i%4] >> (2 * (i / 4)) & 3
		sc[i] = int32(lo|hi<<4) - 32
	}
}

func vecDotQ3_KGeneric(n int, w, a []byte) float32 {
	nb := n / qkK
	w, a = w[:nb*q3_KBytes], a[:nb*q8_KBytes]
	var sum float32
	var sc [16]int32
	for i := 0; i < nb; i++ {
		x := (*[q3_KBytes]byte)(w[i*q3_KBytes:])
		yd, q8, _ := q8K(a[i*q8_KBytes:])
		hm := (*[32]byte)(x[0:32])
		qs := (*[64]byte)(x[32:96])
		q3KScales((*[12]byte)(x[96:108]), &sc)
		var isum int32
		for k := 0; k < 2; k++ {
			q3 := (*[32]byte)(qs[32*k : 32*k+32])
			for j := 0; j < 4; j++ {
				shift := uint(2 * j)
				m := byte(1) << uint(4*k+j)
				base := 128*k + 32*j
				var s0, s1 int32
				for l := 0; l < 16; l++ {
					v0 := int32(q3[l] >> shift & 3)
					if hm[l]&m == 0 {
						v0 -= 4
					}
					v1 := int32(q3[16+l] >> shift & 3)
					if hm[16+l]&m == 0 {
						v1 -= 4
					}
					s0 += int32(int8(q8[base+l])) * v0
					s1 += int32(int8(q8[base+16+l])) * v1
				}
				g := base / 16
				isum += sc[g]*s0 + sc[g+1]*s1
			}
		}
		sum += halfAt(x[108:]) * yd * float32(isum)
	}
	return sum
}

// kScaleMin decodes sub-block j's six-bit scale and min of a Q4_K or Q5_K
// block from its 12 packed bytes.
func kScaleMin(j int, q *[12]byte) (sc, m int32) {
	if j < 4 {
		return int32(q[j] & 63), int32(q[j+4] & 63)
	}
	return int32(q[j+4]&15 | q[j-4]>>6<<4), int32(q[j+4]>>4 | q[j]>>6<<4)
}

func vecDotQ4_KGeneric(n int, w, a []byte) float32 {
	nb := n / qkK
	w, a = w[:nb*q4_KBytes], a[:nb*q8_KBytes]
	var sum float32
	for i := 0; i < nb; i++ {
		x := (*[q4_KBytes]byte)(w[i*q4_KBytes:])
		yd, q8, bs := q8K(a[i*q8_KBytes:])
		scales := (*[12]byte)(x[4:16])
		qs := (*[128]byte)(x[16:144])
		var isum, mins int32
		for j := 0; j < 4; j++ {
			q4 := (*[32]byte)(qs[32*j : 32*j+32])
			var s0, s1 int32
			for l := 0; l < 32; l++ {
				s0 += int32(int8(q8[64*j+l])) * int32(q4[l]&15)
				s1 += int32(int8(q8[64*j+32+l])) * int32(q4[l]>>4)
			}
			sc0, m0 := kScaleMin(2*j, scales)
			sc1, m1 := kScaleMin(2*j+1, scales)
			isum += sc0*s0 + sc1*s1
			mins += m0*(bsum(bs, 4*j)+bsum(bs, 4*j+1)) + m1*(bsum(bs, 4*j+2)+bsum(bs, 4*j+3))
		}
		d := halfAt(x[0:]) * yd
		dmin := halfAt(x[2:]) * yd
		sum += d*float32(isum) - dmin*float32(mins)
	}
	return sum
}

func vecDotQ5_KGeneric(n int, w, a []byte) float32 {
	nb := n / qkK
	w, a = w[:nb*q5_KBytes], a[:nb*q8_KBytes]
	var sum float32
	for i := 0; i < nb; i++ {
		x := (*[q5_KBytes]byte)(w[i*q5_KBytes:])
		yd, q8, bs := q8K(a[i*q8_KBytes:])
		scales := (*[12]byte)(x[4:16])
		qh := (*[32]byte)(x[16:48])
		qs := (*[128]byte)(x[48:176])
		var isum, mins int32
		for j := 0; j < 4; j++ {
			q4 := (*[32]byte)(qs[32*j : 32*j+32])
			m0b, m1b := byte(1)<<uint(2*j), byte(2)<<uint(2*j)
			var s0, s1 int32
			for l := 0; l < 32; l++ {
				v0 := int32(q4[l] & 15)
				if qh[l]&m0b != 0 {
					v0 += 16
				}
				v1 := int32(q4[l] >> 4)
				if qh[l]&m1b != 0 {
					v1 += 16
				}
				s0 += int32(int8(q8[64*j+l])) * v0
				s1 += int32(int8(q8[64*j+32+l])) * v1
			}
			sc0, m0 := kScaleMin(2*j, scales)
			sc1, m1 := kScaleMin(2*j+1, scales)
			isum += sc0*s0 + sc1*s1
			mins += m0*(bsum(bs, 4*j)+bsum(bs, 4*j+1)) + m1*(bsum(bs, 4*j+2)+bsum(bs, 4*j+3))
		}
		d := halfAt(x[0:]) * yd
		dmin := halfAt(x[2:]) * yd
		sum += d*float32(isum) - dmin*float32(mins)
	}
	return sum
}

func vecDotQ6_KGeneric(n int, w, a []byte) float32 {
	nb := n / qkK
	w, a = w[:nb*q6_KBytes], a[:nb*q8_KBytes]
	var sum float32
	for i := 0; i < nb; i++ {
		x := (*[q6_KBytes]byte)(w[i*q6_KBytes:])
		yd, q8, _ := q8K(a[i*q8_KBytes:])
		sc := (*[16]byte)(x[192:208])
		var isum int32
		// Each of the 16 groups of 16 values has its own scale. Group
		// 8k+2q+h takes bit pair q of qh[32k+16h+l] and the low (q even) or
		// high (q odd) nibble of ql[64k+32(q&1)+16h+l].
		for k := 0; k < 2; k++ {
			for h := 0; h < 2; h++ {
				ql0 := (*[16]byte)(x[64*k+16*h:])
				ql1 := (*[16]byte)(x[64*k+32+16*h:])
				qh := (*[16]byte)(x[128+32*k+16*h:])
				y0 := (*[16]byte)(q8[128*k+16*h:])
				y1 := (*[16]byte)(q8[128*k+32+16*h:])
				y2 := (*[16]byte)(q8[128*k+64+16*h:])
				y3 := (*[16]byte)(q8[128*k+96+16*h:])
				var s0, s1, s2, s3 int32
				for l := 0; l < 16; l++ {
					hb := int32(qh[l])
					s0 += (int32(ql0[l]&15) | (hb&3)<<4 - 32) * int32(int8(y0[l]))
					s1 += (int32(ql1[l]&15) | (hb>>2&3)<<4 - 32) * int32(int8(y1[l]))
					s2 += (int32(ql0[l]>>4) | (hb>>4&3)<<4 - 32) * int32(int8(y2[l]))
					s3 += (int32(ql1[l]>>4) | (hb>>6&3)<<4 - 32) * int32(int8(y3[l]))
				}
				g := 8*k + h
				isum += int32(int8(sc[g]))*s0 + int32(int8(sc[g+2]))*s1 + int32(int8(sc[g+4]))*s2 + int32(int8(sc[g+6]))*s3
			}
		}
		sum += halfAt(x[208:]) * yd * float32(isum)
	}
	return sum
}

func vecDotIQ4_XSGeneric(n int, w, a []byte) float32 {
	nb := n / qkK
	w, a = w[:nb*iq4xsBytes], a[:nb*q8_KBytes]
	var sum float32
	for i := 0; i < nb; i++ {
		x := (*[iq4xsBytes]byte)(w[i*iq4xsBytes:])
		yd, q8, _ := q8K(a[i*q8_KBytes:])
		sh := le16(x[2:])
		sl := (*[4]byte)(x[4:8])
		qs := (*[128]byte)(x[8:136])
		var isum int32
		for ib := 0; ib < 8; ib++ {
			ls := int32(sl[ib/2]>>(4*uint(ib%2))&15|byte(sh>>(2*uint(ib))&3)<<4) - 32
			q := (*[16]byte)(qs[16*ib : 16*ib+16])
			var s int32
			for j := 0; j < 16; j++ {
				s += iq4nlValues[q[j]&15]*int32(int8(q8[32*ib+j])) + iq4nlValues[q[j]>>4]*int32(int8(q8[32*ib+16+j]))
			}
			isum += ls * s
		}
		sum += halfAt(x[0:]) * yd * float32(isum)
	}
	return sum
}
