package gguf

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// mappedFile returns the file whose mapping holds p's first byte, from
// /proc/self/maps, or "" when p is not in a file mapping.
func mappedFile(t *testing.T, p []byte) string {
	t.Helper()
	fh, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Skip(err)
	}
	defer fh.Close()
	addr := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(p))))
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fields := strings.Fields(sc.Text()) // start-end perms offset dev inode path
		var lo, hi uint64
		if _, err := fmt.Sscanf(fields[0], "%x-%x", &lo, &hi); err != nil {
			t.Fatalf("/proc/self/maps line %q: %v", sc.Text(), err)
		}
		if lo <= addr && addr < hi {
			if len(fields) < 6 {
				return ""
			}
			return fields[5]
		}
	}
	return ""
}

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
		if got := mappedFile(t, b); got != path {
			t.Fatalf("tensor %s: data in a mapping of %q, want %q", ti.Name, got, path)
		}
		start := f.DataOffset + int64(ti.Offset)
		if !bytes.Equal(b, data[start:start+int64(ti.Size)]) {
			t.Fatalf("tensor %s: data differs from the file's bytes", ti.Name)
		}
	}
}
