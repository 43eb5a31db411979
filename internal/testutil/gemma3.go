package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// Gemma3Name is the file name of the real Gemma 3 model the tests use:
// gemma-3-270m quantized to Q4_K_M, as scripts/fetch-model.sh gemma3 (make gemma3)
// places it in the model cache.
const Gemma3Name = "gemma-3-270m-q4_k_m.gguf"

// gemma3Size is the size in bytes of Gemma3Name (its SHA-256 is checked by
// scripts/fetch-model.sh, which renames it into place only when intact).
const gemma3Size = 253113024

// Gemma3 returns the path of gemma-3-270m (Q4_K_M) in the model cache (see
// ModelCacheDir), as SmolLM2 does for its model: skipped when absent,
// except when CI=true (.ci/run fetches it with make gemma3), where that
// fails the test, as does a file of the wrong size.
func Gemma3(tb testing.TB) string {
	tb.Helper()
	dir, err := ModelCacheDir()
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, Gemma3Name)
	fi, err := os.Stat(p)
	switch {
	case os.IsNotExist(err):
		if os.Getenv("CI") == "true" {
			tb.Fatalf("gemma-3-270m not found at %s (required when CI=true; .ci/run fetches it with make gemma3)", p)
		}
		tb.Skipf("gemma-3-270m not found at %s; skipping (run make gemma3 to fetch it, 253 MB)", p)
	case err != nil:
		tb.Fatalf("gemma-3-270m: %v", err)
	case !fi.Mode().IsRegular() || fi.Size() != gemma3Size:
		tb.Fatalf("gemma-3-270m: %s is not the expected file (%d bytes, want %d); delete it and run make gemma3", p, fi.Size(), gemma3Size)
	}
	return p
}
