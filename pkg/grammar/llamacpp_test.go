package grammar_test

// Test vectors from llama.cpp (see testdata/README.md): its example
// grammars, the grammar cases of tests/test-grammar-integration.cpp and the
// parse cases of tests/test-grammar-parser.cpp, plus hand-written samples
// for the example grammars.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llamafile-go/llamafile/pkg/grammar"
)

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// chunkings returns ways of cutting s into pieces to feed a Matcher one
// after another: whole, byte by byte, code point by code point, in fixed
// runs of 2 and 3 bytes (which cut multi-byte characters), and at every
// single cut point.
func chunkings(s string) map[string][]string {
	out := map[string][]string{"whole": {s}}
	var bytes, runes []string
	for i := 0; i < len(s); i++ {
		bytes = append(bytes, s[i:i+1])
	}
	for i, r := range s {
		runes = append(runes, s[i:i+utf8.RuneLen(r)])
	}
	out["bytes"] = bytes
	out["runes"] = runes
	for _, n := range []int{2, 3} {
		var c []string
		for i := 0; i < len(s); i += n {
			c = append(c, s[i:min(i+n, len(s))])
		}
		out[fmt.Sprintf("runs of %d", n)] = c
	}
	for i := 1; i < len(s); i++ {
		out[fmt.Sprintf("cut at %d", i)] = []string{s[:i], s[i:]}
	}
	return out
}

// feed gives m the chunks in order and reports whether all were accepted
// and the matcher is then done.
func feed(m *grammar.Matcher, chunks []string) (bool, error) {
	for i, c := range chunks {
		if err := m.AcceptString(c); err != nil {
			return false, fmt.Errorf("chunk %d %q: %w", i, c, err)
		}
	}
	return m.Done(), nil
}

// checkStrings checks that g accepts every pass string, by Match and by a
// Matcher fed it in every chunking, and rejects every fail string, by Match
// and byte by byte.
func checkStrings(t *testing.T, g *grammar.Grammar, pass, fail []string) {
	t.Helper()
	for _, s := range pass {
		if !g.Match(s) {
			t.Errorf("Match(%q) = false, want true", s)
			continue
		}
		for how, chunks := range chunkings(s) {
			if done, err := feed(g.NewMatcher(nil), chunks); !done {
				t.Errorf("%q fed %s: done = false, want true (%v)", s, how, err)
			}
		}
	}
	for _, s := range fail {
		if g.Match(s) {
			t.Errorf("Match(%q) = true, want false", s)
		}
		if done, _ := feed(g.NewMatcher(nil), chunkings(s)["bytes"]); done {
			t.Errorf("%q fed byte by byte: done = true, want false", s)
		}
	}
}

func TestLlamaCppGrammarFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "llamacpp", "*.gbnf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/llamacpp/*.gbnf")
	}
	var samples map[string]struct{ Pass, Fail []string }
	readJSON(t, "samples.json", &samples)
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			g, err := grammar.Parse(string(src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			s, ok := samples[name]
			if !ok || len(s.Pass) < 2 || len(s.Fail) < 2 {
				t.Fatalf("samples.json needs at least 2 pass and 2 fail strings for %s", name)
			}
			checkStrings(t, g, s.Pass, s.Fail)
		})
	}
	for name := range samples {
		if _, err := os.Stat(filepath.Join("testdata", "llamacpp", name)); err != nil {
			t.Errorf("samples.json: %v", err)
		}
	}
}

type integrationCase struct {
	Name       string
	Grammar    string
	Pass, Fail []string
	// Inputs with token terminals: each element is a token id (a JSON
	// number) or text (a JSON string).
	PassTokens [][]any `json:"pass_tokens"`
	FailTokens [][]any `json:"fail_tokens"`
}

type integrationFile struct {
	Cases       []integrationCase
	ParseErrors []string `json:"parse_errors"`
	CustomRoot  []struct {
		Grammar, Root string
		OK            bool
	} `json:"custom_root"`
}

func TestLlamaCppIntegration(t *testing.T) {
	var f integrationFile
	readJSON(t, "integration.json", &f)
	if len(f.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range f.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			g, err := grammar.Parse(tc.Grammar)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.Grammar, err)
			}
			checkStrings(t, g, tc.Pass, tc.Fail)
			if len(tc.PassTokens)+len(tc.FailTokens) > 0 {
				checkTokens(t, g, tc.PassTokens, tc.FailTokens)
			}
		})
	}
}

