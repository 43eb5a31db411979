package engine

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/model"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

func openStories(t *testing.T, opts Options) *Model {
	t.Helper()
	m, err := Open(testutil.SharedFile(t, "testdata/models/stories260k.gguf"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestGreedyGolden checks greedy completions against llama.cpp's.
func TestGreedyGolden(t *testing.T) {
	cases := testutil.GreedyCases(t)
	m := openStories(t, Options{ContextSize: 256, Threads: 2})
	c, err := m.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		c.Reset()
		var text strings.Builder
		out, err := c.Generate(m.Tokenize(tc.Prompt, true, true), Greedy{}, tc.NPredict, func(tok int32) bool {
			text.Write(m.TokenToPiece(tok))
			return true
		})
		if err != nil {
			t.Fatalf("%q: %v", tc.Prompt, err)
		}
		if len(out) > tc.NPredict {
			t.Errorf("%q: %d tokens, asked for %d", tc.Prompt, len(out), tc.NPredict)
		}
		if text.String() != tc.Completion {
			if !tc.BackendsAgree {
				t.Logf("%q: differs on a near tie (acceptable):\n got %q\nwant %q", tc.Prompt, text.String(), tc.Completion)
				continue
			}
			t.Errorf("%q:\n got %q\nwant %q", tc.Prompt, text.String(), tc.Completion)
		}
	}
}

// TestGoldenTokens checks that tokenizing the golden text gives the golden
// token ids, so Tokenize and Eval together reproduce llama.cpp.
func TestGoldenTokens(t *testing.T) {
	var g struct {
		Text   string  `json:"text"`
		AddBOS bool    `json:"add_bos"`
		Tokens []int32 `json:"tokens"`
	}
	b, err := os.ReadFile(testutil.SharedFile(t, "testdata/golden/logits/stories260k.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	m := openStories(t, Options{Threads: 1})
	got := m.Tokenize(g.Text, g.AddBOS, true)
	if len(got) != len(g.Tokens) {
		t.Fatalf("%d tokens, want %d:\n got %v\nwant %v", len(got), len(g.Tokens), got, g.Tokens)
	}
	for i := range got {
		if got[i] != g.Tokens[i] {
			t.Fatalf("token %d: %d, want %d", i, got[i], g.Tokens[i])
		}
	}
}

// TestContext covers evaluation bookkeeping: positions, rewinding, logits
// availability, context overflow, sampling with pkg/sample.
func TestContext(t *testing.T) {
	m := openStories(t, Options{ContextSize: 32, BatchSize: 8, Threads: 1})
	if m.Arch() != "llama" || m.NumVocab() != 512 || m.Params().Layers != 5 {
		t.Fatalf("arch %q vocab %d layers %d", m.Arch(), m.NumVocab(), m.Params().Layers)
	}
	c, err := m.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	if c.LastLogits() != nil {
		t.Error("logits before any evaluation")
	}
	toks := m.Tokenize("Lily and Ben went to the park", true, true)
	if err := c.Eval(toks); err != nil {
		t.Fatal(err)
	}
	if c.Pos() != len(toks) || len(c.Tokens()) != len(toks) {
		t.Fatalf("Pos %d, %d tokens cached, want %d", c.Pos(), len(c.Tokens()), len(toks))
	}
	want := append([]float32(nil), c.Logits(3)...)
	// Rewind to 3 and redo token 3 alone: same logits.
	if n, err := c.Rewind(3); err != nil || n != 3 {
		t.Fatalf("Rewind(3) = %d, %v", n, err)
	}
	if c.LastLogits() != nil {
		t.Error("logits survive a rewind past them")
	}
	if err := c.EvalLast(toks[3:4]); err != nil {
		t.Fatal(err)
	}
	var num, den float64
	for i, v := range c.LastLogits() {
		d := float64(v - want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	if num/den > 1e-8 {
		t.Errorf("logits after rewind: nmse %.3e", num/den)
	}
	if _, err := c.Rewind(100); err == nil {
		t.Error("rewind past the end accepted")
	}
	// Fill the context: generation stops with ErrContextFull.
	c.Reset()
	p := sample.DefaultParams()
	p.Seed = 7
	s, err := sample.New(p, m.NumVocab())
	if err != nil {
		t.Fatal(err)
	}
	long := make([]int32, 30)
	copy(long, toks)
	for i := len(toks); i < len(long); i++ {
		long[i] = 300 + int32(i)
	}
	out, err := c.Generate(long, s, 10, nil)
	if !errors.Is(err, ErrContextFull) {
		t.Errorf("generating past the context: %v (generated %d), want ErrContextFull", err, len(out))
	}
	if c.Pos() > c.ContextSize() {
		t.Errorf("Pos %d past context %d", c.Pos(), c.ContextSize())
	}
	if err := c.Eval([]int32{1, 9999}); err == nil {
		t.Error("token 9999 accepted")
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open("/nonexistent/model.gguf", Options{}); err == nil {
		t.Error("opening a missing file succeeded")
	}
	path := testutil.SharedFile(t, "testdata/models/stories260k.gguf")
	if _, err := Open(path, Options{Threads: -2}); err == nil {
		t.Error("negative threads accepted")
	}
}

// TestCacheTypes passes the cache types through to the model: an F32
// cache generates what the default F16 one does (llama.cpp casts it to F16
// for attention), a Q8_0 cache needs head sizes that are multiples of 32,
// and unknown types are refused.
func TestCacheTypes(t *testing.T) {
	gen := func(m *Model) string {
		t.Helper()
		c, err := m.NewContext()
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.Generate(m.Tokenize("Once upon a time", true, true), Greedy{}, 24, nil)
		if err != nil {
			t.Fatal(err)
		}
		return m.Detokenize(out)
	}
	want := gen(openStories(t, Options{ContextSize: 64, Threads: 2}))
	if got := gen(openStories(t, Options{ContextSize: 64, Threads: 2, CacheTypeK: model.CacheF32, CacheTypeV: model.CacheF32})); got != want {
		t.Errorf("F32 cache generates %q, F16 %q", got, want)
	}
	// stories260k's heads are 8 wide: no Q8_0 cache.
	if _, err := openStories(t, Options{ContextSize: 64, CacheTypeV: model.CacheQ8_0}).NewContext(); err == nil {
		t.Error("Q8_0 value cache with 8-wide heads accepted")
	}
	path := testutil.SharedFile(t, "testdata/models/synth-llama-q4_0.gguf")
	if _, err := Open(path, Options{CacheTypeK: 9}); err == nil {
		t.Error("cache type 9 accepted")
	}
	m, err := Open(path, Options{ContextSize: 64, Threads: 2, CacheTypeK: model.CacheQ8_0, CacheTypeV: model.CacheQ8_0})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.Options(); got.CacheTypeK != model.CacheQ8_0 || got.CacheTypeV != model.CacheQ8_0 {
		t.Errorf("Options() = %+v", got)
	}
	gen(m)
}
