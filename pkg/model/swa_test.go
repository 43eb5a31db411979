package model

import (
	"bytes"
	"errors"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// swaTokens returns n tokens of the synthetic models' vocabulary, a BOS
// first: enough to wrap a sliding-window layer's ring several times.
func swaTokens(vocab, n int) []int32 {
	toks := []int32{1}
	for i := 0; len(toks) < n; i++ {
		toks = append(toks, int32(3+(i*53+5)%(vocab-3)))
	}
	return toks
}

// swaStates opens the synthetic Gemma models with sliding windows and
// returns, for each, a State whose local layers keep only a ring (the
// window of 16 and a batch of 32: 256 cells, of a 1024-position context)
// and one that keeps every position (SWAFull).
func swaStates(t *testing.T) (ring, full []*State, specs []synthSpec) {
	t.Helper()
	dir := t.TempDir()
	for _, sp := range gemmaHeldout {
		if sp.arch == "gemma" {
			continue // no sliding window
		}
		m := openModel(t, writeSynth(t, dir, sp))
		for _, swaFull := range []bool{false, true} {
			s, err := m.NewState(StateOptions{ContextSize: 1024, BatchSize: 32, Threads: 2, SWAFull: swaFull})
			if err != nil {
				t.Fatal(err)
			}
			if swaFull {
				full = append(full, s)
			} else {
				ring = append(ring, s)
			}
		}
		specs = append(specs, sp)
	}
	return ring, full, specs
}

// sameLogits fails unless a's and b's logits of their last evaluation's
// rows are identical.
func sameLogits(t *testing.T, what string, a, b *State, rows int) {
	t.Helper()
	for i := range rows {
		la, lb := a.Logits(i), b.Logits(i)
		if la == nil || lb == nil {
			t.Fatalf("%s: row %d: no logits", what, i)
		}
		for j := range la {
			if la[j] != lb[j] {
				t.Fatalf("%s: row %d logit %d: ring %v, full cache %v", what, i, j, la[j], lb[j])
			}
		}
	}
}

// TestSlidingWindowCache checks that a sliding-window layer's ring gives
// the logits of a cache of every position, bit for bit, over 600
// positions (the 256-cell ring wraps twice), in batches and token by
// token; that it holds less memory; and that cutting a sequence back past
// what the rings hold clears it (Truncate) or is an error (Eval).
func TestSlidingWindowCache(t *testing.T) {
	ring, full, specs := swaStates(t)
	for i, sp := range specs {
		r, f := ring[i], full[i]
		toks := swaTokens(sp.vocab, 600)
		if err := r.Eval(toks[:590], 0); err != nil {
			t.Fatal(err)
		}
		if err := f.Eval(toks[:590], 0); err != nil {
			t.Fatal(err)
		}
		sameLogits(t, "batch", r, f, 590)
		for p := 590; p < 600; p++ {
			if err := r.Eval(toks[p:p+1], p); err != nil {
				t.Fatal(err)
			}
			if err := f.Eval(toks[p:p+1], p); err != nil {
				t.Fatal(err)
			}
			sameLogits(t, "token by token", r, f, 1)
		}
		// Every layer but the global ones keeps 256 cells of 1024.
		var local int
		for _, l := range r.r.m.net.(*gemma).layers {
			if l.local {
				local++
			}
		}
		layers := sp.layers
		if got, want := r.seq.CacheBytes(), f.seq.CacheBytes()*int64(256*local+1024*(layers-local))/int64(1024*layers); got != want {
			t.Errorf("seed %d: ring cache %d bytes, want %d (full: %d)", sp.seed, got, want, f.seq.CacheBytes())
		}
		if lo := r.seq.PosMin(); lo != 600-256 {
			t.Errorf("seed %d: PosMin %d, want %d", sp.seed, lo, 600-256)
		}
		if f.seq.PosMin() != 0 {
			t.Errorf("seed %d: full cache PosMin %d", sp.seed, f.seq.PosMin())
		}

		// Back by less than a batch: the window is still held, and
		// evaluating again from there gives the same logits.
		r.Truncate(580)
		f.Truncate(580)
		if r.Pos() != 580 {
			t.Fatalf("seed %d: Truncate(580) left Pos %d", sp.seed, r.Pos())
		}
		if err := r.Eval(toks[580:600], 580); err != nil {
			t.Fatal(err)
		}
		if err := f.Eval(toks[580:600], 580); err != nil {
			t.Fatal(err)
		}
		sameLogits(t, "after truncating to 580", r, f, 20)

		// Evaluating over positions the rings no longer hold the
		// window of is an error; truncating there clears the sequence.
		if err := r.Eval(toks[100:110], 100); !errors.Is(err, ErrWindowGone) {
			t.Errorf("seed %d: Eval at 100 of 600: %v, want ErrWindowGone", sp.seed, err)
		}
		r.Truncate(100)
		if r.Pos() != 0 || r.seq.PosMin() != 0 {
			t.Errorf("seed %d: Truncate(100) left Pos %d, PosMin %d; want 0, 0", sp.seed, r.Pos(), r.seq.PosMin())
		}
		f.Truncate(100)
		if f.Pos() != 100 {
			t.Errorf("seed %d: full cache: Truncate(100) left Pos %d", sp.seed, f.Pos())
		}
	}
}

// TestSlidingWindowShift checks a context shift on the rings: with the
// kept positions far behind the window, the shifted sequence continues as
// the full cache's does.
func TestSlidingWindowShift(t *testing.T) {
	ring, full, specs := swaStates(t)
	for i, sp := range specs {
		r, f := ring[i], full[i]
		toks := swaTokens(sp.vocab, 700)
		for _, s := range []*State{r, f} {
			if err := s.Eval(toks[:600], 0); err != nil {
				t.Fatal(err)
			}
			if err := s.Shift(4, 200); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 600 - 256 - 200, false: 0}[s == r]; s.seq.PosMin() != want {
				t.Errorf("seed %d: PosMin after the shift %d, want %d", sp.seed, s.seq.PosMin(), want)
			}
			if err := s.Eval(toks[600:640], 400); err != nil {
				t.Fatal(err)
			}
		}
		sameLogits(t, "after a shift", r, f, 40)
	}
}

