package zipalign

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// randBytes returns n pseudo-random bytes from seed (incompressible).
func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// textBytes returns n bytes of compressible text.
func textBytes(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %d: the quick brown fox jumps over the lazy dog\n", i)
	}
	return b.Bytes()[:n]
}

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// goZip makes a zip with archive/zip: deflated entries written with data
// descriptors (Create) and one stored entry, with offsets counting from
// offset (archive/zip's SetOffset).
func goZip(t testing.TB, offset int64, files map[string][]byte, names []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.SetOffset(offset)
	for i, name := range names {
		var w io.Writer
		var err error
		if i%2 == 0 {
			w, err = zw.Create(name)
		} else {
			w, err = zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.SetComment("kept comment"); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkArchive verifies path with archive/zip, this package's reader and,
// when installed, unzip -t: the entries are exactly want (name → content)
// and every non-empty stored entry is aligned.
func checkArchive(t *testing.T, path string, want map[string][]byte, align int64) *Archive {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("archive/zip: %v", err)
	}
	defer zr.Close()
	if len(zr.File) != len(want) {
		t.Errorf("archive/zip: %d entries, want %d", len(zr.File), len(want))
	}
	goOffsets := map[string]int64{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("archive/zip: %s: %v", f.Name, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("archive/zip: %s: %v", f.Name, err)
		}
		if w, ok := want[f.Name]; !ok {
			t.Errorf("archive/zip: unexpected entry %q", f.Name)
		} else if !bytes.Equal(got, w) {
			t.Errorf("archive/zip: %s: content differs (%d bytes, want %d)", f.Name, len(got), len(w))
		}
		if off, err := f.DataOffset(); err == nil {
			goOffsets[f.Name] = off
		}
	}

	a, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	if len(a.Entries()) != len(want) {
		t.Errorf("Open: %d entries, want %d", len(a.Entries()), len(want))
	}
	for name, content := range want {
		e, ok := a.Lookup(name)
		if !ok {
			t.Errorf("Lookup(%q) failed", name)
			continue
		}
		if e.DataOffset != goOffsets[name] {
			t.Errorf("%s: DataOffset %d, archive/zip says %d", name, e.DataOffset, goOffsets[name])
		}
		if e.UncompressedSize != uint64(len(content)) {
			t.Errorf("%s: UncompressedSize %d, want %d", name, e.UncompressedSize, len(content))
		}
		got, err := a.ReadAll(e, 1<<30)
		if err != nil {
			t.Errorf("ReadAll(%s): %v", name, err)
		} else if !bytes.Equal(got, content) {
			t.Errorf("ReadAll(%s): content differs", name)
		}
		if e.Method == Store {
			if len(content) > 0 && !e.IsAligned(align) {
				t.Errorf("%s: stored data at offset %d, not a multiple of %d", name, e.DataOffset, align)
			}
			// The data is in the file, in place, at DataOffset.
			sec, err := a.Section(e)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(sec)
			if !bytes.Equal(got, content) {
				t.Errorf("%s: bytes at DataOffset %d differ from the content", name, e.DataOffset)
			}
		}
	}
	unzipTest(t, path)
	return a
}

// unzipTest runs unzip -t on path when unzip is installed.
func unzipTest(t *testing.T, path string) {
	t.Helper()
	unzip, err := exec.LookPath("unzip")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("unzip not installed (required when CI=true)")
		}
		t.Log("unzip not installed; skipping unzip -t")
		return
	}
	out, err := exec.Command(unzip, "-t", path).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("No errors detected")) {
		t.Errorf("unzip -t %s: %v\n%s", path, err, out)
	}
	if bytes.Contains(out, []byte("warning")) {
		t.Errorf("unzip -t %s warns:\n%s", path, out)
	}
}

