package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// byteSwap returns a copy of the valid little-endian GGUF file b with every
// number of its header, metadata and tensor infos byte-swapped: the file a
// big-endian writer (such as llama.cpp's gguf-py endian converter) makes.
// Tensor data is left alone; the reader must stop long before it. It walks
// the file on its own, without the parser.
func byteSwap(t testing.TB, b []byte) []byte {
	t.Helper()
	out := slices.Clone(b)
	le := binary.LittleEndian
	pos := 4
	swap := func(size int) uint64 {
		if pos+size > len(out) {
			t.Fatalf("byteSwap: field at %d runs past the end (%d bytes)", pos, len(out))
		}
		var x uint64
		switch size {
		case 1:
			x = uint64(out[pos])
		case 2:
			x = uint64(le.Uint16(out[pos:]))
		case 4:
			x = uint64(le.Uint32(out[pos:]))
		case 8:
			x = le.Uint64(out[pos:])
		}
		slices.Reverse(out[pos : pos+size])
		pos += size
		return x
	}
	version := swap(4)
	lenSize := 8
	if version == 1 {
		lenSize = 4
	}
	str := func() { pos += int(swap(lenSize)) }
	var value func(typ ValueType)
	value = func(typ ValueType) {
		switch typ {
		case TypeString:
			str()
		case TypeArray:
			et := ValueType(swap(4))
			n := swap(lenSize)
			for range n {
				value(et)
			}
		default:
			size := typ.fixedSize()
			if size == 0 {
				t.Fatalf("byteSwap: unknown value type %d at %d", typ, pos)
			}
			swap(size)
		}
	}
	nTensors := swap(lenSize)
	nKV := swap(lenSize)
	for range nKV {
		str()
		value(ValueType(swap(4)))
	}
	for range nTensors {
		str()
		nDims := swap(4)
		for range nDims {
			swap(lenSize)
		}
		swap(4) // type
		swap(8) // offset
	}
	return out
}

// TestBigEndian byte-swaps every shared file (v1 and v3, models and
// vocabularies) and a hand-made v2 file: each must be rejected with an
// error that says the file is big-endian, from Parse and from Open (which
// also names the file).
func TestBigEndian(t *testing.T) {
	type input struct {
		name string
		data []byte
	}
	r := newRaw(2, 1, 2)
	r.kvStr("general.architecture", "llama")
	r.kvU32(KeyAlignment, 32)
	r.tensor("t", 0, 0, 4)
	r.pad(32)
	r.Write(make([]byte, 16))
	inputs := []input{{"hand-made-v2", r.Bytes()}}
	for _, path := range testutil.SharedGGUFs(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{filepath.Base(path), data})
	}
	versions := map[uint32]bool{}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			f, err := Parse(in.data)
			if err != nil {
				t.Fatalf("the little-endian original does not parse: %v", err)
			}
			versions[f.Version] = true
			swapped := byteSwap(t, in.data)
			_, err = Parse(swapped)
			if err == nil || !strings.Contains(err.Error(), "big-endian") {
				t.Fatalf("Parse(byte-swapped file) = %v, want a big-endian error", err)
			}
			if want := fmt.Sprintf("byte-swapped %d", f.Version); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not give the version (%q)", err, want)
			}
			path := filepath.Join(t.TempDir(), "be.gguf")
			if err := os.WriteFile(path, swapped, 0o644); err != nil {
				t.Fatal(err)
			}
			g, err := Open(path)
			if err == nil {
				g.Close()
				t.Fatal("Open(byte-swapped file) succeeded")
			}
			if !strings.Contains(err.Error(), "big-endian") || !strings.Contains(err.Error(), path) {
				t.Errorf("Open error %q should say big-endian and name %s", err, path)
			}
			if errors.Is(err, os.ErrNotExist) {
				t.Errorf("Open error %q is a file-system error", err)
			}
		})
	}
	for _, v := range []uint32{1, 2, 3} {
		if !versions[v] {
			t.Errorf("no version %d input was byte-swapped", v)
		}
	}
}
