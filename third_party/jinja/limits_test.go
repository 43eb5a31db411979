package jinja

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLimits(t *testing.T) {
	lim := Limits{Timeout: 500 * time.Millisecond, MaxOutput: 1 << 20, MaxDepth: 64, MaxRange: 1 << 16}
	tests := []struct {
		name, src string
		limit     bool // fails with ErrLimit
	}{
		{"recursion", `{% macro f(n) %}{{ f(n+1) }}{% endmacro %}{{ f(0) }}`, true},
		{"huge repeat", `{{ 'x' * 100000000 }}`, true},
		{"huge range", `{% for i in range(100000000) %}{% endfor %}`, true},
		{"long loops", `{% for i in range(60000) %}{% for j in range(60000) %}{% endfor %}{% endfor %}`, true},
		{"huge output", `{% for i in range(60000) %}{{ 'y' * 1000 }}{% endfor %}`, true},
		{"caller recursion", `{% macro f() %}{% call f() %}x{% endcall %}{% endmacro %}{{ f() }}`, true},
		{"internals", `{{ messages.__class__ }}{{ messages.__init__ }}[{{ ''.__class__ }}]`, false},
		{"negative repeat", `[{{ 'x' * -3 }}]`, false},
	}
	for _, tt := range tests {
		tmpl, err := Compile(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		t0 := time.Now()
		out, err := tmpl.RenderLimited(map[string]any{"messages": []any{}}, lim)
		if d := time.Since(t0); d > 2*time.Second {
			t.Errorf("%s: took %v", tt.name, d)
		}
		if tt.limit != errors.Is(err, ErrLimit) {
			t.Errorf("%s: %q, %v; want a limit error: %v", tt.name, out[:min(len(out), 40)], err, tt.limit)
		}
		if !tt.limit && strings.Contains(out, "class") {
			t.Errorf("%s: %q reveals internals", tt.name, out)
		}
	}
	// Within the limits, the same output as Render.
	tmpl, _ := Compile(`{% for i in range(3) %}{{ i }}{% endfor %}{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m('a') }}`)
	a, err1 := tmpl.Render(nil)
	b, err2 := tmpl.RenderLimited(nil, Limits{})
	if a != "012<a>" || a != b || err1 != nil || err2 != nil {
		t.Errorf("Render %q %v, RenderLimited %q %v", a, err1, b, err2)
	}
}
