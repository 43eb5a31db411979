package engine

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/model"
)

// TestVocabOnly opens every vocabulary-only file of ../shared with
// Options.VocabOnly and checks its tokenizer test vectors (no BOS/EOS, no
// special-token parsing, as the vectors were made); evaluation must fail
// with ErrVocabOnly, and a full open must fail (no weights).
func TestVocabOnly(t *testing.T) {
	vocabs := testutil.SharedGlob(t, "testdata/vocab/*.gguf")
	if len(vocabs) == 0 {
		t.Fatal("no vocabulary files in ../shared/testdata/vocab")
	}
	for _, path := range vocabs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			m, err := Open(path, Options{VocabOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.NumVocab() != m.Tokenizer().NumTokens() || m.NumVocab() == 0 {
				t.Errorf("NumVocab %d, tokenizer has %d tokens", m.NumVocab(), m.Tokenizer().NumTokens())
			}
			if m.Arch() == "" {
				t.Error("no architecture")
			}
			if m.Params() != (model.HParams{}) {
				t.Errorf("Params of a vocabulary-only model: %+v", m.Params())
			}
			texts, want := testutil.VocabVectors(t, path)
			for i, text := range texts {
				got := m.Tokenize(text, false, false)
				if !slicesEqual(got, want[i]) {
					t.Errorf("text %d %q:\n got %v\nwant %v", i, text, got, want[i])
				}
			}
			if _, err := m.NewContext(); !errors.Is(err, ErrVocabOnly) {
				t.Errorf("NewContext of a vocabulary-only model: %v, want ErrVocabOnly", err)
			}
			_, err = Open(path, Options{})
			if !errors.Is(err, model.ErrMissingTensor) && !errors.Is(err, model.ErrUnknownArchitecture) {
				t.Errorf("full open of a vocabulary-only file: %v, want a missing tensor or an unknown architecture", err)
			}
		})
	}
}

// TestVocabOnlyModelFile opens a full model with its vocabulary only: the
// same tokens as a full open.
func TestVocabOnlyModelFile(t *testing.T) {
	full := openStories(t, Options{Threads: 1})
	m, err := Open(testutil.SharedFile(t, "testdata/models/stories260k.gguf"), Options{VocabOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Arch() != "llama" || m.NumVocab() != full.NumVocab() {
		t.Errorf("arch %q vocab %d, want llama %d", m.Arch(), m.NumVocab(), full.NumVocab())
	}
	const text = "Once upon a time, <s> Lily saw a 🐘."
	if got, want := m.Tokenize(text, true, true), full.Tokenize(text, true, true); !slicesEqual(got, want) {
		t.Errorf("vocabulary-only tokens %v, full model %v", got, want)
	}
}

func slicesEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
