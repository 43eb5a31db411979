package model

import (
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// This file holds the building blocks shared by every architecture: the
// elementwise operations between matrix multiplications, with the numeric
// behaviour of ggml's CPU backend (accumulation widths, rounding points), so
// that results match llama.cpp closely.

// expf is float32 exp, rounded from a float64 exp.
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// add sets dst[i] += src[i].
func add(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
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

// qkvProj is an attention block's query, key and value projections: one
// fused matrix (attn_qkv, Q, K and V stacked) or three, each with an
// optional bias.
type qkvProj struct {
	wq, wk, wv, wqkv cpu.Matrix
	fused            bool // wqkv holds Q, K and V stacked
	bq, bk, bv, bqkv []float32
}

// fusedWidth is the output width of the fused projection, 0 when the
// projections are apart.
func (p *qkvProj) fusedWidth() int {
	if !p.fused {
		return 0
	}
	return p.wqkv.Rows
}

// readQKV reads the projections of the block whose tensors are named
// prefix+...: the fused attn_qkv (and its optional bias) where the file
// has one, else attn_q, attn_k and attn_v with optional biases.
func (l *loader) readQKV(dst *qkvProj, prefix string, d, dq, dkv int) error {
	var err error
	if dst.wqkv, dst.fused, err = l.matrix(prefix+"attn_qkv.weight", true, d, dq+2*dkv); err != nil {
		return err
	}
	mat, vec := l.readers(&err)
	if dst.fused {
		vec(&dst.bqkv, prefix+"attn_qkv.bias", dq+2*dkv, true)
		return err
	}
	mat(&dst.wq, prefix+"attn_q.weight", d, dq)
	mat(&dst.wk, prefix+"attn_k.weight", d, dkv)
	mat(&dst.wv, prefix+"attn_v.weight", d, dkv)
	vec(&dst.bq, prefix+"attn_q.bias", dq, true)
	vec(&dst.bk, prefix+"attn_k.bias", dkv, true)
	vec(&dst.bv, prefix+"attn_v.bias", dkv, true)
	return err
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

// moe computes a mixture-of-experts SwiGLU feed forward for n rows of xn
// into out, as llama.cpp does for Mixtral-style layers: router logits,
// softmax, the top ExpertsUsed experts, their weights renormalized to sum
// to one, and the weighted expert outputs summed in rank order.
func (s *Runner) moe(router cpu.Matrix, gate, up, down []cpu.Matrix, xn []float32, n int, out []float32, normalize bool) {
	hp := s.m.Params
	d, ff, ne, nu := hp.Embd, hp.FF, hp.Experts, hp.ExpertsUsed
	logits := s.router[:n*ne]
	s.matmul(router, xn, n, logits)
	sel, w := s.sel[:n*nu], s.selW[:n*nu]
	for i := 0; i < n; i++ {
		p := logits[i*ne : (i+1)*ne]
		route(p, sel[i*nu:(i+1)*nu], w[i*nu:(i+1)*nu], normalize)
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
		s.matmuls(in, m, []cpu.Matrix{gate[e], up[e]}, [][]float32{g, u})
		s.swiglu(g, u, m, ff)
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

// route chooses a token's experts from its router logits p (softmax,
// then the top len(sel)) and their weights w, renormalized to sum to 1
// when normalize is set (Mixtral, Qwen 3; not Qwen 2), with llama.cpp's
// clamp of the sum to F16's smallest normal number.
func route(p []float32, sel []int, w []float32, normalize bool) {
	softmax(p)
	topK(p, sel)
	var sum float32
	for j, e := range sel {
		w[j] = p[e]
		sum += p[e]
	}
	if !normalize {
		return
	}
	sum = max(sum, 6.103515625e-5)
	for j := range w {
		w[j] /= sum
	}
}
