package mmap

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

// mappedFile returns the file whose mapping holds p's first byte, from
// /proc/self/maps, or "" when p is not in a file mapping (the Go heap, say).
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
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
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

// TestMapIsZeroCopy checks that the bytes of a mapped range are the file's
// pages themselves, not a copy: they lie in a mapping of that file.
func TestMapIsZeroCopy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	content := make([]byte, 5*4096+100)
	for i := range content {
		content[i] = byte(i % 251)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, r := range [][2]int64{{0, int64(len(content))}, {4096*2 + 17, 4096}} {
		m, err := Map(f, r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		if got := mappedFile(t, m.Bytes()); got != path {
			t.Errorf("Map(%d, %d): bytes lie in a mapping of %q, want %q", r[0], r[1], got, path)
		}
		m.Close()
	}
	// The test can tell: a heap copy is not in a mapping of the file.
	if got := mappedFile(t, append([]byte(nil), content...)); got == path {
		t.Errorf("a heap copy reported as mapped from %s", path)
	}
}