func TestAppend(t *testing.T) {
	prefix := append([]byte("\x7fELF fake executable\n"), randBytes(1, 12345)...)
	oldFiles := map[string][]byte{
		"old/text.txt": textBytes(5000),
		"old/raw.bin":  randBytes(2, 70000),
		"old/empty":    {},
	}
	oldNames := []string{"old/text.txt", "old/raw.bin", "old/empty"}

	tests := []struct {
		name     string
		existing func(t *testing.T) []byte // nil: ZIPFILE does not exist
		wantPre  []byte                    // bytes the output must start with
		oldKept  bool                      // the old entries remain
		opt      Options
	}{
		{name: "new file", opt: Options{}},
		{name: "executable", existing: func(*testing.T) []byte { return prefix }, wantPre: prefix},
		{name: "empty file", existing: func(*testing.T) []byte { return nil }},
		{
			name:     "plain zip",
			existing: func(t *testing.T) []byte { return goZip(t, 0, oldFiles, oldNames) },
			oldKept:  true,
		},
		{
			name: "executable then zip, offsets from the file start",
			existing: func(t *testing.T) []byte {
				return append(bytes.Clone(prefix), goZip(t, int64(len(prefix)), oldFiles, oldNames)...)
			},
			wantPre: prefix,
			oldKept: true,
		},
		{
			name: "executable then zip, offsets from the zip start",
			existing: func(t *testing.T) []byte {
				return append(bytes.Clone(prefix), goZip(t, 0, oldFiles, oldNames)...)
			},
			wantPre: prefix,
			oldKept: true,
		},
		{name: "align 4096", existing: func(*testing.T) []byte { return prefix }, wantPre: prefix, opt: Options{Align: 4096}},
		{name: "align 1", existing: func(*testing.T) []byte { return prefix }, wantPre: prefix, opt: Options{Align: 1}},
		{
			name:     "deflate level 9 onto a zip",
			existing: func(t *testing.T) []byte { return append(bytes.Clone(prefix), goZip(t, 0, oldFiles, oldNames)...) },
			wantPre:  prefix,
			oldKept:  true,
			opt:      Options{Level: 9},
		},
		{name: "deflate level 1", opt: Options{Level: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			zipPath := filepath.Join(dir, "out.llamafile")
			if tc.existing != nil {
				writeFile(t, zipPath, tc.existing(t), 0o755)
			}
			newFiles := map[string][]byte{
				"model.gguf":  randBytes(3, 200000),
				".args":       []byte("-m\nmodel.gguf\n"),
				"sub/doc.txt": textBytes(30000),
				"empty.bin":   {},
			}
			var files []File
			for _, name := range []string{"model.gguf", ".args", "sub/doc.txt", "empty.bin"} {
				files = append(files, File{Name: name, Path: writeFile(t, filepath.Join(dir, "in", name), newFiles[name], 0o644)})
			}
			if err := Append(zipPath, files, tc.opt); err != nil {
				t.Fatal(err)
			}
			want := newFiles
			if tc.oldKept {
				for k, v := range oldFiles {
					want[k] = v
				}
			}
			align := tc.opt.Align
			if align == 0 {
				align = DefaultAlign
			}
			a := checkArchive(t, zipPath, want, align)

			out, err := os.ReadFile(zipPath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(out, tc.wantPre) {
				t.Errorf("the %d bytes before the archive were not kept", len(tc.wantPre))
			}
			if tc.oldKept && a.Comment() != "kept comment" {
				t.Errorf("archive comment %q, want %q", a.Comment(), "kept comment")
			}
			// Deflate is used where it helps, only.
			for _, e := range a.Entries() {
				if !strings.HasPrefix(e.Name, "old/") {
					wantMethod := Store
					if tc.opt.Level > 0 && e.Name == "sub/doc.txt" {
						wantMethod = Deflate
					}
					if e.Method != wantMethod {
						t.Errorf("%s: method %d, want %d", e.Name, e.Method, wantMethod)
					}
				}
				if e.Modified.Unix() != fixedTime && !strings.HasPrefix(e.Name, "old/") {
					t.Errorf("%s: modified %v, want the fixed time", e.Name, e.Modified)
				}
			}
			wantMode := os.FileMode(0o644)
			if tc.existing != nil {
				wantMode = 0o755
			}
			if fi, err := os.Stat(zipPath); err != nil {
				t.Fatal(err)
			} else if fi.Mode() != wantMode {
				t.Errorf("mode %v, want %v", fi.Mode(), wantMode)
			}
			assertNoTemp(t, dir)
		})
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".zipalign-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestReplace(t *testing.T) {
	dir := t.TempDir()
	zipPath := writeFile(t, filepath.Join(dir, "exe"), []byte("#!/bin/sh\nexit 0\n"), 0o755)
	oldModel := randBytes(10, 100000)
	a := writeFile(t, filepath.Join(dir, "a", "model.gguf"), oldModel, 0o644)
	args := writeFile(t, filepath.Join(dir, "a", ".args"), []byte("-m model.gguf\n"), 0o644)
	if err := Append(zipPath, []File{{"model.gguf", a}, {".args", args}}, Options{}); err != nil {
		t.Fatal(err)
	}
	newModel := randBytes(11, 50000)
	b := writeFile(t, filepath.Join(dir, "b", "model.gguf"), newModel, 0o644)
	if err := Append(zipPath, []File{{"model.gguf", b}}, Options{}); err != nil {
		t.Fatal(err)
	}
	ar := checkArchive(t, zipPath, map[string][]byte{"model.gguf": newModel, ".args": []byte("-m model.gguf\n")}, DefaultAlign)
	if names := []string{ar.Entries()[0].Name, ar.Entries()[1].Name}; names[0] != ".args" || names[1] != "model.gguf" {
		t.Errorf("entry order %q, want the kept entry first", names)
	}
	out, err := os.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, oldModel[:4096]) {
		t.Error("the replaced entry's data is still in the file")
	}
}

func TestReproducible(t *testing.T) {
	content := map[string][]byte{"w.gguf": randBytes(20, 80000), ".args": []byte("-m w.gguf\n"), "t.txt": textBytes(9000)}
	build := func(mtime time.Time, opt Options) []byte {
		dir := t.TempDir()
		zipPath := writeFile(t, filepath.Join(dir, "exe"), []byte("prefix"), 0o755)
		var files []File
		for _, name := range []string{"w.gguf", ".args", "t.txt"} {
			p := writeFile(t, filepath.Join(dir, name), content[name], 0o644)
			if err := os.Chtimes(p, mtime, mtime); err != nil {
				t.Fatal(err)
			}
			files = append(files, File{Name: name, Path: p})
		}
		if err := Append(zipPath, files, opt); err != nil {
			t.Fatal(err)
		}
		out, err := os.ReadFile(zipPath)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t1 := time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC)
	t2 := time.Date(2021, 1, 2, 3, 4, 6, 0, time.UTC)
	for _, level := range []int{0, 6} {
		a, b := build(t1, Options{Level: level}), build(t2, Options{Level: level})
		if !bytes.Equal(a, b) {
			t.Errorf("level %d: outputs differ with the same content and different times", level)
		}
	}
	// -N records the times, exactly through the timestamp extra field.
	a, b := build(t1, Options{KeepModTime: true}), build(t2, Options{KeepModTime: true})
	if bytes.Equal(a, b) {
		t.Error("KeepModTime: outputs are the same with different times")
	}
	ar, err := NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ar.Entries() {
		if !e.Modified.Equal(t1) {
			t.Errorf("KeepModTime: %s modified %v, want %v", e.Name, e.Modified, t1)
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !f.Modified.Equal(t1) {
			t.Errorf("archive/zip: %s modified %v, want %v", f.Name, f.Modified, t1)
		}
	}
}

func TestAppendFailureLeavesFileUnchanged(t *testing.T) {
	// An existing entry whose extra field leaves no room for the zip64
	// record fails after the temporary file is written to.
	var big bytes.Buffer
	zw := zip.NewWriter(&big)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "x", Method: zip.Store, Extra: append([]byte{0x99, 0x99, 0xf0, 0xff}, make([]byte, 0xfff0)...)})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("data"))
	zw.Close()

	tests := []struct {
		name     string
		existing []byte
		files    func(dir string) []File
		wantErr  string // text the error must contain
	}{
		{
			name:     "missing input",
			existing: []byte("executable"),
			files: func(dir string) []File {
				return []File{{"a", filepath.Join(dir, "a")}, {"nope", filepath.Join(dir, "does-not-exist")}}
			},
			wantErr: "does-not-exist",
		},
		{
			name:     "input is a directory",
			existing: []byte("executable"),
			files:    func(dir string) []File { return []File{{"d", filepath.Join(dir, "subdir")}} },
			wantErr:  "subdir: not a regular file",
		},
		{
			name:     "duplicate name",
			existing: []byte("executable"),
			files: func(dir string) []File {
				return []File{{"a", filepath.Join(dir, "a")}, {"a", filepath.Join(dir, "a")}}
			},
			wantErr: `"a" given more than once`,
		},
		{
			name:     "failure while writing",
			existing: big.Bytes(),
			files:    func(dir string) []File { return []File{{"a", filepath.Join(dir, "a")}} },
			wantErr:  "extra field too long",
		},
		{
			name:     "corrupt archive",
			existing: corrupt(goZip(t, 0, map[string][]byte{"f": []byte("hello")}, []string{"f"})),
			files:    func(dir string) []File { return []File{{"a", filepath.Join(dir, "a")}} },
			wantErr:  "out.zip",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "a"), []byte("some data"), 0o644)
			if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
				t.Fatal(err)
			}
			zipPath := writeFile(t, filepath.Join(dir, "out.zip"), tc.existing, 0o751)
			err := Append(zipPath, tc.files(dir), Options{})
			if err == nil {
				t.Fatal("Append succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
			got, rerr := os.ReadFile(zipPath)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if !bytes.Equal(got, tc.existing) {
				t.Error("ZIPFILE changed")
			}
			if fi, _ := os.Stat(zipPath); fi.Mode() != 0o751 {
				t.Errorf("mode changed to %v", fi.Mode())
			}
			assertNoTemp(t, dir)
		})
	}
}

