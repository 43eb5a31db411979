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
