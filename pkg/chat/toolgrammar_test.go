package chat

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/grammar"
)

// TestToolCallGrammar: every string the grammar of each format generates
// is parsed back by ParseToolCalls into calls of the allowed functions,
// with arguments of the right shape.
func TestToolCallGrammar(t *testing.T) {
	tools := json.RawMessage(`[
		{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 8}}, "required": ["city"]}}},
		{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"utc": {"type": "boolean"}}, "required": ["utc"]}}}
	]`)
	templates := map[string]string{
		"hermes":    "{{ '<tool_call>' }}",
		"mistral":   "{{ '[TOOL_CALLS]' }}",
		"command-r": "{{ '<|START_ACTION|>' }}",
		"llama3":    "<|start_header_id|>{{ parameters }}",
		"generic":   "{{ messages }}",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for format, tmpl := range templates {
		if got := toolFormatOf(tmpl).name; got != format {
			t.Errorf("toolFormatOf(%q) = %s, want %s", tmpl, got, format)
		}
		for _, tc := range []struct {
			choice   string
			parallel bool
			names    map[string]bool
		}{
			{"required", false, map[string]bool{"get_weather": true, "get_time": true}},
			{"required", true, map[string]bool{"get_weather": true, "get_time": true}},
			{"get_time", false, map[string]bool{"get_time": true}},
		} {
			tg, err := ToolCallGrammar(tmpl, tools, tc.choice, tc.parallel)
			if err != nil {
				t.Fatalf("%s %s: %v", format, tc.choice, err)
			}
			g, err := grammar.Parse(tg.GBNF)
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", format, tc.choice, err, tg.GBNF)
			}
			for generated := 0; generated < 20; {
				s, ok := g.Generate(rng, 200, 4000)
				if !ok {
					continue
				}
				generated++
				_, calls := ParseToolCalls(s)
				if len(calls) == 0 || (!tc.parallel && len(calls) != 1) {
					t.Errorf("%s %s parallel=%v: %q parses to %d calls", format, tc.choice, tc.parallel, s, len(calls))
					continue
				}
				for _, c := range calls {
					var args map[string]any
					if !tc.names[c.Name] || json.Unmarshal([]byte(c.Arguments), &args) != nil {
						t.Errorf("%s %s: %q: call %+v", format, tc.choice, s, c)
					}
					if _, ok := args["utc"].(bool); c.Name == "get_time" && !ok {
						t.Errorf("%s %s: %q: get_time without a boolean utc", format, tc.choice, s)
					}
				}
			}
		}
		if tg, err := ToolCallGrammar(tmpl, tools, "auto", true); err != nil {
			t.Errorf("%s auto: %v", format, err)
		} else if f := toolFormatOf(tmpl); (tg == nil) != (f.open == "") || tg != nil && (tg.Triggers == nil || tg.Triggers.Words[0] != f.open) {
			t.Errorf("%s auto: %+v", format, tg)
		}
	}
}
