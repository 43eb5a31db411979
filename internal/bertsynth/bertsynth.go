// Package bertsynth writes small synthetic BERT-family encoders (random
// weights, a WordPiece vocabulary) for tests. It is apart from
// internal/testutil, which pkg/gguf's own dependencies test with.
package bertsynth

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/synth"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// Spec describes a small random BERT-family encoder written by
// Write, with a WordPiece vocabulary (bertVocab). Its weights come
// from a fixed pseudo-random sequence (splitmix64 from Seed), so the file
// is the same byte for byte everywhere: pkg/model's golden embeddings from
// llama.cpp hold for it.
type Spec struct {
	Name    string    // file name (NAME.gguf, and golden key)
	Arch    string    // "bert" or "nomic-bert"
	Type    ggml.Type // matrix type: F32 or Q8_0
	Embd    int
	Layers  int
	FF      int
	Heads   int
	Pooling uint32 // {arch}.pooling_type
	Rank    bool   // a classifier head (cls, cls.output)
	Seed    uint64
}

// bertVocab is a WordPiece vocabulary as llama.cpp's converter stores it:
// the special tokens, then pieces that begin a word marked with U+2581
// (punctuation, letters, whole words) and continuations unmarked (BERT's
// "##" dropped).
func bertVocab() (toks []string, types []int32) {
	toks = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	types = []int32{3, 2, 3, 3, 3}
	for _, p := range strings.Split(".,!?;'-", "") {
		toks = append(toks, "\u2581"+p)
	}
	for c := 'a'; c <= 'z'; c++ {
		toks = append(toks, "\u2581"+string(c))
	}
	for c := 'a'; c <= 'z'; c++ {
		toks = append(toks, string(c))
	}
	for _, w := range strings.Fields("the cat sat on mat hello world dog is and small test model run embed of are unknown word") {
		toks = append(toks, "\u2581"+w)
	}
	toks = append(toks, "ing", "ed", "ding", "ning", "er", "ll")
	for len(types) < len(toks) {
		types = append(types, 1)
	}
	return toks, types
}

// Write writes sp's model into dir and returns its path. Weights come
// from the fixed pseudo-random sequence of writeSynth.
func Write(t testing.TB, dir string, sp Spec) string {
	t.Helper()
	r := synth.Rand(sp.Seed)
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
		data = append(data, synth.Encode(typ, x))
	}
	toks, types := bertVocab()
	const nCtx = 128
	u := func(n int) uint64 { return uint64(n) }
	d, ff := sp.Embd, sp.FF
	ws := func(cols int) float32 { return 1.5 / float32(math.Sqrt(float64(cols))) }
	nomic := sp.Arch == "nomic-bert"
	addT("token_embd.weight", sp.Type, 1, 0, u(d), u(len(toks)))
	addT("token_types.weight", ggml.TypeF32, 0.5, 0, u(d), 2)
	if !nomic {
		addT("position_embd.weight", ggml.TypeF32, 0.5, 0, u(d), nCtx)
	}
	addT("token_embd_norm.weight", ggml.TypeF32, 0.2, 1, u(d))
	addT("token_embd_norm.bias", ggml.TypeF32, 0.2, 0, u(d))
	for l := 0; l < sp.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		if nomic {
			addT(p+"attn_qkv.weight", sp.Type, ws(d), 0, u(d), u(3*d))
		} else {
			addT(p+"attn_q.weight", sp.Type, ws(d), 0, u(d), u(d))
			addT(p+"attn_q.bias", ggml.TypeF32, 0.5, 0, u(d))
			addT(p+"attn_k.weight", sp.Type, ws(d), 0, u(d), u(d))
			addT(p+"attn_k.bias", ggml.TypeF32, 0.5, 0, u(d))
			addT(p+"attn_v.weight", sp.Type, ws(d), 0, u(d), u(d))
			addT(p+"attn_v.bias", ggml.TypeF32, 0.5, 0, u(d))
		}
		addT(p+"attn_output.weight", sp.Type, ws(d), 0, u(d), u(d))
		if !nomic {
			addT(p+"attn_output.bias", ggml.TypeF32, 0.3, 0, u(d))
		}
		addT(p+"attn_output_norm.weight", ggml.TypeF32, 0.2, 1, u(d))
		addT(p+"attn_output_norm.bias", ggml.TypeF32, 0.2, 0, u(d))
		addT(p+"ffn_up.weight", sp.Type, ws(d), 0, u(d), u(ff))
		if nomic {
			addT(p+"ffn_gate.weight", sp.Type, ws(d), 0, u(d), u(ff))
		} else {
			addT(p+"ffn_up.bias", ggml.TypeF32, 0.5, 0, u(ff))
		}
		addT(p+"ffn_down.weight", sp.Type, ws(ff), 0, u(ff), u(d))
		if !nomic {
			addT(p+"ffn_down.bias", ggml.TypeF32, 0.3, 0, u(d))
		}
		addT(p+"layer_output_norm.weight", ggml.TypeF32, 0.2, 1, u(d))
		addT(p+"layer_output_norm.bias", ggml.TypeF32, 0.2, 0, u(d))
	}
	if sp.Rank {
		addT("cls.weight", sp.Type, ws(d), 0, u(d), u(d))
		addT("cls.bias", ggml.TypeF32, 0.3, 0, u(d))
		addT("cls.output.weight", ggml.TypeF32, ws(d), 0, u(d), 1)
		addT("cls.output.bias", ggml.TypeF32, 0.3, 0, 1)
	}
	a := sp.Arch
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.MustValueOf(a)},
		{Key: "general.name", Value: gguf.MustValueOf(sp.Name)},
		{Key: a + ".context_length", Value: gguf.MustValueOf(uint32(nCtx))},
		{Key: a + ".embedding_length", Value: gguf.MustValueOf(uint32(d))},
		{Key: a + ".block_count", Value: gguf.MustValueOf(uint32(sp.Layers))},
		{Key: a + ".feed_forward_length", Value: gguf.MustValueOf(uint32(ff))},
		{Key: a + ".attention.head_count", Value: gguf.MustValueOf(uint32(sp.Heads))},
		{Key: a + ".attention.layer_norm_epsilon", Value: gguf.MustValueOf(float32(1e-12))},
		{Key: a + ".attention.causal", Value: gguf.MustValueOf(false)},
		{Key: a + ".pooling_type", Value: gguf.MustValueOf(sp.Pooling)},
		{Key: "tokenizer.ggml.model", Value: gguf.MustValueOf("bert")},
		{Key: "tokenizer.ggml.tokens", Value: gguf.MustValueOf(toks)},
		{Key: "tokenizer.ggml.token_type", Value: gguf.MustValueOf(types)},
		{Key: "tokenizer.ggml.token_type_count", Value: gguf.MustValueOf(uint32(2))},
		{Key: "tokenizer.ggml.bos_token_id", Value: gguf.MustValueOf(uint32(2))},
		{Key: "tokenizer.ggml.unknown_token_id", Value: gguf.MustValueOf(uint32(1))},
		{Key: "tokenizer.ggml.seperator_token_id", Value: gguf.MustValueOf(uint32(3))},
		{Key: "tokenizer.ggml.padding_token_id", Value: gguf.MustValueOf(uint32(0))},
		{Key: "tokenizer.ggml.mask_token_id", Value: gguf.MustValueOf(uint32(4))},
	}
	if nomic {
		kv = append(kv, gguf.KV{Key: a + ".rope.freq_base", Value: gguf.MustValueOf(float32(1000))})
	}
	path := filepath.Join(dir, sp.Name+".gguf")
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
