package model

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
	"github.com/llamafile-go/llamafile/pkg/tokenizer"
)

// bertSpec describes a small random BERT-family encoder written by
// writeBert, with a WordPiece vocabulary (bertVocab).
type bertSpec struct {
	name    string // file name (and golden key)
	arch    string // "bert" or "nomic-bert"
	typ     ggml.Type
	embd    int
	layers  int
	ff      int
	heads   int
	pooling uint32 // {arch}.pooling_type
	rank    bool   // a classifier head (cls, cls.output)
	seed    uint64
}

var bertSpecs = []bertSpec{
	{name: "bert-f32", arch: "bert", typ: ggml.TypeF32, embd: 64, layers: 2, ff: 128, heads: 4, pooling: 1, seed: 201},
	{name: "bert-q8_0", arch: "bert", typ: ggml.TypeQ8_0, embd: 64, layers: 2, ff: 128, heads: 2, pooling: 2, seed: 202},
	{name: "bert-rank-f32", arch: "bert", typ: ggml.TypeF32, embd: 64, layers: 2, ff: 96, heads: 4, pooling: 4, rank: true, seed: 203},
	{name: "nomic-bert-f32", arch: "nomic-bert", typ: ggml.TypeF32, embd: 64, layers: 2, ff: 128, heads: 4, pooling: 1, seed: 204},
	{name: "nomic-bert-q8_0", arch: "nomic-bert", typ: ggml.TypeQ8_0, embd: 64, layers: 3, ff: 96, heads: 2, pooling: 1, seed: 205},
}

// bertTexts are embedded by TestBertReference; the last, of more than 64
// tokens, takes the tiled attention kernel.
var bertTexts = []string{
	"Hello world, the cat sat on the mat!",
	"Embedding models are small tests of running dogs; unknown xyzzy words.",
	strings.Repeat("the small dog is running on a mat and the cat sat. ", 6),
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

// writeBert writes sp's model into dir and returns its path. Weights come
// from the fixed pseudo-random sequence of writeSynth.
func writeBert(t testing.TB, dir string, sp bertSpec) string {
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
			x[i] = offset + scale*r.uniform()
		}
		tensors = append(tensors, gguf.TensorInfo{Name: name, Dims: dims, Type: typ})
		data = append(data, encode(typ, x))
	}
	toks, types := bertVocab()
	const nCtx = 128
	u := func(n int) uint64 { return uint64(n) }
	d, ff := sp.embd, sp.ff
	ws := func(cols int) float32 { return 1.5 / float32(math.Sqrt(float64(cols))) }
	nomic := sp.arch == "nomic-bert"
	addT("token_embd.weight", sp.typ, 1, 0, u(d), u(len(toks)))
	addT("token_types.weight", ggml.TypeF32, 0.5, 0, u(d), 2)
	if !nomic {
		addT("position_embd.weight", ggml.TypeF32, 0.5, 0, u(d), nCtx)
	}
	addT("token_embd_norm.weight", ggml.TypeF32, 0.2, 1, u(d))
	addT("token_embd_norm.bias", ggml.TypeF32, 0.2, 0, u(d))
	for l := 0; l < sp.layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		if nomic {
			addT(p+"attn_qkv.weight", sp.typ, ws(d), 0, u(d), u(3*d))
		} else {
			addT(p+"attn_q.weight", sp.typ, ws(d), 0, u(d), u(d))
			addT(p+"attn_q.bias", ggml.TypeF32, 0.5, 0, u(d))
			addT(p+"attn_k.weight", sp.typ, ws(d), 0, u(d), u(d))
			addT(p+"attn_k.bias", ggml.TypeF32, 0.5, 0, u(d))
			addT(p+"attn_v.weight", sp.typ, ws(d), 0, u(d), u(d))
			addT(p+"attn_v.bias", ggml.TypeF32, 0.5, 0, u(d))
		}
		addT(p+"attn_output.weight", sp.typ, ws(d), 0, u(d), u(d))
		if !nomic {
			addT(p+"attn_output.bias", ggml.TypeF32, 0.3, 0, u(d))
		}
		addT(p+"attn_output_norm.weight", ggml.TypeF32, 0.2, 1, u(d))
		addT(p+"attn_output_norm.bias", ggml.TypeF32, 0.2, 0, u(d))
		addT(p+"ffn_up.weight", sp.typ, ws(d), 0, u(d), u(ff))
		if nomic {
			addT(p+"ffn_gate.weight", sp.typ, ws(d), 0, u(d), u(ff))
		} else {
			addT(p+"ffn_up.bias", ggml.TypeF32, 0.5, 0, u(ff))
		}
		addT(p+"ffn_down.weight", sp.typ, ws(ff), 0, u(ff), u(d))
		if !nomic {
			addT(p+"ffn_down.bias", ggml.TypeF32, 0.3, 0, u(d))
		}
		addT(p+"layer_output_norm.weight", ggml.TypeF32, 0.2, 1, u(d))
		addT(p+"layer_output_norm.bias", ggml.TypeF32, 0.2, 0, u(d))
	}
	if sp.rank {
		addT("cls.weight", sp.typ, ws(d), 0, u(d), u(d))
		addT("cls.bias", ggml.TypeF32, 0.3, 0, u(d))
		addT("cls.output.weight", ggml.TypeF32, ws(d), 0, u(d), 1)
		addT("cls.output.bias", ggml.TypeF32, 0.3, 0, 1)
	}
	a := sp.arch
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.MustValueOf(a)},
		{Key: "general.name", Value: gguf.MustValueOf(sp.name)},
		{Key: a + ".context_length", Value: gguf.MustValueOf(uint32(nCtx))},
		{Key: a + ".embedding_length", Value: gguf.MustValueOf(uint32(d))},
		{Key: a + ".block_count", Value: gguf.MustValueOf(uint32(sp.layers))},
		{Key: a + ".feed_forward_length", Value: gguf.MustValueOf(uint32(ff))},
		{Key: a + ".attention.head_count", Value: gguf.MustValueOf(uint32(sp.heads))},
		{Key: a + ".attention.layer_norm_epsilon", Value: gguf.MustValueOf(float32(1e-12))},
		{Key: a + ".attention.causal", Value: gguf.MustValueOf(false)},
		{Key: a + ".pooling_type", Value: gguf.MustValueOf(sp.pooling)},
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
	path := filepath.Join(dir, sp.name+".gguf")
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

