package model

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// TestEvalContext checks that a done context stops evaluation with its
// error, keeps only completed passes in the cache, and leaves a State that
// continues to the same logits as an uninterrupted one.
func TestEvalContext(t *testing.T) {
	sp := synthSpec{embd: 64, layers: 4, ff: 128, heads: 4, headsKV: 2, headDim: 16, vocab: 300, typ: ggml.TypeF32, ropeBase: 10000, seed: 11}
	m := openModel(t, writeSynth(t, t.TempDir(), sp))
	const nb = 4
	toks := make([]int32, 64)
	for i := range toks {
		toks[i] = int32(3 + (i*37)%(sp.vocab-3))
	}
	ref, err := m.NewState(StateOptions{ContextSize: 128, BatchSize: nb})
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Eval(toks, 0); err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), ref.LastLogits()...)

	s, err := m.NewState(StateOptions{ContextSize: 128, BatchSize: nb})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Eval(toks[:5], 0); err != nil {
		t.Fatal(err)
	}
	// Already cancelled: nothing is evaluated.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, last := range []bool{false, true} {
		eval := s.EvalContext
		if last {
			eval = s.EvalLastContext
		}
		if err := eval(ctx, toks[5:], 5); !errors.Is(err, context.Canceled) {
			t.Errorf("last=%v: cancelled context: %v, want context.Canceled", last, err)
		}
		if s.Pos() != 5 || s.LastLogits() != nil {
			t.Errorf("last=%v: after a cancelled evaluation: Pos %d (want 5), logits %v", last, s.Pos(), s.LastLogits() != nil)
		}
	}
	// A context that ends during the evaluation: the cache keeps whole
	// passes. Timing decides where it stops; retry until it stops in the
	// middle at least once.
	partial := false
	for try := 0; try < 50 && !partial; try++ {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Duration(try%10)*100*time.Microsecond, cancel)
		err := s.EvalContext(ctx, toks[5:], 5)
		cancel()
		switch {
		case err == nil:
			if s.Pos() != len(toks) {
				t.Fatalf("Pos %d after a complete evaluation", s.Pos())
			}
		case !errors.Is(err, context.Canceled):
			t.Fatalf("interrupted evaluation: %v, want context.Canceled", err)
		case (s.Pos()-5)%nb != 0 || s.Pos() >= len(toks):
			t.Fatalf("interrupted evaluation left Pos %d: not 5 + whole passes of %d", s.Pos(), nb)
		default:
			if s.Pos() > 5 && !partial {
				t.Logf("try %d: stopped at position %d of %d", try, s.Pos(), len(toks))
			}
			partial = s.Pos() > 5
		}
		// Continue from where it stopped: the logits of an uninterrupted
		// run.
		if p := s.Pos(); p < len(toks) {
			if err := s.Eval(toks[p:], p); err != nil {
				t.Fatal(err)
			}
		}
		if nmse, _ := compare(s.LastLogits(), want, sp.vocab); nmse > 1e-10 {
			t.Fatalf("try %d: logits after resuming: nmse %.3e", try, nmse)
		}
		s.Truncate(5)
	}
	if !partial {
		t.Log("no cancellation landed in the middle of the evaluation")
	}
}

// TestDecodeContextTeam cancels single-token passes on a team with more
// members than processors, at times that land between layers, and
// evaluates again at once. Every member must leave a cancelled pass after
// the same barrier and be gone before the next pass starts: a member that
// read the stop flag late once either stayed in the old pass or left a
// layer early, and the team then waited at a barrier for ever.
func TestDecodeContextTeam(t *testing.T) {
	specs := map[string]synthSpec{
		"dense": {embd: 128, layers: 6, ff: 256, heads: 4, headsKV: 2, headDim: 32, vocab: 300, typ: ggml.TypeQ8_0, ropeBase: 10000, seed: 31},
		"moe":   {embd: 128, layers: 6, ff: 192, heads: 4, headsKV: 2, headDim: 32, vocab: 300, experts: 4, used: 2, typ: ggml.TypeQ8_0, ropeBase: 10000, seed: 32},
	}
	for name, sp := range specs {
		t.Run(name, func(t *testing.T) {
			m := openModel(t, writeSynth(t, t.TempDir(), sp))
			toks := []int32{5, 17, 42, 99}
			ref, err := m.NewState(StateOptions{ContextSize: 32, Threads: 4})
			if err != nil {
				t.Fatal(err)
			}
			for i, tok := range toks {
				if err := ref.Eval([]int32{tok}, i); err != nil {
					t.Fatal(err)
				}
			}
			want := append([]float32(nil), ref.LastLogits()...)

			s, err := m.NewState(StateOptions{ContextSize: 32, Threads: 4})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Eval(toks[:3], 0); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				for try := 0; try < 400; try++ {
					ctx, cancel := context.WithCancel(context.Background())
					time.AfterFunc(time.Duration(try%20)*5*time.Microsecond, cancel)
					err := s.EvalContext(ctx, toks[3:], 3)
					cancel()
					if err != nil && !errors.Is(err, context.Canceled) {
						done <- err
						return
					}
					s.Truncate(3)
				}
				done <- s.Eval(toks[3:], 3)
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(2 * time.Minute):
				t.Fatal("cancelled single-token passes did not finish in 2 minutes: the team is stuck at a barrier")
			}
			if nmse, _ := compare(s.LastLogits(), want, sp.vocab); nmse > 1e-10 {
				t.Fatalf("logits after the cancelled passes: nmse %.3e", nmse)
			}
		})
	}
}
