package quant

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// synthModel describes a small synthetic model whose shapes exercise the
// type rules. Weight matrices have only `rows` rows (their second
// dimension), whatever the hyperparameters say: the rules look at row
// lengths, names and hyperparameters, never at the number of rows, so the
// files stay small. The same descriptions produced the GGUF files that
// llama.cpp's quantizer was run on to make expectedTypes.
type synthModel struct {
	name            string
	arch            string // "llama" or "falcon"
	nLayer          int
	nEmbd, nFF      int // row lengths of most weights and of ffn_down
	nHead, nHeadKV  int
	nExpert         int
	nVocab          int
	tied            bool // no output.weight
	rows            int  // rows of every weight matrix
	onlyAttnVAndFFN bool // per layer only attn_v, ffn_down and norms (for deep models)
}

// synthModels are the shapes the committed type tables cover.
var synthModels = []synthModel{
	// Eight experts: attn_v/attn_k to Q8_0, attn_output to Q5_K.
	{name: "moe8", arch: "llama", nLayer: 8, nEmbd: 256, nFF: 256, nHead: 8, nHeadKV: 2, nExpert: 8, nVocab: 32, rows: 4},
	// Four experts without grouped-query attention.
	{name: "moe4", arch: "llama", nLayer: 8, nEmbd: 256, nFF: 256, nHead: 8, nHeadKV: 8, nExpert: 4, nVocab: 32, rows: 4},
	// Row lengths that are multiples of 32 but not of 256 (96), and of
	// neither (72): fallback types and F16.
	{name: "odd96", arch: "llama", nLayer: 2, nEmbd: 96, nFF: 72, nHead: 4, nHeadKV: 4, nVocab: 32, rows: 4},
	// Row length 40 everywhere: the output matrix falls back to F16 too.
	{name: "odd40", arch: "llama", nLayer: 2, nEmbd: 40, nFF: 64, nHead: 4, nHeadKV: 2, nVocab: 32, rows: 4},
	// Sixteen layers (the n/8 and n/16 rules bite), 8 query heads per KV
	// head, tied embeddings (no output.weight).
	{name: "deep16", arch: "llama", nLayer: 16, nEmbd: 256, nFF: 512, nHead: 8, nHeadKV: 1, nVocab: 32, tied: true, rows: 2},
	// 80 layers with grouped-query attention: llama.cpp's "70B" rule.
	{name: "l70b", arch: "llama", nLayer: 80, nEmbd: 256, nFF: 256, nHead: 8, nHeadKV: 1, nVocab: 32, rows: 2, onlyAttnVAndFFN: true},
	// Falcon: fused QKV and its own rules for the output and ffn_down.
	{name: "falcon", arch: "falcon", nLayer: 8, nEmbd: 256, nFF: 512, nHead: 8, nHeadKV: 1, nVocab: 32, rows: 4},
}

func (s synthModel) kv() []gguf.KV {
	a := s.arch
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.MustValueOf(a)},
		{Key: "general.name", Value: gguf.MustValueOf("synthetic-" + s.name)},
		{Key: a + ".context_length", Value: gguf.MustValueOf(uint32(128))},
		{Key: a + ".embedding_length", Value: gguf.MustValueOf(uint32(s.nEmbd))},
		{Key: a + ".block_count", Value: gguf.MustValueOf(uint32(s.nLayer))},
		{Key: a + ".feed_forward_length", Value: gguf.MustValueOf(uint32(s.nFF))},
		{Key: a + ".attention.head_count", Value: gguf.MustValueOf(uint32(s.nHead))},
		{Key: a + ".attention.head_count_kv", Value: gguf.MustValueOf(uint32(s.nHeadKV))},
	}
	if a == "falcon" {
		kv = append(kv, gguf.KV{Key: a + ".attention.layer_norm_epsilon", Value: gguf.MustValueOf(float32(1e-5))})
	} else {
		kv = append(kv, gguf.KV{Key: a + ".attention.layer_norm_rms_epsilon", Value: gguf.MustValueOf(float32(1e-5))})
	}
	if s.nExpert > 0 {
		kv = append(kv,
			gguf.KV{Key: a + ".expert_count", Value: gguf.MustValueOf(uint32(s.nExpert))},
			gguf.KV{Key: a + ".expert_used_count", Value: gguf.MustValueOf(uint32(2))})
	}
	return append(kv, gguf.KV{Key: "general.file_type", Value: gguf.MustValueOf(uint32(0))})
}

