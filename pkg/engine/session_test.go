package engine

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/model"
)

// TestSessionRoundTrip: a session saved after a prompt and loaded into a
// new Context (with NoMmap and Mlock, which change nothing in the
// results) gives the same logits for the next tokens as evaluating on
// from the prompt; files that do not fit are errors that say why, and
// leave the cache empty.
func TestSessionRoundTrip(t *testing.T) {
	m := openStories(t, Options{ContextSize: 64, Threads: 2})
	prompt := m.Tokenize("Once upon a time, there was a little girl", true, true)
	rest := m.Tokenize(" named Lily", false, false)
	a, err := m.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Eval(prompt); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "prompt.cache")
	if err := a.SaveSession(path); err != nil {
		t.Fatal(err)
	}
	if err := a.Eval(rest); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(a.Logits(len(rest) - 1))

	m2 := openStories(t, Options{ContextSize: 64, Threads: 2, NoMmap: true, Mlock: true})
	if err := m2.LockError(); err != nil {
		t.Logf("Mlock: %v (refused by the system)", err)
	}
	b, err := m2.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	toks, err := b.LoadSession(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(toks, prompt) || b.Pos() != len(prompt) {
		t.Fatalf("loaded tokens %v at %d, want %v", toks, b.Pos(), prompt)
	}
	if err := b.EvalLast(rest); err != nil {
		t.Fatal(err)
	}
	if got := b.LastLogits(); !slices.Equal(got, want) {
		t.Errorf("logits after a loaded session differ from evaluating on")
	}

	// What cannot be used.
	q8, err := Open(testutil.SharedFile(t, "testdata/models/stories260k.gguf"), Options{ContextSize: 64, CacheTypeK: model.CacheF32})
	if err != nil {
		t.Fatal(err)
	}
	defer q8.Close()
	other, err := Open(testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf"), Options{ContextSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	small := openStories(t, Options{ContextSize: 8})
	notSession := filepath.Join(t.TempDir(), "model.gguf")
	if err := os.WriteFile(notSession, []byte("GGUF\x03\x00\x00\x00 weights"), 0o644); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, data[:len(data)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		m    *Model
		path string
		is   error
	}{
		{"another cache type", q8, path, ErrSessionModel},
		{"another model", other, path, ErrSessionModel},
		{"a smaller context", small, path, nil},
		{"not a session", m, notSession, ErrNotSession},
		{"truncated", m, truncated, nil},
		{"missing", m, filepath.Join(t.TempDir(), "none"), os.ErrNotExist},
	} {
		c, err := tt.m.NewContext()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Eval(prompt[:3]); err != nil {
			t.Fatal(err)
		}
		_, err = c.LoadSession(tt.path)
		if err == nil || tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.is)
		}
		if c.Pos() != 0 {
			t.Errorf("%s: %d tokens left in the cache after a failed load", tt.name, c.Pos())
		}
		t.Logf("%s: %v", tt.name, err)
	}
}
