package gguf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// field is the position of a count or length field in a GGUF file.
type field struct{ off, size int }

// countFields walks a valid GGUF file independently of the parser and
// returns the positions of its counts and lengths: the header counts,
// string and array lengths, dimension counts and dimensions, and tensor
// offsets. It looks at no more than limit fields.
func countFields(t *testing.T, b []byte, limit int) []field {
	t.Helper()
	le := binary.LittleEndian
	pos := 8
	v1 := le.Uint32(b[4:]) == 1
	n := 8
	if v1 {
		n = 4
	}
	var fields []field
	rd := func(size int) uint64 {
		if len(fields) < limit {
			fields = append(fields, field{pos, size})
		}
		var x uint64
		if size == 4 {
			x = uint64(le.Uint32(b[pos:]))
		} else {
			x = le.Uint64(b[pos:])
		}
		pos += size
		return x
	}
	skipStr := func() { l := rd(n); pos += int(l) }
	nTensors := rd(n)
	nKV := rd(n)
	var value func(typ uint32)
	value = func(typ uint32) {
		switch ValueType(typ) {
		case TypeString:
			skipStr()
		case TypeArray:
			et := le.Uint32(b[pos:])
			pos += 4
			cnt := rd(n)
			for i := uint64(0); i < cnt; i++ {
				if s := ValueType(et).fixedSize(); s > 0 {
					pos += s * int(cnt)
					break
				}
				value(et)
			}
		default:
			pos += ValueType(typ).fixedSize()
		}
	}
	for i := uint64(0); i < nKV; i++ {
		skipStr()
		typ := le.Uint32(b[pos:])
		pos += 4
		value(typ)
	}
	for i := uint64(0); i < nTensors; i++ {
		skipStr()
		nd := rd(4)
		for j := uint64(0); j < nd; j++ {
			rd(n)
		}
		pos += 4 // type
		rd(8)    // offset
	}
	return fields
}

// TestCorruptedShared parses about a thousand damaged variants of shared
// files, never expecting a panic or an allocation above 256 MiB: each
// truncation (short of the end of the tensor data) and each huge count or
// length must give an error; a bit flip may also give a valid File (a
// flipped bit in a value), which must then hold together.
func TestCorruptedShared(t *testing.T) {
	names := []string{
		"testdata/models/stories260k.gguf",
		"testdata/models/stories260k-v1.gguf",
		"testdata/models/synth-llama-q4_k_m.gguf",
		"testdata/vocab/ggml-vocab-llama-spm.gguf",
	}
	rng := rand.New(rand.NewSource(1))
	// Huge values for 8-byte fields, and for 4-byte ones (v1 counts and
	// lengths, dimension counts), which must not wrap to small numbers.
	huge64 := []uint64{1<<64 - 1, 1 << 63, 1 << 62, 1 << 60, 1 << 40, 1<<32 - 1, 1 << 31, 0xFFFFFFF0, 12345678}
	huge32 := []uint64{1<<32 - 1, 1 << 31, 1<<31 - 1, 0xFFFFFFF0, 1 << 28, 12345678}
	variants := 0
	var ms0, ms1 runtime.MemStats
	try := func(name, what string, data []byte, mustFail bool) {
		t.Helper()
		variants++
		runtime.ReadMemStats(&ms0)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s: %s: panic: %v", name, what, r)
				}
			}()
			f, err := Parse(data)
			if err == nil {
				if mustFail {
					t.Errorf("%s: %s: parsed without an error", name, what)
				}
				checkValid(t, f, data)
			}
		}()
		runtime.ReadMemStats(&ms1)
		if grew := ms1.TotalAlloc - ms0.TotalAlloc; grew > 256<<20 {
			t.Errorf("%s: %s: parse allocated %d MiB", name, what, grew>>20)
		}
	}
	for _, name := range names {
		orig, err := os.ReadFile(testutil.SharedFile(t, name))
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(name)
		f, err := Parse(orig)
		if err != nil {
			t.Fatal(err)
		}
		header := min(int(f.DataOffset), len(orig)) // past the end in vocabularies
		// The end of the tensor data: the file may go on with padding.
		dataEnd := header
		for i := range f.Tensors {
			dataEnd = max(dataEnd, header+int(f.Tensors[i].Offset+f.Tensors[i].Size))
		}
		// Truncations: every byte of the first 64, then spread over the
		// metadata and tensor infos, then the data.
		for i := 0; i < 64; i++ {
			try(base, fmt.Sprint("truncated at ", i), orig[:i], true)
		}
		for i := 0; i < 60; i++ {
			n := 64 + rng.Intn(header-64)
			try(base, fmt.Sprint("truncated at ", n), orig[:n], true)
		}
		for i := 0; i < 10 && dataEnd > header; i++ {
			n := header + rng.Intn(dataEnd-header)
			try(base, fmt.Sprint("truncated at ", n), orig[:n], true)
		}
		// Bit flips in the header part.
		buf := make([]byte, len(orig))
		for i := 0; i < 60; i++ {
			copy(buf, orig)
			var what string
			for k := 0; k < 1+rng.Intn(4); k++ {
				bit := rng.Intn(header * 8)
				buf[bit/8] ^= 1 << (bit % 8)
				what += fmt.Sprintf(" %d.%d", bit/8, bit%8)
			}
			try(base, "bits flipped at"+what, buf, false)
		}
		// Huge values in count and length fields.
		fields := countFields(t, orig, 1<<20)
		for i := 0; i < 60; i++ {
			fl := fields[rng.Intn(len(fields))]
			if i < 8 {
				fl = fields[i%len(fields)]
			}
			copy(buf, orig)
			var h uint64
			if fl.size == 4 {
				h = huge32[rng.Intn(len(huge32))]
				binary.LittleEndian.PutUint32(buf[fl.off:], uint32(h))
			} else {
				h = huge64[rng.Intn(len(huge64))]
				binary.LittleEndian.PutUint64(buf[fl.off:], h)
			}
			try(base, fmt.Sprintf("%#x written at %d", h, fl.off), buf, true)
		}
	}
	t.Logf("%d variants", variants)
	if variants < 1000 {
		t.Errorf("only %d variants, want at least 1000", variants)
	}
}

