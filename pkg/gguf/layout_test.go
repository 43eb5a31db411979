package gguf

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// rawTensor is a tensor info for rawFile.
type rawTensor struct {
	name   string
	typ    ggml.Type
	offset uint64
	dims   []uint64
}

// rawFile builds a v3 file with the tensor infos as given (offsets
// included), optionally general.alignment (0: absent), then the padding
// and dataLen bytes of data (byte i of the data section is i%251).
func rawFile(alignment uint32, tensors []rawTensor, dataLen int) []byte {
	nKV := uint64(0)
	if alignment != 0 {
		nKV = 1
	}
	r := newRaw(3, uint64(len(tensors)), nKV)
	if alignment != 0 {
		r.kvU32(KeyAlignment, alignment)
	} else {
		alignment = DefaultAlignment
	}
	for _, t := range tensors {
		r.tensor(t.name, t.typ, t.offset, t.dims...)
	}
	r.pad(int(alignment))
	for i := 0; i < dataLen; i++ {
		r.u8(byte(i % 251))
	}
	return r.Bytes()
}

// TestZeroExtent: a tensor with an extent of 0 has no elements and is
// accepted with size 0, as llama.cpp accepts it (its element count check
// is skipped for an empty tensor, and 0 is a multiple of any block size);
// the next tensor then starts at the same offset. An extent that is
// negative as an int64 is refused even when another one is 0.
func TestZeroExtent(t *testing.T) {
	tests := []struct {
		typ  ggml.Type
		dims []uint64
		want string // error, "" for none
	}{
		{ggml.TypeF32, []uint64{0}, ""},
		{ggml.TypeF32, []uint64{0, 4}, ""},
		{ggml.TypeF16, []uint64{4, 0}, ""},
		{ggml.TypeQ4_0, []uint64{0, 3}, ""},
		{ggml.TypeQ4_K, []uint64{256, 0, 2}, ""},
		{ggml.TypeF32, []uint64{5, 3, 0, 7}, ""},
		{ggml.TypeF32, []uint64{0, 1 << 62}, ""},
		{ggml.TypeF32, []uint64{0, 1 << 63}, `tensor "z": dimension 1: 9223372036854775808 elements, more than`},
		{ggml.TypeF32, []uint64{1<<64 - 1, 0}, `tensor "z": dimension 0: 18446744073709551615 elements`},
		{ggml.TypeQ4_0, []uint64{16, 0}, `tensor "z": type Q4_0: ne0 16 is not a multiple of the block size 32`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.typ, tt.dims), func(t *testing.T) {
			data := rawFile(0, []rawTensor{
				{"z", tt.typ, 0, tt.dims},
				{"b", ggml.TypeF32, 0, []uint64{8}},
			}, 32)
			f, err := Parse(data)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want it to contain %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			z, b := &f.Tensors[0], &f.Tensors[1]
			if z.Size != 0 || z.Elements() != 0 {
				t.Errorf("size %d, %d elements; want 0, 0", z.Size, z.Elements())
			}
			if d := f.TensorData(z); d == nil || len(d) != 0 {
				t.Errorf("TensorData = %v (nil %v), want an empty slice", d, d == nil)
			}
			if d := f.TensorData(b); len(d) != 32 || d[1] != 1 {
				t.Errorf("the next tensor's data: %v", d)
			}

			// The writer writes it too, and it reads back the same.
			var buf bytes.Buffer
			err = Write(&buf, nil, f.Tensors, func(i int) ([]byte, error) { return f.TensorData(&f.Tensors[i]), nil })
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), data) {
				t.Errorf("rewritten file differs")
			}
		})
	}
}

