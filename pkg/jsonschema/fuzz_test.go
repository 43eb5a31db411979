package jsonschema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/grammar"
)

// FuzzConvert converts arbitrary schemas; whatever the converter returns
// must be a grammar pkg/grammar parses, whose start rule is the one asked
// for (the invariant the server relies on when it compiles
// response_format and tool schemas).
func FuzzConvert(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "converter.json")); err == nil {
		var c struct {
			Cases []struct{ Schema string }
		}
		if json.Unmarshal(b, &c) == nil {
			for _, tc := range c.Cases {
				if len(tc.Schema) < 2048 {
					f.Add([]byte(tc.Schema), false)
				}
			}
		}
	}
	for _, s := range []string{
		`true`, `false`, `{}`, `[]`, `null`, `{"$ref":"#"}`, `{"$ref":"#/$defs/a","$defs":{"a":{"$ref":"#/$defs/a"}}}`,
		`{"type":"string","pattern":"^(a|b)*[\\d\\w]{2,1000000}$"}`,
		`{"type":"integer","minimum":-99999999999999999999,"maximum":1e400}`,
		`{"type":"array","items":{"type":"array","items":{"type":"array"}},"minItems":1000000000}`,
		`{"type":"object","properties":{"a\"b":{"const":"\u0000\ud800"}},"required":["a\"b","x"],"additionalProperties":{"enum":[1,[2],{"c":3}]}}`,
		`{"anyOf":[{"allOf":[{"type":"object"},{"enum":["a"]}]},{"oneOf":[]}],"multipleOf":3}`,
		`{"type":["string","null"],"format":"date-time","minLength":5,"maxLength":2}`,
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, schema []byte, loose bool) {
		for _, root := range []string{"", "tool-call"} {
			g, err := Convert(schema, Options{Loose: loose, Root: root})
			if err != nil {
				continue
			}
			if root == "" {
				root = "root"
			}
			if _, err := grammar.ParseRoot(g, root, nil); err != nil {
				t.Fatalf("schema %s converts to a grammar that does not parse: %v\n%s", schema, err, g)
			}
		}
	})
}
