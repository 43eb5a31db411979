package jsonschema

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/grammar"
)

func mustGrammar(t *testing.T, schema string, opt Options) *grammar.Grammar {
	t.Helper()
	text, err := Convert([]byte(schema), opt)
	if err != nil {
		t.Fatalf("Convert(%s): %v", schema, err)
	}
	g, err := grammar.Parse(text)
	if err != nil {
		t.Fatalf("Convert(%s) wrote a grammar that does not parse: %v\n%s", schema, err, text)
	}
	return g
}

// checkMatches checks that g accepts each of pass and rejects each of
// fail; what names the case.
func checkMatches(t *testing.T, g *grammar.Grammar, what string, pass, fail []string) {
	t.Helper()
	for _, s := range pass {
		if !g.Match(s) {
			t.Errorf("%s: rejects %q", what, s)
		}
	}
	for _, s := range fail {
		if g.Match(s) {
			t.Errorf("%s: accepts %q", what, s)
		}
	}
}

// looseCases are llama.cpp cases whose schemas hold keywords this
// package refuses by default (llama.cpp drops them silently): they run
// with Options.Loose, as llama.cpp converts them.
var looseCases = map[string]string{
	"required props": "uniqueItems and exclusiveMinimum on a number",
}

// TestIntegration runs the schema cases of llama.cpp's
// test-grammar-integration.cpp: the grammar must accept and reject the
// same strings.
func TestIntegration(t *testing.T) {
	var file struct {
		Cases []struct {
			Name   string   `json:"name"`
			Schema string   `json:"schema"`
			Pass   []string `json:"pass"`
			Fail   []string `json:"fail"`
		} `json:"cases"`
	}
	readJSON(t, "testdata/integration.json", &file)
	if len(file.Cases) < 30 {
		t.Fatalf("only %d cases in testdata/integration.json", len(file.Cases))
	}
	for _, tc := range file.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			why, loose := looseCases[tc.Name]
			if _, err := ToGrammar([]byte(tc.Schema)); loose && err == nil {
				t.Errorf("converts without Loose, though it has %s", why)
			}
			g := mustGrammar(t, tc.Schema, Options{Loose: loose})
			checkMatches(t, g, tc.Name, tc.Pass, tc.Fail)
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// divergence says which way a converter case cannot be compared, and why.
type divergence struct {
	theirsToOurs, oursToTheirs bool // skip that direction
	why                        string
}

// converterDivergences are llama.cpp converter cases whose meaning
// differs here on purpose.
var converterDivergences = map[string]divergence{
	// llama.cpp's "." and classes write raw quotes and control
	// characters, which are not JSON; ours write them escaped, which
	// llama.cpp's grammar rejects.
	"regexp quote": {oursToTheirs: true, why: "escaped quote"},
	"regexp":       {oursToTheirs: true, why: "escaped control characters from ."},
	// ECMA-262: ^A|B|C|D$ is ^A, or B or C anywhere, or D$; llama.cpp
	// anchors every alternative.
	"regexp with top-level alternation": {oursToTheirs: true, why: "unanchored alternatives"},
	// llama.cpp accepts any string for these patterns (unanchored, \w,
	// \- in a class); they are converted here.
	"unanchored regexp":                 {theirsToOurs: true, why: "llama.cpp falls back to any string"},
	"regexp with unsupported shorthand": {theirsToOurs: true, why: "llama.cpp falls back to any string"},
	"unsupported regexp in a property":  {theirsToOurs: true, why: "llama.cpp falls back to any string"},
}

// TestConverter runs the cases of llama.cpp's
// test-json-schema-to-grammar.cpp by meaning, not text: a schema it
// rejects is an error here too, and for one it converts, strings
// generated from its expected grammar are accepted by ours and strings
// generated from ours by its, where they are JSON.
func TestConverter(t *testing.T) {
	var file struct {
		Cases []struct {
			Name    string `json:"name"`
			Status  string `json:"status"`
			Schema  string `json:"schema"`
			Grammar string `json:"grammar"`
		} `json:"cases"`
	}
	readJSON(t, "testdata/converter.json", &file)
	if len(file.Cases) < 50 {
		t.Fatalf("only %d cases in testdata/converter.json", len(file.Cases))
	}
	for i, tc := range file.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			div := converterDivergences[tc.Name]
			text, err := ToGrammar([]byte(tc.Schema))
			if tc.Status == "failure" {
				if err == nil {
					t.Fatalf("converts a schema llama.cpp rejects:\n%s", text)
				}
				return
			}
			if err != nil {
				t.Fatalf("llama.cpp converts it; here: %v", err)
			}
			ours, err := grammar.Parse(text)
			if err != nil {
				t.Fatalf("our grammar does not parse: %v\n%s", err, text)
			}
			theirs, err := grammar.Parse(tc.Grammar)
			if err != nil {
				t.Fatalf("llama.cpp's grammar does not parse: %v", err)
			}
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			compare := func(from, to *grammar.Grammar, fromName, toName string) {
				generated := 0
				for try := 0; try < 400 && generated < 40; try++ {
					s, ok := from.Generate(rng, 300, 2000)
					if !ok {
						continue
					}
					generated++
					if !to.Match(s) && json.Valid([]byte(s)) {
						t.Errorf("%s generates %q, %s rejects it", fromName, s, toName)
						return
					}
				}
				if generated == 0 {
					t.Errorf("%s generated nothing", fromName)
				}
			}
			if !div.theirsToOurs {
				compare(theirs, ours, "llama.cpp's grammar", "ours")
			}
			if !div.oursToTheirs {
				compare(ours, theirs, "our grammar", "llama.cpp's")
			}
			if t.Failed() {
				t.Logf("ours:\n%s\nllama.cpp's:\n%s", text, tc.Grammar)
			}
		})
	}
}

