package model

import (
	"errors"
	"fmt"
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// The BERT encoders (general.architecture "bert": BGE, mxbai-embed-large,
// MiniLM, BERT rerankers; "nomic-bert": nomic-embed-text), as llama.cpp's
// graph (src/models/bert.cpp, which serves both) computes them:
//
//   - the input is the token's embedding plus row 0 of token_types
//     (every token is of "sentence A") plus, for bert, the absolute
//     position embedding, then a LayerNorm (token_embd_norm, with bias);
//   - blocks are post-norm: attention (queries, keys and values with
//     biases, or one fused attn_qkv; nomic-bert rotates them with
//     gpt-neox RoPE) with no causal mask, its output projection plus the
//     block's input, LayerNorm (attn_output_norm); then the feed forward
//     (bert: up with bias, ggml's GELU, down with bias; nomic-bert: SwiGLU
//     without biases) plus its input, LayerNorm (layer_output_norm);
//   - there is no output norm nor output matrix: the last block's output
//     is the hidden state that pooling reads, and the model has no logits.
//
// A reranker's classifier head (cls, cls.output) is applied by Rank to the
// pooled hidden state of the first token.

type bertLayer struct {
	qkvProj
	wo                        cpu.Matrix
	bo                        []float32
	attnOutNorm, attnOutNormB []float32
	gate, up, down            cpu.Matrix // gate: nomic-bert only
	upB, downB                []float32
	outNorm, outNormB         []float32
}

type bert struct {
	hp                HParams
	nomic             bool
	eps               float32
	tokEmbd, posEmbd  cpu.Matrix // posEmbd: bert only
	typeEmbd          []float32  // token_types row 0, or nil
	tokNorm, tokNormB []float32
	layers            []bertLayer
	rope              rope
	kqScale           float32
	gelu              *geluTable

	// The classifier head of rerankers (rank pooling), when present.
	cls, clsOut       cpu.Matrix
	hasCls, hasClsOut bool
	clsB, clsOutB     []float32
}

func loadBert(l *loader) (network, HParams, error)      { return loadBertGen(l, false) }
func loadNomicBert(l *loader) (network, HParams, error) { return loadBertGen(l, true) }

func loadBertGen(l *loader, nomic bool) (network, HParams, error) {
	hp, err := l.readHParams()
	if err != nil {
		return nil, hp, err
	}
	if hp.Vocab, err = l.vocabSize(); err != nil {
		return nil, hp, err
	}
	if hp.HeadDimK != hp.HeadDimV {
		return nil, hp, fmt.Errorf("%s needs equal key and value sizes (have %d, %d)", l.arch, hp.HeadDimK, hp.HeadDimV)
	}
	if hp.Experts > 0 {
		return nil, hp, fmt.Errorf("metadata key %q: mixture-of-experts BERT is not supported", l.key("expert_count"))
	}
	eps, err := l.floatKey("attention.layer_norm_epsilon", 1e-12)
	if err != nil {
		return nil, hp, err
	}
	if err := readEncoderHParams(l, &hp); err != nil {
		return nil, hp, err
	}
	n := &bert{hp: hp, nomic: nomic, eps: eps, gelu: newGeluTable()}
	d, ff, hd := hp.Embd, hp.FF, hp.HeadDimK
	dq, dkv := hp.Heads*hd, hp.HeadsKV*hd
	mat, vec := l.readers(&err)
	optMat := func(dst *cpu.Matrix, ok *bool, name string, cols, rows int) {
		if err == nil {
			*dst, *ok, err = l.matrix(name, true, cols, rows)
		}
	}
	mat(&n.tokEmbd, "token_embd.weight", d, hp.Vocab)
	if !nomic {
		mat(&n.posEmbd, "position_embd.weight", d, hp.ContextLength)
	}
	if err != nil {
		return nil, hp, err
	}
	if t, ok := l.f.Tensor("token_types.weight"); ok {
		if len(t.Dims) < 1 || int(t.Dims[0]) != d {
			return nil, hp, fmt.Errorf("tensor %q: %w: want %d columns, have %v", t.Name, ErrTensorShape, d, t.Dims)
		}
		rows := 1
		for _, x := range t.Dims[1:] {
			rows *= int(x)
		}
		var m cpu.Matrix
		if m, _, err = l.matrix(t.Name, false, d, rows); err != nil {
			return nil, hp, err
		}
		n.typeEmbd = make([]float32, d)
		cpu.Row(m, 0, n.typeEmbd)
	}
	vec(&n.tokNorm, "token_embd_norm.weight", d, false)
	vec(&n.tokNormB, "token_embd_norm.bias", d, false)
	n.layers = make([]bertLayer, hp.Layers)
	for i := range n.layers {
		L := &n.layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		if err == nil {
			err = l.readQKV(&L.qkvProj, p, d, dq, dkv)
		}
		mat(&L.wo, p+"attn_output.weight", dq, d)
		vec(&L.bo, p+"attn_output.bias", d, true)
		vec(&L.attnOutNorm, p+"attn_output_norm.weight", d, false)
		vec(&L.attnOutNormB, p+"attn_output_norm.bias", d, false)
		mat(&L.up, p+"ffn_up.weight", d, ff)
		vec(&L.upB, p+"ffn_up.bias", ff, true)
		if nomic {
			mat(&L.gate, p+"ffn_gate.weight", d, ff)
		}
		mat(&L.down, p+"ffn_down.weight", ff, d)
		vec(&L.downB, p+"ffn_down.bias", d, true)
		vec(&L.outNorm, p+"layer_output_norm.weight", d, false)
		vec(&L.outNormB, p+"layer_output_norm.bias", d, false)
		if err != nil {
			return nil, hp, err
		}
	}
	if !nomic {
		optMat(&n.cls, &n.hasCls, "cls.weight", d, d)
		if n.hasCls {
			vec(&n.clsB, "cls.bias", d, true)
		}
		if err == nil {
			if t, ok := l.f.Tensor("cls.output.weight"); ok && len(t.Dims) >= 1 {
				rows := 1
				if len(t.Dims) > 1 {
					rows = int(t.Dims[1])
				}
				optMat(&n.clsOut, &n.hasClsOut, "cls.output.weight", d, rows)
				if n.hasClsOut {
					vec(&n.clsOutB, "cls.output.bias", rows, true)
					n.hp.ClassOut = rows
				}
			}
		}
		if err != nil {
			return nil, hp, err
		}
	}
	if n.hp.ClassOut == 0 {
		n.hp.ClassOut = d
	}
	n.rope = ropeFor(hp, ropeNeox, nil)
	n.kqScale = 1 / float32(math.Sqrt(float64(hd)))
	return n, n.hp, nil
}

// readEncoderHParams reads what encoders add to HParams: attention.causal
// (false unless set).
func readEncoderHParams(l *loader, hp *HParams) error {
	hp.NonCausal = true
	b, err := l.f.GetBool(l.key("attention.causal"))
	switch {
	case err == nil:
		hp.NonCausal = !b
	case !errors.Is(err, gguf.ErrKeyNotFound):
		return fmt.Errorf("metadata key %q: %w", l.key("attention.causal"), err)
	}
	return nil
}

func (n *bert) scratch() scratchSizes {
	hp := n.hp
	ss := scratchSizes{q: hp.Heads * hp.HeadDimK, k: hp.HeadsKV * hp.HeadDimK, v: hp.HeadsKV * hp.HeadDimV, att: hp.Heads * hp.HeadDimV, ff: hp.FF}
	for _, L := range n.layers {
		ss.fused = max(ss.fused, L.fusedWidth())
	}
	return ss
}

func (n *bert) rotary(int) *rope { return &n.rope }

// forward evaluates the batch s.rows and writes the hidden states of the
// rows s.outRows names (the model has no logits: without embeddings the
// outputs are zeros), as llama.cpp's bert graph does.
func (n *bert) forward(s *Runner, tokens []int32) {
	hp := n.hp
	d, hd := hp.Embd, hp.HeadDimK
	nt := len(tokens)
	dq, dkv := hp.Heads*hd, hp.HeadsKV*hd
	x := s.x[:nt*d]
	pe := s.tmp[:d]
	for i, t := range tokens {
		row := x[i*d : (i+1)*d]
		cpu.Row(n.tokEmbd, int(t), row)
		if n.typeEmbd != nil {
			add(row, n.typeEmbd)
		}
		if !n.nomic {
			cpu.Row(n.posEmbd, min(s.rows[i].pos, n.posEmbd.Rows-1), pe)
			add(row, pe)
		}
	}
	layerNormRows(x, x, n.tokNorm, n.tokNormB, n.eps, nt, d)
	if n.nomic {
		rc := s.ropeCache[:nt*hp.RopeDims]
		for i := 0; i < nt; i++ {
			n.rope.cache(s.rows[i].pos, rc[i*hp.RopeDims:(i+1)*hp.RopeDims])
		}
	}
	mods := attnMods{nonCausal: hp.NonCausal}
	out := s.tmp[:nt*d]
	for il := range n.layers {
		if s.stopped() {
			return
		}
		L := &n.layers[il]
		q, k, v := s.q[:nt*dq], s.k[:nt*dkv], s.v[:nt*dkv]
		var qkv []float32
		if L.fused {
			qkv = s.qkv[:nt*(dq+2*dkv)]
			s.matmul(L.wqkv, x, nt, qkv)
			addBias(qkv, L.bqkv, nt)
		} else {
			s.matmuls(x, nt, []cpu.Matrix{L.wq, L.wk, L.wv}, [][]float32{q, k, v})
		}
		if n.nomic {
			s.ropeStore(il, nt, qkv, L.bq, L.bk, L.bv, nil, nil, &n.rope)
		} else {
			n.store(s, il, nt, qkv, L)
		}
		s.planAttention(il, n.kqScale)
		s.setAttnMods(mods)
		s.pool.Run(s.attn.slots, s.attnFn)
		s.matmul(L.wo, s.att, nt, out)
		addBias(out, L.bo, nt)
		if il == len(n.layers)-1 && len(s.outRows) < nt {
			if nt = s.gatherOut(x, out, d); nt == 0 {
				return
			}
			x, out = x[:nt*d], out[:nt*d]
		}
		add(x, out) // attention + the block's input
		layerNormRows(x, x, L.attnOutNorm, L.attnOutNormB, n.eps, nt, d)
		up := s.up[:nt*hp.FF]
		if n.nomic {
			gate := s.gate[:nt*hp.FF]
			s.matmuls(x, nt, []cpu.Matrix{L.gate, L.up}, [][]float32{gate, up})
			addBias(up, L.upB, nt)
			s.swiglu(gate, up, nt, hp.FF)
			up = gate
		} else {
			s.matmul(L.up, x, nt, up)
			addBias(up, L.upB, nt)
			n.gelu.gelu(up)
		}
		s.matmul(L.down, up, nt, out)
		addBias(out, L.downB, nt)
		add(x, out) // the feed forward + its input
		layerNormRows(x, x, L.outNorm, L.outNormB, n.eps, nt, d)
	}
	if s.embd {
		copy(s.outRowsDst(nt, d), x)
		return
	}
	clear(s.outRowsDst(nt, hp.Vocab))
}

// store adds the biases to the n rows' queries, keys and values (split
// from qkv when fused) and stores keys and values in the rows' caches
// (bert has no rotation).
func (n *bert) store(s *Runner, l, nt int, qkv []float32, L *bertLayer) {
	hp := n.hp
	dq, dk, dv := hp.Heads*hp.HeadDimK, hp.HeadsKV*hp.HeadDimK, hp.HeadsKV*hp.HeadDimV
	for i := 0; i < nt; i++ {
		q, k, v := s.q[i*dq:(i+1)*dq], s.k[i*dk:(i+1)*dk], s.v[i*dv:(i+1)*dv]
		if qkv != nil {
			row := qkv[i*(dq+dk+dv) : (i+1)*(dq+dk+dv)]
			copy(q, row[:dq])
			copy(k, row[dq:dq+dk])
			copy(v, row[dq+dk:])
		}
		if L.bq != nil {
			add(q, L.bq)
		}
		if L.bk != nil {
			add(k, L.bk)
		}
		if L.bv != nil {
			add(v, L.bv)
		}
		row := &s.rows[i]
		row.seq.kv.store(l, row.pos, k, v)
	}
}

// gelu applies ggml's GELU in place, through the F16 table as
// ggml_vec_gelu_f32 does.
func (t *geluTable) gelu(x []float32) {
	for i, v := range x {
		switch {
		case v <= -10:
			x[i] = 0
		case v >= 10:
		default:
			x[i] = ggml.FP16ToFP32(t[ggml.FP32ToFP16(v)])
		}
	}
}

// rank applies the classifier head to the pooled hidden state x (Embd
// values) into dst (ClassOut values), as llama.cpp's rank pooling does:
// cls and its bias then tanh, then cls.output and its bias.
func (n *bert) rank(s *Runner, x, dst []float32) {
	if n.hasCls {
		h := make([]float32, n.hp.Embd)
		s.matmul(n.cls, x, 1, h)
		addBias(h, n.clsB, 1)
		for i, v := range h {
			h[i] = float32(math.Tanh(float64(v)))
		}
		x = h
	}
	if n.hasClsOut {
		s.matmul(n.clsOut, x, 1, dst)
		addBias(dst, n.clsOutB, 1)
		return
	}
	copy(dst, x)
}

// ranker is implemented by networks with a classifier head for rank
// pooling (BERT rerankers).
type ranker interface {
	hasRankHead() bool
	rank(s *Runner, x, dst []float32)
}

func (n *bert) hasRankHead() bool { return n.hasCls || n.hasClsOut }

// Rank applies the model's classifier head (rank pooling) to a pooled
// hidden state (Embd values, the first token's) and returns its
// Params.ClassOut scores; models without a head return an error.
func (s *Runner) Rank(hidden []float32) ([]float32, error) {
	rk, ok := s.m.net.(ranker)
	if !ok || !rk.hasRankHead() {
		return nil, fmt.Errorf("model: %s has no classifier head for rank pooling", s.m.Arch)
	}
	if len(hidden) != s.m.Params.Embd {
		return nil, fmt.Errorf("model: rank: %d values, the model's width is %d", len(hidden), s.m.Params.Embd)
	}
	dst := make([]float32, s.m.Params.ClassOut)
	rk.rank(s, hidden, dst)
	return dst, nil
}
