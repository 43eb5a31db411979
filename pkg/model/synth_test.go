package model

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/llamafile-go/llamafile/internal/synth"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// synthSpec describes a small random llama model written by writeSynth.
// Every weight comes from a fixed pseudo-random sequence, so the file is
// the same byte for byte on every run and platform; that is what lets the
// reference tables in heldout_test.go hold llama.cpp's logits for it.
type synthSpec struct {
	embd, layers, ff, heads, headsKV, headDim, vocab int
	experts, used                                    int
	typ                                              ggml.Type // matrix type: F32, F16 or Q8_0
	tied                                             bool      // no output.weight
	ropeBase                                         float32
	seed                                             uint64
	arch                                             string // general.architecture; "" is llama
	qkvBias                                          bool   // attn_q/k/v.bias (qwen2)
	qkNorm                                           bool   // attn_q_norm/attn_k_norm (qwen3)
	ffExp                                            int    // expert_feed_forward_length (qwen MoE), 0: ff
	ffShared                                         int    // the shared expert's width (qwen2moe), 0: none
	fusedQKV, fusedGateUp                            bool   // attn_qkv, ffn_up of gate and up (phi3)
	longShortRope                                    bool   // rope_factors_long/short (phi3)
	origCtx                                          int    // rope.scaling.original_context_length, 0: none
	ropeAttnFactor                                   float32
	layerNorm                                        bool // LayerNorm with biases (stablelm)
	headNorms                                        bool // a q/k norm weight per head (stablelm)
	parallelFFN                                      bool // no ffn_norm: parallel residual (stablelm)
	ropeDims                                         int  // rotated elements per head, 0: all
	// edit, when set, changes the metadata and tensors before writing
	// (to build broken files).
	edit func(kv []gguf.KV, tensors []gguf.TensorInfo, data [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte)
}

// rng and encode are internal/synth's, under the names these tests use.
type rng = synth.Rand

func encode(typ ggml.Type, x []float32) []byte { return synth.Encode(typ, x) }

// writeSynth writes the model sp describes to dir and returns its path.
func writeSynth(t testing.TB, dir string, sp synthSpec) string {
	t.Helper()
	r := rng(sp.seed)
	var tensors []gguf.TensorInfo
	var data [][]byte
	addT := func(name string, typ ggml.Type, scale, offset float32, dims ...uint64) {
		n := uint64(1)
		for _, d := range dims {
			n *= d
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = offset + scale*r.Uniform()
		}
		tensors = append(tensors, gguf.TensorInfo{Name: name, Dims: dims, Type: typ})
		data = append(data, encode(typ, x))
	}
	u := func(n int) uint64 { return uint64(n) }
	d, ff, dq, dkv := sp.embd, sp.ff, sp.heads*sp.headDim, sp.headsKV*sp.headDim
	ws := func(cols int) float32 { return 1.5 / float32(math.Sqrt(float64(cols))) }
	addT("token_embd.weight", sp.typ, 1, 0, u(d), u(sp.vocab))
	addT("output_norm.weight", ggml.TypeF32, 0.2, 1, u(d))
	if sp.layerNorm {
		addT("output_norm.bias", ggml.TypeF32, 0.2, 0, u(d))
	}
	if !sp.tied {
		addT("output.weight", sp.typ, ws(d), 0, u(d), u(sp.vocab))
	}
	for l := 0; l < sp.layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		addT(p+"attn_norm.weight", ggml.TypeF32, 0.2, 1, u(d))
		if sp.layerNorm {
			addT(p+"attn_norm.bias", ggml.TypeF32, 0.2, 0, u(d))
		}
		if sp.fusedQKV {
			addT(p+"attn_qkv.weight", sp.typ, ws(d), 0, u(d), u(dq+2*dkv))
		} else {
			addT(p+"attn_q.weight", sp.typ, ws(d), 0, u(d), u(dq))
			addT(p+"attn_k.weight", sp.typ, ws(d), 0, u(d), u(dkv))
			addT(p+"attn_v.weight", sp.typ, ws(d), 0, u(d), u(dkv))
		}
		if sp.qkvBias {
			addT(p+"attn_q.bias", ggml.TypeF32, 0.5, 0, u(dq))
			addT(p+"attn_k.bias", ggml.TypeF32, 0.5, 0, u(dkv))
			addT(p+"attn_v.bias", ggml.TypeF32, 0.5, 0, u(dkv))
		}
		if sp.qkNorm {
			addT(p+"attn_q_norm.weight", ggml.TypeF32, 0.3, 1, u(sp.headDim))
			addT(p+"attn_k_norm.weight", ggml.TypeF32, 0.3, 1, u(sp.headDim))
		}
		if sp.headNorms {
			addT(p+"attn_q_norm.weight", ggml.TypeF32, 0.3, 1, u(sp.headDim), u(sp.heads))
			addT(p+"attn_k_norm.weight", ggml.TypeF32, 0.3, 1, u(sp.headDim), u(sp.headsKV))
		}
		addT(p+"attn_output.weight", sp.typ, ws(dq), 0, u(dq), u(d))
		if !sp.parallelFFN {
			addT(p+"ffn_norm.weight", ggml.TypeF32, 0.2, 1, u(d))
			if sp.layerNorm {
				addT(p+"ffn_norm.bias", ggml.TypeF32, 0.2, 0, u(d))
			}
		}
		if sp.experts == 0 && sp.fusedGateUp {
			addT(p+"ffn_up.weight", sp.typ, ws(d), 0, u(d), u(2*ff))
			addT(p+"ffn_down.weight", sp.typ, ws(ff), 0, u(ff), u(d))
		} else if sp.experts == 0 {
			addT(p+"ffn_gate.weight", sp.typ, ws(d), 0, u(d), u(ff))
			addT(p+"ffn_up.weight", sp.typ, ws(d), 0, u(d), u(ff))
			addT(p+"ffn_down.weight", sp.typ, ws(ff), 0, u(ff), u(d))
		} else {
			fe := ff
			if sp.ffExp > 0 {
				fe = sp.ffExp
			}
			addT(p+"ffn_gate_inp.weight", ggml.TypeF32, ws(d), 0, u(d), u(sp.experts))
			addT(p+"ffn_gate_exps.weight", sp.typ, ws(d), 0, u(d), u(fe), u(sp.experts))
			addT(p+"ffn_up_exps.weight", sp.typ, ws(d), 0, u(d), u(fe), u(sp.experts))
			addT(p+"ffn_down_exps.weight", sp.typ, ws(fe), 0, u(fe), u(d), u(sp.experts))
			if fs := sp.ffShared; fs > 0 {
				addT(p+"ffn_gate_inp_shexp.weight", ggml.TypeF32, ws(d), 0, u(d))
				addT(p+"ffn_gate_shexp.weight", sp.typ, ws(d), 0, u(d), u(fs))
				addT(p+"ffn_up_shexp.weight", sp.typ, ws(d), 0, u(d), u(fs))
				addT(p+"ffn_down_shexp.weight", sp.typ, ws(fs), 0, u(fs), u(d))
			}
		}
	}
	if sp.longShortRope {
		// Per-frequency divisors: short ones near 1, long ones up to 16.
		short, long := make([]float32, sp.headDim/2), make([]float32, sp.headDim/2)
		for i := range short {
			short[i] = 1 + 0.5*float32(i)/float32(len(short))
			long[i] = 1 + 15*float32(i)/float32(len(long)-1)
		}
		for _, f := range []struct {
			name string
			v    []float32
		}{{"rope_factors_long.weight", long}, {"rope_factors_short.weight", short}} {
			tensors = append(tensors, gguf.TensorInfo{Name: f.name, Dims: []uint64{u(sp.headDim / 2)}, Type: ggml.TypeF32})
			data = append(data, encode(ggml.TypeF32, f.v))
		}
	}
	// A SentencePiece-style vocabulary: control tokens, the 256 byte
	// tokens llama.cpp expects, then plain pieces.
	toks := []string{"<unk>", "<s>", "</s>"}
	types := []int32{2, 3, 3}
	for b := 0; b < 256; b++ {
		toks = append(toks, fmt.Sprintf("<0x%02X>", b))
		types = append(types, 6)
	}
	for i := 0; len(toks) < sp.vocab; i++ {
		toks = append(toks, fmt.Sprintf("\u2581w%d", i))
		types = append(types, 1)
	}
	scores := make([]float32, len(toks))
	for i := range scores {
		scores[i] = -float32(i)
	}
	arch := sp.arch
	if arch == "" {
		arch = "llama"
	}
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.MustValueOf(arch)},
		{Key: "general.name", Value: gguf.MustValueOf("synth")},
		{Key: arch + ".context_length", Value: gguf.MustValueOf(uint32(256))},
		{Key: arch + ".embedding_length", Value: gguf.MustValueOf(uint32(d))},
		{Key: arch + ".block_count", Value: gguf.MustValueOf(uint32(sp.layers))},
		{Key: arch + ".feed_forward_length", Value: gguf.MustValueOf(uint32(ff))},
		{Key: arch + ".attention.head_count", Value: gguf.MustValueOf(uint32(sp.heads))},
		{Key: arch + ".attention.head_count_kv", Value: gguf.MustValueOf(uint32(sp.headsKV))},
		{Key: arch + ".attention.key_length", Value: gguf.MustValueOf(uint32(sp.headDim))},
		{Key: arch + ".attention.value_length", Value: gguf.MustValueOf(uint32(sp.headDim))},
		{Key: arch + ".rope.dimension_count", Value: gguf.MustValueOf(uint32(cmp.Or(sp.ropeDims, sp.headDim)))},
		{Key: arch + ".rope.freq_base", Value: gguf.MustValueOf(sp.ropeBase)},
		{Key: arch + map[bool]string{false: ".attention.layer_norm_rms_epsilon", true: ".attention.layer_norm_epsilon"}[sp.layerNorm], Value: gguf.MustValueOf(float32(1e-5))},
		{Key: "tokenizer.ggml.model", Value: gguf.MustValueOf("llama")},
		{Key: "tokenizer.ggml.tokens", Value: gguf.MustValueOf(toks)},
		{Key: "tokenizer.ggml.scores", Value: gguf.MustValueOf(scores)},
		{Key: "tokenizer.ggml.token_type", Value: gguf.MustValueOf(types)},
		{Key: "tokenizer.ggml.bos_token_id", Value: gguf.MustValueOf(uint32(1))},
		{Key: "tokenizer.ggml.eos_token_id", Value: gguf.MustValueOf(uint32(2))},
	}
	if sp.origCtx > 0 {
		kv = append(kv, gguf.KV{Key: arch + ".rope.scaling.original_context_length", Value: gguf.MustValueOf(uint32(sp.origCtx))})
	}
	if sp.ropeAttnFactor != 0 {
		kv = append(kv, gguf.KV{Key: arch + ".rope.scaling.attn_factor", Value: gguf.MustValueOf(sp.ropeAttnFactor)})
	}
	if sp.experts > 0 {
		kv = append(kv,
			gguf.KV{Key: arch + ".expert_count", Value: gguf.MustValueOf(uint32(sp.experts))},
			gguf.KV{Key: arch + ".expert_used_count", Value: gguf.MustValueOf(uint32(sp.used))})
		if sp.ffExp > 0 {
			kv = append(kv, gguf.KV{Key: arch + ".expert_feed_forward_length", Value: gguf.MustValueOf(uint32(sp.ffExp))})
		}
		if sp.ffShared > 0 {
			kv = append(kv, gguf.KV{Key: arch + ".expert_shared_feed_forward_length", Value: gguf.MustValueOf(uint32(sp.ffShared))})
		}
	}
	if sp.edit != nil {
		kv, tensors, data = sp.edit(kv, tensors, data)
	}
	path := filepath.Join(dir, fmt.Sprintf("synth-%d.gguf", sp.seed))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := gguf.Write(f, kv, tensors, func(i int) ([]byte, error) { return data[i], nil }); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
