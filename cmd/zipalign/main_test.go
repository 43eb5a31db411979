package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/version"
	"github.com/llamafile-go/llamafile/pkg/zipalign"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args     []string
		level    int
		align    int64
		junk     bool
		verbose  bool
		keepTime bool
		help     bool
		version  bool
		check    bool
		operands []string
		err      string // non-empty: a usage error containing this
	}{
		{args: []string{"z", "f"}, operands: []string{"z", "f"}},
		{args: []string{"-j0", "z", "f"}, junk: true, operands: []string{"z", "f"}},
		{args: []string{"-0j", "z", "f"}, junk: true, operands: []string{"z", "f"}},
		{args: []string{"-j9", "z", "f"}, junk: true, level: 9, operands: []string{"z", "f"}},
		{args: []string{"-jv", "z", "f"}, junk: true, verbose: true, operands: []string{"z", "f"}},
		{args: []string{"-j", "-v", "-N", "-5", "z", "f"}, junk: true, verbose: true, keepTime: true, level: 5, operands: []string{"z", "f"}},
		{args: []string{"-90", "z", "f"}, level: 0, operands: []string{"z", "f"}},
		{args: []string{"-a4096", "z", "f"}, align: 4096, operands: []string{"z", "f"}},
		{args: []string{"-a", "4096", "z", "f"}, align: 4096, operands: []string{"z", "f"}},
		{args: []string{"-ja", "16", "z", "f"}, junk: true, align: 16, operands: []string{"z", "f"}},
		{args: []string{"-jva1", "z", "f"}, junk: true, verbose: true, align: 1, operands: []string{"z", "f"}},
		{args: []string{"z", "-j0", "f"}, junk: true, operands: []string{"z", "f"}},
		{args: []string{"-j", "--", "z", "-0"}, junk: true, operands: []string{"z", "-0"}},
		{args: []string{"z", "-"}, operands: []string{"z", "-"}},
		{args: []string{"-h"}, help: true},
		{args: []string{"-jh"}, junk: true, help: true},
		{args: []string{"--help"}, help: true},
		{args: []string{"-help"}, help: true},
		{args: []string{"--version"}, version: true},
		{args: []string{"--check", "z"}, check: true, operands: []string{"z"}},
		{args: []string{"z", "--check", "y"}, check: true, operands: []string{"z", "y"}},
		{args: []string{"-x", "z", "f"}, err: "unknown option -x"},
		{args: []string{"-jq", "z", "f"}, err: "unknown option -q in -jq"},
		{args: []string{"--bogus"}, err: "unknown option --bogus"},
		{args: []string{"z", "f", "-a"}, err: "-a needs a value"},
		{args: []string{"-a", "3", "z", "f"}, err: "power of two"},
		{args: []string{"-a0", "z", "f"}, err: "power of two"},
		{args: []string{"-a", "x", "z", "f"}, err: "power of two"},
		{args: []string{"-a", "2147483648", "z", "f"}, err: "power of two"},
	}
	for _, tc := range tests {
		c, err := parseArgs(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseArgs(%q) error %v, want one containing %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tc.args, err)
			continue
		}
		if c.opt.Level != tc.level || c.opt.Align != tc.align || c.junk != tc.junk || c.verbose != tc.verbose ||
			c.opt.KeepModTime != tc.keepTime || c.help != tc.help || c.version != tc.version || c.check != tc.check ||
			!reflect.DeepEqual(c.operands, tc.operands) {
			t.Errorf("parseArgs(%q) = %+v", tc.args, c)
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args       []string
		status     int
		stdout     string // text the output must contain
		stderr     string
		zipCreated bool
	}{
		{args: []string{"--help"}, stdout: "usage: zipalign"},
		{args: []string{"-h"}, stdout: "-a ALIGN"},
		{args: []string{"--version"}, stdout: version.Version},
		{args: nil, status: exitUsage, stderr: "missing ZIPFILE"},
		{args: []string{"--check"}, status: exitUsage, stderr: "missing ZIPFILE"},
		{args: []string{"--check", in}, status: exitError, stderr: "no zip archive found"},
		{args: []string{filepath.Join(dir, "z")}, status: exitUsage, stderr: "no FILE"},
		{args: []string{"-Q", filepath.Join(dir, "z"), in}, status: exitUsage, stderr: "unknown option -Q"},
		{args: []string{filepath.Join(dir, "z"), filepath.Join(dir, "nope")}, status: exitError, stderr: filepath.Join(dir, "nope")},
		{args: []string{filepath.Join(dir, "z"), "../x"}, status: exitError, stderr: "../x"},
		{args: []string{filepath.Join(dir, "z"), dir}, status: exitError, stderr: "not a regular file"},
		{args: []string{"-j9", filepath.Join(dir, "z"), in}, zipCreated: true},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		status := run(tc.args, &stdout, &stderr)
		if status != tc.status || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("run(%q) = %d\nstdout: %s\nstderr: %s\nwant status %d, stdout with %q, stderr with %q",
				tc.args, status, &stdout, &stderr, tc.status, tc.stdout, tc.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "z")); (err == nil) != tc.zipCreated {
			t.Errorf("run(%q): ZIPFILE exists: %v, want %v", tc.args, err == nil, tc.zipCreated)
		}
	}
}

