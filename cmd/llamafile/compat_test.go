package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// TestPromptCache: --prompt-cache FILE saves the evaluated prompt; a later
// run with the same prompt, or one that starts the same way, evaluates
// only what is new and generates what a run without the cache
// generates; -ro never writes; a file of another model, or one that is
// not a prompt cache, is an error that leaves the file alone.
func TestPromptCache(t *testing.T) {
	model := stories(t)
	dir := t.TempDir()
	cache := filepath.Join(dir, "prompt.bin")
	base := []string{"-m", model, "-n", "12", "--temp", "0", "--no-display-prompt", "--prompt-cache", cache}
	prompt := "Once upon a time, there was a little girl named Lily."
	longer := prompt + " She loved to play outside"
	plain := func(p string) string {
		t.Helper()
		r := llamafile(t, nil, "-m", model, "-n", "12", "--temp", "0", "--no-display-prompt", "-p", p)
		if r.code != 0 {
			t.Fatalf("without a cache: exit %d: %s", r.code, r.stderr)
		}
		return r.stdout
	}

	r := llamafile(t, nil, append(base, "-p", prompt)...)
	if r.code != 0 || !strings.Contains(r.stderr, "session file does not exist, will create") || r.stdout != plain(prompt) {
		t.Fatalf("first run: exit %d, %q; stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	saved, err := os.ReadFile(cache)
	if err != nil {
		t.Fatalf("no cache written: %v", err)
	}
	r = llamafile(t, nil, append(base, "-p", prompt)...)
	if r.code != 0 || !strings.Contains(r.stderr, "exact match") || !strings.Contains(r.stderr, "/     1 tokens") || r.stdout != plain(prompt) {
		t.Errorf("same prompt: exit %d, %q; want one token evaluated; stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = llamafile(t, nil, append(base, "-p", longer, "--prompt-cache-ro")...)
	if r.code != 0 || !strings.Contains(r.stderr, "session file matches") || r.stdout != plain(longer) {
		t.Errorf("longer prompt: exit %d, %q; stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if now, _ := os.ReadFile(cache); !bytes.Equal(now, saved) {
		t.Error("--prompt-cache-ro changed the file")
	}
	r = llamafile(t, nil, append(base, "-p", longer, "--prompt-cache-all")...)
	if now, _ := os.ReadFile(cache); r.code != 0 || len(now) <= len(saved) {
		t.Errorf("--prompt-cache-all: exit %d, file of %d bytes (was %d); stderr:\n%s", r.code, len(now), len(saved), r.stderr)
	}

	// Files it must not use or overwrite.
	saved, _ = os.ReadFile(cache)
	other := testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf")
	r = llamafile(t, nil, "-m", other, "-n", "4", "-p", prompt, "--prompt-cache", cache)
	if now, _ := os.ReadFile(cache); r.code != 1 || !strings.Contains(r.stderr, "--prompt-cache "+cache) || !strings.Contains(r.stderr, "another model") || !bytes.Equal(now, saved) {
		t.Errorf("another model: exit %d, stderr %q", r.code, r.stderr)
	}
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("my notes\n"), 0o644)
	r = llamafile(t, nil, append(base[:len(base)-1], notes, "-p", prompt)...)
	if now, _ := os.ReadFile(notes); r.code != 1 || !strings.Contains(r.stderr, "not a llamafile session file") || string(now) != "my notes\n" {
		t.Errorf("not a cache: exit %d, stderr %q, file now %q", r.code, r.stderr, now)
	}
}

// TestOriginalFlags: llamafile's flags that choose what this build does
// not have run on the CPU with one notice, and the memory flags give the
// same text.
func TestOriginalFlags(t *testing.T) {
	model := stories(t)
	args := []string{"-m", model, "-p", "Once upon a time", "-n", "16", "--temp", "0"}
	want := llamafile(t, nil, args...)
	if want.code != 0 {
		t.Fatalf("exit %d: %s", want.code, want.stderr)
	}
	const notice = "no GPU support in this build; running on the CPU"
	for _, extra := range [][]string{
		{"-ngl", "9999"}, {"--n-gpu-layers", "35"}, {"--gpu", "nvidia"}, {"--gpu", "auto"}, {"-ngl", "0"},
		{"--mlock"}, {"--no-mmap"}, {"--fast"}, {"--precise"}, {"--color"}, {"--batch_size", "1024", "--ctx_size", "4096"},
	} {
		r := llamafile(t, nil, append(extra, args...)...)
		wantNotice := extra[0] == "-ngl" && extra[1] != "0" || extra[0] == "--n-gpu-layers" || extra[0] == "--gpu" && extra[1] == "nvidia"
		if r.code != 0 || r.stdout != want.stdout || strings.Contains(r.stderr, notice) != wantNotice || strings.Count(r.stderr, notice) > 1 {
			t.Errorf("%v: exit %d, output %q (want %q), notice %v (want %v); stderr:\n%s", extra, r.code, r.stdout, want.stdout,
				strings.Contains(r.stderr, notice), wantNotice, r.stderr)
		}
	}
	// Piped, --color writes no escape sequences.
	if r := llamafile(t, nil, append([]string{"--color"}, args...)...); strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("--color into a pipe: %q", r.stdout)
	}
	// --verbose-prompt lists the prompt's tokens.
	r := llamafile(t, nil, append([]string{"--verbose-prompt"}, args...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "number of tokens in prompt = 5") || !strings.Contains(r.stderr, "   403 -> ' Once'") {
		t.Errorf("--verbose-prompt: exit %d; stderr:\n%s", r.code, r.stderr)
	}
}
