package ggml

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Dequantize converts the n = len(dst) elements stored as type t in src to
// float32, writing them to dst. src must hold exactly the bytes of those n
// elements (t.RowBytes(n)); n must be a whole number of t's blocks.
//
// The numbers are those of ggml's dequantize_row_* functions: each value is
// computed in float32 from the block's scales in the same order of
// operations, so the results are bit for bit the same.
func Dequantize(t Type, src []byte, dst []float32) error {
	if !CanDequantize(t) {
		return fmt.Errorf("ggml: dequantize: type %s is not supported", t)
	}
	want, err := t.RowBytes(int64(len(dst)))
	if err != nil {
		return fmt.Errorf("ggml: dequantize: %w", err)
	}
	if int64(len(src)) != want {
		return fmt.Errorf("ggml: dequantize %s: %d elements need %d bytes, got %d", t, len(dst), want, len(src))
	}
	dequantizers[t](src, dst)
	return nil
}

// CanDequantize reports whether Dequantize supports type t.
func CanDequantize(t Type) bool {
	return int(t) < len(dequantizers) && dequantizers[t] != nil
}

// dequantizers maps a type to its row converter. The converters may assume
// that len(src) is exactly the byte size of len(dst) elements. The table is
// never modified.
var dequantizers = [...]func(src []byte, dst []float32){
	TypeF32:     dequantF32,
	TypeF16:     dequantF16,
	TypeBF16:    dequantBF16,
	TypeF64:     dequantF64,
	TypeI8:      dequantI8,
	TypeI16:     dequantI16,
	TypeI32:     dequantI32,
	TypeI64:     dequantI64,
	TypeQ4_0:    dequantQ4_0,
	TypeQ4_1:    dequantQ4_1,
	TypeQ5_0:    dequantQ5_0,
	TypeQ5_1:    dequantQ5_1,
	TypeQ8_0:    dequantQ8_0,
	TypeQ8_1:    dequantQ8_1,
	TypeQ2_K:    dequantQ2K,
	TypeQ3_K:    dequantQ3K,
	TypeQ4_K:    dequantQ4K,
	TypeQ5_K:    dequantQ5K,
	TypeQ6_K:    dequantQ6K,
	TypeQ8_K:    dequantQ8K,
	TypeIQ4_NL:  dequantIQ4NL,
	TypeIQ4_XS:  dequantIQ4XS,
	TypeTQ1_0:   dequantTQ1_0,
	TypeTQ2_0:   dequantTQ2_0,
	TypeMXFP4:   dequantMXFP4,
	TypeNVFP4:   dequantNVFP4,
	TypeQ1_0:    dequantQ1_0,
	TypeQ2_0:    dequantQ2_0,
	TypeIQ2_XXS: dequantIQ2XXS,
	TypeIQ2_XS:  dequantIQ2XS,
	TypeIQ2_S:   dequantIQ2S,
	TypeIQ3_XXS: dequantIQ3XXS,
	TypeIQ3_S:   dequantIQ3S,
	TypeIQ1_S:   dequantIQ1S,
	TypeIQ1_M:   dequantIQ1M,
}

// le16 reads a little-endian uint16.
func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }

// half reads a little-endian binary16 number.
func half(b []byte) float32 { return FP16ToFP32(binary.LittleEndian.Uint16(b)) }

func dequantF32(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func dequantF16(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = FP16ToFP32(le16(src[2*i:]))
	}
}

func dequantBF16(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = BF16ToFP32(le16(src[2*i:]))
	}
}

func dequantF64(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
	}
}

func dequantI8(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = float32(int8(src[i]))
	}
}

func dequantI16(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = float32(int16(le16(src[2*i:])))
	}
}

func dequantI32(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = float32(int32(binary.LittleEndian.Uint32(src[4*i:])))
	}
}

func dequantI64(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = float32(int64(binary.LittleEndian.Uint64(src[8*i:])))
	}
}

// Legacy 32-element blocks.

func dequantQ4_0(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:18], dst[:32]
		d := half(b)
		qs := b[2:18]
		for j := 0; j < 16; j++ {
			y[j] = float32(int(qs[j]&0xf)-8) * d
			y[j+16] = float32(int(qs[j]>>4)-8) * d
		}
		src, dst = src[18:], dst[32:]
	}
}

