package zipalign

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkFixture writes an executable-like prefix followed by an archive
// holding a stored entry of random bytes, a deflated text, a stored run
// of zeros (a hole in the file), an empty file and .args; it returns the
// path and the archive's entries by name.
func checkFixture(t *testing.T) (string, map[string]Entry) {
	t.Helper()
	dir := t.TempDir()
	zero := make([]byte, 3<<20)
	copy(zero[len(zero)-5:], "tail!")
	inputs := []struct {
		name  string
		data  []byte
		level int
	}{
		{"model.gguf", randBytes(7, 5<<20+123), 0},
		{"text.txt", textBytes(300 << 10), 6},
		{"zeros.bin", zero, 0},
		{"empty", nil, 0},
		{".args", []byte("-m\nmodel.gguf\n"), 0},
	}
	path := writeFile(t, filepath.Join(dir, "x.llamafile"), randBytes(1, 70000), 0o755)
	for _, in := range inputs {
		f := File{Name: in.name, Path: writeFile(t, filepath.Join(dir, "in", in.name), in.data, 0o644)}
		if err := Append(path, []File{f}, Options{Level: in.level}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	byName := map[string]Entry{}
	for _, e := range a.Entries() {
		byName[e.Name] = e
	}
	if byName["text.txt"].Method != Deflate || byName["model.gguf"].Method != Store || byName["zeros.bin"].Method != Store {
		t.Fatalf("methods: text %d, model %d, zeros %d; want deflated, stored, stored",
			byName["text.txt"].Method, byName["model.gguf"].Method, byName["zeros.bin"].Method)
	}
	return path, byName
}

// TestCheck: an intact archive checks out, entry by entry in file order;
// one byte changed in an entry's data (stored, deflated, in a run of
// zeros) or in the CRC-32 recorded is reported naming that entry; a
// truncated file and a file without an archive are clear errors.
func TestCheck(t *testing.T) {
	path, entries := checkFixture(t)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("intact", func(t *testing.T) {
		var out strings.Builder
		if err := CheckFile(path, &out, nil); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != len(entries)+1 {
			t.Fatalf("%d lines, want %d:\n%s", len(lines), len(entries)+1, out.String())
		}
		// File order: as Append wrote them.
		for i, name := range []string{"model.gguf", "text.txt", "zeros.bin", "empty", ".args"} {
			e := entries[name]
			if want := fmt.Sprintf("ok  %08x %14d  %s", e.CRC32, e.UncompressedSize, name); lines[i] != want {
				t.Errorf("line %d: %q, want %q", i, lines[i], want)
			}
		}
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, path+": 5 entries, 8.4 MB of data, all intact (CRC-32s verified in ") {
			t.Errorf("summary %q", last)
		}
	})

	damage := []struct {
		name  string
		off   int64 // offset of the byte to change
		entry string
		want  string // in the error
	}{
		{"stored data", entries["model.gguf"].DataOffset + 4<<20 + 17, "model.gguf", "entry model.gguf: CRC-32 mismatch (stored 0x%08x, computed 0x"},
		{"stored first byte", entries["model.gguf"].DataOffset, "model.gguf", "entry model.gguf: CRC-32 mismatch (stored 0x%08x"},
		{"stored last byte", entries["model.gguf"].DataOffset + int64(entries["model.gguf"].CompressedSize) - 1, "model.gguf", "entry model.gguf: CRC-32 mismatch"},
		{"deflated data", entries["text.txt"].DataOffset + int64(entries["text.txt"].CompressedSize)/2, "text.txt", "entry text.txt: "},
		{"in a hole", entries["zeros.bin"].DataOffset + 1<<20, "zeros.bin", "entry zeros.bin: CRC-32 mismatch (stored 0x%08x"},
		{"small entry", entries[".args"].DataOffset + 3, ".args", "entry .args: CRC-32 mismatch"},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			b := append([]byte(nil), orig...)
			b[d.off] ^= 0x20
			p := writeFile(t, filepath.Join(t.TempDir(), "damaged"), b, 0o644)
			var out strings.Builder
			err := CheckFile(p, &out, nil)
			var ce *CheckError
			if !errors.As(err, &ce) || ce.Entry != d.entry || ce.Path != p {
				t.Fatalf("error %v, want a CheckError for %s", err, d.entry)
			}
			want := d.want
			if strings.Contains(want, "%08x") {
				want = fmt.Sprintf(want, entries[d.entry].CRC32)
			}
			if !strings.HasPrefix(err.Error(), "zipalign: "+p+": ") || !strings.Contains(err.Error(), want) {
				t.Errorf("error %q, want it to contain %q", err, want)
			}
			if ce.Err == nil && ce.Computed == ce.Stored {
				t.Errorf("mismatch with equal CRCs: %+v", ce)
			}
			if strings.Contains(out.String(), "  "+d.entry+"\n") || strings.Contains(out.String(), "all intact") {
				t.Errorf("the damaged entry reported intact:\n%s", out.String())
			}
		})
	}

	t.Run("recorded CRC", func(t *testing.T) {
		// The central directory's CRC-32 field of .args, after the name
		// check: find the record by its name.
		b := append([]byte(nil), orig...)
		i := strings.LastIndex(string(b), "\x50\x4b\x01\x02")
		for i >= 0 && !strings.Contains(string(b[i:i+46+5]), ".args") {
			i = strings.LastIndex(string(b[:i]), "\x50\x4b\x01\x02")
		}
		if i < 0 {
			t.Fatal("no central record for .args")
		}
		b[i+16] ^= 1
		p := writeFile(t, filepath.Join(t.TempDir(), "damaged"), b, 0o644)
		want := fmt.Sprintf("entry .args: CRC-32 mismatch (stored 0x%08x, computed 0x%08x)", entries[".args"].CRC32^1, entries[".args"].CRC32)
		if err := CheckFile(p, new(strings.Builder), nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	})

	for _, n := range []int64{1, 22, int64(len(orig)) - entries[".args"].DataOffset, int64(len(orig)) / 2} {
		t.Run(fmt.Sprint("truncated by ", n), func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "short"), orig[:int64(len(orig))-n], 0o644)
			err := CheckFile(p, new(strings.Builder), nil)
			if !errors.Is(err, ErrNoArchive) || !strings.Contains(err.Error(), "truncated") || !strings.HasPrefix(err.Error(), "zipalign: "+p+": ") {
				t.Errorf("error %v, want no archive, perhaps truncated", err)
			}
		})
	}

	t.Run("no archive", func(t *testing.T) {
		p := writeFile(t, filepath.Join(t.TempDir(), "plain"), randBytes(3, 100000), 0o644)
		err := CheckFile(p, new(strings.Builder), nil)
		if !errors.Is(err, ErrNoArchive) || !strings.Contains(err.Error(), "not a llamafile or zip file") {
			t.Errorf("error %v", err)
		}
	})

	t.Run("status line", func(t *testing.T) {
		defer func(m uint64) { progressMin = m }(progressMin)
		progressMin = 1 << 20
		var out, status strings.Builder
		if err := CheckFile(path, &out, &status); err != nil {
			t.Fatal(err)
		}
		s := status.String()
		// The first report after 4 MiB of the 8.4 MB.
		if !strings.HasPrefix(s, "\r\033[Kchecking model.gguf: 50% of 8.4 MB") || !strings.HasSuffix(s, "\r\033[K") {
			t.Errorf("status %q", s)
		}
		if strings.Contains(out.String(), "\r") {
			t.Errorf("status on the output: %q", out.String())
		}
	})

	t.Run("progress", func(t *testing.T) {
		a, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		var calls, checked int
		var last CheckStatus
		err = a.Check(func(st CheckStatus) {
			calls++
			if st.Done < last.Done || st.Done > st.Total {
				t.Errorf("done %d after %d, total %d", st.Done, last.Done, st.Total)
			}
			if st.Checked {
				checked++
			}
			last = st
		})
		if err != nil {
			t.Fatal(err)
		}
		if checked != len(entries) || last.Done != last.Total || calls <= checked {
			t.Errorf("%d calls, %d checked, done %d of %d", calls, checked, last.Done, last.Total)
		}
	})
}

// TestDisplayName: plain names as they are, others quoted.
func TestDisplayName(t *testing.T) {
	for name, want := range map[string]string{
		"model.gguf":  "model.gguf",
		"a dir/x y.z": "a dir/x y.z",
		"":            `""`,
		"bad\nname":   `"bad\nname"`,
		"q\"uote":     `"q\"uote"`,
		"\xff":        `"\xff"`,
	} {
		if got := displayName(name); got != want {
			t.Errorf("displayName(%q) = %s, want %s", name, got, want)
		}
	}
}
