package mmap

import (
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// TestMapIsZeroCopy checks that the bytes of a mapped range are the file's
// pages themselves, not a copy: they lie in a mapping of that file.
func TestMapIsZeroCopy(t *testing.T) {
	content := make([]byte, 5*4096+100)
	for i := range content {
		content[i] = byte(i % 251)
	}
	f, path := openTemp(t, content)
	for _, r := range [][2]int64{{0, int64(len(content))}, {4096*2 + 17, 4096}} {
		m, err := Map(f, r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		if got := testutil.MappedFile(t, m.Bytes()); got != path {
			t.Errorf("Map(%d, %d): bytes lie in a mapping of %q, want %q", r[0], r[1], got, path)
		}
		m.Close()
	}
	// The test can tell: a heap copy is not in a mapping of the file.
	if got := testutil.MappedFile(t, append([]byte(nil), content...)); got == path {
		t.Errorf("a heap copy reported as mapped from %s", path)
	}
}
