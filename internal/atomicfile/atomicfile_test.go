package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// names lists dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestCommitReplaces(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "out")
	if err := os.WriteFile(dest, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(dest, ".out.tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if filepath.Dir(f.Name()) != dir {
		t.Errorf("temporary file %s not beside %s", f.Name(), dest)
	}
	if _, err := f.WriteString("new"); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dest); string(got) != "old" {
		t.Errorf("destination %q before Commit, want the old content", got)
	}
	if err := f.Chmod(0o640); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // does nothing after Commit
	if got, err := os.ReadFile(dest); err != nil || string(got) != "new" {
		t.Errorf("destination %q, %v after Commit, want \"new\"", got, err)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("destination mode %v, %v; want 0640", fi.Mode(), err)
	}
	if n := names(t, dir); len(n) != 1 {
		t.Errorf("directory holds %v, want only out", n)
	}
}

func TestAbortRemoves(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "out")
	f, err := Create(dest, "*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("partial"); err != nil {
		t.Fatal(err)
	}
	f.Abort()
	if n := names(t, dir); len(n) != 0 {
		t.Errorf("after Abort the directory holds %v", n)
	}
}

func TestCommitFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "sub")
	// A non-empty directory at the destination makes the rename fail.
	if err := os.MkdirAll(filepath.Join(dest, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := Create(dest, ".sub-*")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err == nil {
		t.Fatal("Commit over a non-empty directory succeeded")
	}
	f.Abort()
	if n := names(t, dir); len(n) != 1 || n[0] != "sub" {
		t.Errorf("after a failed Commit and Abort the directory holds %v, want only sub", n)
	}
}

func TestBareNameUsesCurrentDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("TMPDIR", filepath.Join(dir, "missing"))
	f, err := Create("out", ".out-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err != nil {
		t.Error(err)
	}
}

func TestCreateError(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "missing", "out"), "*"); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
}