// TestIntegerRanges checks the integer rules against every integer near
// their bounds.
func TestIntegerRanges(t *testing.T) {
	bounds := []int64{-1000, -101, -100, -99, -10, -9, -1, 0, 1, 2, 9, 10, 11, 19, 20, 99, 100, 101, 123, 199, 200, 555, 999, 1000}
	type bound struct {
		v   int64
		has bool
	}
	var all []bound
	all = append(all, bound{})
	for _, b := range bounds {
		all = append(all, bound{b, true})
	}
	for _, lo := range all {
		for _, hi := range all {
			if lo.has && hi.has && lo.v > hi.v {
				continue
			}
			rule := integerRule(lo.v, hi.v, lo.has, hi.has)
			g, err := grammar.Parse("root ::= " + rule)
			if err != nil {
				t.Fatalf("[%v, %v]: %v\n%s", lo, hi, err, rule)
			}
			for n := int64(-1200); n <= 1200; n++ {
				want := (!lo.has || n >= lo.v) && (!hi.has || n <= hi.v)
				if got := g.Match(strconv.FormatInt(n, 10)); got != want {
					t.Fatalf("[%v, %v]: %d: got %v, want %v\n%s", lo, hi, n, got, want, rule)
				}
			}
			// "-0" is written where llama.cpp writes it: a negative lower
			// bound and an upper bound at or above 0, or none.
			zero := lo.has && lo.v < 0 && (!hi.has || hi.v >= 0) || !lo.has && !hi.has
			if g.Match("-0") != zero {
				t.Fatalf("[%v, %v]: -0: got %v, want %v\n%s", lo, hi, !zero, zero, rule)
			}
			for _, bad := range []string{"01", "00", "", "-", "-01"} {
				if g.Match(bad) {
					t.Fatalf("[%v, %v] accepts %q\n%s", lo, hi, bad, rule)
				}
			}
		}
	}
}