func dequantQ4_1(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:20], dst[:32]
		d, m := half(b), half(b[2:])
		qs := b[4:20]
		for j := 0; j < 16; j++ {
			y[j] = float32(float32(qs[j]&0xf)*d) + m
			y[j+16] = float32(float32(qs[j]>>4)*d) + m
		}
		src, dst = src[20:], dst[32:]
	}
}

func dequantQ5_0(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:22], dst[:32]
		d := half(b)
		qh := binary.LittleEndian.Uint32(b[2:])
		qs := b[6:22]
		for j := 0; j < 16; j++ {
			h0 := int(qh>>j&1) << 4
			h1 := int(qh>>(j+16)&1) << 4
			y[j] = float32(int(qs[j]&0xf)|h0-16) * d
			y[j+16] = float32(int(qs[j]>>4)|h1-16) * d
		}
		src, dst = src[22:], dst[32:]
	}
}

func dequantQ5_1(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:24], dst[:32]
		d, m := half(b), half(b[2:])
		qh := binary.LittleEndian.Uint32(b[4:])
		qs := b[8:24]
		for j := 0; j < 16; j++ {
			h0 := int(qh>>j&1) << 4
			h1 := int(qh>>(j+16)&1) << 4
			y[j] = float32(float32(int(qs[j]&0xf)|h0)*d) + m
			y[j+16] = float32(float32(int(qs[j]>>4)|h1)*d) + m
		}
		src, dst = src[24:], dst[32:]
	}
}

func dequantQ8_0(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:34], dst[:32]
		d := half(b)
		for j, q := range b[2:34] {
			y[j] = float32(int8(q)) * d
		}
		src, dst = src[34:], dst[32:]
	}
}

func dequantQ8_1(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:36], dst[:32]
		d := half(b)
		for j, q := range b[4:36] {
			y[j] = float32(int8(q)) * d
		}
		src, dst = src[36:], dst[32:]
	}
}

// K-quants: 256-element super-blocks.

func dequantQ2K(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:84], dst[:256]
		scales, qs := b[0:16], b[16:80]
		d, dmin := half(b[80:]), half(b[82:])
		is := 0
		for n := 0; n < 2; n++ {
			q := qs[32*n : 32*n+32]
			for shift := uint(0); shift < 8; shift += 2 {
				for half := 0; half < 2; half++ {
					sc := scales[is]
					is++
					dl := d * float32(sc&0xf)
					ml := float32(dmin * float32(sc>>4))
					for l := 0; l < 16; l++ {
						y[l] = float32(dl*float32(q[16*half+l]>>shift&3)) - ml
					}
					y = y[16:]
				}
			}
		}
		src, dst = src[84:], dst[256:]
	}
}

// q3KScales unpacks the sixteen 6-bit scales of a Q3_K block (biased by
// 32) into signed values.
func q3KScales(s []byte, out *[16]int8) {
	for j := 0; j < 16; j++ {
		var lo byte
		if j < 8 {
			lo = s[j] & 0xf
		} else {
			lo = s[j-8] >> 4
		}
		hi := (s[8+j%4] >> (2 * (j / 4))) & 3
		out[j] = int8(lo|hi<<4) - 32
	}
}

func dequantQ3K(src []byte, dst []float32) {
	var sc [16]int8
	for len(dst) > 0 {
		b, y := src[:110], dst[:256]
		hmask, qs := b[0:32], b[32:96]
		q3KScales(b[96:108], &sc)
		d := half(b[108:])
		is := 0
		m := byte(1)
		for n := 0; n < 2; n++ {
			q := qs[32*n : 32*n+32]
			for shift := uint(0); shift < 8; shift += 2 {
				for h := 0; h < 2; h++ {
					dl := d * float32(sc[is])
					is++
					for l := 0; l < 16; l++ {
						v := int(q[16*h+l] >> shift & 3)
						if hmask[16*h+l]&m == 0 {
							v -= 4
						}
						y[l] = dl * float32(v)
					}
					y = y[16:]
				}
				m <<= 1
			}
		}
		src, dst = src[110:], dst[256:]
	}
}

