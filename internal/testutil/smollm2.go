package testutil

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// SmolLM2Name is the file name of the real model the tests use:
// SmolLM2-135M-Instruct quantized to Q4_1, as scripts/fetch-model.sh (make
// smollm2) places it in the model cache.
const SmolLM2Name = "SmolLM2-135M-Instruct.Q4_1.gguf"

// smolLM2Size is the size in bytes of SmolLM2Name (its SHA-256 is checked
// by scripts/fetch-model.sh, which renames it into place only when intact).
const smolLM2Size = 98362432

// ModelCacheDir returns the folder scripts/fetch-model.sh fetches models
// into: $LLAMAFILE_CACHE/models, else $XDG_CACHE_HOME/llamafile/models,
// else $HOME/.cache/llamafile/models. Empty variables count as unset, as in
// the script.
func ModelCacheDir() (string, error) {
	cache := os.Getenv("LLAMAFILE_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home := os.Getenv("HOME")
			if home == "" {
				return "", errors.New("testutil: model cache: none of LLAMAFILE_CACHE, XDG_CACHE_HOME and HOME is set")
			}
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "llamafile")
	}
	return filepath.Join(cache, "models"), nil
}

// SmolLM2 returns the path of SmolLM2-135M-Instruct (Q4_1) in the model
// cache (see ModelCacheDir). When the file is absent the test is skipped
// with a message saying to run `make smollm2`, except when CI=true, where
// .ci/run fetches it and its absence fails the test. A file of the wrong
// size (not one the script placed) fails the test.
func SmolLM2(tb testing.TB) string {
	tb.Helper()
	dir, err := ModelCacheDir()
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, SmolLM2Name)
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if os.Getenv("CI") == "true" {
			tb.Fatalf("SmolLM2 not found at %s (required when CI=true; .ci/run fetches it with make smollm2)", p)
		}
		tb.Skipf("SmolLM2 not found at %s; skipping (run make smollm2 to fetch it, 98 MB)", p)
	case err != nil:
		tb.Fatalf("SmolLM2: %v", err)
	case !fi.Mode().IsRegular() || fi.Size() != smolLM2Size:
		tb.Fatalf("SmolLM2: %s is not the expected file (%d bytes, want %d); delete it and run make smollm2", p, fi.Size(), smolLM2Size)
	}
	return p
}
