package model

import (
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// TestDecodeMatchesBatchPath checks that single-token passes on the team
// give bit for bit the logits of the batch path for one token (the same
// kernels on the same rows), for several thread counts, weight and cache
// types, dense and mixture-of-experts layers, past 512 cache cells (the
// split attention kernel), and with widths that leave partial work items.
func TestDecodeMatchesBatchPath(t *testing.T) {
	type model struct {
		name string
		path string
	}
	var models []model
	for _, typ := range []ggml.Type{ggml.TypeQ8_0, ggml.TypeF16} {
		sp := synthSpec{embd: 256, layers: 2, ff: 352, heads: 8, headsKV: 2, headDim: 32, vocab: 300, typ: typ, ropeBase: 10000, seed: 21}
		models = append(models, model{typ.String(), writeSynth(t, t.TempDir(), sp)})
	}
	moe := synthSpec{embd: 256, layers: 2, ff: 352, heads: 8, headsKV: 2, headDim: 32, vocab: 300, experts: 4, used: 2, typ: ggml.TypeQ8_0, ropeBase: 10000, seed: 22}
	models = append(models, model{"moe-q8_0", writeSynth(t, t.TempDir(), moe)})
	for _, name := range []string{"synth-llama-q4_k_m", "synth-moe-q4_0"} {
		models = append(models, model{name, testutil.SharedFile(t, "testdata/models/"+name+".gguf")})
	}
	prompt := heldoutTokens300(300)
	prompt = append(prompt, prompt...)[:510]
	for _, mc := range models {
		m := openModel(t, mc.path)
		for _, ct := range []CacheType{CacheF16, CacheQ8_0} {
			run := func(threads int, team bool) []float32 {
				s, err := m.NewState(StateOptions{ContextSize: 600, BatchSize: 256, Threads: threads, CacheTypeK: ct, CacheTypeV: ct})
				if err != nil {
					t.Fatal(err)
				}
				if s.r.dec.team == nil {
					t.Fatal("llama State has no team")
				}
				if !team {
					s.r.dec.team = nil // the batch path
				}
				toks := slices.Clone(prompt)
				if ct != CacheF16 {
					toks = toks[:40] // only F16 caches take the split kernel
				}
				for i := range toks {
					toks[i] %= int32(m.Params.Vocab)
				}
				if err := s.EvalLast(toks, 0); err != nil {
					t.Fatal(err)
				}
				var got []float32
				// Decode across the 512-cell boundary (F16).
				for i := len(toks); i < len(toks)+6; i++ {
					if err := s.EvalLast([]int32{int32(i * 7 % m.Params.Vocab)}, i); err != nil {
						t.Fatal(err)
					}
					got = append(got, s.LastLogits()...)
				}
				return got
			}
			for _, th := range []int{1, 3} {
				want, got := run(th, false), run(th, true)
				if !slices.Equal(got, want) {
					nmse, _ := compare(got, want, m.Params.Vocab)
					t.Errorf("%s, %s cache, %d threads: team decode differs from the batch path (nmse %.3e)", mc.name, ct, th, nmse)
				}
			}
		}
	}
}

// TestTeam runs jobs with many barriers on teams larger and smaller than
// GOMAXPROCS, with pauses that let the helpers park between runs and at
// barriers, and checks that every member runs every step once.
func TestTeam(t *testing.T) {
	for _, n := range []int{2, 3, runtime.GOMAXPROCS(0) + 2} {
		tm := newTeam(n)
		const steps = 50
		var counts [steps]atomic.Int32
		var bad atomic.Bool
		job := func(id int) {
			for k := range counts {
				counts[k].Add(1)
				if id == k%n && k%10 == 0 {
					time.Sleep(2 * barrierSpin) // the others park
				}
				tm.bar.wait(id)
				if counts[k].Load() != int32(n) {
					bad.Store(true)
				}
				tm.bar.wait(id)
			}
		}
		for r := 0; r < 4; r++ {
			for k := range counts {
				counts[k].Store(0)
			}
			tm.run(job)
			if bad.Load() {
				t.Fatalf("%d members, run %d: a member passed a barrier before the others reached it", n, r)
			}
			for k := range counts {
				if c := counts[k].Load(); c != int32(n) {
					t.Fatalf("%d members, run %d: step %d ran %d times", n, r, k, c)
				}
			}
			if r == 1 {
				time.Sleep(2 * teamIdle) // the helpers park between runs
			}
		}
		tm.close()
	}
}

// TestStateGoroutinesExit checks that the goroutines of a State's pools
// and team exit once the State is unreachable.
func TestStateGoroutinesExit(t *testing.T) {
	sp := synthSpec{embd: 64, layers: 1, ff: 64, heads: 4, headsKV: 2, headDim: 16, vocab: 300, typ: ggml.TypeQ8_0, ropeBase: 10000, seed: 5}
	m := openModel(t, writeSynth(t, t.TempDir(), sp))
	before := runtime.NumGoroutine()
	for range 4 {
		s, err := m.NewState(StateOptions{ContextSize: 32, Threads: 3, BatchThreads: 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Eval([]int32{1, 2, 3}, 0); err != nil {
			t.Fatal(err)
		}
		if err := s.EvalLast([]int32{4}, 3); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for try := 0; try < 100; try++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		if n = runtime.NumGoroutine(); n <= before {
			return
		}
	}
	t.Errorf("%d goroutines before, %d after the States were dropped", before, n)
}

// TestBarrierWakeups has the members of a team park at nearly every one
// of many barriers (no spinning first), more members than processors, so
// that a member publishing itself parked races with the last arriver's
// wake-up again and again. A wake-up lost in that race leaves a member
// parked for good: the test fails when the barriers stop advancing. (With
// the parker publishing by a plain store, qemu-user hung this way within a
// few hundred thousand barriers, on both CPU models.)
func TestBarrierWakeups(t *testing.T) {
	const n, rounds = 4, 100000
	tm := newTeam(n)
	defer tm.close()
	tm.bar.spin = 0
	var passed atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		tm.run(func(id int) {
			for range rounds {
				tm.bar.wait(id)
				if id == 0 {
					passed.Add(1)
				}
			}
		})
	}()
	last := int64(-1)
	for {
		select {
		case <-done:
			return
		case <-time.After(20 * time.Second):
			p := passed.Load()
			if p == last {
				t.Fatalf("the team stopped at barrier %d of %d: a member missed its wake-up", p, rounds)
			}
			last = p
		}
	}
}
