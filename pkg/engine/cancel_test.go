package engine

import (
	"context"
	"errors"
	"testing"
)

// TestEvalContextCancelled checks that a done context stops EvalContext,
// EvalLastContext and GenerateContext with its error and leaves the cache
// as it was, ready for more.
func TestEvalContextCancelled(t *testing.T) {
	m := openStories(t, Options{ContextSize: 64, BatchSize: 4, Threads: 1})
	c, err := m.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	toks := m.Tokenize("Lily and Ben went to the park", true, true)
	if err := c.Eval(toks[:2]); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.EvalContext(ctx, toks[2:]); !errors.Is(err, context.Canceled) {
		t.Errorf("EvalContext: %v, want context.Canceled", err)
	}
	if err := c.EvalLastContext(ctx, toks[2:]); !errors.Is(err, context.Canceled) {
		t.Errorf("EvalLastContext: %v, want context.Canceled", err)
	}
	if c.Pos() != 2 || c.LastLogits() != nil {
		t.Errorf("after cancelled evaluations: Pos %d (want 2), logits kept %v", c.Pos(), c.LastLogits() != nil)
	}
	out, err := c.GenerateContext(ctx, toks[2:], Greedy{}, 8, nil)
	if !errors.Is(err, context.Canceled) || len(out) != 0 {
		t.Errorf("GenerateContext: %v, %d tokens; want context.Canceled and none", err, len(out))
	}
	// The context goes on as if nothing happened.
	if err := c.EvalContext(context.Background(), toks[2:]); err != nil {
		t.Fatal(err)
	}
	if c.Pos() != len(toks) || len(c.Tokens()) != len(toks) {
		t.Errorf("Pos %d, %d tokens, want %d", c.Pos(), len(c.Tokens()), len(toks))
	}
	// Cancelled while generating: the tokens so far come back.
	c.Reset()
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	out, err = c.GenerateContext(ctx, toks, Greedy{}, 20, func(int32) bool {
		cancel()
		return true
	})
	if !errors.Is(err, context.Canceled) || len(out) != 1 {
		t.Errorf("cancelled after the first token: %v, %d tokens; want context.Canceled and 1", err, len(out))
	}
}
