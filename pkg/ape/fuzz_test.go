package ape

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// fuzzAPE returns a small multi-platform file: a raw and a gzip engine, an
// in-place windows/amd64 entry when pe, and a zip archive appended when zipped.
func fuzzAPE(tb testing.TB, pe, zipped bool) []byte {
	tb.Helper()
	rawEngine := []byte("\x7fELF raw engine")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("gzip engine, gzip engine, gzip engine"))
	zw.Close()
	gzEngine := []byte("gzip engine, gzip engine, gzip engine")
	entries := []Entry{
		{OS: "linux", Arch: "amd64", Offset: HeaderSize, Length: int64(len(rawEngine)), Size: int64(len(rawEngine)), SHA256: sha(rawEngine), Encoding: Raw},
		{OS: "darwin", Arch: "arm64", Offset: 2 * HeaderSize, Length: int64(gz.Len()), Size: int64(len(gzEngine)), SHA256: sha(gzEngine), Encoding: Gzip},
	}
	size := int64(2*HeaderSize + gz.Len())
	var peHeader uint32
	if pe {
		entries = append(entries, Entry{OS: "windows", Arch: "amd64", Offset: 0, Length: size, Size: size, Encoding: PE})
		h, err := header(entries, 0x800)
		if err != nil {
			tb.Fatal(err)
		}
		peHeader = uint32(len(h)) // the PE headers follow the prelude
	}
	h, err := header(entries, peHeader)
	if err != nil {
		tb.Fatal(err)
	}
	file := make([]byte, size)
	copy(file, h)
	if pe {
		copy(file[peHeader:], "PE\x00\x00")
	}
	copy(file[HeaderSize:], rawEngine)
	copy(file[2*HeaderSize:], gz.Bytes())
	if !zipped {
		return file
	}
	buf := bytes.NewBuffer(file)
	w := zip.NewWriter(buf)
	w.SetOffset(int64(len(file)))
	for _, name := range []string{"model.gguf", ".args"} {
		f, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			tb.Fatal(err)
		}
		f.Write([]byte("contents of " + name))
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// fuzzPE returns a minimal Windows executable for machine: one section at
// file offset 0x200 and RVA 0x1000, and a debug directory inside it.
func fuzzPE(machine uint16) []byte {
	le := binary.LittleEndian
	pe := make([]byte, 0x400)
	copy(pe, "MZ")
	le.PutUint32(pe[0x3c:], 0x40)
	copy(pe[0x40:], "PE\x00\x00")
	coff := 0x44
	le.PutUint16(pe[coff:], machine)
	le.PutUint16(pe[coff+2:], 1)    // sections
	le.PutUint16(pe[coff+16:], 240) // optional header size
	opt := coff + coffSize
	le.PutUint16(pe[opt:], 0x20b)
	le.PutUint32(pe[opt+36:], 0x200) // file alignment
	le.PutUint32(pe[opt+108:], 16)   // data directories
	dd := opt + 112
	le.PutUint32(pe[dd+8*dirDebug:], 0x1000)
	le.PutUint32(pe[dd+8*dirDebug+4:], debugDirEntry)
	sec := opt + 240
	copy(pe[sec:], ".text")
	le.PutUint32(pe[sec+12:], 0x1000) // RVA
	le.PutUint32(pe[sec+16:], 0x200)  // raw size
	le.PutUint32(pe[sec+20:], 0x200)  // raw offset
	le.PutUint32(pe[0x200+24:], 0x300)
	return pe
}

