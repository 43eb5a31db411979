package grammar

import (
	"math"
	"strings"
	"testing"
)

// testPieces is a small vocabulary with the awkward cases: pieces that
// span several grammar elements, cut UTF-8 sequences (é is c3 a9, 日 is
// e6 97 a5), an invalid start byte, an empty piece, a control token that
// ends generation and one that does not.
var testPieces = []string{
	"a", "b", "c", "ab", "abc", "abd", "x", "yes", "no", "y", "es", "n",
	"é", "\xc3", "\xa9", "\xa9x", "日", "\xe6\x97", "\xa5", "日本",
	"{", "}", "\"", "\":", ", ", " ", "1", "23", "[", "]", "<tool>", "<to", "ol>", "hi ", "i <to",
	"", "<|eot|>", "<|x|>", "0", "42", "</tool>",
}

const eotID = 36

func testVocab() *Vocab {
	return NewVocab(len(testPieces),
		func(id int32) []byte { return []byte(testPieces[id]) },
		func(id int32) bool { return id == eotID })
}

func tokenID(t *testing.T, piece string) int32 {
	t.Helper()
	for i, p := range testPieces {
		if p == piece {
			return int32(i)
		}
	}
	t.Fatalf("no token %q in the test vocabulary", piece)
	return -1
}

func mustParse(t *testing.T, src string) *Grammar {
	t.Helper()
	g, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return g
}

// allowed returns the pieces the matcher allows, checked one by one.
func allowed(m *Matcher) []string {
	var out []string
	for i, p := range testPieces {
		if m.Allows(int32(i)) {
			out = append(out, p)
		}
	}
	return out
}

// checkMask checks that Filter, which walks the trie, agrees with Allows,
// which follows one token, on every token.
func checkMask(t *testing.T, m *Matcher, where string) {
	t.Helper()
	logits := make([]float32, len(testPieces))
	m.Filter(logits)
	for i := range testPieces {
		byMask := !math.IsInf(float64(logits[i]), -1)
		if byMask != m.Allows(int32(i)) {
			t.Errorf("%s: token %q: Filter says %v, Allows %v", where, testPieces[i], byMask, !byMask)
		}
	}
}

func TestMatcherTokens(t *testing.T) {
	v := testVocab()
	tests := []struct {
		name    string
		grammar string
		before  []string // tokens accepted first
		allow   []string // exactly the tokens allowed then
	}{
		{"spanning elements", `root ::= "a" "b" "c"`, nil, []string{"a", "ab", "abc"}},
		{"after a prefix", `root ::= "a" "b" "c"`, []string{"a"}, []string{"b"}},
		{"alternatives", `root ::= "yes" | "no"`, nil, []string{"yes", "no", "y", "n"}},
		{"complete", `root ::= "yes" | "no"`, []string{"y", "es"}, []string{"<|eot|>"}},
		{"partial UTF-8 start", `root ::= "é" "x"`, nil, []string{"é", "\xc3"}},
		{"partial UTF-8 end", `root ::= "é" "x"`, []string{"\xc3"}, []string{"\xa9", "\xa9x"}},
		{"after the character", `root ::= "é" "x"`, []string{"\xc3", "\xa9"}, []string{"x"}},
		{"partial outside the class", `root ::= [a-c]+`, nil, []string{"a", "b", "c", "ab", "abc"}},
		{"partial in a negated class", `root ::= [^a-z{}\[\]"<>,: 0-9\-]`, nil, []string{"é", "\xc3", "日", "\xe6\x97"}},
		{"three-byte partial", `root ::= "日本"`, []string{"\xe6\x97"}, []string{"\xa5"}},
		{"multi-character CJK token", `root ::= "日本"`, nil, []string{"日", "\xe6\x97", "日本"}},
		{"token terminal", `root ::= <[37]> "x"`, nil, []string{"<|x|>"}},
		{"after a token terminal", `root ::= <[37]> "x"`, []string{"<|x|>"}, []string{"x"}},
		{"text of a control token", `root ::= "<|x|>"`, nil, []string{"<|x|>"}},
		{"optional end", `root ::= "a" "b"?`, []string{"a"}, []string{"b", "<|eot|>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustParse(t, tc.grammar).NewMatcher(v)
			for _, p := range tc.before {
				if err := m.AcceptToken(tokenID(t, p)); err != nil {
					t.Fatalf("AcceptToken(%q): %v", p, err)
				}
			}
			got := allowed(m)
			if strings.Join(got, "|") != strings.Join(tc.allow, "|") {
				t.Errorf("allowed %q, want %q", got, tc.allow)
			}
			checkMask(t, m, tc.name)
		})
	}
}

func TestMatcherTokenNot(t *testing.T) {
	v := testVocab()
	m := mustParse(t, `root ::= !<[37]> "x"`).NewMatcher(v)
	if m.Allows(tokenID(t, "<|x|>")) {
		t.Error("!<[37]> allows token 37")
	}
	if !m.Allows(tokenID(t, "yes")) || !m.Allows(tokenID(t, "\xa9")) {
		t.Error("!<[37]> rejects other tokens")
	}
	if m.Allows(eotID) {
		t.Error("end of generation allowed before the grammar is complete")
	}
	checkMask(t, m, "!<[37]>")
	if err := m.AcceptToken(tokenID(t, "abc")); err != nil {
		t.Fatal(err)
	}
	if got := allowed(m); strings.Join(got, "|") != "x" {
		t.Errorf("after !<[37]>: allowed %q, want x", got)
	}
}

