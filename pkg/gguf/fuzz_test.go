package gguf

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// miniature returns a small valid v3 file with the shape of f: its metadata
// with arrays cut to a few elements, and its first tensors shrunk to one
// block each.
func miniature(f *File) []byte {
	kv := make([]KV, len(f.KV))
	for i, e := range f.KV {
		kv[i] = KV{Key: e.Key, Value: shorten(e.Value)}
	}
	var tensors []TensorInfo
	for i, ti := range f.Tensors {
		if i == 4 {
			break
		}
		dims := make([]uint64, len(ti.Dims))
		for j := range dims {
			dims[j] = 1
		}
		dims[0] = uint64(ti.Type.BlockSize())
		tensors = append(tensors, TensorInfo{Name: ti.Name, Type: ti.Type, Dims: dims})
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, kv, tensors)
	if err != nil {
		return nil
	}
	for _, ti := range w.Tensors() {
		if w.WriteTensor(bytes.Repeat([]byte{0x3c}, int(ti.Size))) != nil {
			return nil
		}
	}
	return buf.Bytes()
}

func shorten(v Value) Value {
	const keep = 6
	switch a := v.V.(type) {
	case []string:
		if len(a) > keep {
			v.V = a[:keep]
		}
	case []float32:
		if len(a) > keep {
			v.V = a[:keep]
		}
	case []int32:
		if len(a) > keep {
			v.V = a[:keep]
		}
	case []uint32:
		if len(a) > keep {
			v.V = a[:keep]
		}
	}
	return v
}

// fuzzSeeds returns small GGUF files: hand-made ones of every version and
// value type, miniatures of the shared files and prefixes of them.
func fuzzSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, version := range []uint32{1, 2, 3} {
		r := newRaw(version, 1, 3)
		r.kvStr("general.architecture", "llama")
		r.kvU32(KeyAlignment, 16)
		r.str("a")
		r.u32(uint32(TypeArray))
		r.u32(uint32(TypeArray))
		r.count(1)
		r.u32(uint32(TypeFloat32))
		r.count(2)
		r.u32(0x7fc00001)
		r.u32(0x3f800000)
		r.tensor("t", ggml.TypeF16, 0, 2, 1)
		r.pad(16)
		r.u32(0x3c003c00)
		seeds = append(seeds, r.Bytes())
	}
	var kv []KV
	for i, x := range []any{uint8(1), int8(-1), uint16(2), int16(-2), uint32(3), int32(-3), float32(1.5), true, "s",
		uint64(4), int64(-4), float64(2.5), []int8{1}, []bool{true}, []uint64{1}, []float64{1}, []Value{MustValueOf([]string{"x"})}} {
		kv = append(kv, KV{Key: string(rune('a' + i)), Value: MustValueOf(x)})
	}
	var buf bytes.Buffer
	if err := Write(&buf, kv, []TensorInfo{{Name: "q", Type: ggml.TypeQ4_0, Dims: []uint64{32, 1, 1, 1}}},
		func(int) ([]byte, error) { return make([]byte, 18), nil }); err != nil {
		tb.Fatal(err)
	}
	seeds = append(seeds, buf.Bytes())

	// The shared files, when present (seeding must not require them).
	shared := os.Getenv("LLAMAFILE_SHARED")
	if shared == "" {
		shared = filepath.Join("..", "..", "..", "shared")
	}
	paths, _ := filepath.Glob(filepath.Join(shared, "testdata", "*", "*.gguf"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f, err := Parse(data)
		if err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		if m := miniature(f); m != nil {
			seeds = append(seeds, m)
		}
		for _, n := range []int{24, 200, 2000} {
			if n < len(data) {
				seeds = append(seeds, data[:n])
			}
		}
	}
	return seeds
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		file, err := Parse(data)
		runtime.ReadMemStats(&ms1)
		if grew := ms1.TotalAlloc - ms0.TotalAlloc; grew > 64<<20+uint64(len(data))*64 {
			t.Fatalf("parsing %d bytes allocated %d bytes", len(data), grew)
		}
		if err != nil {
			return
		}
		checkValid(t, file, data)
	})
}
