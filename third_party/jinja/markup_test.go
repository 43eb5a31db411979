package jinja

import (
	"strings"
	"testing"
)

// TestMarkupAndGenerators (llamafile): Markup strings escape the plain
// strings added to them, and the generators of map and select are
// refused by tojson, as in Python's jinja2.
func TestMarkupAndGenerators(t *testing.T) {
	vars := map[string]any{"xs": []any{map[string]any{"a": 1}, map[string]any{"a": 2}}, "s": `<"x">`}
	tests := []struct {
		src, want, err string
	}{
		{`{{ "a"|safe + s }}`, `a&lt;&#34;x&#34;&gt;`, ""},
		{`{{ s + "b"|safe }}`, `&lt;&#34;x&#34;&gt;b`, ""},
		{`{{ "a"|safe + "<b>"|safe }}`, `a<b>`, ""},
		{`{{ "a" + s }}`, `a<"x">`, ""},
		{`{{ "a"|safe ~ s }}`, `a<"x">`, ""},
		{`{{ s|escape }}{{ s|e|e }}`, `&lt;&#34;x&#34;&gt;&lt;&#34;x&#34;&gt;`, ""},
		{`{{ xs|map(attribute="a")|list|tojson }}`, `[1, 2]`, ""},
		{`{{ xs|map(attribute="a")|join(",") }}{{ xs|selectattr("a")|list|length }}`, `1,22`, ""},
		{`{{ xs|map(attribute="a")|tojson }}`, "", "not JSON serializable"},
		{`{{ {"k": xs|selectattr("a")}|tojson }}`, "", "not JSON serializable"},
		{`{{ xs|tojson }}`, `[{"a": 1}, {"a": 2}]`, ""},
		// No test named: truthiness (these panicked).
		{`{{ [0, 1, 2]|select|list|tojson }}{{ [0, 1]|reject|list|tojson }}{{ xs|rejectattr("a")|list|length }}`, `[1, 2][0]0`, ""},
	}
	for _, tt := range tests {
		tmpl, err := Compile(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		out, err := tmpl.Render(vars)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %q, %v; want an error with %q", tt.src, out, err, tt.err)
			}
			continue
		}
		if err != nil || out != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.src, out, err, tt.want)
		}
	}
}
