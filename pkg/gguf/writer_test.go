package gguf

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// TestRoundTripShared reads every shared v3 file and writes it back: the
// output must be byte-identical to the input.
func TestRoundTripShared(t *testing.T) {
	for _, path := range testutil.SharedGGUFs(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(want)
			if err != nil {
				t.Fatal(err)
			}
			if f.Version != 3 {
				t.Skipf("version %d; the writer writes v3", f.Version)
			}
			var buf bytes.Buffer
			err = Write(&buf, f.KV, f.Tensors, func(i int) ([]byte, error) {
				return f.TensorData(&f.Tensors[i]), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			if !bytes.Equal(got, want) {
				n := 0
				for n < len(got) && n < len(want) && got[n] == want[n] {
					n++
				}
				t.Fatalf("rewritten file differs from the original at byte %d (lengths %d and %d)", n, len(got), len(want))
			}
		})
	}
}

// TestConvertV1 rewrites the v1 file as v3 and checks the result reads back
// with the same content.
func TestConvertV1(t *testing.T) {
	for _, path := range testutil.SharedGGUFs(t) {
		if !strings.Contains(path, "-v1") {
			continue
		}
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, f.KV, f.Tensors)
		if err != nil {
			t.Fatal(err)
		}
		for i := range f.Tensors {
			if err := w.WriteTensor(f.TensorData(&f.Tensors[i])); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if int64(buf.Len()) != w.Size() {
			t.Errorf("wrote %d bytes, Size() = %d", buf.Len(), w.Size())
		}
		g, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if g.Version != 3 || !reflect.DeepEqual(g.KV, f.KV) || !reflect.DeepEqual(g.Tensors, f.Tensors) || !reflect.DeepEqual(g.Tensors, w.Tensors()) {
			t.Error("v1 converted to v3 reads back differently")
		}
		for i := range g.Tensors {
			if !bytes.Equal(g.TensorData(&g.Tensors[i]), f.TensorData(&f.Tensors[i])) {
				t.Errorf("tensor %q data differs", g.Tensors[i].Name)
			}
		}
		f.Close()
	}
}

func TestWriterAllValueTypes(t *testing.T) {
	inputs := []any{
		uint8(1), int8(-2), uint16(3), int16(-4), uint32(5), int32(-6), float32(7.5), true, "str\xff",
		uint64(1 << 63), int64(-1 << 62), float64(-0.125),
		[]uint8{1, 2}, []int8{-1}, []uint16{}, []int16{-2, 3}, []uint32{4}, []int32{-5}, []float32{6.25},
		[]bool{true, false}, []string{"a", "", "b"}, []uint64{7}, []int64{-8}, []float64{9.5},
		[]Value{MustValueOf([]int32{1, 2}), MustValueOf([]string{"x"}), {Type: TypeArray, ElemType: TypeArray, V: []Value{MustValueOf([]bool{true})}}},
	}
	var kv []KV
	for i, x := range inputs {
		kv = append(kv, KV{Key: string(rune('a' + i)), Value: MustValueOf(x)})
	}
	kv = append(kv, KV{Key: KeyAlignment, Value: MustValueOf(uint32(64))})
	tensors := []TensorInfo{
		{Name: "x", Type: ggml.TypeF16, Dims: []uint64{3}, Offset: 999, Size: 1},
		{Name: "y", Type: ggml.TypeQ8_0, Dims: []uint64{32, 2}},
		{Name: "z", Type: ggml.TypeI8, Dims: []uint64{1, 1, 1, 5}},
	}
	data := [][]byte{bytes.Repeat([]byte{1}, 6), bytes.Repeat([]byte{2}, 68), bytes.Repeat([]byte{3}, 5)}
	var buf bytes.Buffer
	if err := Write(&buf, kv, tensors, func(i int) ([]byte, error) { return data[i], nil }); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.KV, kv) {
		t.Errorf("KV round trip:\n got %#v\nwant %#v", f.KV, kv)
	}
	if f.Alignment != 64 || f.DataOffset%64 != 0 {
		t.Errorf("alignment %d, data offset %d", f.Alignment, f.DataOffset)
	}
	wantOffsets := []uint64{0, 64, 192}
	for i, ti := range f.Tensors {
		if ti.Offset != wantOffsets[i] || !bytes.Equal(f.TensorData(&f.Tensors[i]), data[i]) {
			t.Errorf("tensor %q: offset %d (want %d), data %v", ti.Name, ti.Offset, wantOffsets[i], f.TensorData(&f.Tensors[i]))
		}
	}
	if len(buf.Bytes())%64 != 0 {
		t.Errorf("file length %d not padded to the alignment", buf.Len())
	}
}