// TestCommand runs the built command as llamafile's README does: -j0 with
// a model and .args appended to an executable.
func TestCommand(t *testing.T) {
	exe := testutil.Command(t, "zipalign")
	dir := t.TempDir()
	prefix := []byte("#!/bin/sh\necho llamafile\nexit 0\n")
	target := filepath.Join(dir, "m.llamafile")
	if err := os.WriteFile(target, prefix, 0o755); err != nil {
		t.Fatal(err)
	}
	model := bytes.Repeat([]byte("weights!"), 20000)
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "m.gguf"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".args"), []byte("-m\nm.gguf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-j0", "-v", target, filepath.Join(dir, "models", "m.gguf"), filepath.Join(dir, ".args"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("zipalign: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "-> m.gguf") {
		t.Errorf("-v output lacks the entry:\n%s", out)
	}
	a, err := zipalign.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	e, ok := a.Lookup("m.gguf")
	if !ok || !e.IsAligned(65536) || e.UncompressedSize != uint64(len(model)) {
		t.Errorf("m.gguf: %+v, %v; want stored, aligned to 65536, %d bytes", e, ok, len(model))
	}
	if _, ok := a.Lookup(".args"); !ok {
		t.Error(".args missing")
	}
	got, err := os.ReadFile(target)
	if err != nil || !bytes.HasPrefix(got, prefix) {
		t.Errorf("the executable prefix was not kept: %v", err)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("mode: %v, %v; want 0755", fi.Mode(), err)
	}
	// The result still runs as the program it was.
	if out, err := exec.Command(target).CombinedOutput(); err != nil || string(out) != "llamafile\n" {
		t.Errorf("running the result: %v, %q", err, out)
	}

	// A missing FILE: status 1, its name in the message, nothing changed.
	before := got
	cmd = exec.Command(exe, "-j0", target, filepath.Join(dir, "missing.gguf"))
	out, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError || !strings.Contains(string(out), "missing.gguf") {
		t.Errorf("missing FILE: %v, %s", err, out)
	}
	if after, _ := os.ReadFile(target); !bytes.Equal(after, before) {
		t.Error("ZIPFILE changed after a failed run")
	}
}

// TestCheckCommand: --check passes an intact llamafile (one line per entry
// and a summary, status 0), names the first damaged entry with status 1
// when one byte of its data changed, and calls a truncated file and a file
// without an archive what they are, with status 1; several files are
// checked in turn.
func TestCheckCommand(t *testing.T) {
	exe := testutil.Command(t, "zipalign")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.llamafile")
	if err := os.WriteFile(good, bytes.Repeat([]byte("#!/bin/sh\nexit 0\n"), 5000), 0o755); err != nil {
		t.Fatal(err)
	}
	model := make([]byte, 3<<20)
	for i := range model {
		model[i] = byte(i*7 + i>>9)
	}
	for name, data := range map[string][]byte{"m.gguf": model, ".args": []byte("-m\nm.gguf\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(exe, "-j0", good, filepath.Join(dir, "m.gguf"), filepath.Join(dir, ".args")).CombinedOutput(); err != nil {
		t.Fatalf("zipalign: %v\n%s", err, out)
	}
	a, err := zipalign.Open(good)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := a.Lookup("m.gguf")
	stored, off := e.CRC32, e.DataOffset
	a.Close()
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	variant := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := append([]byte(nil), orig...)
	flipped[off+1<<20] ^= 1
	damaged := variant("damaged.llamafile", flipped)
	short := variant("short.llamafile", orig[:len(orig)-1000])
	plain := variant("plain", orig[:off-100])

	tests := []struct {
		name   string
		args   []string
		status int
		stdout []string
		stderr []string // each in stderr, or nothing there when nil
	}{
		{"good", []string{good}, exitOK, []string{fmt.Sprintf("ok  %08x %14d  m.gguf\n", stored, len(model)), " .args\n", good + ": 2 entries, 3.1 MB of data, all intact"}, nil},
		{"damaged", []string{damaged}, exitError, nil, []string{fmt.Sprintf("zipalign: %s: entry m.gguf: CRC-32 mismatch (stored 0x%08x, computed 0x", damaged, stored)}},
		{"truncated", []string{short}, exitError, nil, []string{"zipalign: " + short + ": no zip archive found", "truncated"}},
		{"no zip", []string{plain}, exitError, nil, []string{"zipalign: " + plain + ": no zip archive found", "not a llamafile or zip file"}},
		{"missing", []string{filepath.Join(dir, "nope")}, exitError, nil, []string{filepath.Join(dir, "nope")}},
		{"several", []string{damaged, good}, exitError, []string{good + ": 2 entries"}, []string{"entry m.gguf: CRC-32 mismatch"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(exe, append([]string{"--check"}, tc.args...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			status := 0
			if ee, ok := err.(*exec.ExitError); ok {
				status = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tc.status {
				t.Errorf("status %d, want %d\nstdout: %s\nstderr: %s", status, tc.status, &stdout, &stderr)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, &stdout)
				}
			}
			if tc.stderr == nil && stderr.Len() > 0 {
				t.Errorf("stderr: %s", &stderr)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, &stderr)
				}
			}
			if strings.Count(stderr.String(), "\n") > len(tc.args) {
				t.Errorf("more than a line per file on stderr:\n%s", &stderr)
			}
		})
	}
	if after, _ := os.ReadFile(good); !bytes.Equal(after, orig) {
		t.Error("--check changed the file")
	}
}
