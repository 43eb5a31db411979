package ggml

import (
	"encoding/binary"
	"math"
)

// Quantizers for IQ4_NL and IQ4_XS (non-linear 4-bit levels), the ternary
// TQ1_0 and TQ2_0, and MXFP4, as ggml_quantize_chunk runs them without an
// importance matrix.

// bestIndexIQ4 returns the index of the level in kvaluesIQ4NL nearest to x
// (the upper one on a tie), found by bisection like ggml's best_index_int8.
func bestIndexIQ4(x float32) uint8 {
	v := &kvaluesIQ4NL
	if x <= float32(v[0]) {
		return 0
	}
	if x >= float32(v[15]) {
		return 15
	}
	lo, hi := 0, 15
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if x < float32(v[mid]) {
			hi = mid
		} else {
			lo = mid
		}
	}
	if x-float32(v[hi-1]) < float32(v[hi])-x {
		return uint8(hi - 1)
	}
	return uint8(hi)
}

// iq4Fit quantizes super-blocks of n = len(x) elements (32 for IQ4_NL, 256
// for IQ4_XS) in sub-blocks of 32, trying 2*ntry+1 scales per sub-block,
// weighting by x² (ggml's quantize_row_iq4_nl_impl without importance
// weights). It stores the codes in q4 (n/2 bytes) and returns the
// super-block scale in binary16 bits; for IQ4_XS it also fills the 6-bit
// sub-block scales.
func iq4Fit(x []float32, q4 []byte, scalesH *uint16, scalesL []byte, L []uint8, scales []float32, ntry int) uint16 {
	const bs = 32
	nb := len(x) / bs
	v0 := float32(kvaluesIQ4NL[0])
	var maxScale, amaxScale float32
	for ib := 0; ib < nb; ib++ {
		xb, Lb := x[ib*bs:(ib+1)*bs], L[ib*bs:(ib+1)*bs]
		max, amax := absMax(xb)
		if amax < groupMaxEps {
			scales[ib] = 0
			continue
		}
		var d float32
		if ntry > 0 {
			d = -max / v0
		} else {
			d = max / v0
		}
		id := 1 / d
		var sumqx, sumq2 float32
		for j, xv := range xb {
			l := bestIndexIQ4(id * xv)
			Lb[j] = l
			q := float32(kvaluesIQ4NL[l])
			w := xv * xv
			sumqx += float32(float32(w*q) * xv)
			sumq2 += float32(float32(w*q) * q)
		}
		d = 0
		if sumq2 > 0 {
			d = sumqx / sumq2
		}
		best := d * sumqx
		for itry := -ntry; itry <= ntry; itry++ {
			id = float32(itry+int(kvaluesIQ4NL[0])) / max
			sumqx, sumq2 = 0, 0
			for _, xv := range xb {
				q := float32(kvaluesIQ4NL[bestIndexIQ4(id*xv)])
				w := xv * xv
				sumqx += float32(float32(w*q) * xv)
				sumq2 += float32(float32(w*q) * q)
			}
			if sumq2 > 0 && sumqx*sumqx > best*sumq2 {
				d = sumqx / sumq2
				best = d * sumqx
			}
		}
		scales[ib] = d
		if a := abs32(d); a > amaxScale {
			amaxScale, maxScale = a, d
		}
	}
	var dh uint16
	if nb > 1 {
		*scalesH = 0
		d := -maxScale / 32
		dh = FP32ToFP16(d)
		id := inverse(d)
		for ib := 0; ib < nb; ib++ {
			l := clampInt(nearestInt(id*scales[ib]), -32, 31)
			dl := d * float32(l)
			idl := inverse(dl)
			xb, Lb := x[ib*bs:(ib+1)*bs], L[ib*bs:(ib+1)*bs]
			for j, xv := range xb {
				Lb[j] = bestIndexIQ4(idl * xv)
			}
			l += 32
			if ib%2 == 0 {
				scalesL[ib/2] = byte(l & 0xf)
			} else {
				scalesL[ib/2] |= byte(l&0xf) << 4
			}
			*scalesH |= uint16(l>>4) << (2 * (ib % 8))
		}
	} else {
		dh = FP32ToFP16(scales[0])
		if ntry > 0 {
			id := inverse(scales[0])
			for j, xv := range x {
				L[j] = bestIndexIQ4(id * xv)
			}
		}
	}
	for i := 0; i < len(x)/32; i++ {
		for j := 0; j < 16; j++ {
			q4[16*i+j] = L[32*i+j] | L[32*i+16+j]<<4
		}
	}
	return dh
}

