package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestEmbeddingCLI: --embedding with prompts prints llama-embedding's
// formats: the default lines and cosine matrix, JSON with normalized
// vectors, raw rows; -f gives one text per line; the normalizations scale
// the same vector; pooling none gives one vector per token.
func TestEmbeddingCLI(t *testing.T) {
	model := stories(t)
	base := []string{"-m", model, "--embedding", "--pooling", "mean"}
	r := llamafile(t, nil, append(base, "-p", "Once upon a time", "-p", "The cat sat")...)
	if r.code != 0 || !strings.Contains(r.stdout, "embedding 0: ") || !strings.Contains(r.stdout, "embedding 1: ") ||
		!strings.Contains(r.stdout, "cosine similarity matrix:") || !strings.Contains(r.stdout, "  1.00 ") {
		t.Fatalf("default format: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	vectors := func(args ...string) [][]float64 {
		t.Helper()
		r := llamafile(t, nil, append(append(base, "--embd-output-format", "json"), args...)...)
		var out struct {
			Object string
			Data   []struct {
				Index     int
				Embedding []float64
			}
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.Object != "list" {
			t.Fatalf("%v: exit %d, not JSON:\n%s\n%s", args, r.code, r.stdout, r.stderr)
		}
		var vs [][]float64
		for i, d := range out.Data {
			if d.Index != i || len(d.Embedding) != 64 {
				t.Fatalf("%v: item %d: index %d, %d values", args, i, d.Index, len(d.Embedding))
			}
			vs = append(vs, d.Embedding)
		}
		return vs
	}
	norm := func(v []float64, p float64) float64 {
		var s float64
		for _, x := range v {
			s += math.Pow(math.Abs(x), p)
		}
		return math.Pow(s, 1/p)
	}
	l2 := vectors("-p", "Once upon a time\nThe cat sat")
	if len(l2) != 2 || math.Abs(norm(l2[0], 2)-1) > 1e-5 || math.Abs(norm(l2[1], 2)-1) > 1e-5 {
		t.Fatalf("two texts split at the newline, euclidean: %d vectors, norms %v", len(l2), []float64{norm(l2[0], 2)})
	}
	raw := vectors("-p", "Once upon a time", "--embd-normalize", "-1")
	taxi := vectors("-p", "Once upon a time", "--embd-normalize", "1")
	if math.Abs(norm(taxi[0], 1)-1) > 1e-5 {
		t.Errorf("--embd-normalize 1: taxicab norm %g", norm(taxi[0], 1))
	}
	for i := range raw[0] {
		if d := raw[0][i]/norm(raw[0], 2) - l2[0][i]; math.Abs(d) > 1e-5 {
			t.Fatalf("value %d: raw/|raw| %g, euclidean %g", i, raw[0][i]/norm(raw[0], 2), l2[0][i])
		}
	}
	// Separator and pooling none: one row per token of "Once upon".
	r = llamafile(t, nil, "-m", model, "--embedding", "--pooling", "none", "--embd-output-format", "raw", "-p", "Once upon")
	if rows := strings.Count(strings.TrimSpace(r.stdout), "\n") + 1; r.code != 0 || rows != 3 {
		t.Errorf("pooling none: exit %d, %d rows, want 3 (BOS, Once, upon):\n%s", r.code, rows, r.stdout)
	}
	for _, bad := range [][]string{{"--embd-output-format", "xml"}, {"--embd-separator", ""}} {
		r := llamafile(t, nil, append(append(base, "-p", "x"), bad...)...)
		if r.code == 0 || !strings.Contains(r.stderr, bad[0]) {
			t.Errorf("%v: exit %d, stderr %q", bad, r.code, r.stderr)
		}
	}
}
