package main

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/engine"
)

// TestContextShiftKeep checks what --keep keeps through a context shift,
// against a generation computed here with llama.cpp's rules: n_keep is the
// whole prompt for -1 or more than the prompt has, else --keep plus the
// BOS; when the context is full, the first n_keep tokens stay and half of
// the rest goes. Different --keep values give different text after the
// first shift, so a CLI that ignored --keep, or kept the wrong count,
// would not give the reference's text for each of them.
func TestContextShiftKeep(t *testing.T) {
	const (
		prompt = "Once upon a time"
		nCtx   = 32
		nGen   = 60 // several shifts of a 32-token context
	)
	model := stories(t)
	m, err := engine.Open(model, engine.Options{ContextSize: nCtx})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok := m.Tokenizer()
	input := m.Tokenize(prompt, true, true)
	if !tok.AddBOS() || len(input) < 4 || input[0] != m.BOS() {
		t.Fatalf("the test wants a prompt of several tokens after a BOS: %v", input)
	}
	eog := tok.EOGTokens()

	// llama.cpp's n_keep for --keep k.
	nKeepOf := func(k int) int {
		if k < 0 || k > len(input) {
			return len(input)
		}
		return k + 1 // the BOS counts on top
	}
	// reference generates greedily (EOG banned, as --ignore-eos) with
	// llama.cpp's context shift, keeping nKeep tokens.
	reference := func(nKeep int) (string, int) {
		t.Helper()
		c, err := m.NewContext()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.EvalLast(input); err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		shifts := 0
		for i := 0; i < nGen; i++ {
			logits := append([]float32(nil), c.LastLogits()...)
			for _, e := range eog {
				logits[e] = float32(math.Inf(-1))
			}
			id, err := engine.Greedy{}.Sample(logits)
			if err != nil {
				t.Fatal(err)
			}
			sb.Write(m.TokenToPiece(id))
			if i == nGen-1 {
				break
			}
			if c.Pos()+1 >= nCtx {
				discard := (c.Pos() - nKeep) / 2
				if err := c.Shift(nKeep, discard); err != nil {
					t.Fatal(err)
				}
				shifts++
			}
			if err := c.EvalLast([]int32{id}); err != nil {
				t.Fatal(err)
			}
		}
		return sb.String(), shifts
	}

	nKeepLine := regexp.MustCompile(`n_keep = (-?\d+)`)
	outputs := map[int]string{}
	for _, keep := range []int{-1, 0, 2, 1000} {
		t.Run("keep="+strconv.Itoa(keep), func(t *testing.T) {
			r := llamafile(t, nil, "-m", model, "-p", prompt, "-c", strconv.Itoa(nCtx), "-n", strconv.Itoa(nGen),
				"--temp", "0", "--ignore-eos", "--no-display-prompt", "--verbose-prompt", "--keep", strconv.Itoa(keep))
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			want := nKeepOf(keep)
			match := nKeepLine.FindStringSubmatch(r.stderr)
			if match == nil || match[1] != strconv.Itoa(want) {
				t.Errorf("--keep %d: stderr reports %q, want n_keep = %d:\n%s", keep, match, want, r.stderr)
			}
			// --verbose-prompt shows the kept tokens, as llama.cpp does
			// when they are more than the BOS.
			var static strings.Builder
			for _, id := range input[:want] {
				static.Write(tok.TokenToPiece(id, true))
			}
			staticLine := "main: static prompt based on n_keep: '" + static.String() + "'\n"
			if want > 1 && !strings.Contains(r.stderr, staticLine) {
				t.Errorf("--keep %d: --verbose-prompt lacks %q:\n%s", keep, staticLine, r.stderr)
			}
			if want <= 1 && strings.Contains(r.stderr, "static prompt based on n_keep") {
				t.Errorf("--keep %d: a static prompt of the BOS alone is shown:\n%s", keep, r.stderr)
			}
			text, shifts := reference(want)
			if shifts == 0 {
				t.Fatalf("the reference never shifted the context")
			}
			if got := completion(t, r.stdout); got != text {
				t.Errorf("--keep %d (n_keep %d, %d shifts):\n got %q\nwant %q", keep, want, shifts, got, text)
			}
			outputs[keep] = r.stdout
		})
	}
	if len(outputs) < 4 {
		return
	}
	// The kept tokens make a difference here: otherwise the comparison
	// above could not tell one --keep from another.
	if outputs[-1] == outputs[0] || outputs[0] == outputs[2] || outputs[-1] == outputs[2] {
		t.Errorf("--keep -1, 0 and 2 do not all give different text:\n%q\n%q\n%q", outputs[-1], outputs[0], outputs[2])
	}
	if outputs[1000] != outputs[-1] {
		t.Errorf("--keep 1000 (more than the prompt) differs from --keep -1:\n%q\n%q", outputs[1000], outputs[-1])
	}
}
