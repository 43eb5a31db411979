package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// withTemplates writes stories260k with a chat template and, if toolUse is
// not empty, a tool_use template.
func withTemplates(t *testing.T, dir, name, main, toolUse string) string {
	return rewriteModel(t, stories(t), dir, name, func(kv []gguf.KV, ts []gguf.TensorInfo, data [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte) {
		kv = append(kv, gguf.KV{Key: chat.MetadataKey, Value: gguf.MustValueOf(main)})
		if toolUse != "" {
			kv = append(kv, gguf.KV{Key: chat.ToolUseMetadataKey, Value: gguf.MustValueOf(toolUse)})
		}
		return kv, ts, data
	})
}

// TestToolUseTemplate: a model's tokenizer.chat_template.tool_use renders
// the conversations with tools, the default template the others; /props
// reports it; --chat-template overrides both.
func TestToolUseTemplate(t *testing.T) {
	dir := t.TempDir()
	const main = `{% for m in messages %}[main {{ m.role }}]{{ m.content }}{% endfor %}`
	const toolUse = `{% for m in messages %}[tool_use {{ m.role }}]{{ m.content }}{% endfor %}{% for f in tools %}<{{ f.function.name }}>{% endfor %}`
	model := withTemplates(t, dir, "tools.gguf", main, toolUse)
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withTools := write("tools.json", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}`)
	noTools := write("plain.json", `{"messages":[{"role":"user","content":"hi"}],"tools":[]}`)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"tools", []string{"-m", model, "--apply-template", withTools}, "[tool_use user]hi<f>"},
		{"no tools", []string{"-m", model, "--apply-template", noTools}, "[main user]hi"},
		{"--chat-template", []string{"-m", model, "--chat-template", "{{ 'flag' }}", "--apply-template", withTools}, "flag"},
	} {
		r := llamafile(t, nil, tc.args...)
		if r.code != 0 || r.stdout != tc.want {
			t.Errorf("%s: exit %d, %q (stderr %q), want %q", tc.name, r.code, r.stdout, r.stderr, tc.want)
		}
	}

	base, stop := startServer(t, "-m", model, "-c", "256", "-t", "1")
	t.Cleanup(func() {
		if t.Failed() {
			_, stderr := stop()
			t.Logf("server stderr:\n%s", stderr)
		}
	})
	waitHealthy(t, base)
	resp, err := http.Get(base + "/props")
	if err != nil {
		t.Fatal(err)
	}
	var props map[string]any
	json.NewDecoder(resp.Body).Decode(&props)
	resp.Body.Close()
	if props["chat_template"] != main || props["chat_template_tool_use"] != toolUse {
		t.Errorf("/props: chat_template %q, chat_template_tool_use %q", props["chat_template"], props["chat_template_tool_use"])
	}

	// A model without one has no chat_template_tool_use.
	plain := withTemplates(t, dir, "plain.gguf", main, "")
	base, _ = startServer(t, "-m", plain, "-c", "256", "-t", "1")
	waitHealthy(t, base)
	resp, err = http.Get(base + "/props")
	if err != nil {
		t.Fatal(err)
	}
	props = nil
	json.NewDecoder(resp.Body).Decode(&props)
	resp.Body.Close()
	if _, ok := props["chat_template_tool_use"]; ok {
		t.Errorf("/props of a model without a tool_use template: %v", props["chat_template_tool_use"])
	}

	// A broken tool_use template is an error naming the key.
	broken := withTemplates(t, dir, "broken.gguf", main, "{% if %}")
	r := llamafile(t, nil, "-m", broken, "--port", "0", "--nobrowser")
	if r.code != 1 || !strings.Contains(r.stderr, chat.ToolUseMetadataKey) {
		t.Errorf("broken tool_use template: exit %d, stderr %q", r.code, r.stderr)
	}
}