// TestTensorLayout: tensor data offsets are accepted exactly when
// llama.cpp's gguf_init accepts them: in the order of the tensor infos,
// the first at 0, each next one where the previous one ends rounded up to
// the alignment. Offsets out of order, overlapping, with a gap or
// misaligned are errors naming the tensor, the offset and the one wanted.
func TestTensorLayout(t *testing.T) {
	f32 := func(name string, offset uint64, n uint64) rawTensor {
		return rawTensor{name, ggml.TypeF32, offset, []uint64{n}}
	}
	tests := []struct {
		name      string
		alignment uint32
		tensors   []rawTensor
		dataLen   int
		want      string // error, "" for none
	}{
		{"back to back", 0, []rawTensor{f32("a", 0, 8), f32("b", 32, 3), f32("c", 64, 16)}, 128, ""},
		{"last padding missing", 0, []rawTensor{f32("a", 0, 8), f32("b", 32, 3)}, 44, ""},
		{"empty tensor between", 0, []rawTensor{f32("a", 0, 8), f32("e", 32, 0), f32("b", 32, 8)}, 64, ""},
		{"alignment 64", 64, []rawTensor{f32("a", 0, 8), f32("b", 64, 8)}, 96, ""},
		{"alignment 1", 1, []rawTensor{f32("a", 0, 3), f32("b", 12, 1)}, 16, ""},
		{"first not at 0", 0, []rawTensor{f32("a", 32, 8)}, 64, `tensor "a": data offset 32, want 0`},
		{"gap", 0, []rawTensor{f32("a", 0, 8), f32("b", 64, 8)}, 128, `tensor "b": data offset 64, want 32 (where tensor "a", 32 bytes at 0, ends, aligned to 32)`},
		{"overlap", 0, []rawTensor{f32("a", 0, 16), f32("b", 32, 8)}, 128, `tensor "b": data offset 32, want 64`},
		{"same offset", 0, []rawTensor{f32("a", 0, 8), f32("b", 0, 8)}, 64, `tensor "b": data offset 0, want 32`},
		{"out of order", 0, []rawTensor{f32("a", 32, 8), f32("b", 0, 8)}, 64, `tensor "a": data offset 32, want 0`},
		{"out of order later", 0, []rawTensor{f32("a", 0, 8), f32("b", 64, 8), f32("c", 32, 8)}, 96, `tensor "b": data offset 64, want 32`},
		{"misaligned", 0, []rawTensor{f32("a", 0, 3), f32("b", 12, 1)}, 64, `tensor "b": data offset 12, want 32`},
		{"padding ignored by 64", 64, []rawTensor{f32("a", 0, 8), f32("b", 32, 8)}, 128, `tensor "b": data offset 32, want 64`},
		{"past the end", 0, []rawTensor{f32("a", 0, 8), f32("b", 32, 8)}, 63, `tensor "b": data [32, 32+32) lies outside the data section (63 bytes)`},
		{"huge offset", 0, []rawTensor{f32("a", 0, 8), f32("b", 1<<64-32, 8)}, 64, `tensor "b": data offset 18446744073709551584, want 32`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(rawFile(tt.alignment, tt.tensors, tt.dataLen))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want it to contain %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range f.Tensors {
				ti := &f.Tensors[i]
				if d := f.TensorData(ti); uint64(len(d)) != ti.Size {
					t.Errorf("tensor %q: %d bytes of data, want %d", ti.Name, len(d), ti.Size)
				}
			}
		})
	}
}

// TestDataOffsetAligned: DataOffset is the end of the tensor infos rounded
// up to the alignment, as the GGUF specification and gguf-py's
// GGUFReader compute it, also without tensors, where the padding (and so
// the whole data section) may be missing from the file.
func TestDataOffsetAligned(t *testing.T) {
	tests := []struct {
		name      string
		alignment uint32 // 0: general.alignment absent
		key       string // a metadata string, to move the end of the header
		padded    bool   // the file holds the padding
		tensor    bool   // one 8-element F32 tensor
	}{
		{"no tensors, unpadded", 0, "x", false, false},
		{"no tensors, padded", 0, "x", true, false},
		{"no tensors, already aligned", 0, "abcdefghijklmnopqrstuvwxyz", false, false},
		{"no tensors, alignment 64", 64, "x", false, false},
		{"no tensors, alignment 1", 1, "x", false, false},
		{"a tensor", 0, "x", true, true},
		{"a tensor, alignment 64", 64, "xyz", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nKV, nT := uint64(1), uint64(0)
			if tt.alignment != 0 {
				nKV++
			}
			if tt.tensor {
				nT = 1
			}
			r := newRaw(3, nT, nKV)
			r.kvStr("k", tt.key)
			a := DefaultAlignment
			if tt.alignment != 0 {
				r.kvU32(KeyAlignment, tt.alignment)
				a = int(tt.alignment)
			}
			if tt.tensor {
				r.tensor("t", ggml.TypeF32, 0, 8)
			}
			end := r.Len()
			want := (end + a - 1) / a * a
			if tt.padded {
				r.pad(a)
			}
			if tt.tensor {
				r.Write(make([]byte, 32))
			}
			f, err := Parse(r.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if f.DataOffset != int64(want) {
				t.Errorf("DataOffset %d, want %d (header ends at %d, alignment %d)", f.DataOffset, want, end, a)
			}
		})
	}
}
