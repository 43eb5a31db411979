package cpu

import "math"

// Generic conversion of float32 activation rows to the vec_dot types, and
// dequantization of weight rows to float32.

func convertF32Generic(dst []byte, x []float32) {
	dst = dst[:4*len(x)]
	for i, v := range x {
		u := math.Float32bits(v)
		b := (*[4]byte)(dst[4*i : 4*i+4])
		b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
}

func convertF16Generic(dst []byte, x []float32) {
	dst = dst[:2*len(x)]
	for i, v := range x {
		h := floatToHalf(v)
		dst[2*i], dst[2*i+1] = byte(h), byte(h>>8)
	}
}

func convertBF16Generic(dst []byte, x []float32) {
	dst = dst[:2*len(x)]
	for i, v := range x {
		h := floatToBF16(v)
		dst[2*i], dst[2*i+1] = byte(h), byte(h>>8)
	}
}

// roundEven rounds v (|v| < 2^22) to the nearest integer, ties to even, as
// x86's ROUNDPS with _MM_ROUND_NEAREST and ggml's nearest_int do.
func roundEven(v float32) int32 {
	f := v + 12582912 // 1.5 * 2^23: the sum's low mantissa bits hold round(v)
	return int32(math.Float32bits(f)&0x7fffff) - 0x400000
}

func putHalf(b []byte, f float32) {
	h := floatToHalf(f)
	b[0], b[1] = byte(h), byte(h>>8)
}

// quantizeQ8_0Generic quantizes a row to Q8_0 the way ggml's AVX/AVX2
// quantize_row_q8_0 does: d = amax/127, multiplier 127/amax, round half to
// even.
func quantizeQ8_0Generic(dst []byte, x []float32) {
	nb := len(x) / qk
	dst = dst[:nb*q8_0Bytes]
	for i := 0; i < nb; i++ {
		v := (*[qk]float32)(x[i*qk : i*qk+qk])
		y := (*[q8_0Bytes]byte)(dst[i*q8_0Bytes:])
		var amax float32
		for _, f := range v {
			amax = max(amax, abs32(f))
		}
		putHalf(y[0:], amax/127)
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		for j, f := range v {
			y[2+j] = byte(int8(roundEven(f * id)))
		}
	}
}

// quantizeQ8_1Generic is quantizeQ8_0Generic plus s = d * sum(quants),
// computed from the unrounded d as ggml's AVX2 quantize_row_q8_1 does.
func quantizeQ8_1Generic(dst []byte, x []float32) {
	nb := len(x) / qk
	dst = dst[:nb*q8_1Bytes]
	for i := 0; i < nb; i++ {
		v := (*[qk]float32)(x[i*qk : i*qk+qk])
		y := (*[q8_1Bytes]byte)(dst[i*q8_1Bytes:])
		var amax float32
		for _, f := range v {
			amax = max(amax, abs32(f))
		}
		d := amax / 127
		putHalf(y[0:], d)
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		var s int32
		for j, f := range v {
			q := roundEven(f * id)
			s += q
			y[4+j] = byte(int8(q))
		}
		putHalf(y[2:], d*float32(s))
	}
}

// quantizeQ8_KGeneric quantizes a row to Q8_K as quantize_row_q8_K_ref does
// (ggml-cpu uses it on every architecture): the scale comes from the value
// of largest magnitude (first one wins), -127/max, round half to even,
// clamped at 127, plus the sums of each group of 16 quants.
func quantizeQ8_KGeneric(dst []byte, x []float32) {
	nb := len(x) / qkK
	dst = dst[:nb*q8_KBytes]
	for i := 0; i < nb; i++ {
		v := (*[qkK]float32)(x[i*qkK : i*qkK+qkK])
		y := (*[q8_KBytes]byte)(dst[i*q8_KBytes:])
		var amax, vmax float32
		for _, f := range v {
			if a := abs32(f); a > amax {
				amax, vmax = a, f
			}
		}
		if amax == 0 {
			clear(y[:])
			continue
		}
		iscale := -127 / vmax
		for g := 0; g < qkK/16; g++ {
			var s int32
			for l := 0; l < 16; l++ {
				q := min(127, roundEven(iscale*v[16*g+l]))
				s += q
				y[4+16*g+l] = byte(int8(q))
			}
			y[q8KBsumsOff+2*g], y[q8KBsumsOff+2*g+1] = byte(s), byte(uint16(s)>>8)
		}
		u := math.Float32bits(1 / iscale)
		y[0], y[1], y[2], y[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
}

func abs32(f float32) float32 {
	return math.Float32frombits(math.Float32bits(f) &^ (1 << 31))
}

func dequantF32Generic(dst []float32, src []byte) {
	src = src[:4*len(dst)]
	for i := range dst {
		dst[i] = f32At(src[4*i:])
	}
}

func dequantF16Generic(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = halfAt(src[2*i:])
	}
}

func dequantBF16Generic(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = bf16ToFloat(le16(src[2*i:]))
	}
}

func dequantQ4_0Generic(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk; i++ {
		x := (*[q4_0Bytes]byte)(src[i*q4_0Bytes:])
		y := (*[qk]float32)(dst[i*qk:])
		d := halfAt(x[0:])
		for j := 0; j < 16; j++ {
			y[j] = float32(int32(x[2+j]&15)-8) * d
			y[16+j] = float32(int32(x[2+j]>>4)-8) * d
		}
	}
}

func dequantQ4_1Generic(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk; i++ {
		x := (*[q4_1Bytes]byte)(src[i*q4_1Bytes:])
		y := (*[qk]float32)(dst[i*qk:])
		d, m := halfAt(x[0:]), halfAt(x[2:])
		for j := 0; j < 16; j++ {
			y[j] = float32(x[4+j]&15)*d + m
			y[16+j] = float32(x[4+j]>>4)*d + m
		}
	}
}

func dequantQ5_0Generic(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk; i++ {
		x := (*[q5_0Bytes]byte)(src[i*q5_0Bytes:])
		y := (*[qk]float32)(dst[i*qk:])
		d := halfAt(x[0:])
		qh := le32(x[2:])
		for j := 0; j < 16; j++ {
			y[j] = float32(int32(x[6+j]&15|byte(qh>>j&1)<<4)-16) * d
			y[16+j] = float32(int32(x[6+j]>>4|byte(qh>>(j+16)&1)<<4)-16) * d
		}
	}
}

func dequantQ5_1Generic(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk; i++ {
		x := (*[q5_1Bytes]byte)(src[i*q5_1Bytes:])
		y := (*[qk]float32)(dst[i*qk:])
		d, m := halfAt(x[0:]), halfAt(x[2:])
		qh := le32(x[4:])
		for j := 0; j < 16; j++ {
			y[j] = float32(x[8+j]&15|byte(qh>>j&1)<<4)*d + m
			y[16+j] = float32(x[8+j]>>4|byte(qh>>(j+16)&1)<<4)*d + m
		}
	}
}

func dequantQ8_0Generic(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk; i++ {
		x := (*[q8_0Bytes]byte)(src[i*q8_0Bytes:])
		y := (*[qk]float32)(dst[i*qk:])
		d := halfAt(x[0:])
		for j := 0; j < qk; j++ {
			y[j] = float32(int8(x[2+j])) * d
		}
	}
}

func dequantIQ4_NLGeneric(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk; i++ {
		x := (*[iq4nlBytes]byte)(src[i*iq4nlBytes:])
		y := (*[qk]float32)(dst[i*qk:])
		d := halfAt(x[0:])
		for j := 0; j < 16; j++ {
			y[j] = d * float32(iq4nlValues[x[2+j]&15])
			y[16+j] = d * float32(iq4nlValues[x[2+j]>>4])
		}
	}
}

func dequantQ2_KGeneric(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkK; i++ {
		x := (*[q2_KBytes]byte)(src[i*q2_KBytes:])
		y := (*[qkK]float32)(dst[i*qkK:])
		d, dmin := halfAt(x[80:]), halfAt(x[82:])
		for k := 0; k < 2; k++ {
			for j := 0; j < 4; j++ {
				for h := 0; h < 2; h++ {
					sc := x[8*k+2*j+h]
					dl, ml := d*float32(sc&15), dmin*float32(sc>>4)
					for l := 16 * h; l < 16*h+16; l++ {
						y[128*k+32*j+l] = dl*float32(x[16+32*k+l]>>(2*uint(j))&3) - ml
					}
				}
			}
		}
	}
}

func dequantQ3_KGeneric(dst []float32, src []byte) {
	var sc [16]int32
	for i := 0; i < len(dst)/qkK; i++ {
		x := (*[q3_KBytes]byte)(src[i*q3_KBytes:])
		y := (*[qkK]float32)(dst[i*qkK:])
		d := halfAt(x[108:])
		q3KScales((*[12]byte)(x[96:108]), &sc)
		for k := 0; k < 2; k++ {
			for j := 0; j < 4; j++ {
				m := byte(1) << uint(4*k+j)
				for l := 0; l < 32; l++ {
					v := int32(x[32+32*k+l] >> (2 * uint(j)) & 3)
					if x[l]&m == 0 {
						v -= 4
					}
					idx := 128*k + 32*j + l
					y[idx] = d * float32(sc[idx/16]) * float32(v)
				}
			}
		}
	}
}

func dequantQ4_KGeneric(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkK; i++ {
		x := (*[q4_KBytes]byte)(src[i*q4_KBytes:])
		y := (*[qkK]float32)(dst[i*qkK:])
		d, dmin := halfAt(x[0:]), halfAt(x[2:])
		scales := (*[12]byte)(x[4:16])
		for j := 0; j < 4; j++ {
			sc0, m0 := kScaleMin(2*j, scales)
			sc1, m1 := kScaleMin(2*j+1, scales)
			d0, mm0 := d*float32(sc0), dmin*float32(m0)
			d1, mm1 := d*float32(sc1), dmin*float32(m1)
			for l := 0; l < 32; l++ {
				q := x[16+32*j+l]
				y[64*j+l] = d0*float32(q&15) - mm0
				y[64*j+32+l] = d1*float32(q>>4) - mm1
			}
		}
	}
}

func dequantQ5_KGeneric(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkK; i++ {
		x := (*[q5_KBytes]byte)(src[i*q5_KBytes:])
		y := (*[qkK]float32)(dst[i*qkK:])
		d, dmin := halfAt(x[0:]), halfAt(x[2:])
		scales := (*[12]byte)(x[4:16])
		for j := 0; j < 4; j++ {
			sc0, m0 := kScaleMin(2*j, scales)
			sc1, m1 := kScaleMin(2*j+1, scales)
			d0, mm0 := d*float32(sc0), dmin*float32(m0)
			d1, mm1 := d*float32(sc1), dmin*float32(m1)
			for l := 0; l < 32; l++ {
				q, h := x[48+32*j+l], x[16+l]
				lo, hi := q&15, q>>4
				if h&(1<<uint(2*j)) != 0 {
					lo += 16
				}
				if h&(2<<uint(2*j)) != 0 {
					hi += 16
				}
				y[64*j+l] = d0*float32(lo) - mm0
				y[64*j+32+l] = d1*float32(hi) - mm1
			}
		}
	}
}

func dequantQ6_KGeneric(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkK; i++ {
		x := (*[q6_KBytes]byte)(src[i*q6_KBytes:])
		y := (*[qkK]float32)(dst[i*qkK:])
		d := halfAt(x[208:])
		for k := 0; k < 2; k++ {
			ql := x[64*k : 64*k+64]
			qh := x[128+32*k : 128+32*k+32]
			for l := 0; l < 32; l++ {
				h := qh[l]
				v := [4]int32{
					int32(ql[l]&15|(h&3)<<4) - 32,
					int32(ql[32+l]&15|(h>>2&3)<<4) - 32,
					int32(ql[l]>>4|(h>>4&3)<<4) - 32,
					int32(ql[32+l]>>4|(h>>6&3)<<4) - 32,
				}
				for q := 0; q < 4; q++ {
					idx := 128*k + 32*q + l
					y[idx] = d * float32(int8(x[192+idx/16])) * float32(v[q])
				}
			}
		}
	}
}

func dequantIQ4_XSGeneric(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkK; i++ {
		x := (*[iq4xsBytes]byte)(src[i*iq4xsBytes:])
		y := (*[qkK]float32)(dst[i*qkK:])
		d := halfAt(x[0:])
		sh := le16(x[2:])
		for ib := 0; ib < 8; ib++ {
			ls := int32(x[4+ib/2]>>(4*uint(ib%2))&15|byte(sh>>(2*uint(ib))&3)<<4) - 32
			dl := d * float32(ls)
			for j := 0; j < 16; j++ {
				q := x[8+16*ib+j]
				y[32*ib+j] = dl * float32(iq4nlValues[q&15])
				y[32*ib+16+j] = dl * float32(iq4nlValues[q>>4])
			}
		}
	}
}