func TestPattern(t *testing.T) {
	tests := []struct {
		pattern    string
		pass, fail []string
	}{
		{`^abc$`, []string{`"abc"`}, []string{`"abcd"`, `"ab"`, `abc`}},
		{`abc`, []string{`"abc"`, `"xxabcyy"`}, []string{`"ab"`}},
		{`^a|b$`, []string{`"a"`, `"ab"`, `"xb"`, `"b"`}, []string{`"ba"`, `"c"`}},
		{`^\d{3}-\d{4}$`, []string{`"555-1234"`}, []string{`"55-1234"`, `"5555-1234"`, `"abc-defg"`}},
		{`^[^a-z]+$`, []string{`"ABC"`, `"A\"B"`, `"\\"`, `"\n"`}, []string{`"aB"`, `"A"B"`, `""`}},
		{`^\w+@\w+\.com$`, []string{`"me@host.com"`}, []string{`"me@host.org"`, `"me@@host.com"`}},
		{`^(?:ab|cd)*$`, []string{`""`, `"abcdab"`}, []string{`"abc"`}},
		{`^(?<year>\d{4})$`, []string{`"2024"`}, []string{`"24"`}},
		{`^a{2,}b?$`, []string{`"aa"`, `"aaab"`}, []string{`"a"`, `"ab"`}},
		{`^.{1,3}$`, []string{`"x"`, `"xyz"`, `"é"`}, []string{`""`, `"wxyz"`, `"\n"`}},
		{`^[\s\S]$`, []string{`" "`, `"\n"`, `"a"`}, []string{`""`}},
		{`^x\.y\\z$`, []string{`"x.y\\z"`}, []string{`"xay\\z"`}},
		{`^"q"$`, []string{`"\"q\""`}, []string{`""q""`}},
		{`^a{1}$`, []string{`"a"`}, []string{`"aa"`}},
		{`^\u0041\x42$`, []string{`"AB"`}, []string{`"ab"`}},
	}
	for _, tc := range tests {
		schema, _ := json.Marshal(map[string]any{"type": "string", "pattern": tc.pattern})
		checkMatches(t, mustGrammar(t, string(schema), Options{}), tc.pattern, tc.pass, tc.fail)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		schema string
		want   string // in the message
	}{
		{`{"type": "number", "multipleOf": 3}`, `jsonschema: /multipleOf: unsupported keyword "multipleOf"`},
		{`{"properties": {"age": {"type": "number", "minimum": 0}}}`, `/properties/age/minimum: "minimum" is supported only with "type": "integer"`},
		{`{"type": "array", "items": {"type": "string"}, "uniqueItems": true}`, `/uniqueItems: unsupported keyword`},
		{`{"not": {"type": "string"}}`, `/not: unsupported keyword "not"`},
		{`{"type": "strin"}`, `/type: unknown type "strin"`},
		{`{"type": 3}`, `/type: a type is a string or a list of strings`},
		{`{"$ref": "https://example.com/s.json"}`, `only local references`},
		{`{"$ref": "#/$defs/missing"}`, `"$defs" not found`},
		{`{"type": "string", "pattern": "^(?=a)b$"}`, `/pattern: "^(?=a)b$": lookaround`},
		{`{"type": "string", "pattern": "^(ab"}`, `missing )`},
		{`{"type": "string", "pattern": "^\\bword$"}`, `word boundaries`},
		{`{"type": "string", "pattern": "^a$", "maxLength": 3}`, `/maxLength: "maxLength" beside "pattern"`},
		{`{"type": "integer", "minimum": 5, "maximum": 2}`, `no integer lies between`},
		{`{"type": "string", "minLength": 4, "maxLength": 2}`, `/maxLength: maxLength 2 is below minLength 4`},
		{`{"type": "object", "properties": {"a": {}}, "required": ["b"]}`, `/required/0: required property "b" is not in "properties"`},
		{`{"enum": []}`, `/enum: a non-empty list`},
		{`{"anyOf": [{"type": "string"}], "pattern": "^a$"}`, `/pattern: "pattern" beside "anyOf"`},
		{`{"properties": {"a": false}}`, `/properties/a: the schema false accepts nothing`},
		{`[1]`, `a schema is an object or a boolean`},
		{`{"type": "string"`, `jsonschema: invalid JSON`},
		{`{"type": "integer", "minimum": 1e20}`, `leaves no integer`},
		{`{"type": "array", "prefixItems": [{}, {}], "minItems": 3}`, `a tuple of 2 items`},
	}
	for _, tc := range tests {
		_, err := ToGrammar([]byte(tc.schema))
		if err == nil {
			t.Errorf("%s: no error, want %q", tc.schema, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want %q in it", tc.schema, err, tc.want)
		}
	}
}

// TestLoose checks that Loose drops what the grammar cannot express.
func TestLoose(t *testing.T) {
	for _, schema := range []string{
		`{"type": "number", "multipleOf": 3, "minimum": 0}`,
		`{"type": "string", "pattern": "^(?=a)b$"}`,
		`{"type": "object", "properties": {"a": {}}, "required": ["b"]}`,
	} {
		text, err := Convert([]byte(schema), Options{Loose: true})
		if err != nil {
			t.Errorf("%s: %v", schema, err)
			continue
		}
		if _, err := grammar.Parse(text); err != nil {
			t.Errorf("%s: %v", schema, err)
		}
	}
}

// TestSchemas checks conversions this package does beyond llama.cpp's.
func TestSchemas(t *testing.T) {
	tests := []struct {
		schema     string
		pass, fail []string
	}{
		// Exclusive bounds, fractional bounds, draft-4 exclusive flags.
		{`{"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10}`, []string{"1", "9"}, []string{"0", "10"}},
		{`{"type": "integer", "minimum": 0.5, "maximum": 2.5}`, []string{"1", "2"}, []string{"0", "3"}},
		{`{"type": "integer", "minimum": 0, "exclusiveMinimum": true}`, []string{"1"}, []string{"0"}},
		// prefixItems followed by items.
		{`{"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}, "maxItems": 3}`,
			[]string{`["a"]`, `["a", 1, 2]`}, []string{`[]`, `["a", 1, 2, 3]`, `["a", "b"]`}},
		// Counts with no items schema.
		{`{"type": "array", "minItems": 2}`, []string{`[1, "x"]`}, []string{`[1]`}},
		// A type list with bounds for its integer.
		{`{"type": ["integer", "null"], "minimum": 3}`, []string{"3", "null"}, []string{"2"}},
		// Keys with characters JSON escapes.
		{`{"properties": {"a\"b": {"const": 1}}, "required": ["a\"b"]}`, []string{`{"a\"b": 1}`}, []string{`{"ab": 1}`}},
		// Additional keys may not repeat a known one.
		{`{"properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}}`,
			[]string{`{"a": 1, "b": "x"}`, `{"ab": "x"}`}, []string{`{"a": "x"}`, `{"b": 1}`}},
		// Recursion through the root.
		{`{"type": "object", "properties": {"child": {"$ref": "#"}}}`, []string{`{"child": {"child": {}}}`}, []string{`{"child": 1}`}},
	}
	for _, tc := range tests {
		checkMatches(t, mustGrammar(t, tc.schema, Options{}), tc.schema, tc.pass, tc.fail)
	}
}

var _ = fmt.Sprint

// TestRoot: Options.Root names the start rule, for a grammar inside a
// larger one, which keeps "root" for itself.
func TestRoot(t *testing.T) {
	text, err := Convert([]byte(`{"type": "object", "properties": {"root": {"type": "integer"}, "call": {"type": "boolean"}}, "required": ["root", "call"]}`), Options{Root: "call"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "\ncall ::= ") && !strings.HasPrefix(text, "call ::= ") || strings.Contains(text, "\nroot ::=") || strings.HasPrefix(text, "root ::=") {
		t.Fatalf("the start rule is not call, or root is taken:\n%s", text)
	}
	g, err := grammar.Parse(`root ::= "<" call ">"` + "\n" + text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	checkMatches(t, g, "wrapped", []string{`<{"root": 1, "call": true}>`}, []string{`{"root": 1, "call": true}`, `<{"root": true, "call": 1}>`})
}
