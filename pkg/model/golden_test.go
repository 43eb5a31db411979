package model

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// golden is the JSON description of a reference logits file.
type golden struct {
	Model          string  `json:"model"`
	Tokens         []int32 `json:"tokens"`
	NVocab         int     `json:"n_vocab"`
	LogitsFile     string  `json:"logits_file"`
	ImplSpreadNMSE float64 `json:"impl_spread_nmse"`
}

// readGolden reads a golden JSON file and its logits.
func readGolden(t *testing.T, path string) (golden, []float32) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(path), g.LogitsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 4*len(g.Tokens)*g.NVocab {
		t.Fatalf("%s: %d bytes, want %d", g.LogitsFile, len(raw), 4*len(g.Tokens)*g.NVocab)
	}
	ref := make([]float32, len(raw)/4)
	for i := range ref {
		ref[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return g, ref
}

// threshold returns the nmse a correct engine must reach for a model file.
func threshold(name string) float64 {
	switch {
	case strings.Contains(name, "moe") && !strings.HasSuffix(name, "-f32.gguf"):
		return 1e-2
	case strings.HasSuffix(name, "-f16.gguf"):
		return 1e-5
	case strings.HasSuffix(name, "-bf16.gguf"):
		return 1e-4
	case strings.HasSuffix(name, "-f32.gguf"), name == "stories260k.gguf":
		return 1e-6
	}
	return 2e-3
}

// compare returns the nmse of got against ref and the fraction of rows
// (of n values) whose arg max agree.
func compare(got, ref []float32, n int) (nmse, top1 float64) {
	var num, den float64
	for i := range ref {
		d := float64(got[i]) - float64(ref[i])
		num += d * d
		den += float64(ref[i]) * float64(ref[i])
	}
	rows := len(ref) / n
	agree := 0
	for r := 0; r < rows; r++ {
		if argmax(got[r*n:(r+1)*n]) == argmax(ref[r*n:(r+1)*n]) {
			agree++
		}
	}
	return num / den, float64(agree) / float64(rows)
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

func openModel(t testing.TB, path string) *Model {
	t.Helper()
	return loadModel(t, path, LoadOptions{})
}

// loadModel opens path and loads it with opts; the file is closed when
// the test ends.
func loadModel(t testing.TB, path string, opts LoadOptions) *Model {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m, err := LoadWith(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGoldenLogits evaluates each golden token sequence in one batch and
// compares every position's logits with llama.cpp's.
func TestGoldenLogits(t *testing.T) {
	for _, path := range testutil.SharedGlob(t, "testdata/golden/logits/*.json") {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			g, ref := readGolden(t, path)
			m := openModel(t, testutil.SharedFile(t, "testdata/models/"+g.Model))
			if m.Params.Vocab != g.NVocab {
				t.Fatalf("vocab %d, golden %d", m.Params.Vocab, g.NVocab)
			}
			s, err := m.NewState(StateOptions{ContextSize: len(g.Tokens) + 16, BatchSize: len(g.Tokens), Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Eval(g.Tokens, 0); err != nil {
				t.Fatal(err)
			}
			got := make([]float32, 0, len(ref))
			for i := range g.Tokens {
				got = append(got, s.Logits(i)...)
			}
			nmse, top1 := compare(got, ref, g.NVocab)
			lim := threshold(g.Model)
			t.Logf("%-22s nmse %.3e (limit %.0e, llama.cpp spread %.2e) top-1 %.3f", g.Model, nmse, lim, g.ImplSpreadNMSE, top1)
			if nmse > lim || top1 < 0.9 {
				t.Errorf("nmse %.3e (limit %.0e), top-1 agreement %.3f (limit 0.9)", nmse, lim, top1)
			}
		})
	}
}

// TestIncrementalMatchesBatch evaluates the golden tokens one at a time
// (decode with the cache) and in uneven chunks, and checks the logits
// against a single batch.
func TestIncrementalMatchesBatch(t *testing.T) {
	for _, name := range []string{"stories260k", "synth-llama-q4_k_m", "synth-moe-f32"} {
		t.Run(name, func(t *testing.T) {
			g, _ := readGolden(t, testutil.SharedFile(t, "testdata/golden/logits/"+name+".json"))
			m := openModel(t, testutil.SharedFile(t, "testdata/models/"+g.Model))
			toks := g.Tokens
			batch, err := m.NewState(StateOptions{ContextSize: len(toks), Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := batch.Eval(toks, 0); err != nil {
				t.Fatal(err)
			}
			var want []float32
			for i := range toks {
				want = append(want, batch.Logits(i)...)
			}
			// One token at a time, with EvalLast, and in chunks of 5 with
			// a small batch size so Eval splits them.
			single, err := m.NewState(StateOptions{ContextSize: len(toks), BatchSize: 3, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			var got1, gotC []float32
			for i, tok := range toks {
				if err := single.EvalLast([]int32{tok}, i); err != nil {
					t.Fatal(err)
				}
				got1 = append(got1, single.Logits(0)...)
			}
			for i := 0; i < len(toks); i += 5 {
				chunk := toks[i:min(i+5, len(toks))]
				if err := single.Eval(chunk, i); err != nil {
					t.Fatal(err)
				}
				for j := range chunk {
					gotC = append(gotC, single.Logits(j)...)
				}
			}
			for _, c := range []struct {
				what string
				got  []float32
			}{{"token by token", got1}, {"chunks of 5", gotC}} {
				nmse, top1 := compare(c.got, want, m.Params.Vocab)
				t.Logf("%s: nmse %.3e top-1 %.3f", c.what, nmse, top1)
				if nmse > 1e-4 || top1 < 0.95 {
					t.Errorf("%s: nmse %.3e, top-1 %.3f against one batch", c.what, nmse, top1)
				}
			}
		})
	}
}
