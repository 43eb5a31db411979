package ggml

import (
	"encoding/binary"
	"math/bits"
)

// Dequantization of the codebook ("i-quant") types IQ1_S, IQ1_M, IQ2_XXS,
// IQ2_XS, IQ2_S, IQ3_XXS and IQ3_S. Each group of 4 or 8 weights is an index
// into a grid of points (iqgrids.go); separate bits give the signs.

// iqgrids.go holds ggml's grids, extracted from its ggml-common.h; set
// GGML_COMMON_H to that file's path to regenerate it.
//go:generate go run gen_iqgrids.go -in $GGML_COMMON_H

// iqDelta is the offset IQ1_S and IQ1_M add to their ternary grid points.
const iqDelta = 0.125

// iqSigns returns the 8 sign bits that the 7-bit code c stands for: the low
// seven are c itself and the eighth makes the number of set bits even.
func iqSigns(c uint32) byte {
	c &= 127
	return byte(c) | byte(bits.OnesCount32(c)&1)<<7
}

// sign returns -1 when bit j of s is set, +1 otherwise.
func sign(s byte, j int) float32 {
	if s>>j&1 != 0 {
		return -1
	}
	return 1
}

// gridByte returns byte j of a packed grid point.
func gridByte(g uint64, j int) float32 { return float32(uint8(g >> (8 * j))) }

func dequantIQ2XXS(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:66], dst[:256]
		d := half(b)
		qs := b[2:66]
		for ib := 0; ib < 8; ib++ {
			a0 := binary.LittleEndian.Uint32(qs[8*ib:])
			a1 := binary.LittleEndian.Uint32(qs[8*ib+4:])
			db := d * (0.5 + float32(a1>>28)) * 0.25
			for l := 0; l < 4; l++ {
				g := iq2xxsGrid[byte(a0>>(8*l))]
				s := iqSigns(a1 >> (7 * l))
				for j := 0; j < 8; j++ {
					y[j] = db * gridByte(g, j) * sign(s, j)
				}
				y = y[8:]
			}
		}
		src, dst = src[66:], dst[256:]
	}
}

func dequantIQ2XS(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:74], dst[:256]
		d := half(b)
		qs, scales := b[2:66], b[66:74]
		for ib := 0; ib < 8; ib++ {
			db := [2]float32{
				d * (0.5 + float32(scales[ib]&0xf)) * 0.25,
				d * (0.5 + float32(scales[ib]>>4)) * 0.25,
			}
			for l := 0; l < 4; l++ {
				q := le16(qs[2*(4*ib+l):])
				g := iq2xsGrid[q&511]
				s := iqSigns(uint32(q >> 9))
				for j := 0; j < 8; j++ {
					y[j] = db[l/2] * gridByte(g, j) * sign(s, j)
				}
				y = y[8:]
			}
		}
		src, dst = src[74:], dst[256:]
	}
}

func dequantIQ2S(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:82], dst[:256]
		d := half(b)
		qs, signs, qh, scales := b[2:34], b[34:66], b[66:74], b[74:82]
		for ib := 0; ib < 8; ib++ {
			db := [2]float32{
				d * (0.5 + float32(scales[ib]&0xf)) * 0.25,
				d * (0.5 + float32(scales[ib]>>4)) * 0.25,
			}
			for l := 0; l < 4; l++ {
				idx := int(qs[4*ib+l]) | int(qh[ib])<<(8-2*l)&0x300
				g := iq2sGrid[idx]
				s := signs[4*ib+l]
				for j := 0; j < 8; j++ {
					y[j] = db[l/2] * gridByte(g, j) * sign(s, j)
				}
				y = y[8:]
			}
		}
		src, dst = src[82:], dst[256:]
	}
}