// TestWriteBertModels writes the synthetic encoders to
// $LLAMAFILE_SYNTH_DIR (skipped when unset) and prints their texts, for
// llama.cpp's reference embeddings in testdata/bert-golden.json (made by
// tools/reference-extra/bert_golden.sh).
func TestWriteBertModels(t *testing.T) {
	dir := os.Getenv("LLAMAFILE_SYNTH_DIR")
	if dir == "" {
		t.Skip("LLAMAFILE_SYNTH_DIR not set")
	}
	for _, sp := range bertSpecs {
		t.Log(writeBert(t, dir, sp))
	}
	b, _ := json.Marshal(bertTexts)
	if err := os.WriteFile(filepath.Join(dir, "bert-texts.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// bertGolden is testdata/bert-golden.json: by model name, what llama.cpp's
// embeddings tool printed for bertTexts with the model's own pooling.
type bertGolden map[string]struct {
	Pooling int `json:"pooling"`
	Items   []struct {
		Tokens []int32   `json:"tokens"`
		Embd   []float32 `json:"embd"`
	} `json:"items"`
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// TestBertReference checks the synthetic encoders' tokens (WordPiece,
// with [CLS] and [SEP]) and pooled embeddings against llama.cpp's.
func TestBertReference(t *testing.T) {
	raw, err := os.ReadFile("testdata/bert-golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden bertGolden
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, sp := range bertSpecs {
		t.Run(sp.name, func(t *testing.T) {
			g, ok := golden[sp.name]
			if !ok || len(g.Items) != len(bertTexts) {
				t.Fatalf("no golden for %s", sp.name)
			}
			path := writeBert(t, dir, sp)
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := tokenizer.FromGGUF(f)
			if err != nil {
				t.Fatal(err)
			}
			if want := Poolings[g.Pooling]; m.DefaultPooling() != want {
				t.Errorf("default pooling %q, llama.cpp chose %q", m.DefaultPooling(), want)
			}
			r, err := m.NewRunner(RunnerOptions{BatchSize: 128, Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			seq, err := r.NewSeq(0)
			if err != nil {
				t.Fatal(err)
			}
			lim := 0.9999
			if sp.typ != ggml.TypeF32 {
				lim = 0.999
			}
			for i, text := range bertTexts {
				toks := tok.Encode(text, true, true)
				if !slices.Equal(toks, g.Items[i].Tokens) {
					t.Fatalf("text %d: tokens %v, llama.cpp %v", i, toks, g.Items[i].Tokens)
				}
				v, err := r.Embed(context.Background(), seq, toks, m.DefaultPooling())
				if err != nil {
					t.Fatal(err)
				}
				want := g.Items[i].Embd
				if len(v) != len(want) {
					t.Fatalf("text %d: %d values, llama.cpp %d", i, len(v), len(want))
				}
				if sp.rank {
					if d := math.Abs(float64(v[0] - want[0])); d > 1e-4*max(1, math.Abs(float64(want[0]))) {
						t.Errorf("text %d: rank score %g, llama.cpp %g", i, v[0], want[0])
					}
					t.Logf("text %d (%d tokens): score %.6g, llama.cpp %.6g", i, len(toks), v[0], want[0])
					continue
				}
				c := cosine(v, want)
				t.Logf("text %d (%d tokens): cosine similarity %.9f", i, len(toks), c)
				if c < lim {
					t.Errorf("text %d: cosine similarity %.9f < %g", i, c, lim)
				}
			}
		})
	}
}

func TestBertNormalizeEmbedding(t *testing.T) {
	v := []float32{3, -4, 0, 1}
	for _, c := range []struct {
		norm int
		want []float32
	}{
		{-1, []float32{3, -4, 0, 1}},
		{0, []float32{3 * 32760 / 4.0, -32760, 0, 32760 / 4.0}},
		{1, []float32{3 / 8.0, -4 / 8.0, 0, 1 / 8.0}},
		{2, []float32{3 / float32(math.Sqrt(26)), -4 / float32(math.Sqrt(26)), 0, 1 / float32(math.Sqrt(26))}},
		{3, []float32{3 / float32(math.Cbrt(92)), -4 / float32(math.Cbrt(92)), 0, 1 / float32(math.Cbrt(92))}},
	} {
		got := make([]float32, len(v))
		NormalizeEmbedding(got, v, c.norm)
		for i := range got {
			if math.Abs(float64(got[i]-c.want[i])) > 1e-5*max(1, math.Abs(float64(c.want[i]))) {
				t.Errorf("norm %d: %v, want %v", c.norm, got, c.want)
				break
			}
		}
	}
	zero := []float32{0, 0}
	NormalizeEmbedding(zero, zero, 2)
	if zero[0] != 0 || zero[1] != 0 {
		t.Errorf("zero vector normalized to %v", zero)
	}
}

// TestBertEmbedErrors: what Embed refuses, each error naming the cause.
func TestBertEmbedErrors(t *testing.T) {
	m := openModel(t, writeBert(t, t.TempDir(), bertSpecs[0]))
	r, err := m.NewRunner(RunnerOptions{BatchSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	seq, err := r.NewSeq(0)
	if err != nil {
		t.Fatal(err)
	}
	long := make([]int32, 20)
	for _, c := range []struct {
		toks    []int32
		pooling string
		want    string
	}{
		{[]int32{2, 3}, "max", `pooling "max"`},
		{nil, "mean", "no tokens"},
		{[]int32{2, 3}, "rank", "no classifier head"},
		{long, "mean", "batch size of at least"},
	} {
		_, err := r.Embed(context.Background(), seq, c.toks, c.pooling)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Embed(%d tokens, %q): %v, want an error with %q", len(c.toks), c.pooling, err, c.want)
		}
	}
}