// IQ4_NL block: d, qs[16].
func quantIQ4NL(src []float32, dst []byte) {
	var (
		L      [32]uint8
		scales [1]float32
		sh     uint16
	)
	for ; len(src) > 0; src, dst = src[32:], dst[18:] {
		y := dst[:18]
		dh := iq4Fit(src[:32], y[2:18], &sh, nil, L[:], scales[:], 7)
		binary.LittleEndian.PutUint16(y, dh)
	}
}

// IQ4_XS block: d, scales_h (uint16), scales_l[4], qs[128].
func quantIQ4XS(src []float32, dst []byte) {
	var (
		L      [256]uint8
		scales [8]float32
	)
	for ; len(src) > 0; src, dst = src[256:], dst[136:] {
		y := dst[:136]
		var sh uint16
		dh := iq4Fit(src[:256], y[8:136], &sh, y[4:8], L[:], scales[:], 7)
		binary.LittleEndian.PutUint16(y, dh)
		binary.LittleEndian.PutUint16(y[2:], sh)
	}
}

// ternary returns the trit (0, 1 or 2) for v scaled by id: -1, 0 or +1
// rounded half away from zero, plus one.
func ternary(v, id float32) int { return roundAway(v*id) + 1 }

// TQ1_0 block: qs[48] (five trits a byte), qh[4] (four trits a byte), d.
func quantTQ1_0(src []float32, dst []byte) {
	// pack5 maps five trits, the first most significant, onto a byte so
	// that multiplying by 3 and taking the high byte reads them back.
	pack := func(q int) byte { return byte((q*256 + 242) / 243) }
	for ; len(src) > 0; src, dst = src[256:], dst[54:] {
		x, y := src[:256], dst[:54]
		_, amax := absMax(x)
		d := amax
		id := inverse(d)
		putHalf(y[52:], d)
		for _, g := range [...]struct{ off, width, x0 int }{{0, 32, 0}, {32, 16, 160}} {
			for m := 0; m < g.width; m++ {
				q := 0
				for n := 0; n < 5; n++ {
					q = q*3 + ternary(x[g.x0+m+n*g.width], id)
				}
				y[g.off+m] = pack(q)
			}
		}
		for j := 0; j < 4; j++ {
			q := 0
			for m := 0; m < 4; m++ {
				q = q*3 + ternary(x[240+j+4*m], id)
			}
			y[48+j] = pack(q * 3)
		}
	}
}

// TQ2_0 block: qs[64] (four 2-bit codes a byte), d.
func quantTQ2_0(src []float32, dst []byte) {
	for ; len(src) > 0; src, dst = src[256:], dst[66:] {
		x, y := src[:256], dst[:66]
		_, amax := absMax(x)
		d := amax
		id := inverse(d)
		putHalf(y[64:], d)
		for j := 0; j < 64; j += 32 {
			for m := 0; m < 32; m++ {
				var q byte
				for n := 0; n < 4; n++ {
					q += byte(ternary(x[4*j+m+32*n], id)&3) << (2 * n)
				}
				y[j+m] = q
			}
		}
	}
}

// MXFP4 block: e (E8M0 shared exponent), qs[16] (E2M1 codes).
func quantMXFP4(src []float32, dst []byte) {
	nearest := func(x, e float32) byte {
		best, bestErr := 0, abs32(float32(float32(kvaluesFP4[0])*e)-x)
		for i := 1; i < 16; i++ {
			if err := abs32(float32(float32(kvaluesFP4[i])*e) - x); err < bestErr {
				best, bestErr = i, err
			}
		}
		return byte(best)
	}
	for ; len(src) > 0; src, dst = src[32:], dst[17:] {
		x, y := src[:32], dst[:17]
		_, amax := absMax(x)
		var e byte
		if amax > 0 {
			l2 := float32(math.Log2(float64(amax)))
			e = byte(int(float32(math.Floor(float64(l2)))-2+127) & 0xff)
		}
		d := e8m0Half(e)
		y[0] = e
		for j := 0; j < 16; j++ {
			y[1+j] = nearest(x[j], d) | nearest(x[j+16], d)<<4
		}
	}
}
