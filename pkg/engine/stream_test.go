package engine

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTextStream feeds pieces one at a time and checks what comes out
// as it goes: never half a UTF-8 character, never text that may still
// become a stop string, and the text cut before a stop string spanning
// pieces.
func TestTextStream(t *testing.T) {
	cases := []struct {
		name    string
		stops   []string
		pieces  []string
		outs    []string // what each Add returns
		flush   string
		text    string
		stopped string
	}{
		{"plain", nil, []string{"Hel", "lo"}, []string{"Hel", "lo"}, "", "Hello", ""},
		{"utf8 split", nil, []string{"a\xe2", "\x82", "\xacb"}, []string{"a", "", "€b"}, "", "a€b", ""},
		{"utf8 4 bytes", nil, []string{"\xf0\x9f", "\x98\x80"}, []string{"", "😀"}, "", "😀", ""},
		{"utf8 unfinished at the end", nil, []string{"x\xe2\x82"}, []string{"x"}, "\xe2\x82", "x\xe2\x82", ""},
		{"stop across pieces", []string{"User:"}, []string{"Hi U", "se", "r: more"}, []string{"Hi ", "", ""}, "", "Hi ", "User:"},
		{"partial stop released", []string{"User:"}, []string{"Hi Us", "e it"}, []string{"Hi ", "Use it"}, "", "Hi Use it", ""},
		{"held at the end", []string{"###"}, []string{"a#", "#"}, []string{"a", ""}, "##", "a##", ""},
		{"earliest stop wins", []string{"cd", "b"}, []string{"abcd"}, []string{"a"}, "", "a", "b"},
		{"ignored after the stop", []string{"x"}, []string{"axb", "c"}, []string{"a", ""}, "", "a", "x"},
		{"empty stop ignored", []string{""}, []string{"ab"}, []string{"ab"}, "", "ab", ""},
	}
	for _, c := range cases {
		ts := NewTextStream(c.stops)
		var all strings.Builder
		for i, p := range c.pieces {
			out, _ := ts.Add([]byte(p))
			if out != c.outs[i] {
				t.Errorf("%s: piece %d %q gave %q, want %q", c.name, i, p, out, c.outs[i])
			}
			if !utf8.ValidString(out) && c.name != "utf8 unfinished at the end" {
				t.Errorf("%s: invalid UTF-8 out %q", c.name, out)
			}
			all.WriteString(out)
		}
		if f := ts.Flush(); f != c.flush {
			t.Errorf("%s: Flush %q, want %q", c.name, f, c.flush)
		} else {
			all.WriteString(f)
		}
		if ts.Text() != c.text || all.String() != c.text || ts.StopWord() != c.stopped {
			t.Errorf("%s: Text %q, streamed %q, stop %q; want %q, stop %q", c.name, ts.Text(), all.String(), ts.StopWord(), c.text, c.stopped)
		}
	}
}
