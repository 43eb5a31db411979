package engine

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	validator "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/grammar"
	"github.com/llamafile-go/llamafile/pkg/jsonschema"
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

// sampleGrammar answers user n times under grammar g, with seeds 0 to
// n-1 at temperature 1 and up to maxTokens tokens each, four at a time in
// slots of slotContext tokens, and returns the results by seed (nil for
// one that failed, reported).
func sampleGrammar(t *testing.T, m *Model, g *grammar.Grammar, user string, n, maxTokens, slotContext int) []*Result {
	t.Helper()
	s := newScheduler(t, m, ServeOptions{Slots: 4, ContextSize: 4 * slotContext})
	prompt := chatPrompt(m, user)
	out := make([]*Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := &Request{Prompt: prompt, MaxTokens: maxTokens, Sampling: sampledParams(uint32(i)), Slot: -1, Grammar: g}
			res, err := s.Generate(context.Background(), req, nil)
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
	for seed, res := range sampleGrammar(t, m, g, "Is the sky green? Tell me a story about it.", 20, 32, 256) {
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
	finished := 0
	for seed, res := range sampleGrammar(t, m, g, "Describe a cat as a JSON object.", 8, 300, 512) {
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

// BenchmarkGrammarFilter measures filtering SmolLM2's vocabulary at each
// byte of a JSON document, from a fresh matcher (nothing cached) and
// along one matcher (the states' masks cached as a generation would).
func BenchmarkGrammarFilter(b *testing.B) {
	m, err := Open(testutil.SmolLM2(b), Options{VocabOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	g, err := m.ParseGrammar(jsonObjectGBNF)
	if err != nil {
		b.Fatal(err)
	}
	v := m.GrammarVocab()
	doc := `{"name": "Tom", "age": 3, "toys": ["ball", "mouse"], "indoor": true}`
	logits := make([]float32, m.NumVocab())
	for _, fresh := range []bool{true, false} {
		name := "cached"
		if fresh {
			name = "fresh"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				gm := g.NewMatcher(v)
				for i := 0; i < len(doc); i++ {
					if fresh {
						gm = g.NewMatcher(v)
						if err := gm.AcceptString(doc[:i]); err != nil {
							b.Fatal(err)
						}
					}
					gm.Filter(logits)
					if !fresh {
						if err := gm.AcceptString(doc[i : i+1]); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(doc)), "µs/filter")
		})
	}
}

// schema20 is a 20-property JSON Schema of the kinds apps ask for: bounded
// strings, enums, integers in a range, numbers, booleans, a list, a
// nested object, an optional field, a pattern and a date.
const schema20 = `{
  "type": "object",
  "properties": {
    "name":      {"type": "string", "minLength": 1, "maxLength": 16},
    "species":   {"enum": ["cat", "dog", "bird"]},
    "age":       {"type": "integer", "minimum": 0, "maximum": 30},
    "weight":    {"type": "number"},
    "indoor":    {"type": "boolean"},
    "color":     {"type": "string", "maxLength": 12},
    "owner":     {"type": "string", "maxLength": 16},
    "city":      {"type": "string", "maxLength": 16},
    "vaccinated": {"type": "boolean"},
    "toys":      {"type": "array", "items": {"type": "string", "maxLength": 10}, "maxItems": 3},
    "mood":      {"enum": ["happy", "sleepy", "grumpy"]},
    "meals":     {"type": "integer", "minimum": 1, "maximum": 5},
    "chip":      {"type": "string", "pattern": "^[A-Z]{2}[0-9]{4}$"},
    "born":      {"type": "string", "format": "date"},
    "vet":       {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12}, "phone": {"type": "string", "pattern": "^[0-9]{3}-[0-9]{4}$"}}, "required": ["name", "phone"], "additionalProperties": false},
    "score":     {"type": "integer", "minimum": -10, "maximum": 10},
    "nickname":  {"type": ["string", "null"], "maxLength": 10},
    "friendly":  {"const": true},
    "tags":      {"type": "array", "items": {"enum": ["cute", "fast", "lazy"]}, "minItems": 1, "maxItems": 2},
    "notes":     {"type": "string", "maxLength": 20}
  },
  "required": ["name", "species", "age", "weight", "indoor", "color", "owner", "city", "vaccinated", "toys",
               "mood", "meals", "chip", "born", "vet", "score", "nickname", "friendly", "tags"],
  "additionalProperties": false
}`

// TestSmolLM2JSONSchema20: sampled at temperature 1 with 20 seeds, every
// output of a 20-property schema parses and validates against the schema
// (checked by an independent validator).
func TestSmolLM2JSONSchema20(t *testing.T) {
	m := openSmolLM2(t)
	src, err := jsonschema.ToGrammar([]byte(schema20))
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.ParseGrammar(src)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal([]byte(schema20), &doc); err != nil {
		t.Fatal(err)
	}
	c := validator.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("schema20.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema20.json")
	if err != nil {
		t.Fatal(err)
	}
	for seed, res := range sampleGrammar(t, m, g, "Describe a pet as a JSON object.", 20, 700, 1024) {
		if res == nil {
			continue
		}
		if res.FinishReason != FinishStop {
			t.Errorf("seed %d: finish %s after %d tokens: %q", seed, res.FinishReason, res.GeneratedTokens, res.Text)
			continue
		}
		v, err := validator.UnmarshalJSON(strings.NewReader(res.Text))
		if err != nil {
			t.Errorf("seed %d: %q does not parse: %v", seed, res.Text, err)
			continue
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("seed %d: %q does not validate: %v", seed, res.Text, err)
		}
	}
}
