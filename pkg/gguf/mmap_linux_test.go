package gguf

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// TestTensorDataZeroCopy opens a GGUF stored at an odd offset inside a
// larger file, as in a zip entry of an executable, and checks that every
// tensor's data is the file's mapped pages, not a copy.
func TestTensorDataZeroCopy(t *testing.T) {
	data, err := os.ReadFile(testutil.SharedFile(t, "testdata/models/synth-llama-q4_k_m.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	prefix := bytes.Repeat([]byte{0x90}, 70001)
	path := filepath.Join(t.TempDir(), "outer")
	if err := os.WriteFile(path, append(append(prefix, data...), "trailer"...), 0o644); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(fh, int64(len(prefix)), int64(len(data)))
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		b := f.TensorData(ti)
		if got := testutil.MappedFile(t, b); got != path {
			t.Fatalf("tensor %s: data in a mapping of %q, want %q", ti.Name, got, path)
		}
		start := f.DataOffset + int64(ti.Offset)
		if !bytes.Equal(b, data[start:start+int64(ti.Size)]) {
			t.Fatalf("tensor %s: data differs from the file's bytes", ti.Name)
		}
	}
}
