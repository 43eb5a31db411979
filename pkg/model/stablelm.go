package model

import (
	"fmt"
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// The StableLM architecture (general.architecture "stablelm": StableLM,
// StableLM 2, Rocket-3B): pre-norm blocks with LayerNorm (mean and
// variance, a weight and a bias) instead of RMSNorm, gpt-neox RoPE over
// only the first rope.dimension_count elements of each head (partial
// rotary), optional biases on the query, key and value projections,
// optional per-head LayerNorms of queries and keys (StableLM 2 12B, a
// weight for every head), and, where a block has no ffn_norm, a parallel
// residual: the feed forward reads the attention's normalized input, and
// both outputs are added to the residual stream. A SwiGLU feed forward.
// This file states the whole graph; one pass serves a prompt batch and
// the decode of any number of sequences alike.

type stablelmLayer struct {
	attnNorm, attnNormB []float32
	wq, wk, wv, wo      cpu.Matrix
	bq, bk, bv          []float32
	qNorm, kNorm        []float32 // [heads][head size], or nil
	ffnNorm, ffnNormB   []float32 // nil: parallel residual
	gate, up, down      cpu.Matrix
}

type stablelm struct {
	hp                HParams
	eps               float32 // LayerNorm epsilon
	tokEmbd, output   cpu.Matrix
	outNorm, outNormB []float32
	layers            []stablelmLayer
	rope              rope
	kqScale           float32
}

func loadStableLM(l *loader) (network, HParams, error) {
	hp, err := l.readHParams()
	if err != nil {
		return nil, hp, err
	}
	if hp.Vocab, err = l.vocabSize(); err != nil {
		return nil, hp, err
	}
	if hp.HeadDimK != hp.HeadDimV {
		return nil, hp, fmt.Errorf("stablelm needs equal key and value sizes (have %d, %d)", hp.HeadDimK, hp.HeadDimV)
	}
	eps, err := l.floatKey("attention.layer_norm_epsilon", 1e-5)
	if err != nil {
		return nil, hp, err
	}
	n := &stablelm{hp: hp, eps: eps}
	d, ff, hd := hp.Embd, hp.FF, hp.HeadDimK
	dq, dkv := hp.Heads*hd, hp.HeadsKV*hd
	mat, vec := l.readers(&err)
	// headNorm reads a per-head norm's weights, [heads][head size].
	headNorm := func(dst *[]float32, name string, heads int) {
		if err != nil {
			return
		}
		var m cpu.Matrix
		var ok bool
		if m, ok, err = l.matrix(name, true, hd, heads); err != nil || !ok {
			return
		}
		*dst = make([]float32, heads*hd)
		for h := 0; h < heads; h++ {
			cpu.Row(m, h, (*dst)[h*hd:(h+1)*hd])
		}
	}
	mat(&n.tokEmbd, "token_embd.weight", d, hp.Vocab)
	mat(&n.output, "output.weight", d, hp.Vocab)
	vec(&n.outNorm, "output_norm.weight", d, false)
	vec(&n.outNormB, "output_norm.bias", d, false)
	n.layers = make([]stablelmLayer, hp.Layers)
	for i := range n.layers {
		L := &n.layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		vec(&L.attnNorm, p+"attn_norm.weight", d, false)
		vec(&L.attnNormB, p+"attn_norm.bias", d, false)
		mat(&L.wq, p+"attn_q.weight", d, dq)
		mat(&L.wk, p+"attn_k.weight", d, dkv)
		mat(&L.wv, p+"attn_v.weight", d, dkv)
		vec(&L.bq, p+"attn_q.bias", dq, true)
		vec(&L.bk, p+"attn_k.bias", dkv, true)
		vec(&L.bv, p+"attn_v.bias", dkv, true)
		mat(&L.wo, p+"attn_output.weight", dq, d)
		headNorm(&L.qNorm, p+"attn_q_norm.weight", hp.Heads)
		headNorm(&L.kNorm, p+"attn_k_norm.weight", hp.HeadsKV)
		vec(&L.ffnNorm, p+"ffn_norm.weight", d, true)
		vec(&L.ffnNormB, p+"ffn_norm.bias", d, true)
		mat(&L.gate, p+"ffn_gate.weight", d, ff)
		mat(&L.up, p+"ffn_up.weight", d, ff)
		mat(&L.down, p+"ffn_down.weight", ff, d)
		if err != nil {
			return nil, hp, err
		}
		if (L.ffnNorm == nil) != (L.ffnNormB == nil) {
			return nil, hp, fmt.Errorf("tensor %q: ffn_norm needs both its weight and its bias", p+"ffn_norm")
		}
	}
	n.rope = ropeFor(hp, ropeNeox, nil)
	n.kqScale = 1 / float32(math.Sqrt(float64(hd)))
	return n, hp, nil
}

func (n *stablelm) scratch() scratchSizes {
	hp := n.hp
	return scratchSizes{q: hp.Heads * hp.HeadDimK, k: hp.HeadsKV * hp.HeadDimK, v: hp.HeadsKV * hp.HeadDimV, att: hp.Heads * hp.HeadDimV, ff: hp.FF}
}

func (n *stablelm) rotary(int) *rope { return &n.rope }

// forward evaluates the batch s.rows and writes the outputs of the rows
// s.outRows names, top to bottom as llama.cpp's stablelm graph does.
func (n *stablelm) forward(s *Runner, tokens []int32) {
	hp := n.hp
	d, hd := hp.Embd, hp.HeadDimK
	nt := len(tokens)
	dq, dkv := hp.Heads*hd, hp.HeadsKV*hd
	x := s.x[:nt*d]
	for i, t := range tokens {
		cpu.Row(n.tokEmbd, int(t), x[i*d:(i+1)*d])
	}
	rc := s.ropeCache[:nt*hp.RopeDims]
	for i := 0; i < nt; i++ {
		n.rope.cache(s.rows[i].pos, rc[i*hp.RopeDims:(i+1)*hp.RopeDims])
	}
	xn, out := s.xn[:nt*d], s.tmp[:nt*d]
	for il := range n.layers {
		if s.stopped() {
			return
		}
		L := &n.layers[il]
		layerNormRows(xn, x, L.attnNorm, L.attnNormB, n.eps, nt, d)
		q, k, v := s.q[:nt*dq], s.k[:nt*dkv], s.v[:nt*dkv]
		s.matmuls(xn, nt, []cpu.Matrix{L.wq, L.wk, L.wv}, [][]float32{q, k, v})
		addBias(q, L.bq, nt)
		addBias(k, L.bk, nt)
		addBias(v, L.bv, nt)
		// Per-head norms come after the biases and before the rotation.
		headLayerNorms(q, L.qNorm, n.eps, nt*hp.Heads, hd)
		headLayerNorms(k, L.kNorm, n.eps, nt*hp.HeadsKV, hd)
		s.ropeStore(il, nt, nil, nil, nil, nil, nil, nil, &n.rope)
		s.attention(il, n.kqScale)
		s.matmul(L.wo, s.att, nt, out)
		if il == len(n.layers)-1 && len(s.outRows) < nt {
			if nt = s.gatherOut(x, out, d); nt == 0 {
				return
			}
			s.gatherOut(xn, xn, d) // the parallel residual's input
			x, xn, out = x[:nt*d], xn[:nt*d], out[:nt*d]
		}
		add(x, out) // ffn_inp = attention + residual
		ffnIn := xn // parallel residual: the attention's normalized input
		if L.ffnNorm != nil {
			layerNormRows(xn, x, L.ffnNorm, L.ffnNormB, n.eps, nt, d)
		}
		gate, up := s.gate[:nt*hp.FF], s.up[:nt*hp.FF]
		s.matmuls(ffnIn, nt, []cpu.Matrix{L.gate, L.up}, [][]float32{gate, up})
		s.swiglu(gate, up, nt, hp.FF)
		s.matmul(L.down, gate, nt, out)
		add(x, out)
	}
	layerNormRows(xn, x, n.outNorm, n.outNormB, n.eps, nt, d)
	if s.embd {
		copy(s.outRowsDst(nt, d), xn)
		return
	}
	s.matmul(n.output, xn, nt, s.outRowsDst(nt, hp.Vocab))
}

// layerNormRows writes to dst the LayerNorm of each of the n rows (width
// d) of x, times w, plus b.
func layerNormRows(dst, x, w, b []float32, eps float32, n, d int) {
	for i := 0; i < n; i++ {
		layerNorm(dst[i*d:(i+1)*d], x[i*d:(i+1)*d], w, b, eps)
	}
}

// headLayerNorms LayerNorms each of the n heads (width hd) of x in place,
// head h of a row with weights w[h·hd:(h+1)·hd] (w holds one row's
// heads); a nil w does nothing.
func headLayerNorms(x, w []float32, eps float32, n, hd int) {
	if w == nil {
		return
	}
	heads := len(w) / hd
	for i := 0; i < n; i++ {
		h := i % heads
		layerNorm(x[i*hd:(i+1)*hd], x[i*hd:(i+1)*hd], w[h*hd:(h+1)*hd], nil, eps)
	}
}

// layerNorm is ggml_norm followed by the weight and the bias (either may
// be nil), with ggml's arithmetic: the mean and the variance summed in
// float64, the scale 1/sqrt(variance+eps) in float32. dst may be x.
func layerNorm(dst, x, w, b []float32, eps float32) {
	n := len(x)
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := float32(sum / float64(n))
	var sum2 float64
	for i, v := range x {
		c := v - mean
		dst[i] = c
		sum2 += float64(c * c)
	}
	scale := 1 / float32(math.Sqrt(float64(float32(sum2/float64(n))+eps)))
	for i := range dst[:n] {
		y := dst[i] * scale
		if w != nil {
			y *= w[i]
		}
		if b != nil {
			y += b[i]
		}
		dst[i] = y
	}
}