// scaleMinK4 returns the j-th 6-bit scale and min of a Q4_K/Q5_K block's
// 12 packed scale bytes.
func scaleMinK4(j int, q []byte) (sc, m byte) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xf | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

func dequantQ4K(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:144], dst[:256]
		d, dmin := half(b), half(b[2:])
		scales, qs := b[4:16], b[16:144]
		for j := 0; j < 4; j++ {
			sc, m := scaleMinK4(2*j, scales)
			d1, m1 := d*float32(sc), float32(dmin*float32(m))
			sc, m = scaleMinK4(2*j+1, scales)
			d2, m2 := d*float32(sc), float32(dmin*float32(m))
			q := qs[32*j : 32*j+32]
			for l := 0; l < 32; l++ {
				y[l] = float32(d1*float32(q[l]&0xf)) - m1
				y[l+32] = float32(d2*float32(q[l]>>4)) - m2
			}
			y = y[64:]
		}
		src, dst = src[144:], dst[256:]
	}
}

func dequantQ5K(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:176], dst[:256]
		d, dmin := half(b), half(b[2:])
		scales, qh, qs := b[4:16], b[16:48], b[48:176]
		u1, u2 := byte(1), byte(2)
		for j := 0; j < 4; j++ {
			sc, m := scaleMinK4(2*j, scales)
			d1, m1 := d*float32(sc), float32(dmin*float32(m))
			sc, m = scaleMinK4(2*j+1, scales)
			d2, m2 := d*float32(sc), float32(dmin*float32(m))
			q := qs[32*j : 32*j+32]
			for l := 0; l < 32; l++ {
				lo, hi := q[l]&0xf, q[l]>>4
				if qh[l]&u1 != 0 {
					lo += 16
				}
				if qh[l]&u2 != 0 {
					hi += 16
				}
				y[l] = float32(d1*float32(lo)) - m1
				y[l+32] = float32(d2*float32(hi)) - m2
			}
			y = y[64:]
			u1 <<= 2
			u2 <<= 2
		}
		src, dst = src[176:], dst[256:]
	}
}

func dequantQ6K(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:210], dst[:256]
		ql, qh, sc := b[0:128], b[128:192], b[192:208]
		d := half(b[208:])
		for n := 0; n < 2; n++ {
			l0, h0, s0 := ql[64*n:64*n+64], qh[32*n:32*n+32], sc[8*n:8*n+8]
			for l := 0; l < 32; l++ {
				is := l / 16
				q1 := int(l0[l]&0xf|(h0[l]>>0&3)<<4) - 32
				q2 := int(l0[l+32]&0xf|(h0[l]>>2&3)<<4) - 32
				q3 := int(l0[l]>>4|(h0[l]>>4&3)<<4) - 32
				q4 := int(l0[l+32]>>4|(h0[l]>>6&3)<<4) - 32
				y[l] = d * float32(int8(s0[is])) * float32(q1)
				y[l+32] = d * float32(int8(s0[is+2])) * float32(q2)
				y[l+64] = d * float32(int8(s0[is+4])) * float32(q3)
				y[l+96] = d * float32(int8(s0[is+6])) * float32(q4)
			}
			y = y[128:]
		}
		src, dst = src[210:], dst[256:]
	}
}

func dequantQ8K(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:292], dst[:256]
		d := math.Float32frombits(binary.LittleEndian.Uint32(b))
		for j, q := range b[4:260] {
			y[j] = d * float32(int8(q))
		}
		src, dst = src[292:], dst[256:]
	}
}

// Non-linear 4-bit quants.

// kvaluesIQ4NL are the 16 levels of IQ4_NL and IQ4_XS.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// kvaluesFP4 are the E2M1 values, doubled, of MXFP4 and NVFP4.
var kvaluesFP4 = [16]int8{0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12}

func dequantIQ4NL(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:18], dst[:32]
		d := half(b)
		for j, q := range b[2:18] {
			y[j] = d * float32(kvaluesIQ4NL[q&0xf])
			y[j+16] = d * float32(kvaluesIQ4NL[q>>4])
		}
		src, dst = src[18:], dst[32:]
	}
}

