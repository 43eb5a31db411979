package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// golden is testdata/llamacpp.json, written by tools/chatref/gen.sh from
// llama.cpp's own llama_chat_apply_template, llama_chat_builtin_templates
// and llm_chat_detect_template.
type golden struct {
	LlamaCpp struct {
		Release      string `json:"release"`
		SourceCommit string `json:"source_commit"`
		Library      string `json:"library"`
		From         string `json:"from"`
	} `json:"llama_cpp"`
	// BuiltinTemplates is llama_chat_builtin_templates, in its order.
	BuiltinTemplates []string `json:"builtin_templates"`
	// Conversations are the message lists the cases render, by name.
	Conversations map[string][]Message `json:"conversations"`
	Apply         []applyCase          `json:"apply"`
	Detect        []detectCase         `json:"detect"`
}

// applyCase is llama_chat_apply_template(Template, Conversation,
// AddAssistant): its Output, or Error when it failed.
type applyCase struct {
	Template     string  `json:"template"`
	Conversation string  `json:"conversation"`
	AddAssistant bool    `json:"add_assistant"`
	Output       *string `json:"output"`
	Error        bool    `json:"error"`
}

// detectCase is, for the Jinja template Source (file Name), the format
// llm_chat_detect_template found ("" for none) and what
// llama_chat_apply_template(Source, Conversation, AddAssistant) rendered.
type detectCase struct {
	Name         string  `json:"name"`
	Source       string  `json:"source"`
	Detected     string  `json:"detected"`
	Conversation string  `json:"conversation"`
	AddAssistant bool    `json:"add_assistant"`
	Output       *string `json:"output"`
	Error        bool    `json:"error"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	data, err := os.ReadFile("testdata/llamacpp.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("testdata/llamacpp.json: %v", err)
	}
	if g.LlamaCpp.Release == "" || len(g.BuiltinTemplates) == 0 || len(g.Apply) == 0 || len(g.Detect) == 0 {
		t.Fatalf("testdata/llamacpp.json: incomplete (release %q, %d names, %d apply cases, %d detect cases)",
			g.LlamaCpp.Release, len(g.BuiltinTemplates), len(g.Apply), len(g.Detect))
	}
	return &g
}

func (g *golden) conversation(t *testing.T, name string) []Message {
	t.Helper()
	msgs, ok := g.Conversations[name]
	if !ok {
		t.Fatalf("golden: no conversation %q", name)
	}
	return msgs
}

// diff describes where got first differs from want.
func diff(want, got string) string {
	if want == got {
		return ""
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(0, i-30)
	clip := func(s string) string { return s[min(from, len(s)):min(i+30, len(s))] }
	return fmt.Sprintf("first difference at byte %d (want %d bytes, got %d):\n  want ...%q...\n  got  ...%q...\nwant: %q\ngot:  %q",
		i, len(want), len(got), clip(want), clip(got), want, got)
}

// lookupOnly are the names that Lookup accepts although llama.cpp does not:
// "dots1", a format llama.cpp detects but does not list by name (so its
// llama_chat_apply_template rejects the name).
var lookupOnly = map[string]bool{"dots1": true}

// undetectable are the formats that llama.cpp's detection never returns:
// they are reached only by name.
var undetectable = map[string]bool{"mistral-v7-tekken": true, "deepseek-ocr": true}

func TestGoldenVersion(t *testing.T) {
	g := loadGolden(t)
	t.Logf("golden from llama.cpp %s (source %s, %s, %s): %d apply cases, %d detect cases",
		g.LlamaCpp.Release, g.LlamaCpp.SourceCommit, g.LlamaCpp.Library, g.LlamaCpp.From, len(g.Apply), len(g.Detect))
}

// TestNames checks that Names is exactly llama.cpp's list of built-in
// templates: nothing is skipped, and dots1 is unlisted in both.
func TestNames(t *testing.T) {
	g := loadGolden(t)
	if got := Names(); !slices.Equal(got, g.BuiltinTemplates) {
		t.Errorf("Names() differs from llama_chat_builtin_templates:\n got %q\nwant %q", got, g.BuiltinTemplates)
	}
	for name := range lookupOnly {
		if slices.Contains(Names(), name) {
			t.Errorf("Names() lists %q, which llama.cpp does not", name)
		}
	}
}

// TestApplyGolden renders every conversation with every name that
// llama_chat_apply_template was given and compares byte for byte.
func TestApplyGolden(t *testing.T) {
	g := loadGolden(t)
	seen := map[string]bool{}
	for _, c := range g.Apply {
		seen[c.Template] = true
		msgs := g.conversation(t, c.Conversation)
		t.Run(fmt.Sprintf("%q/%s/add=%v", c.Template, c.Conversation, c.AddAssistant), func(t *testing.T) {
			tmpl, err := Lookup(c.Template)
			if c.Error {
				if lookupOnly[c.Template] {
					if err != nil {
						t.Fatalf("Lookup(%q): %v; want the format (a deliberate extension)", c.Template, err)
					}
					return
				}
				want := ErrUnknownTemplate
				if c.Template == "" {
					want = ErrNoTemplate
				}
				if !errors.Is(err, want) {
					t.Fatalf("Lookup(%q) = %q, %v; llama.cpp fails, want an error wrapping %q", c.Template, tmpl.Name, err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Lookup(%q): %v", c.Template, err)
			}
			got, err := tmpl.Apply(msgs, c.AddAssistant)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if d := diff(*c.Output, got); d != "" {
				t.Errorf("%s (Lookup gave %s): %s", c.Template, tmpl.Name, d)
			}
			if tmpl.Name == c.Template {
				// A Template holding only the name renders the same.
				got, err := Template{Name: c.Template}.Apply(msgs, c.AddAssistant)
				if err != nil || got != *c.Output {
					t.Errorf("Template{Name: %q}.Apply = %q, %v; want %q", c.Template, got, err, *c.Output)
				}
			}
		})
	}
	for _, name := range Names() {
		if !seen[name] {
			t.Errorf("golden has no apply case for %q", name)
		}
	}
}

// TestDetectGolden detects real models' (and a few synthetic) Jinja
// templates and compares the format with llama.cpp's choice, and the
// rendered prompt with what llama.cpp rendered from that template.
func TestDetectGolden(t *testing.T) {
	g := loadGolden(t)
	detected := map[string]bool{}
	for _, c := range g.Detect {
		msgs := g.conversation(t, c.Conversation)
		t.Run(c.Name, func(t *testing.T) {
			tmpl, err := Detect(c.Source)
			if c.Detected == "" {
				if !errors.Is(err, ErrUnknownTemplate) {
					t.Fatalf("Detect = %q, %v; llama.cpp detects nothing, want an error wrapping %q", tmpl.Name, err, ErrUnknownTemplate)
				}
				if !c.Error {
					t.Fatalf("golden: llama.cpp detected nothing but rendered %q", *c.Output)
				}
				if _, err := Lookup(c.Source); !errors.Is(err, ErrUnknownTemplate) {
					t.Errorf("Lookup: %v; want an error wrapping %q", err, ErrUnknownTemplate)
				}
				return
			}
			if err != nil {
				t.Fatalf("Detect: %v; llama.cpp detects %s", err, c.Detected)
			}
			detected[tmpl.Name] = true
			if tmpl.Name != c.Detected {
				t.Fatalf("Detect = %s; llama.cpp detects %s", tmpl.Name, c.Detected)
			}
			if c.Error {
				t.Fatalf("golden: llama.cpp detected %s but failed to render", c.Detected)
			}
			got, err := tmpl.Apply(msgs, c.AddAssistant)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if d := diff(*c.Output, got); d != "" {
				t.Errorf("%s: %s", tmpl.Name, d)
			}
			// Lookup takes the same path as llama_chat_apply_template.
			if lt, err := Lookup(c.Source); err != nil || lt.Name != c.Detected {
				t.Errorf("Lookup = %q, %v; want %s", lt.Name, err, c.Detected)
			}
		})
	}
	// Every format llama.cpp can detect has at least one template that
	// detects as it, so a change in any detection rule shows.
	for k := kindNone + 1; k < numKinds; k++ {
		if name := builtins[k].name; !detected[name] && !undetectable[name] {
			t.Errorf("no golden template detects as %s", name)
		}
	}
}

// TestDetectSmolLM2 pins the SmolLM2-135M-Instruct template, whose
// <|im_start|>/<|im_end|> markers make it chatml; the golden holds
// llama.cpp's rendering of it.
func TestDetectSmolLM2(t *testing.T) {
	g := loadGolden(t)
	const src = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
	i := slices.IndexFunc(g.Detect, func(c detectCase) bool { return c.Source == src })
	if i < 0 {
		t.Fatal("golden has no case for the SmolLM2-135M-Instruct template")
	}
	if c := g.Detect[i]; c.Detected != "chatml" {
		t.Fatalf("golden: llama.cpp detects SmolLM2 as %q", c.Detected)
	}
	tmpl, err := Detect(src)
	if err != nil || tmpl.Name != "chatml" {
		t.Fatalf("Detect(SmolLM2) = %q, %v; want chatml", tmpl.Name, err)
	}
	msgs := []Message{{"user", "Hi"}}
	const want = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
	if got, err := tmpl.Apply(msgs, true); err != nil || got != want {
		t.Errorf("Apply = %q, %v; want %q", got, err, want)
	}
}

func TestDefault(t *testing.T) {
	g := loadGolden(t)
	d := Default()
	if l, err := Lookup("chatml"); err != nil || l != d {
		t.Fatalf("Lookup(chatml) = %+v, %v; Default() = %+v", l, err, d)
	}
	for _, c := range g.Apply {
		if c.Template != "chatml" {
			continue
		}
		got, err := d.Apply(g.conversation(t, c.Conversation), c.AddAssistant)
		if err != nil {
			t.Fatal(err)
		}
		if dd := diff(*c.Output, got); dd != "" {
			t.Errorf("Default().Apply(%s, %v): %s", c.Conversation, c.AddAssistant, dd)
		}
	}
}

// TestLookupOnly checks the deliberate extension: Lookup accepts dots1 by
// name, Detect does not (as llama.cpp's detection does not), and the format
// renders as llama.cpp renders a template detected as dots1.
func TestLookupOnly(t *testing.T) {
	g := loadGolden(t)
	for name := range lookupOnly {
		tmpl, err := Lookup(name)
		if err != nil || tmpl.Name != name {
			t.Errorf("Lookup(%q) = %q, %v", name, tmpl.Name, err)
		}
		if _, err := Detect(name); !errors.Is(err, ErrUnknownTemplate) {
			t.Errorf("Detect(%q): %v; want an error wrapping %q, as in llama.cpp", name, err, ErrUnknownTemplate)
		}
		found := false
		for _, c := range g.Detect {
			if c.Detected != name {
				continue
			}
			found = true
			got, err := tmpl.Apply(g.conversation(t, c.Conversation), c.AddAssistant)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(*c.Output, got); d != "" {
				t.Errorf("Lookup(%q).Apply: %s", name, d)
			}
		}
		if !found {
			t.Errorf("golden has no template detected as %q", name)
		}
	}
}

func TestErrors(t *testing.T) {
	long := strings.Repeat("{{ '世界' }}", 20)
	tests := []struct {
		name     string
		call     func() (Template, error)
		want     error
		mentions []string
	}{
		{"Lookup empty", func() (Template, error) { return Lookup("") }, ErrNoTemplate, []string{`template ""`}},
		{"Lookup unknown name", func() (Template, error) { return Lookup("no-such-template") }, ErrUnknownTemplate,
			[]string{`"no-such-template"`, "chatml", "llama3"}},
		{"Lookup wrong case", func() (Template, error) { return Lookup("ChatML") }, ErrUnknownTemplate, []string{`"ChatML"`}},
		{"Lookup long Jinja", func() (Template, error) { return Lookup(long) }, ErrUnknownTemplate, []string{"..."}},
		{"Detect empty", func() (Template, error) { return Detect("") }, ErrNoTemplate, nil},
		{"Detect unknown Jinja", func() (Template, error) {
			return Detect("{% for m in messages %}{{ m['content'] }}{% endfor %}")
		}, ErrUnknownTemplate, []string{"{% for m in messages %}"}},
		{"Apply unknown name", func() (Template, error) {
			_, err := Template{Name: "nope"}.Apply(nil, true)
			return Template{}, err
		}, ErrUnknownTemplate, []string{`"nope"`}},
		{"Apply zero Template", func() (Template, error) {
			_, err := Template{}.Apply([]Message{{"user", "hi"}}, true)
			return Template{}, err
		}, ErrUnknownTemplate, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %+v, %v; want an error wrapping %q", tmpl, err, tt.want)
			}
			if tmpl != (Template{}) {
				t.Errorf("got Template %+v with the error", tmpl)
			}
			msg := err.Error()
			if !utf8.ValidString(msg) {
				t.Errorf("error is not valid UTF-8: %q", msg)
			}
			if !strings.HasPrefix(msg, "chat: ") {
				t.Errorf("error %q does not start with the package name", msg)
			}
			for _, s := range tt.mentions {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not mention %q", msg, s)
				}
			}
		})
	}
}

// TestNameTakesPrecedence: like llm_chat_detect_template, Detect and Lookup
// take a template that is exactly a listed name as that format, before
// looking for markers.
func TestNameTakesPrecedence(t *testing.T) {
	for _, name := range Names() {
		for _, f := range []func(string) (Template, error){Detect, Lookup} {
			if tmpl, err := f(name); err != nil || tmpl.Name != name {
				t.Errorf("%q: got %q, %v", name, tmpl.Name, err)
			}
		}
	}
}
