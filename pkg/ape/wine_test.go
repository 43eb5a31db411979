package ape

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// wine returns the Wine launcher, or skips the test.
func wine(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("Wine test runs on linux/amd64 only")
	}
	for _, p := range []string{"wine64", "/usr/lib/wine/wine64", "wine"} {
		if w, err := exec.LookPath(p); err == nil {
			return w
		}
	}
	t.Skip("wine not installed")
	return ""
}

func runWine(t *testing.T, w, exe string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(w, append([]string{exe}, args...)...)
	cmd.Dir = filepath.Dir(exe)
	cmd.Env = append(os.Environ(), "WINEDEBUG=-all", EnvSelf+"=", EnvEngine+"=")
	out, err := cmd.Output() // Wine's own chatter goes to stderr
	return out, err
}

// TestWindowsUnderWine runs the packed file, with a zip appended, as a
// Windows program, when Wine can run the unpacked engine at all (Wine 8
// lacks ProcessPrng, which Go's Windows runtime needs, unless a
// bcryptprimitives.dll that provides it is installed in the prefix).
func TestWindowsUnderWine(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	w := wine(t)
	plain := buildHello(t, "windows/amd64")["windows/amd64"]
	if b, err := runWine(t, w, plain, "plain"); err != nil || !strings.Contains(string(b), "platform=windows/amd64") {
		t.Skipf("wine cannot run a Go program here (%v): %s", err, b)
	}
	dir := t.TempDir()
	out := packTest(t, dir, "multi", []string{hostPlatform}, PackOptions{})
	weights := bytes.Repeat([]byte("w"), 70000)
	appendZip(t, out, []string{".args", "weights.bin"}, map[string][]byte{".args": []byte("-m\nweights.bin\n"), "weights.bin": weights}, MinZipAlign)
	b, err := runWine(t, w, out, "--version", "a b")
	if err != nil {
		t.Fatalf("wine %s: %v\n%s", out, err, b)
	}
	h := parseHello(t, b)
	if h.platform != "windows/amd64" || h.args != `["--version" "a b"]` {
		t.Errorf("under Wine: platform %s args %s", h.platform, h.args)
	}
	if off := h.entryOffset(t, "weights.bin"); off%MinZipAlign != 0 {
		t.Errorf("weights at %d under Wine", off)
	}

	// The assimilated Windows executable runs too, and finds its zip.
	exe := filepath.Join(dir, "native.exe")
	if err := Assimilate(out, "windows", "amd64", exe); err != nil {
		t.Fatal(err)
	}
	b, err = runWine(t, w, exe, "x")
	if err != nil {
		t.Fatalf("wine %s: %v\n%s", exe, err, b)
	}
	h = parseHello(t, b)
	if off := h.entryOffset(t, "weights.bin"); h.platform != "windows/amd64" || off%MinZipAlign != 0 {
		t.Errorf("assimilated under Wine: platform %s, weights at %d", h.platform, off)
	}
}