func dequantIQ4XS(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:136], dst[:256]
		d := half(b)
		sh := le16(b[2:])
		sl := b[4:8]
		qs := b[8:136]
		for ib := 0; ib < 8; ib++ {
			ls := int(sl[ib/2]>>(4*(ib%2))&0xf) | int(sh>>(2*ib)&3)<<4
			dl := d * float32(ls-32)
			q := qs[16*ib : 16*ib+16]
			for j := 0; j < 16; j++ {
				y[j] = dl * float32(kvaluesIQ4NL[q[j]&0xf])
				y[j+16] = dl * float32(kvaluesIQ4NL[q[j]>>4])
			}
			y = y[32:]
		}
		src, dst = src[136:], dst[256:]
	}
}

// Ternary quants.

func dequantTQ1_0(src []byte, dst []float32) {
	pow3 := [5]byte{1, 3, 9, 27, 81}
	trit := func(q byte, n int) float32 {
		q *= pow3[n]
		return float32(int(uint16(q)*3>>8) - 1)
	}
	for len(dst) > 0 {
		b, y := src[:54], dst[:256]
		qs, qh := b[0:48], b[48:52]
		d := half(b[52:])
		k := 0
		for _, g := range [...]struct{ off, width int }{{0, 32}, {32, 16}} {
			for n := 0; n < 5; n++ {
				for m := 0; m < g.width; m++ {
					y[k] = trit(qs[g.off+m], n) * d
					k++
				}
			}
		}
		for n := 0; n < 4; n++ {
			for j := 0; j < 4; j++ {
				y[k] = trit(qh[j], n) * d
				k++
			}
		}
		src, dst = src[54:], dst[256:]
	}
}

func dequantTQ2_0(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:66], dst[:256]
		qs := b[0:64]
		d := half(b[64:])
		k := 0
		for j := 0; j < 64; j += 32 {
			for l := uint(0); l < 4; l++ {
				for m := 0; m < 32; m++ {
					y[k] = float32(int(qs[j+m]>>(2*l)&3)-1) * d
					k++
				}
			}
		}
		src, dst = src[66:], dst[256:]
	}
}

// Micro-scaled FP4 and the 1- and 2-bit sign quants.

// e8m0Half returns 2^(e-128), half the value of the E8M0 scale e.
func e8m0Half(e byte) float32 {
	if e < 2 {
		return math.Float32frombits(0x00200000 << e)
	}
	return math.Float32frombits(uint32(e-1) << 23)
}

// ue4m3Half returns half the value of the unsigned E4M3 scale x (0 for the
// zero and NaN encodings).
func ue4m3Half(x byte) float32 {
	if x == 0 || x == 0x7f {
		return 0
	}
	exp, man := int(x>>3&0xf), float64(x&7)
	var raw float64
	if exp == 0 {
		raw = math.Ldexp(man, -9)
	} else {
		raw = math.Ldexp(8+man, exp-10) // (1 + man/8) * 2^(exp-7)
	}
	return float32(raw) * 0.5
}

func dequantMXFP4(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:17], dst[:32]
		d := e8m0Half(b[0])
		for j, q := range b[1:17] {
			y[j] = float32(kvaluesFP4[q&0xf]) * d
			y[j+16] = float32(kvaluesFP4[q>>4]) * d
		}
		src, dst = src[17:], dst[32:]
	}
}

func dequantNVFP4(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:36], dst[:64]
		for s := 0; s < 4; s++ {
			d := ue4m3Half(b[s])
			qs := b[4+8*s : 12+8*s]
			for j, q := range qs {
				y[16*s+j] = float32(kvaluesFP4[q&0xf]) * d
				y[16*s+j+8] = float32(kvaluesFP4[q>>4]) * d
			}
		}
		src, dst = src[36:], dst[64:]
	}
}

func dequantQ1_0(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:18], dst[:128]
		d := half(b)
		qs := b[2:18]
		for j := range y {
			if qs[j/8]>>(j%8)&1 != 0 {
				y[j] = d
			} else {
				y[j] = -d
			}
		}
		src, dst = src[18:], dst[128:]
	}
}

func dequantQ2_0(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:18], dst[:64]
		d := half(b)
		qs := b[2:18]
		for j := range y {
			q := int(qs[j/4] >> (2 * (j % 4)) & 3)
			y[j] = float32(q-1) * d
		}
		src, dst = src[18:], dst[64:]
	}
}