func dequantIQ3XXS(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:98], dst[:256]
		d := half(b)
		qs, ss := b[2:66], b[66:98]
		for ib := 0; ib < 8; ib++ {
			a := binary.LittleEndian.Uint32(ss[4*ib:])
			db := d * (0.5 + float32(a>>28)) * 0.5
			q := qs[8*ib : 8*ib+8]
			for l := 0; l < 4; l++ {
				s := iqSigns(a >> (7 * l))
				g1 := uint64(iq3xxsGrid[q[2*l]])
				g2 := uint64(iq3xxsGrid[q[2*l+1]])
				for j := 0; j < 4; j++ {
					y[j] = db * gridByte(g1, j) * sign(s, j)
					y[j+4] = db * gridByte(g2, j) * sign(s, j+4)
				}
				y = y[8:]
			}
		}
		src, dst = src[98:], dst[256:]
	}
}

func dequantIQ3S(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:110], dst[:256]
		d := half(b)
		qs, qh, signs, scales := b[2:66], b[66:74], b[74:106], b[106:110]
		for ib := 0; ib < 8; ib++ {
			sc := scales[ib/2] >> (4 * (ib % 2)) & 0xf
			db := d * float32(1+2*int(sc))
			q, h, s := qs[8*ib:8*ib+8], int(qh[ib]), signs[4*ib:4*ib+4]
			for l := 0; l < 4; l++ {
				g1 := uint64(iq3sGrid[int(q[2*l])|h<<(8-2*l)&256])
				g2 := uint64(iq3sGrid[int(q[2*l+1])|h<<(7-2*l)&256])
				for j := 0; j < 4; j++ {
					y[j] = db * gridByte(g1, j) * sign(s[l], j)
					y[j+4] = db * gridByte(g2, j) * sign(s[l], j+4)
				}
				y = y[8:]
			}
		}
		src, dst = src[110:], dst[256:]
	}
}

// iq1Point returns element j of a ternary IQ1 grid point plus delta.
func iq1Point(g uint64, j int, delta float32) float32 {
	return float32(int8(g>>(8*j))) + delta
}

func dequantIQ1S(src []byte, dst []float32) {
	for len(dst) > 0 {
		b, y := src[:50], dst[:256]
		d := half(b)
		qs, qh := b[2:34], b[34:50]
		for ib := 0; ib < 8; ib++ {
			h := int(le16(qh[2*ib:]))
			dl := d * float32(2*(h>>12&7)+1)
			delta := float32(iqDelta)
			if h&0x8000 != 0 {
				delta = -iqDelta
			}
			for l := 0; l < 4; l++ {
				g := iq1sGrid[int(qs[4*ib+l])|(h>>(3*l)&7)<<8]
				for j := 0; j < 8; j++ {
					y[j] = dl * iq1Point(g, j, delta)
				}
				y = y[8:]
			}
		}
		src, dst = src[50:], dst[256:]
	}
}

func dequantIQ1M(src []byte, dst []float32) {
	var sc [4]int
	for len(dst) > 0 {
		b, y := src[:56], dst[:256]
		qs, qh := b[0:32], b[32:48]
		for i := range sc {
			sc[i] = int(le16(b[48+2*i:]))
		}
		dbits := sc[0]>>12 | sc[1]>>8&0xf0 | sc[2]>>4&0xf00 | sc[3]&0xf000
		d := FP16ToFP32(uint16(dbits))
		for ib := 0; ib < 8; ib++ {
			s := sc[ib/2] >> (6 * (ib % 2))
			dl := [2]float32{d * float32(2*(s&7)+1), d * float32(2*(s>>3&7)+1)}
			h0, h1 := int(qh[2*ib]), int(qh[2*ib+1])
			q := qs[4*ib : 4*ib+4]
			idx := [4]int{
				int(q[0]) | h0<<8&0x700,
				int(q[1]) | h0<<4&0x700,
				int(q[2]) | h1<<8&0x700,
				int(q[3]) | h1<<4&0x700,
			}
			hb := [4]int{h0 & 0x08, h0 & 0x80, h1 & 0x08, h1 & 0x80}
			for l := 0; l < 4; l++ {
				delta := float32(iqDelta)
				if hb[l] != 0 {
					delta = -iqDelta
				}
				g := iq1sGrid[idx[l]]
				for j := 0; j < 8; j++ {
					y[j] = dl[l/2] * iq1Point(g, j, delta)
				}
				y = y[8:]
			}
		}
		src, dst = src[56:], dst[256:]
	}
}
