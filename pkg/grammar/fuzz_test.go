package grammar

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fuzzVocab is a small vocabulary: single bytes, a few words, a multi-byte
// piece cut inside a UTF-8 sequence, an empty piece and an end of generation.
var fuzzVocab = func() *Vocab {
	pieces := []string{"", "a", "b", "{", "}", "\"", " ", "\n", "ab", "true", "\xe4\xb8", "\xad", "中", "\x00x", "<eos>"}
	return NewVocab(len(pieces), func(id int32) []byte { return []byte(pieces[id]) }, func(id int32) bool { return id == int32(len(pieces)-1) })
}()

// FuzzParse parses arbitrary GBNF and, when it parses, runs the matcher
// over a little text and a few tokens and generates a bounded sample: no
// panic, no hang, parsing within the allocation ceiling of
// TestAdversarialAllocations, and a generated sentence must match.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "llamacpp", "*.gbnf"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) < 4096 {
			f.Add(string(b), "1+2=3\n", []byte{1, 2, 3})
		}
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "parser.json")); err == nil {
		var p struct {
			Parse, Fail []string
		}
		if json.Unmarshal(b, &p) == nil {
			for _, s := range append(p.Parse[:min(20, len(p.Parse))], p.Fail[:min(20, len(p.Fail))]...) {
				f.Add(s, "aaa", []byte{1, 1, 14})
			}
		}
	}
	for _, s := range []string{
		`root ::= "a"{0,2000} "b"{2000}`,
		`root ::= (("a"{0,50}){0,50}){0,50}`,
		`root ::= "` + strings.Repeat("a", 2000) + `"{1999}`, // over the ceiling unless maxCopied stops it
		`root ::= x x ::= root | "a"`,
		`root ::= [^\x00-\U0010FFFF] | [\uD800-\uDFFF] | "\xff" | <[99999999999]> | !<[0]> | <tok>`,
		`root ::= . . [a-] [-a] [\]] "\"" "\u4e2d"`,
		"root ::= \"a\" # comment\n\n\nroot ::= \"b\"",
	} {
		f.Add(s, "ab中", []byte{8, 10, 11, 12})
	}
	lookup := func(text string) (int32, bool) { return 8, text == "tok" }
	f.Fuzz(func(t *testing.T, src, text string, toks []byte) {
		if len(text) > 64 || len(toks) > 16 {
			return
		}
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		g, err := ParseRoot(src, "root", lookup)
		runtime.ReadMemStats(&ms1)
		if grew, ceiling := ms1.TotalAlloc-ms0.TotalAlloc, uint64(16<<20+192*len(src)); grew > ceiling {
			t.Fatalf("parsing %d bytes allocated %d bytes (ceiling %d)", len(src), grew, ceiling)
		}
		if err != nil {
			return
		}
		g.Match(text)
		m := g.NewMatcher(fuzzVocab)
		_ = m.AcceptString(text) // only a panic matters
		for _, b := range toks {
			tok := int32(b) % int32(fuzzVocab.NumTokens()+1) // one past the end too
			m.Allows(tok)
			if m.AcceptToken(tok) != nil {
				continue
			}
			m.Done()
			m.Complete()
		}
		logits := make([]float32, fuzzVocab.NumTokens())
		m.Filter(logits)
		if s, ok := g.Generate(rand.New(rand.NewPCG(uint64(len(src)), 1)), 8, 64); ok && !g.Match(s) {
			t.Fatalf("generated %q, which the grammar does not match", s)
		}
	})
}
