package testutil

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// GreedyCase is one case of testdata/golden/stories260k-greedy.json:
// llama.cpp's greedy completion of Prompt (BOS added) in up to NPredict
// tokens. BackendsAgree is false where the case sits on a near tie, so that
// either continuation is acceptable.
type GreedyCase struct {
	Prompt        string `json:"prompt"`
	NPredict      int    `json:"n_predict"`
	Completion    string `json:"completion"`
	BackendsAgree bool   `json:"backends_agree"`
}

// GreedyCases reads the cases of testdata/golden/stories260k-greedy.json
// from the shared directory, failing the test when there are none.
func GreedyCases(tb testing.TB) []GreedyCase {
	tb.Helper()
	data, err := os.ReadFile(SharedFile(tb, "testdata/golden/stories260k-greedy.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var g struct {
		Cases []GreedyCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		tb.Fatalf("stories260k-greedy.json: %v", err)
	}
	if len(g.Cases) == 0 {
		tb.Fatal("no cases in stories260k-greedy.json")
	}
	return g.Cases
}

// VocabVectors reads the tokenizer test vectors of a vocabulary file (a
// path such as .../testdata/vocab/ggml-vocab-llama-spm.gguf) as llama.cpp's
// test-tokenizer-0 does: vocab+".inp" holds the texts, each followed by the
// line __ggml_vocab_test__, and vocab+".out" one line of token ids per
// text. It fails the test when the files cannot be read or do not agree.
func VocabVectors(tb testing.TB, vocab string) (texts []string, want [][]int32) {
	tb.Helper()
	inp, err := os.ReadFile(vocab + ".inp")
	if err != nil {
		tb.Fatal(err)
	}
	out, err := os.ReadFile(vocab + ".out")
	if err != nil {
		tb.Fatal(err)
	}
	// Every text, the last one included, ends with the separator.
	texts = strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	if texts[len(texts)-1] == "" {
		texts = texts[:len(texts)-1]
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		var ids []int32
		for _, f := range strings.Fields(line) {
			v, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				tb.Fatalf("%s.out: %v", vocab, err)
			}
			ids = append(ids, int32(v))
		}
		want = append(want, ids)
	}
	if len(texts) != len(want) {
		tb.Fatalf("%s: %d texts but %d expected outputs", vocab, len(texts), len(want))
	}
	return texts, want
}