// corrupt breaks the local header signature of a zip's first entry.
func corrupt(b []byte) []byte {
	b = bytes.Clone(b)
	b[0] = 'X'
	return b
}

func TestAppendOptionErrors(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "in"), []byte("x"), 0o644)
	zipPath := filepath.Join(dir, "z")
	tests := []struct {
		name    string
		files   []File
		opt     Options
		wantErr string
	}{
		{"align not a power of two", []File{{"in", in}}, Options{Align: 3}, "alignment 3"},
		{"align negative", []File{{"in", in}}, Options{Align: -4096}, "alignment -4096"},
		{"align too large", []File{{"in", in}}, Options{Align: 1 << 31}, "alignment"},
		{"level", []File{{"in", in}}, Options{Level: 10}, "level 10"},
		{"empty name", []File{{"", in}}, Options{}, "empty entry name"},
		{"absolute name", []File{{"/etc/x", in}}, Options{}, "not a clean relative path"},
		{"dotdot name", []File{{"../x", in}}, Options{}, "not a clean relative path"},
		{"unclean name", []File{{"a//b", in}}, Options{}, "not a clean relative path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Append(zipPath, tc.files, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
			if _, err := os.Stat(zipPath); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("ZIPFILE created despite the error")
			}
		})
	}
}

func TestAppendThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target := writeFile(t, filepath.Join(dir, "real"), []byte("exe"), 0o755)
	link := filepath.Join(dir, "link")
	if err := os.Symlink("real", link); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	in := writeFile(t, filepath.Join(dir, "in"), []byte("hello"), 0o644)
	if err := Append(link, []File{{"in", in}}, Options{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced: %v %v", fi, err)
	}
	checkArchive(t, target, map[string][]byte{"in": []byte("hello")}, DefaultAlign)
}

