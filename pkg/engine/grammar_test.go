package engine

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/sample"
)

// chatPrompt renders one user turn in SmolLM2's ChatML format.
func chatPrompt(m *Model, user string) []int32 {
	return m.Tokenize("<|im_start|>user\n"+user+"<|im_end|>\n<|im_start|>assistant\n", false, true)
}

// sampledParams samples at temperature 1 with llama.cpp's other defaults.
func sampledParams(seed uint32) sample.Params {
	p := sample.DefaultParams()
	p.Temp = 1
	p.Seed = seed
	return p
}

// generateSeeds runs the request once per seed, four at a time, and
// returns the results by seed.
func generateSeeds(t *testing.T, s *Scheduler, n int, req func(seed uint32) *Request) []*Result {
	t.Helper()
	out := make([]*Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.Generate(context.Background(), req(uint32(i)), nil)
			if err != nil {
				t.Errorf("seed %d: %v", i, err)
				return
			}
			out[i] = res
		}()
	}
	wg.Wait()
	return out
}

// TestSmolLM2GrammarYesNo: with root ::= "yes" | "no" every sampled answer
// is exactly yes or no, and generation stops there.
func TestSmolLM2GrammarYesNo(t *testing.T) {
	m := openSmolLM2(t)
	g, err := m.ParseGrammar(`root ::= "yes" | "no"`)
	if err != nil {
		t.Fatal(err)
	}
	s := newScheduler(t, m, ServeOptions{Slots: 4, ContextSize: 4 * 256})
	prompt := chatPrompt(m, "Is the sky green? Tell me a story about it.")
	for seed, res := range generateSeeds(t, s, 20, func(seed uint32) *Request {
		return &Request{Prompt: prompt, MaxTokens: 32, Sampling: sampledParams(seed), Slot: -1, Grammar: g}
	}) {
		if res == nil {
			continue
		}
		if res.Text != "yes" && res.Text != "no" || res.FinishReason != FinishStop {
			t.Errorf("seed %d: %q (finish %s), want yes or no", seed, res.Text, res.FinishReason)
		}
	}
}

// TestSmolLM2GrammarJSON: a JSON grammar makes sampled text parse as JSON.
func TestSmolLM2GrammarJSON(t *testing.T) {
	m := openSmolLM2(t)
	g, err := m.ParseGrammar(jsonObjectGBNF)
	if err != nil {
		t.Fatal(err)
	}
	s := newScheduler(t, m, ServeOptions{Slots: 4, ContextSize: 4 * 512})
	prompt := chatPrompt(m, "Describe a cat as a JSON object.")
	finished := 0
	for seed, res := range generateSeeds(t, s, 8, func(seed uint32) *Request {
		return &Request{Prompt: prompt, MaxTokens: 300, Sampling: sampledParams(seed), Slot: -1, Grammar: g}
	}) {
		if res == nil {
			continue
		}
		// A rambling sample may not finish in time, but what it wrote is
		// where the grammar allows; what finished parses.
		if err := g.NewMatcher(nil).AcceptString(res.Text); err != nil {
			t.Errorf("seed %d: %q: %v", seed, res.Text, err)
		}
		if res.FinishReason != FinishStop {
			continue
		}
		finished++
		var v map[string]any
		if err := json.Unmarshal([]byte(res.Text), &v); err != nil {
			t.Errorf("seed %d: %q: %v", seed, res.Text, err)
		}
	}
	if finished == 0 {
		t.Error("no sample finished its JSON object")
	}
}

// jsonObjectGBNF is a JSON object, with no space after it (so that the
// grammar completes at the closing brace).
const jsonObjectGBNF = `
root   ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}"
value  ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array  ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-7]{0,15})? ws
ws ::= | " " | "\n" [ \t]{0,20}
`
