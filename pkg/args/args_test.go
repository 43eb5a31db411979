package args

import (
	"slices"
	"strings"
	"testing"
)

func env(name string) string {
	return map[string]string{"HOME": "/home/me", "X": "a b", "EMPTY": ""}[name]
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"blank lines", "\n\n  \t\n", nil},
		{"one per line", "-m\nstories260k.gguf\n--temp\n0\n...\n", []string{"-m", "stories260k.gguf", "--temp", "0", "..."}},
		{"crlf", "-m\r\nmodel.gguf\r\n", []string{"-m", "model.gguf"}},
		{"several per line", "-m model.gguf  --temp 0\t-n 64", []string{"-m", "model.gguf", "--temp", "0", "-n", "64"}},
		{"no final newline", "a\nb", []string{"a", "b"}},
		{"comment line", "# defaults\n-m x.gguf\n", []string{"-m", "x.gguf"}},
		{"comment after args", "-m x.gguf # the model\n-n 5", []string{"-m", "x.gguf", "-n", "5"}},
		{"hash inside word", "a#b c#", []string{"a#b", "c#"}},
		{"single quotes", "-p 'Once upon a time'", []string{"-p", "Once upon a time"}},
		{"single quotes keep all", `'a\n $HOME "b" # c'`, []string{`a\n $HOME "b" # c`}},
		{"single quote spans lines", "'a\nb'", []string{"a\nb"}},
		{"double quotes", `-p "Once upon a time"`, []string{"-p", "Once upon a time"}},
		{"double quote escapes", `"\a\b\t\n\v\f\r\e\"\\\$\q"`, []string{"\a\b\t\n\v\f\r\x1b\"\\$q"}},
		{"octal", `"\0\101\1011\08"`, []string{"\x00A" + "A1" + "\x008"}},
		{"hex", `"\x41\x4a4\xz\x"`, []string{"AJ4xzx"}},
		{"double quote continuation", "\"a\\\nb\"", []string{"ab"}},
		{"empty quotes", `'' "" x`, []string{"", "", "x"}},
		{"empty quotes at end", `x ''`, []string{"x", ""}},
		{"concatenation", `this\ is' a single arg'"ok"# # comment`, []string{"this is a single argok#"}},
		{"backslash outside quotes", `a\ b \n \# \\ \'`, []string{"a b", "\n", "#", `\`, "'"}},
		{"line continuation", "-p foo\\\nbar -n 1", []string{"-p", "foobar", "-n", "1"}},
		{"line continuation crlf", "foo\\\r\nbar", []string{"foobar"}},
		{"continuation then space", "a\\\n  b", []string{"a", "b"}},
		{"final backslash", `a\`, []string{"a"}},
		{"env", "$HOME/x ${HOME}y", []string{"/home/me/x", "/home/mey"}},
		{"env in double quotes", `"$HOME ${X}!"`, []string{"/home/me a b!"}},
		{"env not split", "$X", []string{"a b"}},
		{"unset env gives nothing", "a $NOPE $EMPTY b", []string{"a", "b"}},
		{"quoted unset env", `"$NOPE"`, []string{""}},
		{"literal dollar", "$ $$ a$ $-x $$HOME", []string{"$", "$$", "a$", "$-x", "$/home/me"}},
		{"placeholder mid", "-m x ... -n 5", []string{"-m", "x", "...", "-n", "5"}},
		{"placeholder at end", "...", []string{"..."}},
		{"not placeholders", ". .. .... ...x x... ...#", []string{".", "..", "....", "...x", "x...", "...#"}},
		{"utf-8", "-p 'héllo wörld' ✓", []string{"-p", "héllo wörld", "✓"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFunc([]byte(tc.in), env)
			if err != nil {
				t.Fatalf("ParseFunc(%q): %v", tc.in, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ParseFunc(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"-p 'Once upon", "line 1: unterminated single quote"},
		{"-m x\n-p \"Once\nupon", "line 2: unterminated double quote"},
		{"a\nb\n\"x\\\"", "line 3: unterminated double quote"},
		{"# 'not a quote'\n'", "line 2: unterminated single quote"},
		{"a\n${HOME", "line 2: unterminated ${"},
		{`"${HOME"`, "line 1: unterminated ${"},
	}
	for _, tc := range tests {
		_, err := ParseFunc([]byte(tc.in), env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFunc(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestParseUsesEnvironment(t *testing.T) {
	t.Setenv("LLAMAFILE_ARGS_TEST", "v a l")
	got, err := Parse([]byte("-x $LLAMAFILE_ARGS_TEST"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"-x", "v a l"}; !slices.Equal(got, want) {
		t.Errorf("Parse = %q, want %q", got, want)
	}
}

func TestExpand(t *testing.T) {
	user := []string{"-p", "Once upon a time", "-n", "64"}
	tests := []struct {
		name       string
		file, user []string
		want       []string
	}{
		{"placeholder at end", []string{"-m", "stories260k.gguf", "--temp", "0", "..."}, user,
			[]string{"-m", "stories260k.gguf", "--temp", "0", "-p", "Once upon a time", "-n", "64"}},
		{"no placeholder appends", []string{"-m", "x.gguf"}, user,
			[]string{"-m", "x.gguf", "-p", "Once upon a time", "-n", "64"}},
		{"placeholder first", []string{"...", "--temp", "0"}, user,
			[]string{"-p", "Once upon a time", "-n", "64", "--temp", "0"}},
		{"later placeholders dropped", []string{"a", "...", "b", "...", "c"}, []string{"u"},
			[]string{"a", "u", "b", "c"}},
		{"no user args", []string{"a", "...", "b"}, nil, []string{"a", "b"}},
		{"nothing", nil, nil, []string{}},
		{"no file args", nil, user, user},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Expand(tc.file, tc.user)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Expand(%q, %q) = %q, want %q", tc.file, tc.user, got, tc.want)
			}
		})
	}
	// Expand returns a new slice.
	file := []string{"a", "b"}
	got := Expand(file[:1], []string{"u"})
	if file[1] != "b" || got[1] != "u" {
		t.Errorf("Expand wrote into its argument: %q", file)
	}
}

// TestAcceptance is the example from llamafile's documentation of .args: the
// user's arguments take the place of "...".
func TestAcceptance(t *testing.T) {
	file, err := Parse([]byte("-m\nstories260k.gguf\n--temp\n0\n...\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := Expand(file, []string{"-p", "Once upon a time", "-n", "64"})
	want := []string{"-m", "stories260k.gguf", "--temp", "0", "-p", "Once upon a time", "-n", "64"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// quote writes arg so that Parse reads it back unchanged.
func quote(arg string) string {
	return "'" + strings.ReplaceAll(arg, "'", `'\''`) + "'"
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"-m\nstories260k.gguf\n--temp\n0\n...\n",
		`this\ is' a single arg'"ok"# # comment`,
		`"\x41\101\e$HOME${X}" '...' ... # c`,
		"a\\\r\nb \"c\\\nd\" $ $$ ${",
		"'unterminated",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := ParseFunc(in, env)
		if err != nil {
			return
		}
		// Every argument survives quoting and parsing again.
		var b strings.Builder
		for _, a := range got {
			b.WriteString(quote(a))
			b.WriteByte('\n')
		}
		again, err := ParseFunc([]byte(b.String()), env)
		if err != nil {
			t.Fatalf("re-parsing %q: %v", b.String(), err)
		}
		if !slices.Equal(got, again) {
			t.Fatalf("round trip: %q became %q", got, again)
		}
	})
}
