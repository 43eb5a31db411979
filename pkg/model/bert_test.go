package model

import (
	"context"
	"encoding/json"
	"github.com/llamafile-go/llamafile/internal/bertsynth"
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

var bertSpecs = []bertsynth.Spec{
	{Name: "bert-f32", Arch: "bert", Type: ggml.TypeF32, Embd: 64, Layers: 2, FF: 128, Heads: 4, Pooling: 1, Seed: 201},
	{Name: "bert-q8_0", Arch: "bert", Type: ggml.TypeQ8_0, Embd: 64, Layers: 2, FF: 128, Heads: 2, Pooling: 2, Seed: 202},
	{Name: "bert-rank-f32", Arch: "bert", Type: ggml.TypeF32, Embd: 64, Layers: 2, FF: 96, Heads: 4, Pooling: 4, Rank: true, Seed: 203},
	{Name: "nomic-bert-f32", Arch: "nomic-bert", Type: ggml.TypeF32, Embd: 64, Layers: 2, FF: 128, Heads: 4, Pooling: 1, Seed: 204},
	{Name: "nomic-bert-q8_0", Arch: "nomic-bert", Type: ggml.TypeQ8_0, Embd: 64, Layers: 3, FF: 96, Heads: 2, Pooling: 1, Seed: 205},
}

// bertTexts are embedded by TestBertReference; the last, of more than 64
// tokens, takes the tiled attention kernel.
var bertTexts = []string{
	"Hello world, the cat sat on the mat!",
	"Embedding models are small tests of running dogs; unknown xyzzy words.",
	strings.Repeat("the small dog is running on a mat and the cat sat. ", 6),
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
		t.Log(bertsynth.Write(t, dir, sp))
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

// openBert writes the synthetic encoder sp into dir and opens it with its
// tokenizer (the file stays open until the test ends).
func openBert(t *testing.T, dir string, sp bertsynth.Spec) (*Model, *tokenizer.Tokenizer) {
	t.Helper()
	f, err := gguf.Open(bertsynth.Write(t, dir, sp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	return m, tok
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
		t.Run(sp.Name, func(t *testing.T) {
			g, ok := golden[sp.Name]
			if !ok || len(g.Items) != len(bertTexts) {
				t.Fatalf("no golden for %s", sp.Name)
			}
			m, tok := openBert(t, dir, sp)
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
			if sp.Type != ggml.TypeF32 {
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
				if sp.Rank {
					if d := math.Abs(float64(v[0] - want[0])); d > 1e-4*max(1, math.Abs(float64(want[0]))) {
						t.Errorf("text %d: rank score %g, llama.cpp %g", i, v[0], want[0])
					}
					t.Logf("text %d (%d tokens): score %.6g, llama.cpp %.6g", i, len(toks), v[0], want[0])
					continue
				}
				c := CosineSimilarity(v, want)
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
	m := openModel(t, bertsynth.Write(t, t.TempDir(), bertSpecs[0]))
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

// TestEmbedSeqs: several inputs embedded together (one forward pass while
// they fit in the batch, each sequence attending to itself) pool as each
// alone with Embed, for every pooling, in groups when they do not fit.
func TestEmbedSeqs(t *testing.T) {
	for _, sp := range []bertsynth.Spec{bertSpecs[0], bertSpecs[2], bertSpecs[3]} {
		m, tok := openBert(t, t.TempDir(), sp)
		var inputs [][]int32
		for _, s := range append(bertTexts[:2:2], "a cat", "the dog is small") {
			inputs = append(inputs, tok.Encode(s, true, true))
		}
		// A batch of 40 holds the short inputs together, not all four.
		r, err := m.NewRunner(RunnerOptions{BatchSize: 40})
		if err != nil {
			t.Fatal(err)
		}
		var seqs []*Seq
		for range inputs {
			sq, err := r.NewSeq(64)
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, sq)
		}
		for _, pooling := range Poolings {
			if pooling == "rank" && !sp.Rank {
				continue
			}
			got, err := r.EmbedSeqs(context.Background(), seqs, inputs, pooling)
			if err != nil {
				t.Fatalf("%s %s: %v", sp.Name, pooling, err)
			}
			for i, toks := range inputs {
				want, err := r.Embed(context.Background(), seqs[0], toks, pooling)
				if err != nil {
					t.Fatal(err)
				}
				if len(got[i]) != len(want) {
					t.Fatalf("%s %s input %d: %d values, want %d", sp.Name, pooling, i, len(got[i]), len(want))
				}
				for k := range want {
					if d := math.Abs(float64(got[i][k] - want[k])); d > 1e-5*max(1, math.Abs(float64(want[k]))) {
						t.Fatalf("%s %s input %d [%d]: %v, alone %v", sp.Name, pooling, i, k, got[i][k], want[k])
					}
				}
			}
		}
		if _, err := r.EmbedSeqs(context.Background(), seqs[:2], [][]int32{inputs[0], make([]int32, 41)}, "mean"); err == nil || !strings.Contains(err.Error(), "input 1") {
			t.Errorf("an input past the batch: %v, want an error naming input 1", err)
		}
	}
}