// TestAppendBareName appends to a file named without a directory: the
// temporary file goes beside it, in the current directory, not in $TMPDIR
// (from where the rename could cross file systems).
func TestAppendBareName(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("TMPDIR", filepath.Join(dir, "missing"))
	writeFile(t, "exe", []byte("exe"), 0o755)
	in := writeFile(t, "in", []byte("hello"), 0o644)
	if err := Append("exe", []File{{"in", in}}, Options{}); err != nil {
		t.Fatal(err)
	}
	checkArchive(t, filepath.Join(dir, "exe"), map[string][]byte{"in": []byte("hello")}, DefaultAlign)
}

func TestEntryName(t *testing.T) {
	tests := []struct {
		path string
		junk bool
		want string // "" means an error
	}{
		{"model.gguf", false, "model.gguf"},
		{"dir/model.gguf", false, "dir/model.gguf"},
		{"dir/model.gguf", true, "model.gguf"},
		{"/abs/dir/model.gguf", false, "abs/dir/model.gguf"},
		{"/abs/dir/model.gguf", true, "model.gguf"},
		{"./a/./b/../c", false, "a/c"},
		{".args", true, ".args"},
		{"../up/x", false, ""},
		{"../up/x", true, "x"},
		{"a/../../x", false, ""},
		{"/", false, ""},
		{"/", true, ""},
		{".", false, ""},
		{"", true, ""},
		{"dir/", true, "dir"},
	}
	for _, tc := range tests {
		got, err := EntryName(tc.path, tc.junk)
		if tc.want == "" {
			if err == nil {
				t.Errorf("EntryName(%q, %v) = %q, want an error", tc.path, tc.junk, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("EntryName(%q, %v) = %q, %v; want %q", tc.path, tc.junk, got, err, tc.want)
		}
	}
}

// TestAppendLarge adds a sparse file over 4 GiB, which needs zip64 sizes.
// Holes in the input are neither read nor written, so it takes little disk
// space and time; the full 4 GiB is not read back.
func TestAppendLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the 4 GiB file in -short mode")
	}
	dir := t.TempDir()
	const size = 1<<32 + 12345
	big := filepath.Join(dir, "big.gguf")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	marker := []byte("the end of a large model")
	if _, err := f.WriteAt(marker, size-int64(len(marker))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("GGUF"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	zipPath := writeFile(t, filepath.Join(dir, "exe"), randBytes(30, 1000), 0o755)
	args := writeFile(t, filepath.Join(dir, ".args"), []byte("-m big.gguf\n"), 0o644)
	if err := Append(zipPath, []File{{"big.gguf", big}, {".args", args}}, Options{}); err != nil {
		t.Fatal(err)
	}
	// Adding beside a large entry copies it.
	small := writeFile(t, filepath.Join(dir, "small"), []byte("small"), 0o644)
	if err := Append(zipPath, []File{{"small", small}}, Options{}); err != nil {
		t.Fatal(err)
	}

	a, err := Open(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	e, ok := a.Lookup("big.gguf")
	if !ok {
		t.Fatal("big.gguf not found")
	}
	if e.UncompressedSize != size || e.CompressedSize != size || !e.IsAligned(DefaultAlign) {
		t.Errorf("big.gguf: sizes %d/%d, offset %d; want %d, aligned", e.CompressedSize, e.UncompressedSize, e.DataOffset, size)
	}
	got := make([]byte, len(marker))
	if _, err := a.File().ReadAt(got, e.DataOffset+size-int64(len(marker))); err != nil || !bytes.Equal(got, marker) {
		t.Errorf("end of big.gguf at its DataOffset: %q, %v", got, err)
	}
	for _, name := range []string{".args", "small"} {
		e, ok := a.Lookup(name)
		if !ok || e.HeaderOffset < 1<<32 {
			t.Errorf("%s: missing or not past 4 GiB (%v)", name, e)
		}
	}

	// archive/zip agrees on sizes, offset and CRC; the CRC is checked
	// against one computed over the content, zeros included.
	crc := crc32.Update(0, crc32.IEEETable, []byte("GGUF"))
	zeros := make([]byte, 1<<20)
	for left := int64(size - 4 - len(marker)); left > 0; left -= int64(len(zeros)) {
		crc = crc32.Update(crc, crc32.IEEETable, zeros[:min(left, int64(len(zeros)))])
	}
	crc = crc32.Update(crc, crc32.IEEETable, marker)
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 3 {
		t.Fatalf("archive/zip: %d entries, want 3", len(zr.File))
	}
	for _, f := range zr.File {
		if f.Name != "big.gguf" {
			continue
		}
		off, err := f.DataOffset()
		if err != nil || off != e.DataOffset || f.UncompressedSize64 != size || f.CRC32 != crc || e.CRC32 != crc {
			t.Errorf("archive/zip: offset %d (%v), size %d, CRC %08x; reader: CRC %08x; want offset %d, size %d, CRC %08x",
				off, err, f.UncompressedSize64, f.CRC32, e.CRC32, e.DataOffset, int64(size), crc)
		}
	}
	if unzip, err := exec.LookPath("unzip"); err == nil {
		out, err := exec.Command(unzip, "-l", zipPath).CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte(fmt.Sprint(int64(size)))) {
			t.Errorf("unzip -l: %v\n%s", err, out)
		}
	}
}
