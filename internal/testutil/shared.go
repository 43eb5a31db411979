// Package testutil locates the shared test data (../shared beside the
// checkout) and builds the project's commands for end-to-end tests.
//
// Tests that need ../shared skip with a clear message when it is absent, and
// fail when CI=true, where its absence is a broken setup rather than a
// developer's machine without the data.
package testutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// RepoRoot returns the directory holding go.mod, found by walking up from
// the test's working directory.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("testutil: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("testutil: no go.mod above the working directory")
		}
		dir = parent
	}
}

// SharedDir returns the shared test data directory: $LLAMAFILE_SHARED when
// set, otherwise ../shared beside the repository root.
func SharedDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("LLAMAFILE_SHARED")
	if dir == "" {
		dir = filepath.Join(filepath.Dir(RepoRoot(tb)), "shared")
	}
	if _, err := os.Stat(filepath.Join(dir, "testdata")); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("shared test data not found at %s (required when CI=true)", dir)
		}
		tb.Skipf("shared test data not found at %s; skipping (set LLAMAFILE_SHARED or place it beside the checkout)", dir)
	}
	return dir
}

// SharedFile returns the path of rel inside the shared directory, failing
// the test when that file is missing.
func SharedFile(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(SharedDir(tb), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("shared file: %v", err)
	}
	return p
}

// SharedGlob returns the shared files matching pattern (relative to the
// shared directory), failing the test when none match.
func SharedGlob(tb testing.TB, pattern string) []string {
	tb.Helper()
	matches, err := filepath.Glob(filepath.Join(SharedDir(tb), filepath.FromSlash(pattern)))
	if err != nil {
		tb.Fatalf("shared glob %q: %v", pattern, err)
	}
	if len(matches) == 0 {
		tb.Fatalf("shared glob %q matched nothing", pattern)
	}
	return matches
}

// SharedGGUFs returns every .gguf file under the shared testdata directory,
// in lexical order, failing the test when there are none.
func SharedGGUFs(tb testing.TB) []string {
	tb.Helper()
	dir := filepath.Join(SharedDir(tb), "testdata")
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".gguf") {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		tb.Fatalf("no GGUF files under %s (%v)", dir, err)
	}
	return files
}
