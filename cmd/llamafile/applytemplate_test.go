package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

func TestApplyTemplate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tmpl := write("t.jinja", `{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}`+
		`{% if tools %}{{ tools | tojson }}{% endif %}{% if think %}+think{% endif %}{{ strftime_now("%Y-%m-%d") }}`+
		`{% if add_generation_prompt %}<assistant>{% endif %}`)
	conv := write("conv.json", `{"messages":[{"role":"user","content":"Hi é"}],"tools":[{"name":"f","b":1}],`+
		`"add_generation_prompt":true,"bos_token":"<s>","chat_template_kwargs":{"think":true}}`)
	t.Setenv("SOURCE_DATE_EPOCH", "86400")
	r := llamafile(t, nil, "--chat-template-file", tmpl, "--apply-template", conv)
	want := `<s><user>Hi é[{"name": "f", "b": 1}]+think1970-01-02<assistant>`
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want %q and nothing else", r.code, r.stdout, r.stderr, want)
	}
	noAGP := write("conv2.json", `{"messages":[{"role":"user","content":"Hi"}],"add_generation_prompt":false}`)
	if r := llamafile(t, nil, "--chat-template", "llama3", "--apply-template", noAGP); r.code != 0 ||
		r.stdout != "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" {
		t.Errorf("llama3: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := llamafile(t, strings.NewReader(`{"messages":[{"role":"user","content":"x"}]}`), "--chat-template", "chatml", "--apply-template", "-"); r.code != 0 ||
		r.stdout != "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n" {
		t.Errorf("stdin: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}

	bad := write("bad.json", `{"messages": [`)
	empty := write("empty.json", `{}`)
	broken := write("broken.jinja", `{% for %}`)
	hostile := write("hostile.jinja", `{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}`)
	for _, tt := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--chat-template-file", tmpl, "--apply-template", filepath.Join(dir, "none.json")}, "", "none.json"},
		{[]string{"--chat-template-file", tmpl, "--apply-template", bad}, "", "bad.json"},
		{[]string{"--chat-template-file", tmpl, "--apply-template", empty}, "", `no "messages"`},
		{[]string{"--chat-template-file", broken, "--apply-template", conv}, "", "broken.jinja"},
		{[]string{"--chat-template-file", hostile, "--apply-template", conv}, "", "limit"},
		{[]string{"--chat-template", "nope", "--apply-template", conv}, "", "nope"},
		{[]string{"--chat-template-file", tmpl, "--apply-template", conv}, "soon", "SOURCE_DATE_EPOCH"},
		{[]string{"--apply-template", conv}, "", "no model given"},
		{[]string{"--server", "--apply-template", conv}, "", "cannot be combined"},
	} {
		t.Setenv("SOURCE_DATE_EPOCH", tt.env)
		r := llamafile(t, nil, tt.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tt.want) || r.stdout != "" || strings.Contains(r.stderr, "goroutine") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want an error about %q", tt.args, r.code, r.stdout, r.stderr, tt.want)
		}
	}
}

// TestApplyTemplateSmolLM2: the model's own template renders the prompts
// of the llama.cpp golden (rendered there by SmolLM2's template too).
func TestApplyTemplateSmolLM2(t *testing.T) {
	model := testutil.SmolLM2(t)
	data, err := os.ReadFile("../../pkg/engine/testdata/smollm2-chat-greedy.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			Name     string
			Messages json.RawMessage
			Prompt   string
		}
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range g.Cases {
		p := filepath.Join(dir, c.Name+".json")
		if err := os.WriteFile(p, []byte(`{"messages":`+string(c.Messages)+`}`), 0o644); err != nil {
			t.Fatal(err)
		}
		r := llamafile(t, nil, "-m", model, "--apply-template", p)
		if r.code != 0 || r.stdout != c.Prompt {
			t.Errorf("%s: exit %d, %q (stderr %q), want %q", c.Name, r.code, r.stdout, r.stderr, c.Prompt)
		}
	}
}
