package model

import (
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// This file holds the building blocks shared by every architecture: the
// elementwise operations between matrix multiplications, with the numeric
// behaviour of ggml's CPU backend (accumulation widths, rounding points), so
// that results match llama.cpp closely.

// expf is float32 exp, rounded from a float64 exp.
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// rmsNorm writes x / sqrt(mean(x²) + eps) * w to out. Like ggml, the sum of
// squares (float32 products) accumulates in float64 and the scale is a
// float32.
func rmsNorm(out, x, w []float32, eps float32) {
	var sum float64
	for _, v := range x {
		sum += float64(v * v)
	}
	mean := float32(sum / float64(len(x)))
	scale := 1 / float32(math.Sqrt(float64(mean+eps)))
	w = w[:len(x)]
	out = out[:len(x)]
	for i, v := range x {
		out[i] = v * scale * w[i]
	}
}

// rmsNormRows applies rmsNorm to each of n rows of width d.
func rmsNormRows(out, x, w []float32, eps float32, n, d int) {
	for i := 0; i < n; i++ {
		rmsNorm(out[i*d:(i+1)*d], x[i*d:(i+1)*d], w, eps)
	}
}

// add sets dst[i] += src[i].
func add(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// silu is x·sigmoid(x).
func silu(x float32) float32 { return x / (1 + expf(-x)) }

// swiglu sets gate[i] = silu(gate[i]) * up[i].
func swiglu(gate, up []float32) {
	up = up[:len(gate)]
	for i, g := range gate {
		gate[i] = silu(g) * up[i]
	}
}

// softmax replaces x with its softmax, in place: float32 max, float32 exps
// summed in float64, then scaled by the float64 reciprocal, as ggml does.
func softmax(x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	var sum float64
	for i, v := range x {
		e := expf(v - m)
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

// topK writes to idx the indices of the k largest values of x, largest
// first; ties go to the lower index.
func topK(x []float32, idx []int) {
	for j := range idx {
		best := -1
		for i, v := range x {
			taken := false
			for _, t := range idx[:j] {
				if t == i {
					taken = true
					break
				}
			}
			if taken {
				continue
			}
			if best < 0 || v > x[best] {
				best = i
			}
		}
		idx[j] = best
	}
}

// ropeMode selects which elements RoPE rotates together.
type ropeMode int

const (
	// ropeNorm rotates adjacent pairs (x[2i], x[2i+1]): llama.
	ropeNorm ropeMode = iota
	// ropeNeox rotates x[i] with x[i+nRot/2]: gpt-neox, qwen2, phi3, ...
	ropeNeox
)

// rope holds rotary position embedding parameters, as ggml_rope_ext takes
// them.
type rope struct {
	mode       ropeMode
	nRot       int        // rotated dimensions per head (even)
	freqBase   float32    // theta base
	freqScale  float32    // 1/linear scaling factor
	extFactor  float32    // YaRN extrapolation mix (0: none)
	attnFactor float32    // magnitude scale
	corrDims   [2]float32 // YaRN correction range
	factors    []float32  // per-frequency divisors (Llama 3 rope_freqs), or nil
	thetaScale float32
}

// newRope fills the derived fields of r; nCtxOrig and the betas set the
// YaRN correction dimensions.
func newRope(r rope, nCtxOrig int, betaFast, betaSlow float32) rope {
	r.thetaScale = float32(math.Pow(float64(r.freqBase), -2.0/float64(r.nRot)))
	corr := func(beta float32) float64 {
		return float64(r.nRot) * math.Log(float64(nCtxOrig)/(float64(beta)*2*math.Pi)) / (2 * math.Log(float64(r.freqBase)))
	}
	start := math.Floor(corr(betaFast))
	end := math.Ceil(corr(betaSlow))
	r.corrDims[0] = float32(math.Max(0, start))
	r.corrDims[1] = float32(math.Min(float64(r.nRot-1), end))
	return r
}

// cache writes cos/sin pairs for position pos into c (length nRot): c[2i]
// = cos θ_i, c[2i+1] = sin θ_i. Like ggml, θ starts at pos and is
// multiplied by thetaScale in float32 at each step.
func (r *rope) cache(pos int, c []float32) {
	theta := float32(pos)
	for i0 := 0; i0 < r.nRot; i0 += 2 {
		ff := float32(1)
		if r.factors != nil {
			ff = r.factors[i0/2]
		}
		extrap := theta / ff
		interp := r.freqScale * extrap
		t := interp
		mscale := r.attnFactor
		if r.extFactor != 0 {
			y := (float32(i0/2) - r.corrDims[0]) / float32(math.Max(0.001, float64(r.corrDims[1]-r.corrDims[0])))
			ramp := 1 - float32(math.Min(1, math.Max(0, float64(y))))
			mix := ramp * r.extFactor
			t = interp*(1-mix) + extrap*mix
			mscale *= 1 + 0.1*float32(math.Log(float64(1/r.freqScale)))
		}
		c[i0] = float32(math.Cos(float64(t))) * mscale
		c[i0+1] = float32(math.Sin(float64(t))) * mscale
		theta *= r.thetaScale
	}
}

// apply rotates one head vector x in place with the cos/sin cache c.
func (r *rope) apply(x, c []float32) {
	switch r.mode {
	case ropeNorm:
		for i0 := 0; i0 < r.nRot; i0 += 2 {
			cos, sin := c[i0], c[i0+1]
			x0, x1 := x[i0], x[i0+1]
			x[i0] = x0*cos - x1*sin
			x[i0+1] = x0*sin + x1*cos
		}
	case ropeNeox:
		half := r.nRot / 2
		for i0 := 0; i0 < r.nRot; i0 += 2 {
			cos, sin := c[i0], c[i0+1]
			j := i0 / 2
			x0, x1 := x[j], x[j+half]
			x[j] = x0*cos - x1*sin
			x[j+half] = x0*sin + x1*cos
		}
	}
}

// roundF16 rounds x to the nearest F16 value.
func roundF16(x float32) float32 { return ggml.FP16ToFP32(ggml.FP32ToFP16(x)) }

// faTile is the number of queries (and keys) ggml's tiled flash-attention
// kernel handles at once; batches of at least faTile queries take that
// kernel, smaller ones the one-query-at-a-time kernel.
const faTile = 64

// attnScratch is per-query working memory for attention.
type attnScratch struct {
	qh  []float32 // query rounded to F16 (vector kernel)
	acc []float32 // accumulator holding F16 values (vector kernel)
	kq  []float32 // scores of one key tile (tiled kernel)
	k32 []float32 // one key row widened to float32
	v32 []float32 // one value row widened to float32
}

// attendVec computes softmax(q·K/√d)·V for one query against keys and
// values 0..nKV-1 of an F16 cache, as ggml's one-query flash-attention
// kernel does: the query is rounded to F16, scores are dot products of F16
// values, the softmax is online and the weighted sum of values
// accumulates in an F16 vector (rounded after every update). k and v hold
// the head's F16 rows (2 bytes per element) with the given strides in
// elements; out receives the head's output.
func attendVec(out, q []float32, k, v []byte, kStride, vStride, nKV int, scale float32, s *attnScratch) {
	_, sum := attendRange(q, k, v, kStride, vStride, 0, nKV, scale, s)
	inv := float32(0)
	if sum != 0 {
		inv = 1 / sum
	}
	for i, a := range s.acc[:len(out)] {
		out[i] = a * inv
	}
}

// attendSplit is attendVec for a single query against a long cache, as
// ggml computes it when it splits the keys across threads (one token, at
// least 512 cache cells): the padded cache of nPad cells is cut into
// chunks of ceil(nPad/chunks) cells, each chunk is attended as by
// attendVec (F16 accumulator) to a partial (max, sum, float32 vector), and
// the partials are merged in float32.
func attendSplit(out, q []float32, k, v []byte, kStride, vStride, nKV, nPad, chunks int, scale float32, s *attnScratch) {
	size := (nPad + chunks - 1) / chunks
	clear(out)
	m := float32(math.Inf(-1))
	var sum float32
	for c := 0; c < chunks; c++ {
		lo, hi := c*size, min((c+1)*size, nKV)
		if lo >= hi {
			continue
		}
		mc, sc := attendRange(q, k, v, kStride, vStride, lo, hi, scale, s)
		if sc == 0 {
			continue
		}
		mnew := max(m, mc)
		so, sn := expf(m-mnew), expf(mc-mnew)
		for i, a := range s.acc[:len(out)] {
			out[i] = out[i]*so + a*sn
		}
		sum = sum*so + sc*sn
		m = mnew
	}
	if sum != 0 {
		cpu.Scale(out, 1/sum)
	}
}

// attendRange runs ggml's one-query online softmax over cache cells
// lo..hi-1, leaving the F16-rounded weighted sum of values in s.acc and
// returning the running maximum score and the sum of exponentials.
func attendRange(q []float32, k, v []byte, kStride, vStride, lo, hi int, scale float32, s *attnScratch) (m, sum float32) {
	d, dv := len(q), len(s.acc)
	qh, acc, k32, v32 := s.qh[:d], s.acc[:dv], s.k32[:d], s.v32[:dv]
	for i, x := range q {
		qh[i] = roundF16(x)
	}
	clear(acc)
	m = float32(math.Inf(-1))
	for j := lo; j < hi; j++ {
		cpu.FP16ToFP32Row(k32, k[2*j*kStride:2*(j*kStride+d)])
		score := cpu.Dot(k32, qh) * scale
		ms, vs := float32(1), float32(1)
		if score > m {
			old := m
			m = score
			ms = expf(old - m)
			for i, a := range acc {
				acc[i] = roundF16(a * ms)
			}
		} else {
			vs = expf(score - m)
		}
		cpu.FP16ToFP32Row(v32, v[2*j*vStride:2*(j*vStride+dv)])
		for i, a := range acc {
			acc[i] = roundF16(a + v32[i]*vs)
		}
		sum = sum*ms + vs
	}
	return m, sum
}

// attendTiled computes the same as attendVec the way ggml's tiled
// flash-attention kernel (used for batches of faTile or more queries) does:
// float32 query, keys and values widened from F16, scores in float32, and a
// float32 accumulator rescaled once per tile of faTile keys.
func attendTiled(out, q []float32, k, v []byte, kStride, vStride, nKV int, scale float32, s *attnScratch) {
	d, dv := len(q), len(out)
	kq, k32, v32 := s.kq[:faTile], s.k32[:d], s.v32[:dv]
	clear(out)
	var sum float32
	m := float32(math.Inf(-1))
	for j0 := 0; j0 < nKV; j0 += faTile {
		n := min(faTile, nKV-j0)
		tmax := float32(math.Inf(-1))
		for t := 0; t < n; t++ {
			j := j0 + t
			cpu.FP16ToFP32Row(k32, k[2*j*kStride:2*(j*kStride+d)])
			kq[t] = cpu.Dot(q, k32) * scale
			tmax = max(tmax, kq[t])
		}
		mnew := max(m, tmax)
		if mnew > m {
			ms := expf(m - mnew)
			cpu.Scale(out, ms)
			sum *= ms
		}
		m = mnew
		var tsum float64
		for t := 0; t < n; t++ {
			e := expf(kq[t] - m)
			kq[t] = e
			tsum += float64(e)
		}
		sum += float32(tsum)
		for t := 0; t < n; t++ {
			j := j0 + t
			cpu.FP16ToFP32Row(v32, v[2*j*vStride:2*(j*vStride+dv)])
			cpu.AddScaled(out, v32, kq[t])
		}
	}
	inv := float32(0)
	if sum != 0 {
		inv = 1 / sum
	}
	cpu.Scale(out, inv)
}

// moe computes a mixture-of-experts SwiGLU feed forward for n rows of xn
// into out, as llama.cpp does for Mixtral-style layers: router logits,
// softmax, the top ExpertsUsed experts, their weights renormalized to sum
// to one, and the weighted expert outputs summed in rank order.
func (s *State) moe(router cpu.Matrix, gate, up, down []cpu.Matrix, xn []float32, n int, out []float32) {
	hp := s.m.Params
	d, ff, ne, nu := hp.Embd, hp.FF, hp.Experts, hp.ExpertsUsed
	logits := s.router[:n*ne]
	s.matmul(router, xn, n, logits)
	sel, w := s.sel[:n*nu], s.selW[:n*nu]
	for i := 0; i < n; i++ {
		p := logits[i*ne : (i+1)*ne]
		softmax(p)
		idx := sel[i*nu : (i+1)*nu]
		topK(p, idx)
		var sum float32
		for j, e := range idx {
			w[i*nu+j] = p[e]
			sum += p[e]
		}
		sum = max(sum, 6.103515625e-5)
		for j := range idx {
			w[i*nu+j] /= sum
		}
	}
	res := s.moeOut[:n*nu*d]
	for e := 0; e < ne; e++ {
		// Gather the rows routed to expert e.
		rows := s.moeRows[:0]
		for i := 0; i < n; i++ {
			for j := 0; j < nu; j++ {
				if sel[i*nu+j] == e {
					rows = append(rows, i*nu+j)
				}
			}
		}
		m := len(rows)
		if m == 0 {
			continue
		}
		in := s.moeIn[:m*d]
		for r, slot := range rows {
			i := slot / nu
			copy(in[r*d:(r+1)*d], xn[i*d:(i+1)*d])
		}
		g, u := s.gate[:m*ff], s.up[:m*ff]
		s.matmul(gate[e], in, m, g)
		s.matmul(up[e], in, m, u)
		swiglu(g, u)
		dn := s.tmpE[:m*d]
		s.matmul(down[e], g, m, dn)
		for r, slot := range rows {
			dst := res[slot*d : (slot+1)*d]
			src := dn[r*d : (r+1)*d]
			wt := w[slot]
			for k := range dst {
				dst[k] = src[k] * wt
			}
		}
	}
	for i := 0; i < n; i++ {
		o := out[i*d : (i+1)*d]
		copy(o, res[i*nu*d:(i*nu+1)*d])
		for j := 1; j < nu; j++ {
			add(o, res[(i*nu+j)*d:(i*nu+j+1)*d])
		}
	}
}
