package zipalign

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestOpenNoArchive(t *testing.T) {
	dir := t.TempDir()
	// The signature alone, with nothing valid around it, is no archive.
	fake := append(randBytes(40, 1000), 'P', 'K', 5, 6)
	fake = append(fake, randBytes(41, 30)...)
	for name, data := range map[string][]byte{
		"empty":     nil,
		"short":     []byte("PK"),
		"random":    randBytes(42, 100000),
		"signature": fake,
	} {
		p := writeFile(t, filepath.Join(dir, name), data, 0o644)
		a, err := Open(p)
		if !errors.Is(err, ErrNoArchive) {
			t.Errorf("%s: Open = %v, %v; want ErrNoArchive", name, a, err)
		}
		if err != nil && !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Open(missing) = %v", err)
	}
}

func TestReaderGoZips(t *testing.T) {
	files := map[string][]byte{"a.txt": textBytes(3000), "b.bin": randBytes(50, 5000), "c": {}}
	names := []string{"a.txt", "b.bin", "c"}
	prefix := []byte("some executable bytes")
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"plain", goZip(t, 0, files, names)},
		{"prefix, offsets from file start", append(bytes.Clone(prefix), goZip(t, int64(len(prefix)), files, names)...)},
		{"prefix, offsets from zip start", append(bytes.Clone(prefix), goZip(t, 0, files, names)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewReader(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err != nil {
				t.Fatal(err)
			}
			if a.File() != nil || a.Close() != nil {
				t.Error("NewReader: File() or Close() misbehave")
			}
			zr, err := zip.NewReader(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Entries()) != len(zr.File) {
				t.Fatalf("%d entries, archive/zip has %d", len(a.Entries()), len(zr.File))
			}
			for i, f := range zr.File {
				e := a.Entries()[i]
				off, _ := f.DataOffset()
				if e.Name != f.Name || e.Method != f.Method || e.DataOffset != off || e.CRC32 != f.CRC32 ||
					e.CompressedSize != f.CompressedSize64 || e.UncompressedSize != f.UncompressedSize64 {
					t.Errorf("entry %d: %+v; archive/zip: %s method %d offset %d", i, e, f.Name, f.Method, off)
				}
				got, err := a.ReadAll(&e, 1<<20)
				if err != nil || !bytes.Equal(got, files[e.Name]) {
					t.Errorf("ReadAll(%s): %v", e.Name, err)
				}
			}
		})
	}
}

func TestReadAllChecks(t *testing.T) {
	content := textBytes(10000)
	data := goZip(t, 0, map[string][]byte{"t": content, "s": content}, []string{"t", "s"})
	a, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	tEntry, _ := a.Lookup("t")
	sEntry, _ := a.Lookup("s")
	if tEntry.Method != Deflate || sEntry.Method != Store {
		t.Fatalf("methods %d, %d", tEntry.Method, sEntry.Method)
	}
	if _, err := a.ReadAll(tEntry, 9999); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("ReadAll over the limit: %v", err)
	}
	if _, err := a.Section(tEntry); err == nil {
		t.Error("Section of a deflated entry succeeded")
	}
	if _, ok := a.Lookup("nope"); ok {
		t.Error("Lookup of a missing name succeeded")
	}

	// Corrupt one byte of the stored data: the CRC check must catch it.
	bad := bytes.Clone(data)
	bad[sEntry.DataOffset+100] ^= 1
	b, err := NewReader(bytes.NewReader(bad), int64(len(bad)))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := b.Lookup("s")
	if _, err := b.ReadAll(e, 1<<20); err == nil || !strings.Contains(err.Error(), "CRC") {
		t.Errorf("ReadAll of corrupt data: %v", err)
	}

	// A declared size smaller than the deflated content is an error, not
	// a larger allocation.
	e2 := *tEntry
	e2.UncompressedSize = 100
	if _, err := a.ReadAll(&e2, 1<<20); err == nil {
		t.Error("ReadAll with a wrong size succeeded")
	}
	e2.UncompressedSize = uint64(len(content)) + 1
	if _, err := a.ReadAll(&e2, 1<<20); err == nil {
		t.Error("ReadAll with a too large size succeeded")
	}
	e2 = *tEntry
	e2.Method = 12
	if _, err := a.ReadAll(&e2, 1<<20); err == nil || !strings.Contains(err.Error(), "method 12") {
		t.Errorf("ReadAll of an unsupported method: %v", err)
	}
}

