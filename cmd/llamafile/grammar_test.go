package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestGrammarFlags generates with each grammar flag on stories260k, at
// temperature 1 so that only the grammar keeps the output in shape.
func TestGrammarFlags(t *testing.T) {
	model := stories(t)
	dir := t.TempDir()
	gbnf := filepath.Join(dir, "yesno.gbnf")
	schemaFile := filepath.Join(dir, "point.json")
	os.WriteFile(gbnf, []byte("# yes or no\nroot ::= \"yes\" | \"no\"\n"), 0o644)
	const schema = `{"type": "object", "properties": {"x": {"type": "integer", "minimum": 0, "maximum": 9}, "ok": {"type": "boolean"}}, "required": ["x", "ok"], "additionalProperties": false}`
	os.WriteFile(schemaFile, []byte(schema), 0o644)

	yesNo := func(t *testing.T, out string) {
		if out != "yes" && out != "no" {
			t.Errorf("output %q, want yes or no", out)
		}
	}
	point := func(t *testing.T, out string) {
		var v struct {
			X  *int  `json:"x"`
			OK *bool `json:"ok"`
		}
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil || v.X == nil || v.OK == nil || *v.X < 0 || *v.X > 9 {
			t.Errorf("output %q is not the schema's object (%v)", out, err)
		}
	}
	tests := []struct {
		name  string
		args  []string
		check func(*testing.T, string)
	}{
		{"--grammar", []string{"--grammar", `root ::= "yes" | "no"`}, yesNo},
		{"--grammar-file", []string{"--grammar-file", gbnf}, yesNo},
		{"-j", []string{"-j", schema}, point},
		{"--json-schema", []string{"--json-schema", schema}, point},
		{"--json-schema-file", []string{"--json-schema-file", schemaFile}, point},
		{"the last flag wins", []string{"-j", schema, "--grammar-file", gbnf}, yesNo},
		{"the last flag wins, again", []string{"--grammar-file", gbnf, "-j", schema}, point},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := 1; seed <= 3; seed++ {
				args := append([]string{"-m", model, "-p", "Once upon a time", "--temp", "1", "-s", strconv.Itoa(seed), "-n", "200", "--no-display-prompt", "--log-disable"}, tt.args...)
				r := llamafile(t, nil, args...)
				if r.code != 0 {
					t.Fatalf("exit status %d: %s", r.code, r.stderr)
				}
				if !strings.HasSuffix(r.stdout, " [end of text]\n\n\n") {
					t.Errorf("seed %d: the grammar did not end the output: %q", seed, r.stdout)
				}
				tt.check(t, completion(t, r.stdout))
			}
		})
	}
}

func TestGrammarErrors(t *testing.T) {
	model := stories(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.gbnf")
	os.WriteFile(bad, []byte("root ::= \"a\"\nitem ::= [a-\n"), 0o644)
	badSchema := filepath.Join(dir, "bad.json")
	os.WriteFile(badSchema, []byte(`{"type": "number", "multipleOf": 2}`), 0o644)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"bad grammar", []string{"--grammar", `root ::= "a`}, []string{"--grammar", "line 1"}},
		{"undefined rule", []string{"--grammar", `root ::= item`}, []string{"--grammar", "item"}},
		{"bad grammar file", []string{"--grammar-file", bad}, []string{"--grammar-file " + bad, "line 2"}},
		{"missing grammar file", []string{"--grammar-file", filepath.Join(dir, "none.gbnf")}, []string{"--grammar-file", "none.gbnf"}},
		{"bad schema", []string{"-j", `{"type": "strin"}`}, []string{"-j/--json-schema", `unknown type "strin"`}},
		{"not JSON", []string{"-j", `{"type":`}, []string{"-j/--json-schema", "invalid JSON"}},
		{"unsupported keyword", []string{"--json-schema-file", badSchema}, []string{"--json-schema-file " + badSchema, `/multipleOf: unsupported keyword "multipleOf"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := llamafile(t, nil, append([]string{"-m", model, "-p", "x", "-n", "4"}, tt.args...)...)
			if r.code != 1 {
				t.Errorf("exit status %d, want 1 (stderr %q)", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not mention %q", r.stderr, w)
				}
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic:") {
				t.Errorf("stack trace in stderr:\n%s", r.stderr)
			}
		})
	}
}
