package gguf

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// writeTiny writes a one-tensor GGUF file with the given name metadata and
// tensor bytes (n float32 values) and returns its path.
func writeTiny(t *testing.T, dir, name string, values []byte) string {
	t.Helper()
	kv := []KV{{Key: "general.name", Value: MustValueOf(name)}}
	ts := []TensorInfo{{Name: "w", Dims: []uint64{uint64(len(values) / 4)}, Type: ggml.TypeF32}}
	var buf bytes.Buffer
	if err := Write(&buf, kv, ts, func(int) ([]byte, error) { return values, nil }); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".gguf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpenReadAndFingerprint: Options.Read gives the same file as
// mapping; Fingerprint is the same for the same bytes however opened, and
// differs when the metadata or the sampled tensor data differ.
func TestOpenReadAndFingerprint(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 300<<10) // sampled at both ends, not whole
	for i := range big {
		big[i] = byte(i * 31)
	}
	path := writeTiny(t, dir, "a", big)
	mapped, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer mapped.Close()
	read, err := OpenWith(path, Options{Read: true})
	if err != nil {
		t.Fatal(err)
	}
	defer read.Close()
	w1, _ := mapped.Tensor("w")
	w2, _ := read.Tensor("w")
	if !bytes.Equal(mapped.TensorData(w1), read.TensorData(w2)) || !bytes.Equal(read.TensorData(w2), big) {
		t.Fatal("Options.Read: tensor data differs from the mapped file's")
	}
	if mapped.Fingerprint() != read.Fingerprint() {
		t.Error("the same file has two fingerprints")
	}
	if err := read.Lock(); err != nil {
		t.Logf("Lock: %v (refused by the system)", err)
	}

	fingerprint := func(path string) [32]byte {
		t.Helper()
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return f.Fingerprint()
	}
	edited := func(at int) []byte {
		b := bytes.Clone(big)
		b[at] ^= 1
		return b
	}
	for _, tt := range []struct {
		what, name string
		values     []byte
	}{
		{"another name in the metadata", "b", big},
		{"a byte changed in the first 64 KiB", "a", edited(100)},
		{"a byte changed in the last 64 KiB", "a", edited(len(big) - 5)},
	} {
		if fingerprint(writeTiny(t, t.TempDir(), tt.name, tt.values)) == mapped.Fingerprint() {
			t.Errorf("%s: the same fingerprint", tt.what)
		}
	}
	if fingerprint(writeTiny(t, t.TempDir(), "a", big)) != mapped.Fingerprint() {
		t.Error("a copy of the file: another fingerprint")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := Parse(data); err != nil || f.Lock() == nil {
		t.Errorf("Lock of a parsed file: no error (parse: %v)", err)
	}
}

func TestHasShape(t *testing.T) {
	tests := []struct {
		dims []uint64
		want []int
		ok   bool
	}{
		{[]uint64{4096}, []int{4096}, true},
		{[]uint64{4096}, []int{4096, 1}, true},
		{[]uint64{4096, 1}, []int{4096}, true},
		{[]uint64{64, 32}, []int{64, 32}, true},
		{[]uint64{64, 32}, []int{32, 64}, false},
		{[]uint64{64, 1, 2}, []int{64, 2}, false},
		{[]uint64{64}, []int{64, 2}, false},
	}
	for _, tt := range tests {
		if got := (&TensorInfo{Dims: tt.dims}).HasShape(tt.want...); got != tt.ok {
			t.Errorf("%v HasShape(%v) = %v, want %v", tt.dims, tt.want, got, tt.ok)
		}
	}
}
