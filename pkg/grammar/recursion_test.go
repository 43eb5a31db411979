package grammar

import (
	"strings"
	"testing"
)

// TestLeftRecursionThroughNullableRules: a rule reaching itself through
// rules that may match nothing but have no empty alternative ("ws ::= [ ]*"),
// which llama.cpp's check lets through, is rejected where the matcher would
// recurse until the stack overflows (a fatal error no recover catches: one
// request could take the server down); the cycles it can follow are kept.
func TestLeftRecursionThroughNullableRules(t *testing.T) {
	for _, src := range []string{
		"root ::= x \"a\"\nx ::= ws x \"b\" | \"c\"\nws ::= [ ]*",
		"root ::= ws root \"a\" | \"b\"\nws ::= [ ]?",
		"root ::= a\na ::= b \"x\" | \"y\"\nb ::= (\"z\"*) a",
		// Found by FuzzParse: term reaches term through ws and expr.
		"root::=(expr\"=\"ws term\"\")\nexpr::=term([*/] term)*\nterm  ::= ident | num | \"\" ws expr \")\" ws\n" +
			"ident ::= [a-z] [a-z0-9_]* ws\nnum   ::= [0-9]+ ws\nws    ::= [ \\t\\n]*",
	} {
		_, err := Parse(src)
		if err == nil || !strings.Contains(err.Error(), "left recursion") {
			t.Errorf("Parse(%q) = %v, want a left recursion error", src, err)
		}
	}
	for _, tc := range []struct{ src, match string }{
		{"root ::= ( [x]* )*", "xx"},
		{"root ::= ws root | \"a\"\nws ::= [ ]*", "  a"},
		{"root ::= \"a\" ws root | \"b\"\nws ::= [ ]*", "a a b"},
	} {
		g, err := Parse(tc.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.src, err)
			continue
		}
		if !g.Match(tc.match) {
			t.Errorf("%q does not match %q", tc.src, tc.match)
		}
	}
}
