package ggml

import (
	"encoding/binary"
	"math"
)

// K-quants: super-blocks of 256 elements split into sub-blocks of 16 or 32,
// each with its own scale (and minimum), the scales themselves quantized
// against one or two binary16 super-block scales.
//
// The scale searches are those of ggml's reference quantizers: the same
// candidate scales, in the same order, with the same float32 arithmetic,
// so the chosen codes are the same.

const groupMaxEps = 1e-15

// nearestInt rounds f to the nearest integer, ties to even, the way ggml
// does it: by adding 1.5*2^23 and reading the low mantissa bits. It is
// valid for |f| < 2^22, like ggml's.
func nearestInt(f float32) int {
	v := float32(f) + 12582912
	return int(math.Float32bits(v)&0x007fffff) - 0x00400000
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

// makeQXQuants finds a scale for the n = len(x) values and their codes L in
// [0, 2*nmax), minimizing the error weighted by qw (x² when qw is nil).
// It follows ggml's make_qx_quants with rmse_type 1.
func makeQXQuants(nmax int, x []float32, L []int8, qw []float32) float32 {
	max, amax := absMax(x)
	if amax < groupMaxEps {
		clear(L[:len(x)])
		return 0
	}
	weight := func(i int) float32 {
		if qw != nil {
			return qw[i]
		}
		return x[i] * x[i]
	}
	fnmax := float32(nmax)
	iscale := -fnmax / max
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = int8(l + nmax)
		w, fl := weight(i), float32(l)
		sumlx += float32(float32(w*v) * fl)
		suml2 += float32(float32(w*fl) * fl)
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := scale * sumlx
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(fnmax + float32(0.1*float32(is))) / max
		sumlx, suml2 = 0, 0
		for i, v := range x {
			l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
			w, fl := weight(i), float32(l)
			sumlx += float32(float32(w*v) * fl)
			suml2 += float32(float32(w*fl) * fl)
		}
		if suml2 > 0 && sumlx*sumlx > best*suml2 {
			for i, v := range x {
				L[i] = int8(nmax + clampInt(nearestInt(iscale*v), -nmax, nmax-1))
			}
			scale = sumlx / suml2
			best = scale * sumlx
		}
	}
	return scale
}

