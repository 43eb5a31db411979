package model

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// TestEmbeddingInput: a row given its token's embedding as an input
// embedding computes what the token does, in batches and alone; bad
// widths are errors.
func TestEmbeddingInput(t *testing.T) {
	m := openModel(t, testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf"))
	n := m.net.(*llama)
	d := m.Params.Embd
	tokens := []int32{1, 403, 407, 261, 378, 410, 383}
	embOf := func(tok int32) []float32 {
		v := make([]float32, d)
		cpu.Row(n.tokEmbd, int(tok), v)
		return v
	}
	run := func(t *testing.T, asEmbd func(i int) bool, chunk int) [][]float32 {
		r, err := m.NewRunner(RunnerOptions{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		seq, err := r.NewSeq(64)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		for i0 := 0; i0 < len(tokens); i0 += chunk {
			var batch []BatchEntry
			for i := i0; i < min(i0+chunk, len(tokens)); i++ {
				e := BatchEntry{Seq: seq, Pos: i, Token: tokens[i], Output: true}
				if asEmbd(i) {
					e.Token, e.Embd = 0, embOf(tokens[i])
				}
				batch = append(batch, e)
			}
			if err := r.Decode(context.Background(), batch, false); err != nil {
				t.Fatal(err)
			}
			for j := range batch {
				out = append(out, slices.Clone(r.Output(j)))
			}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		chunk  int
		asEmbd func(i int) bool
	}{
		{"middle rows in one batch", 7, func(i int) bool { return i >= 2 && i < 5 }},
		{"every row", 7, func(int) bool { return true }},
		{"one row at a time", 1, func(i int) bool { return i%2 == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := run(t, func(int) bool { return false }, tc.chunk)
			got := run(t, tc.asEmbd, tc.chunk)
			for i := range want {
				if !slices.Equal(got[i], want[i]) {
					t.Fatalf("row %d: logits differ from the token's", i)
				}
			}
		})
	}
	r, err := m.NewRunner(RunnerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seq, _ := r.NewSeq(16)
	err = r.Decode(context.Background(), []BatchEntry{{Seq: seq, Embd: make([]float32, d-1)}}, false)
	if err == nil || !strings.Contains(err.Error(), "input embedding of 255 values") {
		t.Errorf("short embedding: err = %v", err)
	}
	if errors.Is(err, ErrNoEmbeddingInput) {
		t.Errorf("short embedding reported as %v", ErrNoEmbeddingInput)
	}
}
