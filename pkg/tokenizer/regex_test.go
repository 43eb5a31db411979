package tokenizer

import (
	"reflect"
	"testing"
)

// splitWords runs re over text as one segment and returns the pieces.
func splitWords(t *testing.T, pattern string, collapsed bool, text string) []string {
	t.Helper()
	re, err := compileRegex(pattern, collapsed)
	if err != nil {
		t.Fatal(err)
	}
	rs := []rune(text)
	var out []string
	start := 0
	for _, n := range re.split(rs, []int{len(rs)}) {
		out = append(out, string(rs[start:start+n]))
		start += n
	}
	return out
}

// TestRegexSemantics checks the ECMAScript behaviours llama.cpp's std::regex
// fallback relies on.
func TestRegexSemantics(t *testing.T) {
	tests := []struct {
		name, pattern, text string
		want                []string
	}{
		{"first alternative wins", `a|ab`, "ab", []string{"a", "b"}},
		{"greedy", `a+`, "aaab", []string{"aaa", "b"}},
		{"lazy", `a+?`, "aaa", []string{"a", "a", "a"}},
		{"bounded repeat", `\d{1,3}`, "12345", []string{"123", "45"}},
		{"exact repeat", `[0-9][0-9][0-9]`, "1234567", []string{"123", "456", "7"}},
		{"negative lookahead backtracks", `\s+(?!\S)`, "a   b", []string{"a", "  ", " b"}},
		{"lookahead is zero-width", `x(?=y)`, "xyxz", []string{"x", "yxz"}},
		{"empty matches split too", `(?=(\d{3})+(?!\d))`, "1234567", []string{"1", "", "234", "", "567"}},
		{"group repeat", `(ab)+`, "ababa", []string{"abab", "a"}},
		{"non-capturing alternation", `(?:'[sS]|'[tT])`, "it'S'tx", []string{"it", "'S", "'t", "x"}},
		{"end anchor", `\s+$`, "a  b  ", []string{"a  b", "  "}},
		{"begin anchor", `^a`, "aaa", []string{"a", "aa"}},
		{"word boundary", `\d{1,3}(?=(?:\d{3})*\b)`, "1234567 89", []string{"1", "234", "567", " ", "89"}},
		{"class escapes and ranges", `[\[-\x60]+`, "a[\\]^_`b", []string{"a", "[\\]^_`", "b"}},
		{"negated class with specials", `[^(\s|.,!?)]+`, "ab, cd|e", []string{"ab", ", ", "cd", "|", "e"}},
		{"dot skips newlines", `.+`, "ab\ncd", []string{"ab", "\n", "cd"}},
		{"non-ASCII ranges", `[一-龥]+`, "a中文b", []string{"a", "中文", "b"}},
		{"ASCII-only \\s", `\s+`, "a\u00a0b \tc", []string{"a\u00a0b", " \t", "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := splitWords(t, tc.pattern, false, tc.text); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q on %q: got %q, want %q", tc.pattern, tc.text, got, tc.want)
			}
		})
	}
}

// TestRegexCollapsedCategories checks \p{...} over collapsed text, where
// markers stand for non-ASCII code points of each category.
func TestRegexCollapsedCategories(t *testing.T) {
	text := string([]rune{'a', collapsedLetter, ' ', '1', collapsedNumber, '!', collapsedPunct, '$', collapsedSymbol, collapsedOther})
	got := splitWords(t, `\p{L}+|\p{N}+|\p{P}+|\p{S}+`, true, text)
	want := []string{
		string([]rune{'a', collapsedLetter}), " ",
		string([]rune{'1', collapsedNumber}),
		string([]rune{'!', collapsedPunct}),
		string([]rune{'$', collapsedSymbol}),
		string([]rune{collapsedOther}),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRegexErrors(t *testing.T) {
	for _, p := range []string{`(ab`, `[ab`, `a{2,1}`, `*a`, `\1`, `(?<x>a)`, `a{`, `\`} {
		if _, err := compileRegex(p, false); err == nil {
			t.Errorf("compileRegex(%q) succeeded", p)
		}
	}
}

// TestEveryPreTokenizerCompiles builds the splitter of every known name.
func TestEveryPreTokenizerCompiles(t *testing.T) {
	for name, s := range preByName {
		if _, err := newPreTokenizer(s.typ); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
}

// TestRegexLookaheadFusion checks that (?=[A])[B] behaves as one code point
// in both sets, also when repeated.
func TestRegexLookaheadFusion(t *testing.T) {
	got := splitWords(t, `((?=[a-z])([^x]))+`, false, "abxcdXe")
	want := []string{"ab", "x", "cd", "X", "e"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestSplitThousands compares the hand-written splitter with the generic
// matcher on the pattern it replaces.
func TestSplitThousands(t *testing.T) {
	re, err := compileRegex(patThousands, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"1234567", "123", "12", "", "a123456b12 9999 x1234", "٣٤٥١٢٣", "1234567890123"} {
		in := &splitInput{cpts: []rune(text)}
		for _, offsets := range [][]int{{len(in.cpts)}, splitHalves(len(in.cpts))} {
			want := re.split(in.cpts, offsets)
			got := splitThousands(in, offsets)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%q %v: got %v, want %v", text, offsets, got, want)
			}
		}
	}
}

func splitHalves(n int) []int {
	if n < 2 {
		return []int{n}
	}
	return []int{n / 2, n - n/2}
}
