package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/zipalign"
)

// TestCheck: llamafile --check FILE passes a good llamafile (one line per
// entry and a summary), and so does the llamafile run with --check alone
// (its own archive, before its .args apply); one byte changed in the
// weights is reported naming the entry, with status 1; a truncated file,
// a file without an archive and the bare engine (no archive of its own)
// are errors saying so.
func TestCheck(t *testing.T) {
	model := stories(t)
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	if err := os.WriteFile(argsFile, []byte("-m\nstories260k.gguf\n-p\nOnce\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := makeLlamafile(t, dir, "good.llamafile", map[string]string{"stories260k.gguf": model, ".args": argsFile}, 0)
	a, err := zipalign.Open(good)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := a.Lookup("stories260k.gguf")
	entry := *e
	a.Close()
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	variant := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := append([]byte(nil), orig...)
	flipped[entry.DataOffset+int64(entry.CompressedSize)/2] ^= 0x80
	damaged := variant("damaged.llamafile", flipped)
	short := variant("short.llamafile", orig[:len(orig)-4096])
	plain := variant("plain.gguf", orig[entry.DataOffset:entry.DataOffset+int64(entry.CompressedSize)])
	engine := testutil.Command(t, "llamafile")

	okLine := fmt.Sprintf("ok  %08x %14d  stories260k.gguf\n", entry.CRC32, entry.UncompressedSize)
	tests := []struct {
		name   string
		exe    string
		args   []string
		code   int
		stdout []string
		stderr []string // each in stderr; nothing there when nil
	}{
		{"good", engine, []string{"--check", good}, 0, []string{okLine, "  .args\n", good + ": 2 entries, "}, nil},
		{"own archive", good, []string{"--check"}, 0, []string{okLine, good + ": 2 entries, ", "all intact"}, nil},
		{"damaged", engine, []string{"--check", damaged}, 1, nil,
			[]string{fmt.Sprintf("llamafile: %s: entry stories260k.gguf: CRC-32 mismatch (stored 0x%08x, computed 0x", damaged, entry.CRC32)}},
		{"damaged own", damaged, []string{"--check"}, 1, nil, []string{"entry stories260k.gguf: CRC-32 mismatch"}},
		{"truncated", engine, []string{"--check", short}, 1, nil, []string{"llamafile: " + short + ": no zip archive found", "truncated"}},
		{"no zip", engine, []string{"--check", plain}, 1, nil, []string{"llamafile: " + plain + ": no zip archive found", "not a llamafile or zip file"}},
		{"engine alone", engine, []string{"--check"}, 1, nil, []string{"this executable carries no zip archive", "llamafile --check FILE"}},
		{"several", engine, []string{"--check", damaged, good}, 1, []string{good + ": 2 entries"}, []string{"entry stories260k.gguf: CRC-32 mismatch"}},
		{"help", engine, []string{"--check", "--help"}, 0, []string{"usage: llamafile --check [FILE...]"}, nil},
		{"unknown option", engine, []string{"--check", "-x", good}, 2, nil, []string{"--check: unknown option -x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runExe(t, tc.exe, nil, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			if tc.stderr == nil && r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}
