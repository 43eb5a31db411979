package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	buildMu    sync.Mutex
	buildDir   string
	buildCache = map[string]string{}
)

// Command builds ./cmd/name once per test binary and returns the path of the
// executable. The build is static (CGO_ENABLED=0), like the Makefile's.
func Command(tb testing.TB, name string) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := buildCache[name]; ok {
		return p
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "llamafile-cmdtest-")
		if err != nil {
			tb.Fatalf("testutil: %v", err)
		}
		buildDir = d
	}
	exe := filepath.Join(buildDir, name)
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", exe, "./cmd/"+name)
	cmd.Dir = RepoRoot(tb)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/%s: %v\n%s", name, err, out)
	}
	buildCache[name] = exe
	return exe
}
