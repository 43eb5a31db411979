package testutil

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestVocabVectors(t *testing.T) {
	vocab := filepath.Join(t.TempDir(), "v.gguf")
	inp := "Hello\n__ggml_vocab_test__\n\n__ggml_vocab_test__\n a\nb\n__ggml_vocab_test__\n"
	out := "15043\n\n263 13 29890\n"
	if err := os.WriteFile(vocab+".inp", []byte(inp), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vocab+".out", []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	texts, want := VocabVectors(t, vocab)
	if wantTexts := []string{"Hello", "", " a\nb"}; !reflect.DeepEqual(texts, wantTexts) {
		t.Errorf("texts = %q, want %q", texts, wantTexts)
	}
	if wantIDs := [][]int32{{15043}, nil, {263, 13, 29890}}; !reflect.DeepEqual(want, wantIDs) {
		t.Errorf("ids = %v, want %v", want, wantIDs)
	}
}

func TestGreedyCases(t *testing.T) {
	cases := GreedyCases(t)
	for _, c := range cases {
		if c.Prompt == "" || c.NPredict <= 0 || c.Completion == "" {
			t.Errorf("incomplete case %+v", c)
		}
	}
}