// makeQ3Quants finds a scale and codes L in [0, 2*nmax) for x, weighting by
// x², refining the codes one at a time (ggml's make_q3_quants with
// do_rmse).
func makeQ3Quants(nmax int, x []float32, L []int8) float32 {
	max, amax := absMax(x)
	if amax < groupMaxEps {
		clear(L[:len(x)])
		return 0
	}
	iscale := -float32(nmax) / max
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = int8(l)
		w, fl := v*v, float32(l)
		sumlx += float32(float32(w*v) * fl)
		suml2 += float32(float32(w*fl) * fl)
	}
	for itry := 0; itry < 5; itry++ {
		changed := 0
		for i, v := range x {
			w, fl := v*v, float32(L[i])
			slx := sumlx - float32(float32(w*v)*fl)
			if slx > 0 {
				sl2 := suml2 - float32(float32(w*fl)*fl)
				nl := clampInt(nearestInt(float32(v*sl2)/slx), -nmax, nmax-1)
				if nl != int(L[i]) {
					fn := float32(nl)
					slx += float32(float32(w*v) * fn)
					sl2 += float32(float32(w*fn) * fn)
					if sl2 > 0 && slx*slx*suml2 > sumlx*sumlx*sl2 {
						L[i] = int8(nl)
						sumlx, suml2 = slx, sl2
						changed++
					}
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	for i := range x {
		L[i] += int8(nmax)
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// makeQKX2Quants finds a scale and a minimum for x (codes L in [0, nmax],
// value = scale*L - min), trying nstep+1 candidate scales and fitting each
// by weighted least squares (ggml's make_qkx2_quants). It returns the scale
// and the (non-negative) minimum to subtract.
func makeQKX2Quants(nmax int, x, weights []float32, L, Laux []uint8, rmin, rdelta float32, nstep int, useMad bool) (scale, negMin float32) {
	n := len(x)
	lo, hi := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
		if x[i] < lo {
			lo = x[i]
		}
		if x[i] > hi {
			hi = x[i]
		}
		w := weights[i]
		sumW += w
		sumX += float32(w * x[i])
	}
	if lo > 0 {
		lo = 0
	}
	if hi == lo {
		clear(L[:n])
		return 0, -lo
	}
	fnmax := float32(nmax)
	errOf := func(diff float32) float32 {
		if useMad {
			return abs32(diff)
		}
		return diff * diff
	}
	iscale := fnmax / (hi - lo)
	scale = 1 / iscale
	var bestErr float32
	for i, v := range x {
		l := clampInt(nearestInt(iscale*(v-lo)), 0, nmax)
		L[i] = uint8(l)
		diff := float32(float32(scale*float32(l))+lo) - v
		bestErr += float32(weights[i] * errOf(diff))
	}
	if nstep < 1 {
		return scale, -lo
	}
	for is := 0; is <= nstep; is++ {
		iscale = (float32(rmin+float32(rdelta*float32(is))) + fnmax) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i, v := range x {
			l := clampInt(nearestInt(iscale*(v-lo)), 0, nmax)
			Laux[i] = uint8(l)
			w, fl := weights[i], float32(l)
			wl := float32(w * fl)
			sumL += wl
			sumL2 += float32(wl * fl)
			sumXL += float32(wl * v)
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D > 0 {
			thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
			thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var curErr float32
			for i, v := range x {
				diff := float32(float32(thisScale*float32(Laux[i]))+thisMin) - v
				curErr += float32(weights[i] * errOf(diff))
			}
			if curErr < bestErr {
				copy(L[:n], Laux[:n])
				bestErr = curErr
				scale, lo = thisScale, thisMin
			}
		}
	}
	return scale, -lo
}

// pack2 stores 256 two-bit codes: byte l of each 32-byte group holds codes
// l, l+32, l+64 and l+96 of its 128 elements, lowest bits first.
func pack2(L []uint8, qs []byte) {
	for j := 0; j < 256; j += 128 {
		for l := 0; l < 32; l++ {
			qs[j/4+l] = L[j+l] | L[j+l+32]<<2 | L[j+l+64]<<4 | L[j+l+96]<<6
		}
	}
}

// Q2_K block: scales[16] (4-bit scale | 4-bit min), qs[64], d, dmin.
func quantQ2K(src []float32, dst []byte) {
	var (
		L       [256]uint8
		laux    [16]uint8
		weights [16]float32
		mins    [16]float32
		scales  [16]float32
	)
	const q4scale = 15
	for ; len(src) > 0; src, dst = src[256:], dst[84:] {
		x, y := src[:256], dst[:84]
		sc, qs := y[0:16], y[16:80]
		var maxScale, maxMin float32
		for j := 0; j < 16; j++ {
			xs := x[16*j : 16*j+16]
			for l, v := range xs {
				weights[l] = abs32(v)
			}
			scales[j], mins[j] = makeQKX2Quants(3, xs, weights[:], L[16*j:16*j+16], laux[:], -0.5, 0.1, 15, true)
			maxScale = max(maxScale, scales[j])
			maxMin = max(maxMin, mins[j])
		}
		if maxScale > 0 {
			iscale := q4scale / maxScale
			for j := range sc {
				sc[j] = byte(nearestInt(iscale * scales[j]))
			}
			putHalf(y[80:], maxScale/q4scale)
		} else {
			clear(sc)
			putHalf(y[80:], 0)
		}
		if maxMin > 0 {
			iscale := q4scale / maxMin
			for j := range sc {
				sc[j] |= byte(nearestInt(iscale*mins[j]) << 4)
			}
			putHalf(y[82:], maxMin/q4scale)
		} else {
			putHalf(y[82:], 0)
		}
		dAll, mAll := half(y[80:]), half(y[82:])
		for j := 0; j < 16; j++ {
			d := dAll * float32(sc[j]&0xf)
			if d == 0 {
				continue
			}
			dm := float32(mAll * float32(sc[j]>>4))
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = uint8(clampInt(nearestInt((x[16*j+ii]+dm)/d), 0, 3))
			}
		}
		pack2(L[:], qs)
	}
}

// Q3_K block: hmask[32], qs[64], scales[12] (sixteen 6-bit), d.
func quantQ3K(src []float32, dst []byte) {
	var (
		L      [256]int8
		scales [16]float32
		sc     [16]int8
		lu     [256]uint8
	)
	for ; len(src) > 0; src, dst = src[256:], dst[110:] {
		x, y := src[:256], dst[:110]
		hmask, qs, ps := y[0:32], y[32:96], y[96:108]
		var maxScale, amax float32
		for j := 0; j < 16; j++ {
			scales[j] = makeQ3Quants(4, x[16*j:16*j+16], L[16*j:16*j+16])
			if a := abs32(scales[j]); a > amax {
				amax, maxScale = a, scales[j]
			}
		}
		clear(ps)
		if maxScale != 0 {
			iscale := -32 / maxScale
			for j := 0; j < 16; j++ {
				l := int(int8(nearestInt(iscale * scales[j])))
				l = clampInt(l, -32, 31) + 32
				if j < 8 {
					ps[j] = byte(l & 0xf)
				} else {
					ps[j-8] |= byte(l&0xf) << 4
				}
				ps[j%4+8] |= byte(l>>4) << (2 * (j / 4))
			}
			putHalf(y[108:], 1/iscale)
		} else {
			putHalf(y[108:], 0)
		}
		q3KScales(ps, &sc)
		dAll := half(y[108:])
		for j := 0; j < 16; j++ {
			d := dAll * float32(sc[j])
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = int8(clampInt(nearestInt(x[16*j+ii]/d), -4, 3) + 4)
			}
		}
		clear(hmask)
		for j := range L {
			l := uint8(L[j])
			if l > 3 {
				hmask[j%32] |= 1 << (j / 32)
				l -= 4
			}
			lu[j] = l
		}
		pack2(lu[:], qs)
	}
}

// packScalesK4 stores eight 6-bit scales and mins in the 12-byte layout of
// Q4_K and Q5_K (read back by scaleMinK4).
func packScalesK4(ls, lm *[8]uint8, q []byte) {
	for j := 0; j < 8; j++ {
		if j < 4 {
			q[j] = ls[j]
			q[j+4] = lm[j]
		} else {
			q[j+4] = ls[j]&0xf | (lm[j]&0xf)<<4
			q[j-4] |= (ls[j] >> 4) << 6
			q[j] |= (lm[j] >> 4) << 6
		}
	}
}

// fitK4 computes the scale and minimum of each 32-element sub-block of x
// (nmax 15 for Q4_K, 31 for Q5_K), quantizes them to 6 bits into the
// block's d, dmin and 12 scale bytes (y[0:16]), and then the codes L
// against the stored scales.
func fitK4(x []float32, y []byte, L *[256]uint8, nmax int, rmin, rdelta float32, nstep int) {
	var (
		laux    [32]uint8
		weights [32]float32
		mins    [8]float32
		scales  [8]float32
		ls, lm  [8]uint8
	)
	var maxScale, maxMin float32
	for j := 0; j < 8; j++ {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		avX := float32(math.Sqrt(float64(sumX2 / 32)))
		for l, v := range xs {
			weights[l] = avX + abs32(v)
		}
		scales[j], mins[j] = makeQKX2Quants(nmax, xs, weights[:], L[32*j:32*j+32], laux[:], rmin, rdelta, nstep, false)
		maxScale = max(maxScale, scales[j])
		maxMin = max(maxMin, mins[j])
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	for j := 0; j < 8; j++ {
		ls[j] = min(63, uint8(nearestInt(invScale*scales[j])))
		lm[j] = min(63, uint8(nearestInt(invMin*mins[j])))
	}
	packScalesK4(&ls, &lm, y[4:16])
	putHalf(y[0:], maxScale/63)
	putHalf(y[2:], maxMin/63)
	dAll, mAll := half(y[0:]), half(y[2:])
	for j := 0; j < 8; j++ {
		s, m := scaleMinK4(j, y[4:16])
		d := dAll * float32(s)
		if d == 0 {
			continue
		}
		dm := float32(mAll * float32(m))
		for ii := 0; ii < 32; ii++ {
			L[32*j+ii] = uint8(clampInt(nearestInt((x[32*j+ii]+dm)/d), 0, nmax))
		}
	}
}

// Q4_K block: d, dmin, scales[12], qs[128].
func quantQ4K(src []float32, dst []byte) {
	var L [256]uint8
	for ; len(src) > 0; src, dst = src[256:], dst[144:] {
		x, y := src[:256], dst[:144]
		fitK4(x, y, &L, 15, -1, 0.1, 20)
		q := y[16:144]
		for j := 0; j < 256; j += 64 {
			for l := 0; l < 32; l++ {
				q[j/2+l] = L[j+l] | L[j+l+32]<<4
			}
		}
	}
}

// Q5_K block: d, dmin, scales[12], qh[32], qs[128].
func quantQ5K(src []float32, dst []byte) {
	var L [256]uint8
	for ; len(src) > 0; src, dst = src[256:], dst[176:] {
		x, y := src[:256], dst[:176]
		fitK4(x, y, &L, 31, -0.5, 0.1, 15)
		qh, ql := y[16:48], y[48:176]
		clear(qh)
		m1, m2 := byte(1), byte(2)
		for n := 0; n < 256; n += 64 {
			for j := 0; j < 32; j++ {
				l1, l2 := L[n+j], L[n+j+32]
				if l1 > 15 {
					l1 -= 16
					qh[j] |= m1
				}
				if l2 > 15 {
					l2 -= 16
					qh[j] |= m2
				}
				ql[n/2+j] = l1 | l2<<4
			}
			m1 <<= 2
			m2 <<= 2
		}
	}
}

// Q6_K block: ql[128], qh[64], scales[16] (int8), d.
func quantQ6K(src []float32, dst []byte) {
	var (
		L      [256]int8
		scales [16]float32
	)
	for ; len(src) > 0; src, dst = src[256:], dst[210:] {
		x, y := src[:256], dst[:210]
		var maxScale, maxAbs float32
		for ib := 0; ib < 16; ib++ {
			s := makeQXQuants(32, x[16*ib:16*ib+16], L[16*ib:16*ib+16], nil)
			scales[ib] = s
			if a := abs32(s); a > maxAbs {
				maxAbs, maxScale = a, s
			}
		}
		if maxAbs < groupMaxEps {
			clear(y)
			continue
		}
		iscale := -128 / maxScale
		putHalf(y[208:], 1/iscale)
		sc := y[192:208]
		for ib := range sc {
			sc[ib] = byte(int8(min(127, nearestInt(iscale*scales[ib]))))
		}
		dAll := half(y[208:])
		for j := 0; j < 16; j++ {
			d := dAll * float32(int8(sc[j]))
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = int8(clampInt(nearestInt(x[16*j+ii]/d), -32, 31) + 32)
			}
		}
		ql, qh := y[0:128], y[128:192]
		for j := 0; j < 256; j += 128 {
			for l := 0; l < 32; l++ {
				a, b := uint8(L[j+l]), uint8(L[j+l+32])
				c, e := uint8(L[j+l+64]), uint8(L[j+l+96])
				ql[j/2+l] = a&0xf | (c&0xf)<<4
				ql[j/2+l+32] = b&0xf | (e&0xf)<<4
				qh[j/4+l] = a>>4 | (b>>4)<<2 | (c>>4)<<4 | (e>>4)<<6
			}
		}
	}
}

// Q8_K block: d (float32), qs[256], bsums[16] (int16 sums of 16 codes).
func quantQ8K(src []float32, dst []byte) {
	for ; len(src) > 0; src, dst = src[256:], dst[292:] {
		x, y := src[:256], dst[:292]
		max, amax := absMax(x)
		if amax == 0 {
			clear(y)
			continue
		}
		iscale := -127 / max
		qs := y[4:260]
		for j, v := range x {
			qs[j] = byte(int8(min(127, nearestInt(iscale*v))))
		}
		for j := 0; j < 16; j++ {
			sum := 0
			for _, q := range qs[16*j : 16*j+16] {
				sum += int(int8(q))
			}
			binary.LittleEndian.PutUint16(y[260+2*j:], uint16(int16(sum)))
		}
		binary.LittleEndian.PutUint32(y, math.Float32bits(1/iscale))
	}
}
