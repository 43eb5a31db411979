package testutil

import (
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
)

func TestParseMaps(t *testing.T) {
	maps := []byte(`00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/engine
7f0000000000-7f0000120000 r--s 00010000 08:02 22       /tmp/a b/s.llamafile
7f0000200000-7f0000201000 r--p 00000000 00:00 0
`)
	got, err := ParseMaps(maps)
	if err != nil {
		t.Fatal(err)
	}
	want := []Mapping{
		{Start: 0x400000, End: 0x452000, Offset: 0, Path: "/usr/bin/engine"},
		{Start: 0x7f0000000000, End: 0x7f0000120000, Offset: 0x10000, Path: "/tmp/a b/s.llamafile"},
		{Start: 0x7f0000200000, End: 0x7f0000201000, Offset: 0, Path: ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseMaps:\n got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{
		"00400000 r-xp 00000000 08:02 1 /x\n",
		"00400000-zz r-xp 00000000 08:02 1 /x\n",
		"00400000-00452000 r-xp 0x0g 08:02 1 /x\n",
		"00400000-00452000 r-xp\n",
	} {
		if m, err := ParseMaps([]byte(bad)); err == nil {
			t.Errorf("ParseMaps(%q) = %+v, want an error", bad, m)
		}
	}
}

func TestMappedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 3*4096), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := syscall.Mmap(int(f.Fd()), 4096, 4096, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(b)
	if got := MappedFile(t, b); got != path {
		t.Errorf("MappedFile(a mapping of %s) = %q", path, got)
	}
	if got := MappedFile(t, make([]byte, 4096)); got != "" {
		t.Errorf("MappedFile(heap bytes) = %q, want \"\"", got)
	}
}
