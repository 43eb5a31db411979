package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWine runs the same file, named w.exe, as a Windows program under
// Wine, in a Wine prefix of its own. Wine 8 lacks ProcessPrng
// (bcryptprimitives.dll), which Go's Windows runtime calls at startup, so
// the test builds testdata/bcryptprimitives.c with mingw-w64 into the
// prefix's system32 unless Wine has its own.
func TestWine(t *testing.T) {
	f := setup(t)
	if host != "linux/amd64" {
		t.Skipf("Wine runs on linux/amd64 (here %s)", host)
	}
	wine := need(t, true, "wine", "wine64", "/usr/lib/wine/wine64")
	gcc := need(t, true, "x86_64-w64-mingw32-gcc")
	src, err := filepath.Abs(filepath.Join("testdata", "bcryptprimitives.c"))
	if err != nil {
		t.Fatal(err)
	}
	sb := newSandbox(t)
	prefix := filepath.Join(sb.root, "wineprefix")
	// No Mono or Gecko installer prompts while the prefix is made.
	env := []string{"WINEPREFIX=" + prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml="}
	t.Cleanup(func() {
		// Stop the prefix's wineserver before its directory is removed.
		server := filepath.Join(filepath.Dir(wine), "wineserver")
		if p, err := exec.LookPath("wineserver"); err == nil {
			server = p
		}
		for _, arg := range []string{"-k", "-w"} {
			cmd := exec.Command(server, arg)
			cmd.Env = sb.env(env...)
			cmd.Run()
		}
	})
	if r := sb.run(sb.root, env, wine, "wineboot", "--init"); r.err != nil {
		t.Fatalf("wineboot --init: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	dll := filepath.Join(prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll")
	if _, err := os.Stat(dll); err != nil {
		r := sb.run(sb.root, nil, gcc, "-shared", "-O2", "-s", "-o", dll, src, "-ladvapi32")
		if r.err != nil {
			t.Fatalf("building bcryptprimitives.dll: %v\n%s%s", r.err, r.stdout, r.stderr)
		}
	}

	exe := filepath.Join(sb.root, "w.exe")
	if err := os.Link(f.llamafile, exe); err != nil {
		data, err := os.ReadFile(f.llamafile)
		if err == nil {
			err = os.WriteFile(exe, data, 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	r := sb.run(sb.root, env, wine, exe, "--version")
	if r.err != nil || !strings.HasPrefix(r.stdout, "llamafile ") {
		t.Fatalf("wine w.exe --version: %v\nstdout: %q\nstderr:\n%s", r.err, r.stdout, r.stderr)
	}
	f.check(t, "wine w.exe", sb.run(sb.root, env, wine, append([]string{exe}, runArgs...)...))
}
