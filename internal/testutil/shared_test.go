package testutil

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSharedGGUFs(t *testing.T) {
	files := SharedGGUFs(t)
	want := SharedFile(t, "testdata/models/stories260k.gguf")
	if !slices.Contains(files, want) {
		t.Errorf("SharedGGUFs lacks %s", want)
	}
	for _, f := range files {
		if !strings.HasSuffix(f, ".gguf") || !strings.HasPrefix(f, filepath.Join(SharedDir(t), "testdata")) {
			t.Errorf("SharedGGUFs returned %s", f)
		}
	}
}
