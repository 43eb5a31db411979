package engine

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// TestGemma3Greedy holds gemma-3-270m's greedy completions to llama.cpp's
// own spread: for each prompt (plain, and in Gemma's chat format), ours
// must agree with one of llama.cpp's two CPU builds for at least as long
// as the two builds agree with each other.
func TestGemma3Greedy(t *testing.T) {
	path := testutil.Gemma3(t)
	raw, err := os.ReadFile("testdata/gemma3-greedy.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		NPredict int `json:"n_predict"`
		Cases    []struct {
			Prompt        string
			Chat          bool
			Best, Generic string
		}
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	m, err := Open(path, Options{ContextSize: 256, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c, err := m.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for _, tc := range golden.Cases {
		c.Reset()
		var text strings.Builder
		if _, err := c.Generate(m.Tokenize(tc.Prompt, true, true), Greedy{}, golden.NPredict, func(tok int32) bool {
			text.Write(m.TokenToPiece(tok))
			return true
		}); err != nil {
			t.Fatalf("%q: %v", tc.Prompt, err)
		}
		got := text.String()
		builds := commonPrefix([]byte(tc.Best), []byte(tc.Generic))
		ours := max(commonPrefix([]byte(got), []byte(tc.Best)), commonPrefix([]byte(got), []byte(tc.Generic)))
		if got == tc.Best || got == tc.Generic {
			same++
		}
		if ours < builds {
			t.Errorf("%q (chat %v): ours agrees for %d bytes, llama.cpp's builds with each other for %d\n ours    %q\n best    %q\n generic %q",
				tc.Prompt, tc.Chat, ours, builds, got, tc.Best, tc.Generic)
		}
	}
	t.Logf("%d of %d completions equal one of llama.cpp's builds' whole", same, len(golden.Cases))
}
