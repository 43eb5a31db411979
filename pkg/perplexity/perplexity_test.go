package perplexity

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/engine"
)

func TestLogSoftmax(t *testing.T) {
	tests := []struct {
		logits []float32
		tok    int32
		want   float64
	}{
		{[]float32{0, 0}, 0, math.Log(0.5)},
		{[]float32{1, 2, 3}, 2, 3 - math.Log(math.Exp(1)+math.Exp(2)+math.Exp(3))},
		{[]float32{1000, 0}, 1, -1000},     // no overflow
		{[]float32{-1e30, 5, -1e30}, 1, 0}, // certain
		{[]float32{7}, 0, 0},               // one token
		{[]float32{0, 0, 0, 0}, 3, math.Log(0.25)},
	}
	for _, tt := range tests {
		if got := LogSoftmax(tt.logits, tt.tok); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("LogSoftmax(%v, %d) = %v, want %v", tt.logits, tt.tok, got, tt.want)
		}
	}
}

func openStories(t *testing.T, ctxSize int) *engine.Context {
	t.Helper()
	m, err := engine.Open(testutil.SharedFile(t, "testdata/models/stories260k.gguf"), engine.Options{ContextSize: ctxSize, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	c, err := m.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const story = "Once upon a time, there was a little girl named Lily. She liked to play in the park with her big red ball. " +
	"One day, the sun was hot and Lily felt sad because her ball was lost. She looked under the tree and behind the bench. " +
	"Then her friend Ben came and said, \"I saw your ball near the pond!\" They ran to the pond and found the ball. Lily was happy again."

func TestCompute(t *testing.T) {
	c := openStories(t, 32)
	m := c.Model()
	tokens := m.Tokenize(story, true, false)
	opt := Options{ContextSize: 32, AddBOS: true, BOS: m.BOS()}
	var seen []int
	res, err := Compute(context.Background(), c, tokens, opt, func(chunk int, ppl float64) { seen = append(seen, chunk) })
	if err != nil {
		t.Fatal(err)
	}
	n := len(tokens) / 32
	if res.Chunks != n || len(seen) != n || res.Count != n*15 || len(res.ChunkPPL) != n {
		t.Errorf("chunks %d, progress %v, count %d; want %d chunks of 15 scored tokens", res.Chunks, seen, res.Count, n)
	}
	// A trained model on a story of its kind: far better than uniform
	// over its 512 tokens, and not impossibly good.
	if !(res.PPL > 1.5 && res.PPL < 50) || !(res.StdErr > 0 && res.StdErr < res.PPL) {
		t.Errorf("PPL = %v +/- %v", res.PPL, res.StdErr)
	}
	if res.ChunkPPL[n-1] != res.PPL {
		t.Errorf("last running value %v != final %v", res.ChunkPPL[n-1], res.PPL)
	}

	// Chunks limits the work.
	res2, err := Compute(context.Background(), c, tokens, Options{ContextSize: 32, Chunks: 1, AddBOS: true, BOS: m.BOS()}, nil)
	if err != nil || res2.Chunks != 1 || res2.PPL != res.ChunkPPL[0] {
		t.Errorf("Chunks: 1 gave %+v, %v; want the first running value %v", res2, err, res.ChunkPPL[0])
	}
}

func TestComputeErrors(t *testing.T) {
	c := openStories(t, 32)
	m := c.Model()
	tokens := m.Tokenize(story, true, false)
	bg := context.Background()
	if _, err := Compute(bg, c, tokens[:63], Options{ContextSize: 32}, nil); err == nil {
		t.Error("fewer than 2*ContextSize tokens: no error")
	}
	if _, err := Compute(bg, c, tokens, Options{ContextSize: 64}, nil); err == nil {
		t.Error("ContextSize beyond the context: no error")
	}
	if _, err := Compute(bg, c, tokens, Options{ContextSize: 1}, nil); err == nil {
		t.Error("ContextSize 1: no error")
	}
	bad := append([]int32(nil), tokens...)
	bad[40] = 1 << 20
	if _, err := Compute(bg, c, bad, Options{ContextSize: 32}, nil); err == nil {
		t.Error("token out of the vocabulary: no error")
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := Compute(ctx, c, tokens, Options{ContextSize: 32}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
