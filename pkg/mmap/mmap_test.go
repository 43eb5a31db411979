package mmap

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// openTemp writes content to a temporary file and opens it; it returns
// the open file (closed at the end of the test) and its path.
func openTemp(t *testing.T, content []byte) (*os.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, path
}

func TestMapRanges(t *testing.T) {
	content := make([]byte, 3*65536+123)
	for i := range content {
		content[i] = byte(i*7 + i/251)
	}
	f, _ := openTemp(t, content)
	n := int64(len(content))
	tests := []struct{ off, size int64 }{
		{0, n}, {1, n - 1}, {4095, 2}, {4096, 4096}, {65535, 65537}, {65536 + 17, 100000}, {n - 1, 1}, {n, 0}, {12345, 0},
	}
	for _, tt := range tests {
		m, err := Map(f, tt.off, tt.size)
		if err != nil {
			t.Fatalf("Map(%d, %d): %v", tt.off, tt.size, err)
		}
		got := m.Bytes()
		if !bytes.Equal(got, content[tt.off:tt.off+tt.size]) {
			t.Errorf("Map(%d, %d): bytes differ", tt.off, tt.size)
		}
		if got == nil {
			t.Errorf("Map(%d, %d): nil slice", tt.off, tt.size)
		}
		if cap(got) != len(got) {
			t.Errorf("Map(%d, %d): cap %d != len %d", tt.off, tt.size, cap(got), len(got))
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}
}

func TestMapBadRanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, r := range [][2]int64{{-1, 10}, {0, -1}, {0, 101}, {101, 0 + 1}, {50, 51}, {1 << 62, 1 << 62}} {
		if m, err := Map(f, r[0], r[1]); err == nil {
			m.Close()
			t.Errorf("Map(%d, %d) succeeded, want error", r[0], r[1])
		}
	}
	if _, err := Map(nil, 0, 0); err == nil {
		t.Error("Map(nil) succeeded")
	}
}

func TestMapOutlivesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	want := []byte("hello, mapping")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Map(f, 0, int64(len(want)))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !bytes.Equal(m.Bytes(), want) {
		t.Errorf("got %q, want %q", m.Bytes(), want)
	}
}

// TestReadAndLock: Read gives the bytes Map gives, as a copy; Lock locks
// either in memory (or fails with an error naming the size, where the
// system refuses) and Close unlocks and releases them.
func TestReadAndLock(t *testing.T) {
	content := bytes.Repeat([]byte("llamafile "), 10000)
	f, path := openTemp(t, content)
	for _, open := range []struct {
		name string
		fn   func(*os.File, int64, int64) (*Mapping, error)
	}{{"Map", Map}, {"Read", Read}} {
		m, err := open.fn(f, 3, int64(len(content))-3)
		if err != nil {
			t.Fatalf("%s: %v", open.name, err)
		}
		if !bytes.Equal(m.Bytes(), content[3:]) {
			t.Errorf("%s: bytes differ", open.name)
		}
		if err := m.Lock(); err != nil {
			t.Logf("%s: Lock: %v (the system refuses; not an error of the package)", open.name, err)
		} else if !m.locked {
			t.Errorf("%s: Lock succeeded but the mapping is not marked locked", open.name)
		}
		if err := m.Close(); err != nil {
			t.Errorf("%s: Close: %v", open.name, err)
		}
		if m.Bytes() != nil {
			t.Errorf("%s: bytes after Close", open.name)
		}
	}
	if _, err := Read(f, 5, int64(len(content))); err == nil {
		t.Error("Read past the end of the file: no error")
	}
	// A copy does not change with the file.
	m, err := Read(f, 0, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := os.WriteFile(path, []byte("LLAMA"), 0o644); err != nil {
		t.Fatal(err)
	}
	if string(m.Bytes()) != "llam" {
		t.Errorf("Read's copy changed with the file: %q", m.Bytes())
	}
}
