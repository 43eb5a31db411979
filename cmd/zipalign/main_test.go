package main

import (
	"bytes"
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
			c.opt.KeepModTime != tc.keepTime || c.help != tc.help || c.version != tc.version ||
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
