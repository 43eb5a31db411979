package escape

import "testing"

func TestProcess(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{`a\nb`, "a\nb"},
		{`\r\t`, "\r\t"},
		{`it\'s \"quoted\"`, `it's "quoted"`},
		{`back\\slash`, `back\slash`},
		{`\\n`, `\n`},
		{`\x41\x62c`, "Abc"},
		{`\xff`, "\xff"},
		{`\xFf`, "\xff"},
		{`\x4`, `\x4`},   // too short: kept
		{`\x4g`, `\x4g`}, // not hex: kept
		{`\xzz`, `\xzz`},
		{`\x+1`, "\x01"},
		{`\x-1`, "\xff"},
		{`\x 9`, "\x09"},
		{`\q`, `\q`}, // unknown: kept
		{`end\`, `end\`},
		{`\`, `\`},
		{"héllo\\n", "héllo\n"},
	}
	for _, tt := range tests {
		if got := Process(tt.in); got != tt.want {
			t.Errorf("Process(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzProcess(f *testing.F) {
	for _, s := range []string{`a\nb`, `\x41`, `\`, `\x-`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Process(s)
		if len(got) > len(s) {
			t.Errorf("Process(%q) = %q grew", s, got)
		}
	})
}