// checkValid checks the invariants of a File that Parse accepted.
func checkValid(t *testing.T, f *File, data []byte) {
	t.Helper()
	if f.Alignment == 0 || f.Alignment&(f.Alignment-1) != 0 {
		t.Fatalf("alignment %d", f.Alignment)
	}
	// Without tensors the data section may be absent, its padding too.
	end := int64(len(data))
	if len(f.Tensors) == 0 {
		end += int64(f.Alignment) - 1
	}
	if f.DataOffset < 0 || f.DataOffset > end || uint64(f.DataOffset)%f.Alignment != 0 {
		t.Fatalf("data offset %d outside %d bytes or not aligned to %d", f.DataOffset, len(data), f.Alignment)
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		if d := f.TensorData(ti); uint64(len(d)) != ti.Size {
			t.Fatalf("tensor %q: %d bytes of data, want %d", ti.Name, len(d), ti.Size)
		}
	}
	// Whatever was read can be written and reads back the same.
	var b1 bytes.Buffer
	if err := Write(&b1, f.KV, f.Tensors, func(i int) ([]byte, error) { return f.TensorData(&f.Tensors[i]), nil }); err != nil {
		t.Fatalf("rewriting an accepted file: %v", err)
	}
	g, err := Parse(b1.Bytes())
	if err != nil {
		t.Fatalf("reparsing a rewritten file: %v", err)
	}
	var b2 bytes.Buffer
	if err := Write(&b2, g.KV, g.Tensors, func(i int) ([]byte, error) { return g.TensorData(&g.Tensors[i]), nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatal("write, parse, write is not stable")
	}
}

// TestCorruptCountsInLargeFile gives counts that fit a large file (32 MiB)
// but are corrupt: the items are not there, and parsing fails after a few
// of them. The parser must not reserve memory for all the items the count
// claims (several times the file's size for metadata pairs and strings):
// what it allocates must stay far below the file's size.
func TestCorruptCountsInLargeFile(t *testing.T) {
	const size = 32 << 20
	le := binary.LittleEndian
	tests := []struct {
		name string
		fill func(b []byte) // b is zeroed, with a v3 magic and version
	}{
		{"metadata count", func(b []byte) {
			// Zero bytes read as pairs with the empty key: the second is a duplicate.
			le.PutUint64(b[16:], (size-24)/13)
		}},
		{"tensor count", func(b []byte) {
			// Zero bytes read as a tensor with no dimensions.
			le.PutUint64(b[8:], (size-24)/24)
		}},
		{"array[string] length", func(b []byte) {
			le.PutUint64(b[16:], 1)
			r := &raw{}
			r.str("k")
			r.u32(uint32(TypeArray))
			r.u32(uint32(TypeString))
			r.u64((size - 24 - uint64(r.Len()) - 8) / 8)
			n := copy(b[24:], r.Bytes())
			le.PutUint64(b[24+n+10*8:], 1<<40) // the eleventh string is too long
		}},
		{"array[array] length", func(b []byte) {
			le.PutUint64(b[16:], 1)
			r := &raw{}
			r.str("k")
			r.u32(uint32(TypeArray))
			r.u32(uint32(TypeArray))
			r.u64((size - 24 - uint64(r.Len()) - 8) / 12)
			n := copy(b[24:], r.Bytes())
			le.PutUint32(b[24+n+10*12:], 99) // the eleventh element has an unknown type
		}},
	}
	data := make([]byte, size)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clear(data)
			copy(data, Magic)
			le.PutUint32(data[4:], 3)
			tt.fill(data)
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			_, err := Parse(data)
			runtime.ReadMemStats(&ms1)
			if err == nil {
				t.Fatal("parsed without an error")
			}
			if grew := ms1.TotalAlloc - ms0.TotalAlloc; grew > size/8 {
				t.Errorf("parsing %d MiB allocated %d KiB (%v)", size>>20, grew>>10, err)
			}
		})
	}
}
