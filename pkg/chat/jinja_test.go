package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ardanlabs/jinja"
)

type jinjaGolden struct {
	Now           string `json:"now"`
	BOS           string `json:"bos_token"`
	EOS           string `json:"eos_token"`
	Conversations map[string]struct {
		Messages json.RawMessage `json:"messages"`
		Tools    json.RawMessage `json:"tools"`
	} `json:"conversations"`
	Templates []struct {
		Name       string `json:"name"`
		Source     string `json:"source"`
		ParseError string `json:"parse_error"`
		Cases      []struct {
			Conversation        string  `json:"conversation"`
			AddGenerationPrompt bool    `json:"add_generation_prompt"`
			Output              *string `json:"output"`
			Error               string  `json:"error"`
		} `json:"cases"`
	} `json:"templates"`
}

// jinjaKnownFailures are the golden cases (template/conversation/agp)
// where we do not yet render what Python jinja2 renders. The test fails
// if one of them starts to pass (so that the list shrinks) or if any
// other case fails.
var jinjaKnownFailures = map[string]string{}

// TestJinjaGolden renders every template of llama.cpp's models/templates
// with the conversations of testdata/jinja-golden.json (written by
// tools/chatref/jinja_golden.py with Python jinja2, set up as Hugging Face
// does) and compares byte for byte, or expects an error where jinja2
// raised one.
func TestJinjaGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/jinja-golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g jinjaGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse("2006-01-02T15:04:05", g.Now)
	if err != nil {
		t.Fatal(err)
	}
	total, pass, known := 0, 0, 0
	var fails []string
	for _, tm := range g.Templates {
		j, err := ParseJinja(tm.Source)
		if tm.ParseError != "" {
			// jinja2 cannot parse it; we need not either, but must not
			// render something from it silently: skip the template.
			continue
		}
		for _, c := range tm.Cases {
			total++
			key := fmt.Sprintf("%s/%s/%v", tm.Name, c.Conversation, c.AddGenerationPrompt)
			var got string
			var rerr error
			if err != nil {
				rerr = err
			} else {
				conv := g.Conversations[c.Conversation]
				got, rerr = j.Render(Input{RawMessages: conv.Messages, Tools: conv.Tools, AddGenerationPrompt: c.AddGenerationPrompt,
					BOSToken: g.BOS, EOSToken: g.EOS, Now: now})
			}
			var problem string
			switch {
			case c.Output == nil && rerr == nil:
				problem = fmt.Sprintf("jinja2 raised %q; we rendered %q", c.Error, abbreviate(got))
			case c.Output != nil && rerr != nil:
				problem = fmt.Sprintf("we failed: %v", rerr)
			case c.Output != nil && got != *c.Output:
				problem = "output differs: " + firstDiff(got, *c.Output)
			}
			_, isKnown := jinjaKnownFailures[key]
			switch {
			case problem == "" && isKnown:
				t.Errorf("%s passes now: remove it from jinjaKnownFailures", key)
			case problem == "":
				pass++
			case isKnown:
				known++
			default:
				fails = append(fails, key+": "+problem)
			}
		}
	}
	for _, f := range fails {
		t.Error(f)
	}
	t.Logf("%d templates, %d cases: %d pass, %d known failures, %d new failures", len(g.Templates), total, pass, known, len(fails))
}

func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-40)
	return fmt.Sprintf("at byte %d: got %q, want %q", i, got[lo:min(len(got), i+40)], want[lo:min(len(want), i+40)])
}

func TestJinjaBounded(t *testing.T) {
	for _, src := range []string{
		`{% macro f(n) %}{{ f(n+1) }}{% endmacro %}{{ f(0) }}`,
		`{{ 'x' * 1000000000 }}`,
		`{% for i in range(1000000000) %}{% endfor %}`,
		`{% for i in range(100000) %}{% for j in range(100000) %}{{ '' }}{% endfor %}{% endfor %}`,
	} {
		j, err := ParseJinja(src)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		_, err = j.Render(Input{})
		if !errors.Is(err, jinja.ErrLimit) || time.Since(t0) > 5*time.Second {
			t.Errorf("%s: %v after %v, want a limit error", src, err, time.Since(t0))
		}
	}
	j, _ := ParseJinja(`[{{ messages.__class__ }}{{ ''.__class__.__mro__ }}]`)
	if out, err := j.Render(Input{}); err == nil && strings.Contains(out, "class") {
		t.Errorf("internals reachable: %q", out)
	}
	if _, err := ParseJinja(strings.Repeat("x", MaxJinjaSource+1)); err == nil {
		t.Error("an oversized template parsed")
	}
	if _, err := ParseJinja("{% if %}"); err == nil {
		t.Error("a broken template parsed")
	}
}

func TestJinjaInput(t *testing.T) {
	j, err := ParseJinja(`{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m.content }}|{% endfor %}{{ tools | tojson }}{{ enable_thinking }}{{ strftime_now('%Y-%m-%d') }}{% if add_generation_prompt %}>{% endif %}`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := j.Render(Input{Messages: []Message{{"user", "hi"}}, Tools: json.RawMessage(`[{"b":1,"a":"é"}]`), AddGenerationPrompt: true,
		BOSToken: "<s>", Kwargs: json.RawMessage(`{"enable_thinking": false}`), Now: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)})
	want := `<s>user:hi|[{"b": 1, "a": "é"}]False2026-03-04>`
	if err != nil || out != want {
		t.Errorf("got %q (%v), want %q", out, err, want)
	}
	if _, err := j.Render(Input{Kwargs: json.RawMessage(`[1]`)}); err == nil {
		t.Error("kwargs as an array accepted")
	}
	if _, err := j.Render(Input{RawMessages: json.RawMessage(`{"role":"user"}`)}); err == nil {
		t.Error("messages as an object accepted")
	}
}

func TestJinjaFormatter(t *testing.T) {
	j, err := ParseJinja(`{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}`)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []Message{{"user", "hi"}}
	for _, tt := range []struct {
		f    JinjaFormatter
		add  bool
		want string
	}{
		{JinjaFormatter{Jinja: j, BOSToken: "<s>", EOSToken: "</s>"}, true, "<s>[user]hi</s>[assistant]"},
		{JinjaFormatter{Jinja: j, BOSToken: "<s>", EOSToken: "</s>", StripBOS: true}, false, "[user]hi</s>"},
	} {
		var f Formatter = tt.f
		if got, err := f.Apply(msgs, tt.add); err != nil || got != tt.want {
			t.Errorf("%+v: %q (%v), want %q", tt.f, got, err, tt.want)
		}
	}
}