// FuzzRead feeds the manifest reader, the engine extractor, the zip
// archive finder and rewriter (Assimilate's parts) arbitrary files: none may panic, what
// Read accepts must lie inside the file, and finding the zip archive must
// allocate under allocCeiling.
func FuzzRead(f *testing.F) {
	for _, pe := range []bool{false, true} {
		for _, zipped := range []bool{false, true} {
			data := fuzzAPE(f, pe, zipped)
			f.Add(data)
			f.Add(data[:HeaderSize])
		}
	}
	f.Add([]byte(Magic + Version))
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Add(manyEndRecords(make([]byte, 4096))) // over the ceiling unless one candidate is loaded
	out, err := os.Create(filepath.Join(f.TempDir(), "out"))
	if err != nil {
		f.Fatal(err)
	}
	defer out.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		size := int64(len(data))
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		z, err := findZip(r, size)
		runtime.ReadMemStats(&ms1)
		if grew, ceiling := ms1.TotalAlloc-ms0.TotalAlloc, allocCeiling(len(data)); grew > ceiling {
			t.Fatalf("finding the zip archive of %d bytes allocated %d bytes (ceiling %d)", len(data), grew, ceiling)
		}
		if err == nil {
			if z.start < 0 || z.start > z.cdStart || z.cdStart > size || int64(len(z.tail)) != size-z.cdStart {
				t.Fatalf("zip: start %d, central directory %d, tail %d bytes in a %d-byte file", z.start, z.cdStart, len(z.tail), size)
			}
			// What Assimilate does with the archive, into a reused file
			// (Assimilate itself syncs, too slow for fuzzing).
			if err := out.Truncate(0); err != nil {
				t.Fatal(err)
			}
			if _, err := out.Seek(int64(len(data)%HeaderSize), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			_ = writeZip(out, r, z) // only a panic matters
			for _, delta := range []int64{0, HeaderSize, MinZipAlign, -z.start} {
				if tail, err := z.shiftedTail(delta); err == nil && len(tail) != len(z.tail) {
					t.Fatalf("shiftedTail(%d) changed the length: %d, want %d", delta, len(tail), len(z.tail))
				}
			}
		}
		m, err := Read(r, size)
		if err != nil {
			return
		}
		if m.ScriptStart > m.ScriptEnd || m.ScriptEnd > min(size, HeaderSize) {
			t.Fatalf("script [%d, %d) in a %d-byte file", m.ScriptStart, m.ScriptEnd, size)
		}
		for i := range m.Entries {
			e := &m.Entries[i]
			if e.Offset < 0 || e.Length < 0 || e.Offset+e.Length > size {
				t.Fatalf("entry %s: bytes %d+%d outside the %d-byte file", e.Platform(), e.Offset, e.Length, size)
			}
			if e.Encoding != PE && e.Size <= 1<<20 {
				_ = Extract(io.Discard, r, e) // only a panic matters
			}
			if e.Encoding == PE {
				_ = writeNativePE(io.Discard, r, m, e) // only a panic matters
			}
		}
	})
}

// FuzzRelocatePE feeds the PE rearranger (which Pack runs on the
// windows/amd64 engine) and the executable check arbitrary files.
func FuzzRelocatePE(f *testing.F) {
	f.Add(fuzzPE(machineAMD64), false)
	f.Add(fuzzPE(machineARM64), true)
	f.Add([]byte("MZ"), false)
	f.Fuzz(func(t *testing.T, data []byte, arm bool) {
		machine, goarch := uint16(machineAMD64), "amd64"
		if arm {
			machine, goarch = machineARM64, "arm64"
		}
		var head [64]byte
		copy(head[:], data)
		for _, goos := range []string{"linux", "darwin", "windows"} {
			_ = checkExecutable(head[:], goos, goarch) // only a panic matters
		}
		orig := bytes.Clone(data)
		r, err := relocatePE(data, machine)
		if !bytes.Equal(orig, data) {
			t.Fatal("relocatePE changed its input")
		}
		if err != nil {
			return
		}
		if len(r.headers) == 0 || len(r.headers) > HeaderSize || len(r.body) > len(data) {
			t.Fatalf("headers %d bytes, body %d bytes from a %d-byte file", len(r.headers), len(r.body), len(data))
		}
	})
}