// tokenVocab is a vocabulary for the token cases: ids below textBase are
// special tokens whose piece is "<[id]>" (as llama.cpp's test gives them),
// and the ids from textBase on are text, one per distinct piece. As in
// llama.cpp's match_string, where every text code point is token 0, the
// text tokens are ids that no grammar of the cases names.
type tokenVocab struct {
	pieces []string
	ids    map[string]int32
}

const textBase = 100

func newTokenVocab() *tokenVocab {
	v := &tokenVocab{ids: map[string]int32{}}
	for i := range textBase {
		v.pieces = append(v.pieces, fmt.Sprintf("<[%d]>", i))
	}
	return v
}

func (v *tokenVocab) text(s string) int32 {
	if id, ok := v.ids[s]; ok {
		return id
	}
	id := int32(len(v.pieces))
	v.pieces = append(v.pieces, s)
	v.ids[s] = id
	return id
}

// tokenize turns an input of pass_tokens/fail_tokens into token ids, text
// split into one token per code point (as llama.cpp's test does) or, with
// whole, each text segment as one token.
func (v *tokenVocab) tokenize(t *testing.T, in []any, whole bool) []int32 {
	t.Helper()
	var out []int32
	for _, e := range in {
		switch e := e.(type) {
		case float64:
			if e < 0 || e >= textBase || e != float64(int32(e)) {
				t.Fatalf("token id %v out of range", e)
			}
			out = append(out, int32(e))
		case string:
			if whole {
				out = append(out, v.text(e))
				continue
			}
			for _, r := range e {
				out = append(out, v.text(string(r)))
			}
		default:
			t.Fatalf("bad token input element %#v", e)
		}
	}
	return out
}

func (v *tokenVocab) vocab() *grammar.Vocab {
	return grammar.NewVocab(len(v.pieces),
		func(id int32) []byte { return []byte(v.pieces[id]) },
		func(int32) bool { return false })
}

func acceptTokens(m *grammar.Matcher, toks []int32) bool {
	for _, tok := range toks {
		if !m.Allows(tok) {
			return false
		}
		if err := m.AcceptToken(tok); err != nil {
			return false
		}
	}
	return m.Done()
}

func checkTokens(t *testing.T, g *grammar.Grammar, pass, fail [][]any) {
	t.Helper()
	tv := newTokenVocab()
	type input struct {
		in    []any
		split map[string][]int32
	}
	tokenized := func(ins [][]any) []input {
		var out []input
		for _, in := range ins {
			out = append(out, input{in, map[string][]int32{
				"per code point": tv.tokenize(t, in, false),
				"per segment":    tv.tokenize(t, in, true),
			}})
		}
		return out
	}
	passIn, failIn := tokenized(pass), tokenized(fail)
	v := tv.vocab()
	for _, in := range passIn {
		for how, toks := range in.split {
			if !acceptTokens(g.NewMatcher(v), toks) {
				t.Errorf("%v (text %s): rejected, want accepted", in.in, how)
			}
		}
	}
	for _, in := range failIn {
		for how, toks := range in.split {
			if acceptTokens(g.NewMatcher(v), toks) {
				t.Errorf("%v (text %s): accepted, want rejected", in.in, how)
			}
		}
	}
}

// wantParseError checks that err is a *grammar.ParseError.
func wantParseError(t *testing.T, src string, err error) {
	t.Helper()
	var pe *grammar.ParseError
	switch {
	case err == nil:
		t.Errorf("Parse(%q) succeeded, want a *grammar.ParseError", src)
	case !errors.As(err, &pe):
		t.Errorf("Parse(%q): error %T (%v), want a *grammar.ParseError", src, err, err)
	}
}

func TestLlamaCppParseErrors(t *testing.T) {
	var f integrationFile
	readJSON(t, "integration.json", &f)
	var p struct{ Parse, Fail []string }
	readJSON(t, "parser.json", &p)
	if len(f.ParseErrors) == 0 || len(p.Fail) == 0 || len(p.Parse) == 0 || len(f.CustomRoot) == 0 {
		t.Fatal("missing parse vectors")
	}
	for _, src := range append(f.ParseErrors, p.Fail...) {
		_, err := grammar.Parse(src)
		wantParseError(t, src, err)
	}
	for _, src := range p.Parse {
		if _, err := grammar.Parse(src); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
	}
	for _, c := range f.CustomRoot {
		_, err := grammar.ParseRoot(c.Grammar, c.Root, nil)
		if c.OK {
			if err != nil {
				t.Errorf("ParseRoot(%q, %q): %v", c.Grammar, c.Root, err)
			}
			continue
		}
		wantParseError(t, c.Grammar+" (root "+strings.TrimSpace(c.Root)+")", err)
	}
}