func TestReaderMalformed(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "in"), randBytes(60, 3000), 0o644)
	zipPath := writeFile(t, filepath.Join(dir, "z"), []byte("exe"), 0o755)
	if err := Append(zipPath, []File{{"in", in}}, Options{Align: 64}); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	n := len(good)
	put64 := func(b []byte, off int, v uint64) []byte {
		b = bytes.Clone(b)
		binary.LittleEndian.PutUint64(b[off:], v)
		return b
	}
	// Layout of the end: ... | zip64 end (56) | locator (20) | end (22).
	end64 := n - lenEnd - lenLoc64 - lenEnd64
	tests := map[string][]byte{
		"truncated":            good[:n-1],
		"zip64 records huge":   put64(good, end64+32, 1<<40),
		"zip64 cd size huge":   put64(good, end64+40, 1<<40),
		"zip64 cd offset past": put64(good, end64+48, uint64(n)),
		"zip64 end signature":  func() []byte { b := bytes.Clone(good); b[end64] = 0; return b }(),
		"central sig broken":   func() []byte { b := bytes.Clone(good); b[binary.LittleEndian.Uint64(good[end64+48:])] = 0; return b }(),
	}
	// A locator whose offset is wrong (counts from an unknown base) is
	// tolerated: the zip64 end record sits right before it.
	if _, err := NewReader(bytes.NewReader(put64(good, n-lenEnd-lenLoc64+8, 1<<50)), int64(n)); err != nil {
		t.Errorf("locator with a wrong offset: %v", err)
	}
	for name, data := range tests {
		if _, err := NewReader(bytes.NewReader(data), int64(len(data))); err == nil {
			t.Errorf("%s: NewReader succeeded", name)
		}
	}
}

// FuzzNewReader feeds arbitrary bytes to the reader: it must return an
// error or a usable archive, never panic, and never allocate beyond a
// modest factor of the input's size (allocCeiling) when opening it, nor
// beyond the limit given to ReadAll (and a decompressor's state) when
// reading an entry.
func FuzzNewReader(f *testing.F) {
	files := map[string][]byte{"a": textBytes(500), "b": randBytes(70, 300)}
	f.Add(goZip(f, 0, files, []string{"a", "b"}))
	f.Add(append([]byte("prefix"), goZip(f, 0, files, []string{"b"})...))
	dir := f.TempDir()
	zipPath := filepath.Join(dir, "z")
	if err := os.WriteFile(zipPath, []byte("exe"), 0o644); err != nil {
		f.Fatal(err)
	}
	var list []File
	for _, name := range []string{"a", "b"} {
		p := filepath.Join(dir, "in-"+name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			f.Fatal(err)
		}
		list = append(list, File{Name: name, Path: p})
	}
	if err := Append(zipPath, list, Options{Align: 16, Level: 5}); err != nil {
		f.Fatal(err)
	}
	ours, err := os.ReadFile(zipPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ours)
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Add(sharedLocalHeader(100)) // fails the allocation ceiling unless the overlap is caught

	const limit = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		a, err := NewReader(bytes.NewReader(data), int64(len(data)))
		runtime.ReadMemStats(&ms1)
		if grew, ceiling := ms1.TotalAlloc-ms0.TotalAlloc, allocCeiling(len(data)); grew > ceiling {
			t.Fatalf("opening %d bytes allocated %d bytes (ceiling %d)", len(data), grew, ceiling)
		}
		if err != nil {
			return
		}
		for i := range a.Entries() {
			e := &a.Entries()[i]
			e.IsAligned(4096)
			e.IsDir()
			if e.DataOffset < 0 || e.DataOffset+int64(e.CompressedSize) > int64(len(data)) {
				t.Fatalf("entry %q: data [%d, +%d) outside the input", e.Name, e.DataOffset, e.CompressedSize)
			}
			runtime.ReadMemStats(&ms0)
			b, err := a.ReadAll(e, limit)
			runtime.ReadMemStats(&ms1)
			if grew := ms1.TotalAlloc - ms0.TotalAlloc; grew > limit+1<<20 {
				t.Fatalf("entry %q: ReadAll with a limit of %d bytes allocated %d bytes", e.Name, limit, grew)
			}
			if err == nil && uint64(len(b)) != e.UncompressedSize {
				t.Fatalf("entry %q: ReadAll gave %d bytes, size %d", e.Name, len(b), e.UncompressedSize)
			}
			if rc, err := a.OpenEntry(e); err == nil {
				io.Copy(io.Discard, io.LimitReader(rc, 1<<16))
				rc.Close()
			}
			if _, ok := a.Lookup(e.Name); !ok {
				t.Fatalf("Lookup(%q) failed for a listed entry", e.Name)
			}
		}
	})
}
