package mmap

import (
	"bytes"
	"testing"

	"github.com/llamafile-go/llamafile/internal/procstat"
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

// TestRelease checks that Release drops the whole pages of a range from
// the process's resident memory while the bytes stay the file's, and that
// a copy made by Read keeps its bytes.
func TestRelease(t *testing.T) {
	const size = 32 << 20
	content := make([]byte, size)
	for i := range content {
		content[i] = byte(i % 253)
	}
	f, _ := openTemp(t, content)
	m, err := Map(f, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b := m.Bytes()
	sum, want := 0, 0
	for i := 0; i < size; i += 4096 {
		sum += int(b[i]) // faults every page in
		want += int(content[i])
	}
	if sum != want {
		t.Fatalf("the mapped pages sum to %d, the file's to %d", sum, want)
	}
	before := procstat.RSS()
	m.Release(b[100 : size-100]) // all whole pages but the first and last
	after := procstat.RSS()
	if before-after < size-3*4096-(1<<20) {
		t.Errorf("Release of %d MiB: resident memory %d -> %d bytes (%d released)", size>>20, before, after, before-after)
	}
	if !bytes.Equal(b, content) {
		t.Error("the released bytes differ from the file's")
	}
	r, err := Read(f, 0, 8192)
	if err != nil {
		t.Fatal(err)
	}
	r.Release(r.Bytes())
	if !bytes.Equal(r.Bytes(), content[:8192]) {
		t.Error("Release of a copy lost its bytes")
	}
	r.Close()
}