func TestTypeName(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{MustValueOf(uint8(1)), "uint8"},
		{MustValueOf("s"), "string"},
		{MustValueOf([]float64{}), "array[float64]"},
		{MustValueOf([]Value{}), "array[array]"},
		{MustValueOf([]Value{MustValueOf([]int32{1}), MustValueOf([]int32{})}), "array[array[int32]]"},
		{MustValueOf([]Value{MustValueOf([]Value{MustValueOf([]bool{})})}), "array[array[array[bool]]]"},
		{MustValueOf([]Value{MustValueOf([]int32{1}), MustValueOf([]string{})}), "array[array]"},
		{Value{Type: ValueType(77)}, "type(77)"},
	}
	for _, tt := range tests {
		if got := tt.v.TypeName(); got != tt.want {
			t.Errorf("TypeName(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestWriterErrors(t *testing.T) {
	f32 := func(name string, dims ...uint64) TensorInfo {
		return TensorInfo{Name: name, Type: ggml.TypeF32, Dims: dims}
	}
	tests := []struct {
		name    string
		kv      []KV
		tensors []TensorInfo
		want    string
	}{
		{"duplicate key", []KV{{"a", MustValueOf(uint8(1))}, {"a", MustValueOf(uint8(1))}}, nil, `key "a": duplicate`},
		{"type mismatch", []KV{{"a", Value{Type: TypeUint32, V: "x"}}}, nil, `key "a": value of type uint32 holds a Go string`},
		{"array mismatch", []KV{{"a", Value{Type: TypeArray, ElemType: TypeInt32, V: []uint32{1}}}}, nil, `key "a"`},
		{"nested non-array", []KV{{"a", Value{Type: TypeArray, ElemType: TypeArray, V: []Value{MustValueOf(uint8(1))}}}}, nil, `key "a": element 0`},
		{"bad alignment", []KV{{KeyAlignment, MustValueOf(uint32(3))}}, nil, "general.alignment"},
		{"duplicate tensor", nil, []TensorInfo{f32("t", 1), f32("t", 1)}, `tensor "t": duplicate`},
		{"no dims", nil, []TensorInfo{f32("t")}, `tensor "t": no dimensions`},
		{"partial block", nil, []TensorInfo{{Name: "q", Type: ggml.TypeQ4_K, Dims: []uint64{32}}}, `tensor "q"`},
		{"unknown type", nil, []TensorInfo{{Name: "q", Type: ggml.Type(5), Dims: []uint64{32}}}, `tensor "q": unknown ggml type 5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewWriter(io.Discard, tt.kv, tt.tensors)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewWriter error %v, want %q", err, tt.want)
			}
		})
	}

	w, err := NewWriter(io.Discard, nil, []TensorInfo{f32("a", 2), f32("b", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor(make([]byte, 4)); err == nil || !strings.Contains(err.Error(), `tensor "a": have 4 bytes of data, want 8`) {
		t.Errorf("short tensor: %v", err)
	}
	if err := w.WriteTensor(make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil {
		t.Error("Close with a tensor missing succeeded")
	}
	if err := w.WriteTensor(make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor(make([]byte, 4)); err == nil {
		t.Error("WriteTensor past the last tensor succeeded")
	}
	if err := w.Close(); err != nil {
		t.Error(err)
	}
}