func TestMatcherRejects(t *testing.T) {
	m := mustParse(t, `root ::= "a" "b"`).NewMatcher(testVocab())
	if err := m.AcceptToken(tokenID(t, "b")); err == nil {
		t.Fatal("AcceptToken of a rejected token succeeded")
	}
	if err := m.AcceptToken(eotID); err == nil {
		t.Fatal("end of generation accepted before the grammar is complete")
	}
	// The matcher is unchanged by the errors.
	if err := m.AcceptToken(tokenID(t, "ab")); err != nil {
		t.Fatal(err)
	}
	if !m.Complete() || !m.Done() {
		t.Error("not complete after the whole sentence")
	}
	if err := m.AcceptToken(eotID); err != nil {
		t.Errorf("end of generation after the sentence: %v", err)
	}
}

// TestMatcherMaskJSON checks Filter against Allows at every prefix of some
// JSON texts, where the states and their cached masks repeat.
func TestMatcherMaskJSON(t *testing.T) {
	g := mustParse(t, jsonGBNF)
	v := testVocab()
	for _, doc := range []string{`{"a": [1, 23]}`, `["é日本", {"b": "abc"}]`, `"\u00e9"`} {
		m := g.NewMatcher(v)
		for i := 0; i < len(doc); i++ {
			checkMask(t, m, doc[:i])
			if err := m.AcceptString(doc[i : i+1]); err != nil {
				t.Fatalf("%q: byte %d: %v", doc, i, err)
			}
		}
		if !m.Done() {
			t.Errorf("%q: not done", doc)
		}
	}
}

func TestLazyMatcher(t *testing.T) {
	g := mustParse(t, `root ::= "<tool>" [0-9]+ "</tool>"`)
	v := testVocab()
	for _, tc := range []struct {
		name   string
		tokens []string
		t      Triggers
	}{
		{"word over two tokens", []string{"hi ", "<to", "ol>"}, Triggers{Words: []string{"<tool>"}}},
		{"word straddling a token", []string{"hi ", "yes", "i <to", "ol>"}, Triggers{Words: []string{"<tool>"}}},
		{"pattern group", []string{"hi ", "<to", "ol>"}, Triggers{Patterns: []string{`hi (<tool>)`}}},
		{"token", []string{"hi ", "<tool>"}, Triggers{Tokens: []int32{30}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := g.NewLazyMatcher(v, tc.t)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range tc.tokens {
				if !m.Waiting() {
					t.Fatalf("triggered before token %d", i)
				}
				if got := allowed(m); len(got) != len(testPieces) {
					t.Fatalf("waiting, yet only %q allowed", got)
				}
				if err := m.AcceptToken(tokenID(t, p)); err != nil {
					t.Fatalf("AcceptToken(%q): %v", p, err)
				}
			}
			if m.Waiting() {
				t.Fatal("not triggered")
			}
			if got := allowed(m); strings.Join(got, "|") != "1|23|0|42" {
				t.Errorf("after the trigger: allowed %q", got)
			}
			for _, p := range []string{"42", "</tool>"} {
				if err := m.AcceptToken(tokenID(t, p)); err != nil {
					t.Fatal(err)
				}
			}
			if !m.Complete() {
				t.Error("not complete")
			}
		})
	}
	if _, err := g.NewLazyMatcher(v, Triggers{Patterns: []string{"("}}); err == nil {
		t.Error("a bad trigger pattern was accepted")
	}
}

func TestDecodePartial(t *testing.T) {
	tests := []struct {
		in     string
		start  partialUTF8
		cps    string
		remain int8
	}{
		{"abc", partialUTF8{}, "abc", 0},
		{"a\xc3", partialUTF8{}, "a", 1},
		{"\xa9b", partialUTF8{value: 3, remain: 1}, "éb", 0},
		{"\xa9", partialUTF8{}, "", -1},
		{"b", partialUTF8{value: 3, remain: 1}, "", -1},
		{"\xe6\x97", partialUTF8{}, "", 1},
	}
	for _, tc := range tests {
		cps, p := decode(nil, []byte(tc.in), tc.start)
		if string(cps) != tc.cps || p.remain != tc.remain {
			t.Errorf("decode(%q, %+v) = %q, remain %d; want %q, remain %d", tc.in, tc.start, string(cps), p.remain, tc.cps, tc.remain)
		}
	}
}

// jsonGBNF is a JSON grammar in the style of llama.cpp's grammars/json.gbnf.
const jsonGBNF = `
root   ::= value
value  ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array  ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-7]{0,15})? ws
ws ::= | " " | "\n" [ \t]{0,20}
`

// TestPartialNegatedClass: a cut character under a negated class is
// rejected only when every character it can complete to is excluded
// (llama.cpp rejects it when any is).
func TestPartialNegatedClass(t *testing.T) {
	for _, tc := range []struct {
		grammar, text string
		ok            bool
	}{
		{`root ::= [^\x85] "x"`, "\xc2", true},                // £ (c2 a3) completes it
		{`root ::= [^\u2028] "x"`, "\xe2", true},              // ☕ (e2 98 95)
		{`root ::= [^\x80-\xbf] "x"`, "\xc2", false},          // every c2 xx is excluded
		{`root ::= [^\x80-\x90\x91-\xbf] "x"`, "\xc2", false}, // by two ranges
		{`root ::= [^\x80-\x90\x92-\xbf] "x"`, "\xc2", true},  // but for U+0091
		{`root ::= [a-z] "x"`, "\xc2", false},
		{`root ::= [\x90-\x95] "x"`, "\xc2", true},
	} {
		err := mustParse(t, tc.grammar).NewMatcher(nil).AcceptString(tc.text)
		if (err == nil) != tc.ok {
			t.Errorf("%s: AcceptString(%q) = %v, want ok %v", tc.grammar, tc.text, err, tc.ok)
		}
	}
}
