package engine

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// spreadCase is one prompt of a greedy spread golden: llama.cpp's greedy
// completions by its best CPU build here and by its generic x86-64 one.
type spreadCase struct {
	Prompt        string
	Chat          bool
	Best, Generic string
}

// greedySpread reads a greedy spread golden from testdata (written by
// tools/reference-extra/spread_golden.py) and returns its cases with our
// greedy completion of each, on the model at path.
func greedySpread(t *testing.T, path, golden string) ([]spreadCase, []string) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + golden)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		NPredict int `json:"n_predict"`
		Cases    []spreadCase
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	m, err := Open(path, Options{ContextSize: 256, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c, err := m.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, tc := range g.Cases {
		c.Reset()
		var text strings.Builder
		if _, err := c.Generate(m.Tokenize(tc.Prompt, true, true), Greedy{}, g.NPredict, func(tok int32) bool {
			text.Write(m.TokenToPiece(tok))
			return true
		}); err != nil {
			t.Fatalf("%q: %v", tc.Prompt, err)
		}
		ours = append(ours, text.String())
	}
	return g.Cases, ours
}

// agree returns the bytes a and b share from their start.
func agree(a, b string) int { return commonPrefix([]byte(a), []byte(b)) }

// TestGemma3Greedy holds gemma-3-270m's greedy completions to llama.cpp's
// own spread: for each prompt (plain, and in Gemma's chat format), ours
// must agree with one of llama.cpp's two CPU builds for at least as long
// as the two builds agree with each other.
func TestGemma3Greedy(t *testing.T) {
	cases, ours := greedySpread(t, testutil.Gemma3(t), "gemma3-greedy.json")
	same := 0
	for i, tc := range cases {
		got := ours[i]
		if got == tc.Best || got == tc.Generic {
			same++
		}
		if o, b := max(agree(got, tc.Best), agree(got, tc.Generic)), agree(tc.Best, tc.Generic); o < b {
			t.Errorf("%q (chat %v): ours agrees for %d bytes, llama.cpp's builds with each other for %d\n ours    %q\n best    %q\n generic %q",
				tc.Prompt, tc.Chat, o, b, got, tc.Best, tc.Generic)
		}
	}
	t.Logf("%d of %d completions equal one of llama.cpp's builds' whole", same, len(cases))
}

// TestGemma3SlidingWindowCache checks the memory of gemma-3-270m's cache
// at its training context of 32768 positions: its 15 sliding-window
// layers (a window of 512) keep 1024 cells each (the window and a batch of
// 512), its 3 global layers every position; with SWAFull all 18 keep
// every position. A cell of a layer is one F16 key and value head of 256:
// 1 KiB.
func TestGemma3SlidingWindowCache(t *testing.T) {
	path := testutil.Gemma3(t)
	for _, c := range []struct {
		swaFull bool
		want    int64
	}{
		{false, (3*32768 + 15*1024) << 10},
		{true, 18 * 32768 << 10},
	} {
		m, err := Open(path, Options{ContextSize: 32768, Threads: 2, SWAFull: c.swaFull})
		if err != nil {
			t.Fatal(err)
		}
		ctx, err := m.NewContext()
		if err != nil {
			t.Fatal(err)
		}
		if got := ctx.CacheBytes(); got != c.want {
			t.Errorf("SWAFull %v: cache of %d bytes (%.1f MiB), want %d (%.1f MiB)", c.swaFull, got, float64(got)/(1<<20), c.want, float64(c.want)/(1<<20))
		}
		m.Close()
	}
}

// TestGemma3SchedulerWindowReuse checks the server's prompt cache on a
// sliding-window model: a new prompt sharing only a prefix the window
// layers' rings no longer hold is evaluated again from the start (and
// gives what a fresh slot gives); one sharing all of the last prompt
// reuses it.
func TestGemma3SchedulerWindowReuse(t *testing.T) {
	m, err := Open(testutil.Gemma3(t), Options{ContextSize: 2048, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// A batch of 64: rings of 768 cells (the window of 512, the batch and
	// the slot, rounded up to 256), which a 1000-token prompt wraps.
	s := newScheduler(t, m, ServeOptions{Slots: 1, BatchSize: 64})
	gen := func(prompt string, cache bool) *Result {
		t.Helper()
		res, err := s.Generate(context.Background(), &Request{Prompt: m.Tokenize(prompt, true, true), MaxTokens: 8, Sampling: greedyParams(), CachePrompt: cache, Slot: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	long := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 100)
	first := gen(long, true)
	if first.PromptTokens < 900 {
		t.Fatalf("the long prompt has %d tokens, want more than 900", first.PromptTokens)
	}
	// Sharing the first 100 or so tokens only: the rings hold the last
	// 768 positions, so nothing is reused.
	other := long[:400] + "Once upon a time"
	second := gen(other, true)
	fresh := gen(other, false)
	if second.CachedTokens != 0 {
		t.Errorf("a prompt sharing %d bytes of %d reused %d cached tokens, want 0 (the window is gone)", 400, len(long), second.CachedTokens)
	}
	if second.Text != fresh.Text {
		t.Errorf("after the cache was dropped %q, fresh %q", second.Text, fresh.Text)
	}
	if again := gen(long, true); again.Text != first.Text {
		t.Errorf("the long prompt again after another: %q, first %q", again.Text, first.Text)
	}
	last := gen(long, true)
	if last.CachedTokens != last.PromptTokens-1 || last.Text != first.Text {
		t.Errorf("the same long prompt again: %d of %d tokens cached (want all but the last), text %q, first %q", last.CachedTokens, last.PromptTokens, last.Text, first.Text)
	}
}