// TestSlidingWindowCacheFile checks WriteCache and ReadCache with rings: a
// ring restored continues as the original does; a ring's file restores
// into another ring but not into a full cache (it lacks the old
// positions); a full cache's file restores into a ring.
func TestSlidingWindowCacheFile(t *testing.T) {
	ring, full, specs := swaStates(t)
	for i, sp := range specs {
		r, f := ring[i], full[i]
		toks := swaTokens(sp.vocab, 620)
		for _, s := range []*State{r, f} {
			if err := s.Eval(toks[:600], 0); err != nil {
				t.Fatal(err)
			}
		}
		var ringFile, fullFile bytes.Buffer
		if err := r.WriteCache(&ringFile, 600); err != nil {
			t.Fatal(err)
		}
		if err := f.WriteCache(&fullFile, 600); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteCache(&bytes.Buffer{}, 100); !errors.Is(err, ErrWindowGone) {
			t.Errorf("seed %d: writing 100 of the ring's 600 positions: %v, want ErrWindowGone", sp.seed, err)
		}
		m := r.r.m
		for _, c := range []struct {
			name    string
			file    []byte
			swaFull bool
			wantErr error
		}{
			{"ring into ring", ringFile.Bytes(), false, nil},
			{"full into ring", fullFile.Bytes(), false, nil},
			{"ring into full", ringFile.Bytes(), true, ErrCacheMismatch},
		} {
			s, err := m.NewState(StateOptions{ContextSize: 1024, BatchSize: 32, Threads: 2, SWAFull: c.swaFull})
			if err != nil {
				t.Fatal(err)
			}
			n, err := s.ReadCache(bytes.NewReader(c.file))
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Errorf("seed %d: %s: %v, want %v", sp.seed, c.name, err, c.wantErr)
				}
				continue
			}
			if err != nil || n != 600 {
				t.Fatalf("seed %d: %s: ReadCache = %d, %v", sp.seed, c.name, n, err)
			}
			if err := s.Eval(toks[600:620], 600); err != nil {
				t.Fatal(err)
			}
			if err := f.Eval(toks[600:620], 600); err != nil {
				t.Fatal(err)
			}
			sameLogits(t, c.name, s, f, 20)
		}
		if sp.typ == ggml.TypeF32 && ringFile.Len() >= fullFile.Len() {
			t.Errorf("seed %d: the ring's file (%d bytes) is not smaller than the full cache's (%d)", sp.seed, ringFile.Len(), fullFile.Len())
		}
	}
}
