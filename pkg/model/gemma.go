package model

import (
	"fmt"
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// The Gemma architectures (general.architecture "gemma", "gemma2",
// "gemma3"), as llama.cpp builds their graphs:
//
//   - Every family: the token embeddings scaled by √n_embd; pre-norm
//     attention with gpt-neox RoPE and the queries scaled before
//     attention (1/√head size, or 1/√(n_embd/heads) for the 27B models);
//     a GeGLU feed forward (GELU of the gate times up, with ggml's
//     table-based GELU); the output matrix tied to the embeddings. The
//     converter has already added 1 to the RMS norm weights, so they are
//     used as stored.
//   - Gemma 2 and 3 normalize the attention and feed-forward outputs again
//     (post_attention_norm, post_ffw_norm) before adding them to the
//     residual stream, and alternate sliding-window (local) layers with
//     global ones: every other layer local in Gemma 2 (a window of 4096
//     unless attention.sliding_window says otherwise), five local for one
//     global in Gemma 3 (only when attention.sliding_window is set), or
//     attention.sliding_window_pattern. Local layers rotate with
//     rope.freq_base_swa (Gemma 2: rope.freq_base by default; Gemma 3:
//     10000) and no RoPE scaling in Gemma 3.
//   - Gemma 2 soft-caps the attention scores (attn_logit_softcapping, 50
//     by default) and the logits (final_logit_softcapping, 30); Gemma 3
//     caps the logits only when final_logit_softcapping is set, and
//     RMS-normalizes each head of the queries and keys before RoPE.
//
// Single-token batches run through the batch path.

// gemmaGen is a Gemma generation: 1, 2 or 3.
type gemmaGen int

type gemmaLayer struct {
	attnNorm, postAttnNorm []float32 // post norm: nil in Gemma 1
	wq, wk, wv, wo         cpu.Matrix
	bq, bk, bv             []float32 // optional biases
	qNorm, kNorm           []float32 // per-head norms (Gemma 3), or nil
	ffnNorm, postFFNNorm   []float32
	gate, up, down         cpu.Matrix
	local                  bool // sliding-window layer
}

type gemma struct {
	hp        HParams
	tokEmbd   cpu.Matrix
	outNorm   []float32
	output    cpu.Matrix
	layers    []gemmaLayer
	global    rope // the rotary embedding of global layers
	local     rope // and of sliding-window ones
	window    int  // sliding window of local layers (0: none)
	embdScale float32
	qScale    float32
	attnCap   float32 // attention score soft-cap (0: none)
	finalCap  float32 // logit soft-cap (0: none)
	gelu      *geluTable
}

func loadGemma(l *loader) (network, HParams, error)  { return loadGemmaGen(l, 1) }
func loadGemma2(l *loader) (network, HParams, error) { return loadGemmaGen(l, 2) }
func loadGemma3(l *loader) (network, HParams, error) { return loadGemmaGen(l, 3) }

func loadGemmaGen(l *loader, gen gemmaGen) (network, HParams, error) {
	hp, err := l.readHParams()
	if err != nil {
		return nil, hp, err
	}
	if hp.Vocab, err = l.vocabSize(); err != nil {
		return nil, hp, err
	}
	if hp.Experts > 0 {
		return nil, hp, fmt.Errorf("gemma has no mixture-of-experts layers (expert_count %d)", hp.Experts)
	}
	if hp.HeadDimK != hp.HeadDimV {
		return nil, hp, fmt.Errorf("gemma needs equal key and value lengths (have %d, %d)", hp.HeadDimK, hp.HeadDimV)
	}
	n := &gemma{hp: hp, gelu: newGeluTable()}
	n.embdScale = float32(math.Sqrt(float64(hp.Embd)))
	n.qScale = 1 / float32(math.Sqrt(float64(hp.HeadDimK)))
	// llama.cpp's 27B models (by their layer count) scale by the width
	// per head instead.
	if (gen == 2 && hp.Layers == 46) || (gen == 3 && hp.Layers == 62) {
		n.qScale = 1 / float32(math.Sqrt(float64(hp.Embd/hp.Heads)))
	}

	// Sliding windows, their layers and RoPE, soft-capping.
	period := 0
	localBase, localScale := hp.RopeFreqBase, hp.RopeFreqScale
	switch gen {
	case 2:
		if n.window, err = l.uintKey("attention.sliding_window", 4096, false); err == nil {
			period, err = l.uintKey("attention.sliding_window_pattern", 2, false)
		}
		if err == nil {
			n.attnCap, err = l.floatKey("attn_logit_softcapping", 50)
		}
		if err == nil {
			n.finalCap, err = l.floatKey("final_logit_softcapping", 30)
		}
	case 3:
		if n.window, err = l.uintKey("attention.sliding_window", 0, false); err == nil && n.window > 0 {
			period, err = l.uintKey("attention.sliding_window_pattern", 6, false)
			localBase, localScale = 10000, 1
		}
		if err == nil {
			n.finalCap, err = l.floatKey("final_logit_softcapping", 0)
		}
	}
	if err == nil && n.window > 0 {
		localBase, err = l.floatKey("rope.freq_base_swa", localBase)
	}
	if err != nil {
		return nil, hp, err
	}
	if gen == 2 && n.finalCap == 0 {
		return nil, hp, fmt.Errorf("metadata key %q must not be 0", l.key("final_logit_softcapping"))
	}
	n.global = ropeFor(hp, ropeNeox, nil)
	lhp := hp
	lhp.RopeFreqBase, lhp.RopeFreqScale = localBase, localScale
	n.local = ropeFor(lhp, ropeNeox, nil)

	d, ff := hp.Embd, hp.FF
	dq, dkv := hp.Heads*hp.HeadDimK, hp.HeadsKV*hp.HeadDimK
	mat, vec := l.readers(&err)
	mat(&n.tokEmbd, "token_embd.weight", d, hp.Vocab)
	vec(&n.outNorm, "output_norm.weight", d, false)
	if err != nil {
		return nil, hp, err
	}
	n.output = n.tokEmbd
	if gen == 3 {
		// Gemma 3 alone takes an output matrix where there is one.
		var out cpu.Matrix
		var ok bool
		if out, ok, err = l.matrix("output.weight", true, d, hp.Vocab); err != nil {
			return nil, hp, err
		}
		if ok {
			n.output = out
		}
	}
	n.layers = make([]gemmaLayer, hp.Layers)
	for i := range n.layers {
		L := &n.layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		// llama.cpp's pattern: in each period, all layers but the last
		// are local.
		L.local = n.window > 0 && (period == 0 || i%period < period-1)
		vec(&L.attnNorm, p+"attn_norm.weight", d, false)
		mat(&L.wq, p+"attn_q.weight", d, dq)
		mat(&L.wk, p+"attn_k.weight", d, dkv)
		mat(&L.wv, p+"attn_v.weight", d, dkv)
		vec(&L.bq, p+"attn_q.bias", dq, true)
		vec(&L.bk, p+"attn_k.bias", dkv, true)
		vec(&L.bv, p+"attn_v.bias", dkv, true)
		mat(&L.wo, p+"attn_output.weight", dq, d)
		vec(&L.ffnNorm, p+"ffn_norm.weight", d, false)
		mat(&L.gate, p+"ffn_gate.weight", d, ff)
		mat(&L.up, p+"ffn_up.weight", d, ff)
		mat(&L.down, p+"ffn_down.weight", ff, d)
		if gen >= 2 {
			vec(&L.postAttnNorm, p+"post_attention_norm.weight", d, false)
			vec(&L.postFFNNorm, p+"post_ffw_norm.weight", d, false)
		}
		if gen == 3 {
			vec(&L.qNorm, p+"attn_q_norm.weight", hp.HeadDimK, false)
			vec(&L.kNorm, p+"attn_k_norm.weight", hp.HeadDimK, false)
		}
		if err != nil {
			return nil, hp, err
		}
	}
	return n, hp, nil
}

func (n *gemma) scratch() scratchSizes {
	hp := n.hp
	return scratchSizes{
		q:     hp.Heads * hp.HeadDimK,
		k:     hp.HeadsKV * hp.HeadDimK,
		v:     hp.HeadsKV * hp.HeadDimV,
		att:   hp.Heads * hp.HeadDimV,
		ff:    hp.FF,
		ropes: 2,
	}
}

// slidingWindow returns the window of the local layers and which they
// are, so that their caches keep only the window.
func (n *gemma) slidingWindow() (int, []bool) {
	local := make([]bool, len(n.layers))
	for i := range n.layers {
		local[i] = n.layers[i].local
	}
	return n.window, local
}

// rotary returns the global layers' rotary embedding.
func (n *gemma) rotary(int) *rope { return &n.global }

// layerRotary returns the rotary embedding of layer l.
func (n *gemma) layerRotary(l int) *rope {
	if n.layers[l].local {
		return &n.local
	}
	return &n.global
}

// forward evaluates the batch s.rows and writes the logits (or hidden
// states) of the rows s.outRows names.
func (n *gemma) forward(s *Runner, tokens []int32) {
	hp := n.hp
	d, nr, eps := hp.Embd, hp.RopeDims, hp.RMSEps
	nt := len(tokens)
	dq := hp.Heads * hp.HeadDimK
	x := s.x[:nt*d]
	for i, t := range tokens {
		row := x[i*d : (i+1)*d]
		cpu.Row(n.tokEmbd, int(t), row)
		cpu.Scale(row, n.embdScale)
	}
	// The rows' cos/sin caches, global then local.
	b := len(s.ropeCache) / 2
	rcGlobal, rcLocal := s.ropeCache[:nt*nr], s.ropeCache[b:b+nt*nr]
	for i := 0; i < nt; i++ {
		pos := s.rows[i].pos
		n.global.cache(pos, rcGlobal[i*nr:(i+1)*nr])
		if n.window > 0 {
			n.local.cache(pos, rcLocal[i*nr:(i+1)*nr])
		}
	}
	xn := s.xn[:nt*d]
	out := s.tmp[:nt*d]
	s.addNorm(x, nil, xn, n.layers[0].attnNorm, eps, nt, d)
	for il := range n.layers {
		if s.stopped() {
			return // the caller sees it too and discards the pass
		}
		L := &n.layers[il]
		r, rc, mods := &n.global, rcGlobal, attnMods{softcap: n.attnCap}
		if L.local {
			r, rc, mods.window = &n.local, rcLocal, n.window
		}
		q, k, v := s.q[:nt*dq], s.k[:nt*hp.HeadsKV*hp.HeadDimK], s.v[:nt*hp.HeadsKV*hp.HeadDimV]
		s.matmuls(xn, nt, []cpu.Matrix{L.wq, L.wk, L.wv}, [][]float32{q, k, v})
		s.ropeStoreCache(il, nt, nil, L.bq, L.bk, L.bv, L.qNorm, L.kNorm, r, rc)
		cpu.Scale(q, n.qScale)
		s.attentionMods(il, 1, mods)
		s.matmul(L.wo, s.att, nt, out)
		if il == len(n.layers)-1 && len(s.outRows) < nt {
			// Only some rows' outputs are wanted: finish just those.
			if nt = s.gatherOut(x, out, d); nt == 0 {
				return // the caches were all this batch was for
			}
			x, xn, out = x[:nt*d], xn[:nt*d], out[:nt*d]
		}
		if L.postAttnNorm != nil {
			s.addNorm(out, nil, out, L.postAttnNorm, eps, nt, d)
		}
		s.addNorm(x, out, xn, L.ffnNorm, eps, nt, d)
		gate, up := s.gate[:nt*hp.FF], s.up[:nt*hp.FF]
		s.matmuls(xn, nt, []cpu.Matrix{L.gate, L.up}, [][]float32{gate, up})
		s.geglu(n.gelu, gate, up, nt, hp.FF)
		s.matmul(L.down, gate, nt, out)
		if L.postFFNNorm != nil {
			s.addNorm(out, nil, out, L.postFFNNorm, eps, nt, d)
		}
		norm := n.outNorm
		if il+1 < len(n.layers) {
			norm = n.layers[il+1].attnNorm
		}
		s.addNorm(x, out, xn, norm, eps, nt, d)
	}
	if s.embd {
		copy(s.outRowsDst(nt, d), xn)
		return
	}
	logits := s.outRowsDst(nt, hp.Vocab)
	s.matmul(n.output, xn, nt, logits)
	if c := n.finalCap; c != 0 {
		// As llama.cpp's graph: scale by 1/c, tanh, scale by c.
		inv := 1 / c
		for i, z := range logits {
			logits[i] = c * float32(math.Tanh(float64(z*inv)))
		}
	}
}
