package chat

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ardanlabs/jinja"
)

// fuzzLimits are tighter than jinja.DefaultLimits so that a fuzzing run
// spends its time on many templates rather than a few slow ones; the
// invariants are the same.
var fuzzLimits = jinja.Limits{Timeout: 250 * time.Millisecond, MaxOutput: 256 << 10, MaxDepth: 64, MaxRange: 1 << 14}

// fuzzInput is the small fixed conversation every fuzzed template renders.
var fuzzInput = Input{
	RawMessages: json.RawMessage(`[{"role":"system","content":"Be brief."},
		{"role":"user","content":"Hi <b>&\"x\"</b>"},
		{"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"f","arguments":{"a":1}}}]},
		{"role":"tool","tool_call_id":"c1","content":"42"},
		{"role":"user","content":[{"type":"text","text":"part"}]}]`),
	Tools:               json.RawMessage(`[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"integer"}}}}}]`),
	AddGenerationPrompt: true,
	BOSToken:            "<s>",
	EOSToken:            "</s>",
	Kwargs:              json.RawMessage(`{"enable_thinking":false}`),
	Now:                 time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
}

// renderLimited renders j for in as Render does, within lim.
func renderLimited(j *Jinja, in Input, lim jinja.Limits) (string, error) {
	msgs, err := in.messages()
	if err != nil {
		return "", err
	}
	tools, err := valueOf("tools", in.Tools)
	if err != nil {
		return "", err
	}
	vars := map[string]jinja.Value{
		"messages": msgs, "tools": tools, "documents": jinja.None(),
		"add_generation_prompt": jinja.NewBool(in.AddGenerationPrompt),
		"bos_token":             jinja.NewString(in.BOSToken), "eos_token": jinja.NewString(in.EOSToken),
		"enable_thinking": jinja.NewBool(false),
	}
	lim.Now, lim.Python = in.Now, true
	return j.t.RenderValuesLimited(vars, lim)
}

// hostileTemplates try to exhaust the stack, time, memory or output.
var hostileTemplates = []string{
	"{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
	"{% macro f(n) %}{{ caller() }}{% call f(n) %}x{% endcall %}{% endmacro %}{% call f(1) %}y{% endcall %}",
	"{% for i in range(100000000) %}x{% endfor %}",
	"{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
	"{{ 'x' * 100000000 }}",
	"{{ 'x' * -1 }}{{ [1] * 100000000 }}",
	"{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
	"{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
	"{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}",
	"{% set s %}{% for i in range(1000000) %}xxxxxxxx{% endfor %}{% endset %}{{ s|length }}",
	"{% filter upper %}{% for i in range(1000000) %}xxxxxxxx{% endfor %}{% endfilter %}",
	"{{ messages|tojson(indent=100000000) }}",
	"{{ 'x'|center(100000000) }}{{ 'ab'|replace('a', 'a' * 1000)|replace('a', 'a' * 1000) }}",
	"{{ ('x' * 1000000).split('') }}{{ ' '.join(['x' * 1000000] * 1000) }}",
	"{{ messages[0]['content'] | list | join(messages[0]['content'] * 10000) }}",
	"{{ range(10)|batch(0) }}{{ range(10)|slice(0) }}{{ 'x'|indent(-1) }}{{ 1/0 }}{{ 1//0 }}{{ 1%0 }}",
	"{{ (((((((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))))))) }}",
	"{{ raise_exception('no') }}",
	"{{ strftime_now('%Y %% %Q %') }}",
	"{% for m in messages %}{{ m.tool_calls[0].function.arguments|tojson }}{{ m.content|items }}{% endfor %}",
	"{{ tools|map(attribute='function')|map(attribute='name')|join(',') }}{{ tools|selectattr()|list }}{{ tools|rejectattr()|list }}",
	"{{ x.y.z }}{{ none.x }}{{ none() }}{{ 1() }}{{ 'a'[10] }}{{ [][0] }}{{ {}['k'] }}{{ 'abc'[::-1] }}{{ 'abc'[::0] }}",
	"{% if %}{% endif %}", "{{", "{%", "{#", "{% for %}", "{% macro %}", "{% raw %}", "{{ 'unterminated }}",
}

// FuzzJinjaRender compiles arbitrary template source (a chat template comes
// with the model file: it is untrusted code) and renders it for a small
// conversation: compiling and rendering must return errors, never panic,
// and stay within the render limits in time and output.
func FuzzJinjaRender(f *testing.F) {
	for _, s := range hostileTemplates {
		f.Add(s)
	}
	// Real templates (llama.cpp's models/templates), the shortest few.
	if data, err := os.ReadFile("testdata/jinja-golden.json"); err == nil {
		var g jinjaGolden
		if err := json.Unmarshal(data, &g); err != nil {
			f.Fatal(err)
		}
		sort.Slice(g.Templates, func(a, b int) bool { return len(g.Templates[a].Source) < len(g.Templates[b].Source) })
		for _, tm := range g.Templates[:min(8, len(g.Templates))] {
			f.Add(tm.Source)
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		j, err := ParseJinja(src)
		if err != nil {
			return
		}
		start := time.Now()
		out, err := renderLimited(j, fuzzInput, fuzzLimits)
		if d := time.Since(start); d > fuzzLimits.Timeout+time.Second {
			t.Fatalf("render took %v (limit %v)", d, fuzzLimits.Timeout)
		}
		if len(out) > fuzzLimits.MaxOutput {
			t.Fatalf("render wrote %d bytes (limit %d)", len(out), fuzzLimits.MaxOutput)
		}
		if err != nil && strings.Contains(err.Error(), "render failed:") {
			t.Fatalf("the engine panicked: %v", err)
		}
	})
}