// tensors lists the model's F32 tensors in creation order (not the order
// the quantizer writes).
func (s synthModel) tensors() []gguf.TensorInfo {
	var ts []gguf.TensorInfo
	add := func(name string, dims ...int) {
		d := make([]uint64, len(dims))
		for i, x := range dims {
			d[i] = uint64(x)
		}
		ts = append(ts, gguf.TensorInfo{Name: name, Dims: d, Type: ggml.TypeF32})
	}
	r := s.rows
	add("token_embd.weight", s.nEmbd, s.nVocab)
	for l := 0; l < s.nLayer; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_norm.weight", s.nEmbd)
		switch {
		case s.arch == "falcon":
			add(p+"attn_norm.bias", s.nEmbd)
			add(p+"attn_qkv.weight", s.nEmbd, r)
			add(p+"attn_output.weight", s.nEmbd, r)
			add(p+"ffn_up.weight", s.nEmbd, r)
			add(p+"ffn_down.weight", s.nFF, r)
			continue
		case s.onlyAttnVAndFFN:
			add(p+"attn_v.weight", s.nEmbd, r)
			add(p+"ffn_down.weight", s.nFF, r)
			continue
		}
		add(p+"attn_q.weight", s.nEmbd, r)
		add(p+"attn_k.weight", s.nEmbd, r)
		add(p+"attn_v.weight", s.nEmbd, r)
		add(p+"attn_output.weight", s.nEmbd, r)
		add(p+"ffn_norm.weight", s.nEmbd)
		if s.nExpert > 0 {
			add(p+"ffn_gate_inp.weight", s.nEmbd, s.nExpert)
			add(p+"ffn_gate_exps.weight", s.nEmbd, r, s.nExpert)
			add(p+"ffn_up_exps.weight", s.nEmbd, r, s.nExpert)
			add(p+"ffn_down_exps.weight", s.nFF, r, s.nExpert)
		} else {
			add(p+"ffn_gate.weight", s.nEmbd, r)
			add(p+"ffn_up.weight", s.nEmbd, r)
			add(p+"ffn_down.weight", s.nFF, r)
		}
	}
	add("output_norm.weight", s.nEmbd)
	if s.arch == "falcon" {
		add("output_norm.bias", s.nEmbd)
	}
	if !s.tied {
		add("output.weight", s.nEmbd, s.nVocab)
	}
	return ts
}

func (s synthModel) model() Model {
	return Model{Arch: s.arch, NLayer: s.nLayer, NHead: s.nHead, NHeadKV: s.nHeadKV, NExpert: s.nExpert}
}

// file writes the model as GGUF with random weights (seeded by the name)
// and returns the bytes. bad, when not empty, names a tensor whose first
// value is made NaN.
func (s synthModel) file(tb testing.TB, bad string) []byte {
	tb.Helper()
	var seed uint64
	for _, c := range s.name {
		seed = seed*31 + uint64(c)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	ts := s.tensors()
	var buf bytes.Buffer
	err := gguf.Write(&buf, s.kv(), ts, func(i int) ([]byte, error) {
		n := ts[i].Elements()
		x := make([]float32, n)
		for j := range x {
			x[j] = float32(rng.NormFloat64() * 0.02)
		}
		if ts[i].Name == bad {
			x[0] = float32(math.NaN())
		}
		return ggml.Quantize(ggml.TypeF32, x, len(x), nil)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
