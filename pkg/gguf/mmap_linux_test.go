package gguf

import (
	"bytes"
	"os"
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
	f, path := openEmbedded(t, bytes.Repeat([]byte{0x90}, 70001), data)
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
