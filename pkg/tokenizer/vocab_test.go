package tokenizer

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// vocabNames are the vocabularies in ../shared/testdata/vocab.
var vocabNames = []string{"llama-spm", "phi-3", "llama-bpe", "qwen2", "gpt-2", "bert-bge"}

var (
	vocabMu    sync.Mutex
	vocabCache = map[string]*Vocab{}
)

// loadVocab reads ggml-vocab-<name>.gguf once per test binary.
func loadVocab(tb testing.TB, name string) *Vocab {
	tb.Helper()
	vocabMu.Lock()
	defer vocabMu.Unlock()
	if v, ok := vocabCache[name]; ok {
		return v
	}
	path := testutil.SharedFile(tb, "testdata/vocab/ggml-vocab-"+name+".gguf")
	f, err := gguf.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	v, err := VocabFromGGUF(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	vocabCache[name] = v
	return v
}

// loadTokenizer builds a tokenizer for a shared vocabulary; edit, when not
// nil, changes a copy of the vocabulary first.
func loadTokenizer(tb testing.TB, name string, edit func(v *Vocab)) *Tokenizer {
	tb.Helper()
	v := loadVocab(tb, name)
	if edit != nil {
		c := *v
		edit(&c)
		v = &c
	}
	tok, err := New(v)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return tok
}

func equalIDs(a, b []int32) bool {
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

// TestVocabVectors checks every test vector of llama.cpp's tokenizer tests.
func TestVocabVectors(t *testing.T) {
	for _, name := range vocabNames {
		t.Run(name, func(t *testing.T) {
			tok := loadTokenizer(t, name, nil)
			base := filepath.Join(testutil.SharedDir(t), "testdata", "vocab", "ggml-vocab-"+name+".gguf")
			texts, want := testutil.VocabVectors(t, base)
			for i, text := range texts {
				got := tok.Encode(text, false, false)
				if !equalIDs(got, want[i]) {
					t.Errorf("text %d %q:\n got %v\nwant %v", i, text, got, want[i])
				}
			}
		})
	}
}
