package model

import (
	"fmt"
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// The llama architecture (general.architecture "llama"): Llama 1/2/3,
// Mistral, Mixtral and the many models converted to its layout. Each block
// is pre-norm attention with RoPE (adjacent pairs) and grouped-query heads,
// then a pre-norm SwiGLU feed forward, or a mixture of SwiGLU experts
// chosen by a softmax router (Mixtral).

// llamaLayer holds one block's weights.
type llamaLayer struct {
	attnNorm []float32
	qkvProj
	wo                cpu.Matrix
	bo                []float32
	ffnNorm           []float32
	gate, up, down    cpu.Matrix
	bGate, bUp, bDown []float32
	qNorm, kNorm      []float32  // per-head RMS norms of queries and keys (qwen3), or nil
	router            cpu.Matrix // MoE router (ffn_gate_inp)
	gateE, upE, downE []cpu.Matrix
	// The shared expert beside the routed ones (qwen2moe), its output
	// scaled by the sigmoid of shGateInp·x.
	shGate, shUp, shDown cpu.Matrix
	shGateInp            []float32
}

type llama struct {
	hp      HParams
	tokEmbd cpu.Matrix
	outNorm []float32
	output  cpu.Matrix
	layers  []llamaLayer
	rope    rope
	// ropeLong, when set, is the rotary embedding of contexts longer than
	// the original one (Phi-3's LongRoPE factors); rope then holds the
	// short factors.
	ropeLong *rope
	kqScale  float32
	v        llamaVariant
	ffShared int // the shared expert's hidden width (qwen2moe), or 0
}

// readHParams reads the hyperparameters most architectures share.
func (l *loader) readHParams() (HParams, error) {
	var hp HParams
	var err error
	get := func(dst *int, suffix string, def int, required bool) {
		if err == nil {
			*dst, err = l.uintKey(suffix, def, required)
		}
	}
	get(&hp.Embd, "embedding_length", 0, true)
	get(&hp.Layers, "block_count", 0, true)
	get(&hp.FF, "feed_forward_length", 0, true)
	get(&hp.Heads, "attention.head_count", 0, true)
	get(&hp.ContextLength, "context_length", 0, false)
	if err != nil {
		return hp, err
	}
	get(&hp.HeadsKV, "attention.head_count_kv", hp.Heads, false)
	if err == nil && (hp.Embd <= 0 || hp.Layers <= 0 || hp.Heads <= 0 || hp.FF <= 0) {
		err = fmt.Errorf("embedding_length %d, block_count %d, feed_forward_length %d and attention.head_count %d must be positive", hp.Embd, hp.Layers, hp.FF, hp.Heads)
	}
	if err == nil && hp.Embd%hp.Heads != 0 {
		// Only the default key/value length needs this.
		hp.HeadDimK = -1
	}
	def := 0
	if hp.Heads > 0 && hp.Embd%hp.Heads == 0 {
		def = hp.Embd / hp.Heads
	}
	get(&hp.HeadDimK, "attention.key_length", def, false)
	get(&hp.HeadDimV, "attention.value_length", def, false)
	get(&hp.RopeDims, "rope.dimension_count", hp.HeadDimK, false)
	get(&hp.Experts, "expert_count", 0, false)
	get(&hp.ExpertsUsed, "expert_used_count", 0, false)
	if err != nil {
		return hp, err
	}
	switch {
	case hp.HeadDimK <= 0 || hp.HeadDimV <= 0:
		return hp, fmt.Errorf("attention.key_length/value_length must be set when embedding_length %d is not a multiple of head_count %d", hp.Embd, hp.Heads)
	case hp.HeadsKV <= 0 || hp.Heads%hp.HeadsKV != 0:
		return hp, fmt.Errorf("attention.head_count %d is not a multiple of attention.head_count_kv %d", hp.Heads, hp.HeadsKV)
	case hp.RopeDims <= 0 || hp.RopeDims%2 != 0 || hp.RopeDims > hp.HeadDimK:
		return hp, fmt.Errorf("rope.dimension_count %d must be even and at most the head size %d", hp.RopeDims, hp.HeadDimK)
	case hp.Experts < 0 || hp.ExpertsUsed < 0 || (hp.Experts > 0 && (hp.ExpertsUsed == 0 || hp.ExpertsUsed > hp.Experts)):
		return hp, fmt.Errorf("expert_used_count %d must be between 1 and expert_count %d", hp.ExpertsUsed, hp.Experts)
	}
	eps, err := l.floatKey("attention.layer_norm_rms_epsilon", 1e-5)
	if err != nil {
		return hp, err
	}
	hp.RMSEps = eps
	if hp.RopeFreqBase, err = l.floatKey("rope.freq_base", 10000); err != nil {
		return hp, err
	}
	if hp.RopeScaling, err = l.stringKey("rope.scaling.type", "linear"); err != nil {
		return hp, err
	}
	factor, err := l.floatKey("rope.scaling.factor", 0)
	if err != nil {
		return hp, err
	}
	if factor == 0 {
		if factor, err = l.floatKey("rope.scale_linear", 0); err != nil {
			return hp, err
		}
	}
	hp.RopeFreqScale = 1
	if factor != 0 {
		hp.RopeFreqScale = 1 / factor
	}
	switch hp.RopeScaling {
	case "none":
		hp.RopeFreqScale = 1
	case "linear", "yarn", "longrope":
	default:
		return hp, fmt.Errorf("metadata key %q: unsupported RoPE scaling %q", l.key("rope.scaling.type"), hp.RopeScaling)
	}
	if hp.RopeOrigCtx, err = l.uintKey("rope.scaling.original_context_length", hp.ContextLength, false); err != nil {
		return hp, err
	}
	if hp.RopeAttnFactor, err = l.floatKey("rope.scaling.attn_factor", 1); err != nil {
		return hp, err
	}
	if hp.ContextLength <= 0 {
		hp.ContextLength = 4096
	}
	return hp, nil
}

// vocabSize returns the vocabulary size: the tokenizer's token count when
// present, else the rows of token_embd.weight.
func (l *loader) vocabSize() (int, error) {
	if toks, err := l.f.GetStrings("tokenizer.ggml.tokens"); err == nil && len(toks) > 0 {
		return len(toks), nil
	}
	t, ok := l.f.Tensor("token_embd.weight")
	if !ok {
		return 0, fmt.Errorf("%w %q", ErrMissingTensor, "token_embd.weight")
	}
	if len(t.Dims) < 2 {
		return 0, fmt.Errorf("tensor %q: %w: want 2 dimensions, have %v", t.Name, ErrTensorShape, t.Dims)
	}
	return int(t.Dims[1]), nil
}

// ropeFor builds the rotary embedding for hp, with optional per-frequency
// factors.
func ropeFor(hp HParams, mode ropeMode, factors []float32) rope {
	r := rope{
		mode:       mode,
		nRot:       hp.RopeDims,
		freqBase:   hp.RopeFreqBase,
		freqScale:  hp.RopeFreqScale,
		attnFactor: hp.RopeAttnFactor,
		factors:    factors,
	}
	if r.attnFactor == 0 {
		r.attnFactor = 1
	}
	if hp.RopeScaling == "yarn" {
		r.extFactor = 1
		if factor := 1 / hp.RopeFreqScale; factor > 1 {
			// llama.cpp's magnitude correction, cancelled against the one
			// the rotation applies when extrapolating.
			mscale := 0.1*float32(math.Log(float64(factor))) + 1
			r.attnFactor *= mscale / (1 + 0.1*float32(math.Log(float64(factor))))
		}
	}
	return newRope(r, hp.RopeOrigCtx, 32, 1)
}

func loadLlama(l *loader) (network, HParams, error) { return loadDecoder(l, llamaVariant{}) }

// llamaVariant is how a family differs from llama in the same graph (see
// qwen.go): which elements RoPE rotates together, and the per-head
// query and key norms.
type llamaVariant struct {
	rope   ropeMode
	qkNorm bool // attn_q_norm and attn_k_norm, required
	// fusedGateUp: ffn_up holds the gate and up projections stacked,
	// gate first (Phi-3); no ffn_gate.
	fusedGateUp bool
	// longShortRope: rope_factors_long/short choose the frequencies by
	// the context's length against the original one (Phi-3).
	longShortRope bool
	// Mixtures of experts: the chosen experts' weights are renormalized
	// to sum to 1 unless moeRawWeights (qwen2moe); expertFF reads the
	// experts' width from expert_feed_forward_length (Qwen's MoE, where
	// feed_forward_length is not per expert); sharedExpert adds the
	// gated shared expert.
	moeRawWeights bool
	expertFF      bool
	sharedExpert  bool
}

// loadDecoder loads a model of llama's graph in the variant v.
func loadDecoder(l *loader, v llamaVariant) (network, HParams, error) {
	hp, err := l.readHParams()
	if err != nil {
		return nil, hp, err
	}
	if hp.Vocab, err = l.vocabSize(); err != nil {
		return nil, hp, err
	}
	if hp.HeadDimK != hp.HeadDimV || hp.RopeDims != hp.HeadDimK {
		return nil, hp, fmt.Errorf("llama needs equal key, value and rotary sizes (have %d, %d, %d)", hp.HeadDimK, hp.HeadDimV, hp.RopeDims)
	}
	n := &llama{hp: hp, v: v}
	if v.expertFF && hp.Experts > 0 {
		// llama.cpp: expert_feed_forward_length, else n_ff / n_expert_used;
		// the shared expert: expert_shared_feed_forward_length, else n_ff.
		dense := hp.FF
		if hp.FF, err = l.uintKey("expert_feed_forward_length", dense/max(hp.ExpertsUsed, 1), false); err != nil {
			return nil, hp, err
		}
		if v.sharedExpert {
			if n.ffShared, err = l.uintKey("expert_shared_feed_forward_length", dense, false); err != nil {
				return nil, hp, err
			}
		}
		n.hp = hp
	}
	d, ff := hp.Embd, hp.FF
	dq, dkv := hp.Heads*hp.HeadDimK, hp.HeadsKV*hp.HeadDimK
	mat, vec := l.readers(&err)
	mat(&n.tokEmbd, "token_embd.weight", d, hp.Vocab)
	vec(&n.outNorm, "output_norm.weight", d, false)
	if err != nil {
		return nil, hp, err
	}
	var ok bool
	if n.output, ok, err = l.matrix("output.weight", true, d, hp.Vocab); err != nil {
		return nil, hp, err
	}
	if !ok {
		n.output = n.tokEmbd // tied embeddings
	}
	var factors []float32
	if factors, err = l.vector("rope_freqs.weight", true, hp.RopeDims/2); err != nil {
		return nil, hp, err
	}
	n.layers = make([]llamaLayer, hp.Layers)
	for i := range n.layers {
		L := &n.layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		vec(&L.attnNorm, p+"attn_norm.weight", d, false)
		if err != nil {
			return nil, hp, err
		}
		if err = l.readQKV(&L.qkvProj, p, d, dq, dkv); err != nil {
			return nil, hp, err
		}
		if v.qkNorm {
			vec(&L.qNorm, p+"attn_q_norm.weight", hp.HeadDimK, false)
			vec(&L.kNorm, p+"attn_k_norm.weight", hp.HeadDimK, false)
		}
		mat(&L.wo, p+"attn_output.weight", dq, d)
		vec(&L.bo, p+"attn_output.bias", d, true)
		vec(&L.ffnNorm, p+"ffn_norm.weight", d, false)
		if hp.Experts == 0 && v.fusedGateUp {
			var gateUp cpu.Matrix
			mat(&gateUp, p+"ffn_up.weight", d, 2*ff)
			if err == nil {
				L.gate, L.up = gateUp.Slice(0, ff), gateUp.Slice(ff, ff)
			}
			mat(&L.down, p+"ffn_down.weight", ff, d)
		} else if hp.Experts == 0 {
			mat(&L.gate, p+"ffn_gate.weight", d, ff)
			mat(&L.up, p+"ffn_up.weight", d, ff)
			mat(&L.down, p+"ffn_down.weight", ff, d)
			vec(&L.bGate, p+"ffn_gate.bias", ff, true)
			vec(&L.bUp, p+"ffn_up.bias", ff, true)
			vec(&L.bDown, p+"ffn_down.bias", d, true)
		} else {
			mat(&L.router, p+"ffn_gate_inp.weight", d, hp.Experts)
			if err == nil {
				L.gateE, err = l.experts(p+"ffn_gate_exps.weight", false, d, ff, hp.Experts)
			}
			if err == nil {
				L.upE, err = l.experts(p+"ffn_up_exps.weight", false, d, ff, hp.Experts)
			}
			if err == nil {
				L.downE, err = l.experts(p+"ffn_down_exps.weight", false, ff, d, hp.Experts)
			}
			if v.sharedExpert {
				vec(&L.shGateInp, p+"ffn_gate_inp_shexp.weight", d, false)
				mat(&L.shGate, p+"ffn_gate_shexp.weight", d, n.ffShared)
				mat(&L.shUp, p+"ffn_up_shexp.weight", d, n.ffShared)
				mat(&L.shDown, p+"ffn_down_shexp.weight", n.ffShared, d)
			}
		}
		if err != nil {
			return nil, hp, err
		}
	}
	n.rope = ropeFor(hp, v.rope, factors)
	if v.longShortRope {
		var short, long []float32
		if short, err = l.vector("rope_factors_short.weight", true, hp.RopeDims/2); err != nil {
			return nil, hp, err
		}
		if long, err = l.vector("rope_factors_long.weight", true, hp.RopeDims/2); err != nil {
			return nil, hp, err
		}
		if short != nil {
			n.rope = ropeFor(hp, v.rope, short)
		}
		if long != nil {
			r := ropeFor(hp, v.rope, long)
			n.ropeLong = &r
		}
	}
	n.kqScale = 1 / float32(math.Sqrt(float64(hp.HeadDimK)))
	return n, hp, nil
}

func (n *llama) scratch() scratchSizes {
	hp := n.hp
	ss := scratchSizes{
		q:   hp.Heads * hp.HeadDimK,
		k:   hp.HeadsKV * hp.HeadDimK,
		v:   hp.HeadsKV * hp.HeadDimV,
		att: hp.Heads * hp.HeadDimV,
		ff:  max(hp.FF, n.ffShared),
	}
	if hp.Experts > 0 {
		ss.router = hp.Experts
		ss.expertsUsed = hp.ExpertsUsed
	}
	for _, L := range n.layers {
		ss.fused = max(ss.fused, L.fusedWidth())
	}
	return ss
}

// rotary returns the rotary embedding of a sequence of contextSize
// positions: with LongRoPE factors, the long ones past the original
// context, as llama.cpp chooses them by its n_ctx_seq.
func (n *llama) rotary(contextSize int) *rope {
	if n.ropeLong != nil && contextSize > n.hp.RopeOrigCtx {
		return n.ropeLong
	}
	return &n.rope
}

// forward evaluates the batch s.rows (one token each) and writes the
// logits (or, for an embeddings batch, the normalized hidden states) of
// the rows s.outRows names.
func (n *llama) forward(s *Runner, tokens []int32) {
	hp := n.hp
	d := hp.Embd
	nt := len(tokens)
	// The single-token decode has no shared expert: such models take
	// this pass for one token too.
	if nt == 1 && s.dec.team != nil && !s.embd && !n.v.sharedExpert && len(s.inEmbd) == 0 {
		n.decode(s, tokens[0])
		return
	}
	dq, dkv := hp.Heads*hp.HeadDimK, hp.HeadsKV*hp.HeadDimK
	x := s.x[:nt*d]
	for i, t := range tokens {
		s.inputRow(n.tokEmbd, i, t, x[i*d:(i+1)*d])
	}
	rc := s.ropeCache[:nt*hp.RopeDims]
	for i := 0; i < nt; i++ {
		n.rotary(s.rows[i].seq.kv.size).cache(s.rows[i].pos, rc[i*hp.RopeDims:(i+1)*hp.RopeDims])
	}
	xn := s.xn[:nt*d]
	out := s.tmp[:nt*d]
	s.addNorm(x, nil, xn, n.layers[0].attnNorm, hp.RMSEps, nt, d)
	for il := range n.layers {
		if s.stopped() {
			return // the caller sees it too and discards the pass
		}
		L := &n.layers[il]
		q, k, v := s.q[:nt*dq], s.k[:nt*dkv], s.v[:nt*dkv]
		var qkv []float32
		if L.fused {
			qkv = s.qkv[:nt*(dq+2*dkv)]
			s.matmul(L.wqkv, xn, nt, qkv)
			s.ropeStore(il, nt, qkv, sub(L.bqkv, 0, dq), sub(L.bqkv, dq, dq+dkv), sub(L.bqkv, dq+dkv, dq+2*dkv), L.qNorm, L.kNorm, &n.rope)
		} else {
			s.matmuls(xn, nt, []cpu.Matrix{L.wq, L.wk, L.wv}, [][]float32{q, k, v})
			s.ropeStore(il, nt, nil, L.bq, L.bk, L.bv, L.qNorm, L.kNorm, &n.rope)
		}
		s.attention(il, n.kqScale)
		s.matmul(L.wo, s.att, nt, out)
		if il == len(n.layers)-1 && len(s.outRows) < nt {
			// Only some rows' outputs are wanted: finish just those.
			if nt = s.gatherOut(x, out, d); nt == 0 {
				return // the caches were all this batch was for
			}
			x, xn, out = x[:nt*d], xn[:nt*d], out[:nt*d]
		}
		addBias(out, L.bo, nt)
		s.addNorm(x, out, xn, L.ffnNorm, hp.RMSEps, nt, d)
		if hp.Experts == 0 {
			gate, up := s.gate[:nt*hp.FF], s.up[:nt*hp.FF]
			s.matmuls(xn, nt, []cpu.Matrix{L.gate, L.up}, [][]float32{gate, up})
			addBias(gate, L.bGate, nt)
			addBias(up, L.bUp, nt)
			s.swiglu(gate, up, nt, hp.FF)
			s.matmul(L.down, gate, nt, out)
			addBias(out, L.bDown, nt)
		} else {
			s.moe(L.router, L.gateE, L.upE, L.downE, xn, nt, out, !n.v.moeRawWeights)
			if n.v.sharedExpert {
				n.sharedExpert(s, L, xn, nt, out)
			}
		}
		norm := n.outNorm
		if il+1 < len(n.layers) {
			norm = n.layers[il+1].attnNorm
		}
		s.addNorm(x, out, xn, norm, hp.RMSEps, nt, d)
	}
	if s.embd {
		copy(s.outRowsDst(nt, d), xn)
		return
	}
	s.matmul(n.output, xn, nt, s.outRowsDst(nt, hp.Vocab))
}

// sub returns b[lo:hi], or nil for a nil b.
func sub(b []float32, lo, hi int) []float32 {
	if b == nil {
		return nil
	}
	return b[lo:hi]
}

// addBias adds b to each of n rows of x (no-op for nil b).
func addBias(x, b []float32, n int) {
	if b == nil {
		return
	}
	d := len(b)
	for i := 0; i < n; i++ {
		add(x[i*d:(i+1)*d], b)
	}
}

// sharedExpert adds to out (n rows) the shared expert's SwiGLU feed
// forward of xn, each row scaled by sigmoid(shGateInp·xn), computed as
// llama.cpp does: silu(g)/g.
func (n *llama) sharedExpert(s *Runner, L *llamaLayer, xn []float32, nt int, out []float32) {
	d, ff := n.hp.Embd, n.ffShared
	g, u := s.gate[:nt*ff], s.up[:nt*ff]
	s.matmuls(xn, nt, []cpu.Matrix{L.shGate, L.shUp}, [][]float32{g, u})
	s.swiglu(g, u, nt, ff)
	dn := s.tmpE[:nt*d]
	s.matmul(L.shDown, g, nt, dn)
	for i := 0; i < nt; i++ {
		z := cpu.Dot(xn[i*d:(i+1)*d], L.shGateInp)
		gate := z / (1 + float32(math.Exp(float64(-z)))) / z
		o, sh := out[i*d:(i+1)*d], dn[i*d:(i+1)*d]
		for k := range o {
			o[k] += sh[k] * gate
		}
	}
}
