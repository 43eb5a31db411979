package main

import (
	"strings"
	"testing"
)

// TestInteractive: -i hands over to the user at each reverse prompt and
// goes on with the line typed; the end of the input ends the session.
func TestInteractive(t *testing.T) {
	model := stories(t)
	alone := llamafile(t, nil, "-m", model, "-p", "Once upon a time", "-r", ".", "--temp", "0", "-n", "40", "--no-display-prompt")
	first, _, ok := strings.Cut(alone.stdout, ".")
	if alone.code != 0 || !ok {
		t.Fatalf("without -i: exit %d, %q", alone.code, alone.stdout)
	}
	r := llamafile(t, strings.NewReader("Tom came.\nThe end\n"), "-m", model, "-p", "Once upon a time", "-i", "-r", ".", "--temp", "0", "-n", "40",
		"--in-prefix", "[", "--in-suffix", "]")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// The prompt, the first sentence, then for each line the prefix, the
	// suffix and a continuation that stops at the next reverse prompt.
	want := " Once upon a time" + first + ".["
	if !strings.HasPrefix(r.stdout, want) {
		t.Fatalf("output %q, want it to begin with %q", r.stdout, want)
	}
	rest := strings.TrimPrefix(r.stdout, want)
	parts := strings.Split(rest, "[")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "]") || !strings.HasSuffix(parts[0], ".") || !strings.HasPrefix(parts[1], "]") {
		t.Errorf("after the first turn: %q; want ]continuation.[ twice, then the end", rest)
	}
	// The user's line changes what follows: not the continuation alone.
	if strings.HasPrefix(alone.stdout[len(first)+1:], strings.TrimPrefix(parts[0], "]")) {
		t.Errorf("the reply ignored the user's line: %q", parts[0])
	}

	// --interactive-first waits for a line before generating; no -p needed.
	r = llamafile(t, strings.NewReader("Once upon a time\n"), "-m", model, "--interactive-first", "-r", ".", "--temp", "0", "-n", "40")
	if r.code != 0 || !strings.HasSuffix(strings.TrimSpace(r.stdout), ".") || len(r.stdout) < 10 {
		t.Errorf("--interactive-first: exit %d, %q (%s)", r.code, r.stdout, r.stderr)
	}
	// -i with a mode it does not go with.
	if r := llamafile(t, nil, "-m", model, "-i", "--server"); r.code == 0 || !strings.Contains(r.stderr, "-i") {
		t.Errorf("-i --server: exit %d, %q", r.code, r.stderr)
	}
}
