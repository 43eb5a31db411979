// Package man holds the man pages of the llamafile commands, one NAME.1 per
// command in cmd/. Its test checks that every command answers --help and
// --version and that its page exists and renders.
package man

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/version"
)

func commands(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(testutil.RepoRoot(t), "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatal("no commands under cmd/")
	}
	return names
}

func TestEveryCommandHelpVersionAndManPage(t *testing.T) {
	for _, name := range commands(t) {
		t.Run(name, func(t *testing.T) {
			exe := testutil.Command(t, name)
			out, err := exec.Command(exe, "--help").CombinedOutput()
			if err != nil {
				t.Fatalf("%s --help: %v\n%s", name, err, out)
			}
			if !strings.Contains(string(out), name) {
				t.Errorf("%s --help does not name the command:\n%s", name, out)
			}
			out, err = exec.Command(exe, "--version").CombinedOutput()
			if err != nil {
				t.Fatalf("%s --version: %v\n%s", name, err, out)
			}
			if !strings.Contains(string(out), version.Version) {
				t.Errorf("%s --version = %q, want it to contain %q", name, out, version.Version)
			}

			page := filepath.Join(testutil.RepoRoot(t), "man", name+".1")
			if _, err := os.Stat(page); err != nil {
				t.Fatalf("no man page for %s: %v", name, err)
			}
			render(t, lookMan(t), page, "NAME", "SYNOPSIS")
		})
	}
}

// lookMan returns the path of the man program; without one it skips the
// test, or fails it when CI=true.
func lookMan(t *testing.T) string {
	t.Helper()
	manPath, err := exec.LookPath("man")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("man not installed (required when CI=true)")
		}
		t.Skip("man not installed; not rendering the pages")
	}
	return manPath
}

// render renders page with man -l, 80 columns wide, and checks that it
// renders without warnings and holds each of the sections.
func render(t *testing.T, manPath, page string, sections ...string) {
	t.Helper()
	cmd := exec.Command(manPath, "-l", page)
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("man -l %s: %v\n%s", page, err, out)
	}
	text := string(out)
	for _, s := range sections {
		if !strings.Contains(text, s) {
			t.Errorf("man page %s lacks %s:\n%s", page, s, text)
		}
	}
	if strings.Contains(text, "warning:") {
		t.Errorf("man page %s renders with warnings:\n%s", page, text)
	}
}
