package engine

import (
	"context"
	"errors"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// greedyParams samples greedily.
func greedyParams() sample.Params {
	p := sample.DefaultParams()
	p.Temp = 0
	return p
}

func newScheduler(t *testing.T, m *Model, opts ServeOptions) *Scheduler {
	t.Helper()
	s, err := m.NewScheduler(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestSchedulerGreedyGolden runs llama.cpp's greedy golden prompts
// through the Scheduler, all at once on eight slots (with staggered
// starts, so prompts are evaluated beside other requests' generated
// tokens) and one at a time on one slot: every completion is llama.cpp's,
// and the text streamed in chunks adds up to the result.
func TestSchedulerGreedyGolden(t *testing.T) {
	cases := testutil.GreedyCases(t)
	m := openStories(t, Options{ContextSize: 256, Threads: 2})
	run := func(t *testing.T, s *Scheduler, i int, delay time.Duration) string {
		tc := cases[i%len(cases)]
		time.Sleep(delay)
		var streamed strings.Builder
		res, err := s.Generate(context.Background(), &Request{
			Prompt: m.Tokenize(tc.Prompt, true, true), MaxTokens: tc.NPredict, Sampling: greedyParams(), Slot: -1,
		}, func(c Chunk) error {
			streamed.WriteString(c.Text)
			return nil
		})
		if err != nil {
			t.Errorf("%q: %v", tc.Prompt, err)
			return ""
		}
		if streamed.String() != res.Text {
			t.Errorf("%q: streamed %q, result %q", tc.Prompt, streamed.String(), res.Text)
		}
		if res.GeneratedTokens > tc.NPredict || res.PromptTokens == 0 {
			t.Errorf("%q: %d tokens generated of %d, %d prompt tokens", tc.Prompt, res.GeneratedTokens, tc.NPredict, res.PromptTokens)
		}
		return res.Text
	}
	check := func(t *testing.T, i int, got string) {
		tc := cases[i%len(cases)]
		if got != tc.Completion {
			if !tc.BackendsAgree {
				t.Logf("%q: differs on a near tie (acceptable)", tc.Prompt)
				return
			}
			t.Errorf("request %d, %q:\n got %q\nwant %q", i, tc.Prompt, got, tc.Completion)
		}
	}
	t.Run("alone", func(t *testing.T) {
		s := newScheduler(t, m, ServeOptions{Slots: 1})
		for i := range cases {
			check(t, i, run(t, s, i, 0))
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		s := newScheduler(t, m, ServeOptions{Slots: 8, ContextSize: 8 * 256})
		n := max(16, len(cases))
		got := make([]string, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = run(t, s, i, time.Duration(i%5)*3*time.Millisecond)
			}()
		}
		wg.Wait()
		for i := range got {
			check(t, i, got[i])
		}
		if st := s.Stats(); st.RequestsFinished != int64(n) || st.Decodes == 0 {
			t.Errorf("stats %+v after %d requests", st, n)
		}
	})
}

// TestSchedulerPromptCache checks that a request continuing a slot's
// last conversation evaluates only its new tokens and gives what a fresh
// slot gives.
func TestSchedulerPromptCache(t *testing.T) {
	m := openStories(t, Options{ContextSize: 256, Threads: 2})
	s := newScheduler(t, m, ServeOptions{Slots: 1})
	gen := func(prompt string, cache bool) *Result {
		res, err := s.Generate(context.Background(), &Request{Prompt: m.Tokenize(prompt, true, true), MaxTokens: 20, Sampling: greedyParams(), CachePrompt: cache, Slot: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := gen("Once upon a time", true)
	turn := "Once upon a time" + first.Text + " Then"
	cached := gen(turn, true)
	fresh := gen(turn, false)
	if cached.CachedTokens == 0 || cached.CachedTokens < first.PromptTokens {
		t.Errorf("second turn reused %d cached tokens, want at least the %d of the first prompt", cached.CachedTokens, first.PromptTokens)
	}
	if fresh.CachedTokens != 0 {
		t.Errorf("cache_prompt off reused %d tokens", fresh.CachedTokens)
	}
	if cached.Text != fresh.Text {
		t.Errorf("with the prompt cache %q, without %q", cached.Text, fresh.Text)
	}
	again := gen(turn, true)
	if again.CachedTokens != again.PromptTokens-1 || again.Text != fresh.Text {
		t.Errorf("the same prompt again: %d of %d tokens cached (want all but the last), text %q", again.CachedTokens, again.PromptTokens, again.Text)
	}
}

// TestSchedulerStopAndLimits checks stop strings, the token limit, the
// end of the context (with and without context shift) and ignore_eos.
func TestSchedulerStopAndLimits(t *testing.T) {
	cases := testutil.GreedyCases(t)
	tc := cases[0] // "Once upon a time" -> ", there was a little girl named Lily. ..."
	m := openStories(t, Options{ContextSize: 64, Threads: 2})
	prompt := m.Tokenize(tc.Prompt, true, true)
	s := newScheduler(t, m, ServeOptions{Slots: 2, ContextSize: 128})
	shift := newScheduler(t, m, ServeOptions{Slots: 1, ContextSize: 64, ContextShift: true})

	res, err := s.Generate(context.Background(), &Request{Prompt: prompt, MaxTokens: 64, Sampling: greedyParams(), Stop: []string{"named Li", "never"}, Slot: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := tc.Completion[:strings.Index(tc.Completion, "named Li")]
	if res.Text != want || res.StopWord != "named Li" || res.FinishReason != FinishStop {
		t.Errorf("stop string: text %q stop %q reason %q, want %q", res.Text, res.StopWord, res.FinishReason, want)
	}

	res, err = s.Generate(context.Background(), &Request{Prompt: prompt, MaxTokens: 5, Sampling: greedyParams(), Slot: -1}, nil)
	if err != nil || res.GeneratedTokens != 5 || res.FinishReason != FinishLength {
		t.Errorf("max tokens 5: %+v, %v", res, err)
	}

	for _, mt := range []int{-1, -2} {
		res, err = s.Generate(context.Background(), &Request{Prompt: prompt, MaxTokens: mt, Sampling: greedyParams(), IgnoreEOS: true, Slot: -1}, nil)
		if err != nil || res.FinishReason != FinishLength || res.PromptTokens+res.GeneratedTokens != 64+1 || res.Truncated {
			t.Errorf("max tokens %d without context shift: reason %q, %d+%d tokens, truncated %v, %v", mt, res.FinishReason, res.PromptTokens, res.GeneratedTokens, res.Truncated, err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n := 0
	res, err = shift.Generate(ctx, &Request{Prompt: prompt, MaxTokens: -1, Sampling: greedyParams(), IgnoreEOS: true, Keep: -1, Slot: -1}, func(c Chunk) error {
		if n += len(c.Tokens); n >= 200 {
			return errors.New("enough")
		}
		return nil
	})
	if err == nil || err.Error() != "enough" || res == nil || !res.Truncated || res.GeneratedTokens < 200 {
		t.Errorf("context shift: %d tokens generated, truncated %v, err %v", res.GeneratedTokens, res.Truncated, err)
	}
}

// TestSchedulerCancel checks that a cancelled request frees its slot at
// once, that a full queue is refused, and that nothing is left running.
func TestSchedulerCancel(t *testing.T) {
	m := openStories(t, Options{ContextSize: 256, Threads: 2})
	base := runtime.NumGoroutine()
	s, err := m.NewScheduler(ServeOptions{Slots: 1, QueueSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	prompt := m.Tokenize("Once upon a time", true, true)
	long := &Request{Prompt: prompt, MaxTokens: -1, Sampling: greedyParams(), IgnoreEOS: true, Slot: -1}

	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		var once sync.Once
		_, err := s.Generate(ctx, long, func(Chunk) error { once.Do(func() { close(started) }); return nil })
		done <- err
	}()
	<-started
	// The slot is busy: one request may wait, the next is refused.
	queued := make(chan error, 1)
	go func() {
		_, err := s.Generate(context.Background(), &Request{Prompt: prompt, MaxTokens: 3, Sampling: greedyParams(), Slot: -1}, nil)
		queued <- err
	}()
	waitFor(t, func() bool { return s.Stats().Queued == 1 })
	if _, err := s.Generate(context.Background(), &Request{Prompt: prompt, MaxTokens: 3, Sampling: greedyParams(), Slot: -1}, nil); !errors.Is(err, ErrQueueFull) {
		t.Errorf("third request with one slot and a queue of one: %v, want ErrQueueFull", err)
	}
	t0 := time.Now()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled generation: %v", err)
	}
	if err := <-queued; err != nil {
		t.Errorf("queued request after the cancel: %v", err)
	}
	t.Logf("the queued request finished %v after the cancel", time.Since(t0))
	// Cancelling while queued.
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel2() }()
	busy := make(chan struct{})
	go func() {
		var once sync.Once
		ctx3, c3 := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer c3()
		s.Generate(ctx3, long, func(Chunk) error { once.Do(func() { close(busy) }); return nil })
	}()
	<-busy
	if _, err := s.Generate(ctx2, long, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("request cancelled in the queue: %v", err)
	}
	s.Close()
	if _, err := s.Generate(context.Background(), long, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= base })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met in 5 s (%d goroutines)", runtime.NumGoroutine())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSchedulerErrors checks requests refused before they queue.
func TestSchedulerErrors(t *testing.T) {
	m := openStories(t, Options{ContextSize: 32, Threads: 1})
	s := newScheduler(t, m, ServeOptions{Slots: 2, ContextSize: 64})
	long := make([]int32, 40)
	for i := range long {
		long[i] = 1
	}
	for _, c := range []struct {
		req  Request
		want error
	}{
		{Request{Prompt: nil}, ErrPromptTooLong},
		{Request{Prompt: long}, ErrPromptTooLong},
	} {
		if _, err := s.Generate(context.Background(), &c.req, nil); !errors.Is(err, c.want) {
			t.Errorf("prompt of %d tokens: %v, want %v", len(c.req.Prompt), err, c.want)
		}
	}
	if _, err := s.Generate(context.Background(), &Request{Prompt: []int32{1, 99999}}, nil); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("bad token: %v", err)
	}
	if _, err := s.Generate(context.Background(), &Request{Prompt: []int32{1}, Slot: 5}, nil); err == nil || !strings.Contains(err.Error(), "slot 5") {
		t.Errorf("bad slot: %v", err)
	}
	if _, err := s.Embed(context.Background(), []int32{1}); !errors.Is(err, ErrNoEmbeddings) {
		t.Errorf("embeddings off: %v", err)
	}
	if _, err := m.NewScheduler(ServeOptions{Slots: 8, ContextSize: 16}); err == nil {
		t.Error("2 positions per slot: no error")
	}
}

// TestSchedulerEmbed checks mean-pooled embeddings: unit length, the same
// for the same text whatever runs beside it, different for other texts.
func TestSchedulerEmbed(t *testing.T) {
	m := openStories(t, Options{ContextSize: 128, Threads: 2})
	s := newScheduler(t, m, ServeOptions{Slots: 2, Embeddings: true})
	embed := func(text string) []float32 {
		v, err := s.Embed(context.Background(), m.Tokenize(text, true, true))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	a := embed("Once upon a time")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.Generate(context.Background(), &Request{Prompt: m.Tokenize("Lily", true, true), MaxTokens: 30, Sampling: greedyParams(), Slot: -1}, nil)
	}()
	b := embed("Once upon a time")
	c := embed("The dog ran to the park")
	wg.Wait()
	var norm, dot float64
	for i := range a {
		norm += float64(a[i]) * float64(a[i])
		dot += float64(a[i]) * float64(c[i])
		if a[i] != b[i] {
			t.Fatalf("the same text embeds differently at %d: %v vs %v", i, a[i], b[i])
		}
	}
	if len(a) != m.Params().Embd || math.Abs(norm-1) > 1e-5 || dot > 0.9999 {
		t.Errorf("embedding of %d values (want %d), norm² %v, cosine to another text %v", len(a), m.Params().Embd, norm, dot)
	}

}
