package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// raw builds GGUF bytes field by field, independently of Writer, so tests
// can make valid and malformed files.
type raw struct {
	bytes.Buffer
	v1 bool
}

func newRaw(version uint32, nTensors, nKV uint64) *raw {
	r := &raw{v1: version == 1}
	r.WriteString("GGUF")
	r.u32(version)
	r.count(nTensors)
	r.count(nKV)
	return r
}

func (r *raw) u8(x uint8)   { r.WriteByte(x) }
func (r *raw) u32(x uint32) { binary.Write(r, binary.LittleEndian, x) }
func (r *raw) u64(x uint64) { binary.Write(r, binary.LittleEndian, x) }
func (r *raw) count(n uint64) {
	if r.v1 {
		r.u32(uint32(n))
	} else {
		r.u64(n)
	}
}
func (r *raw) str(s string) { r.count(uint64(len(s))); r.WriteString(s) }
func (r *raw) kvU32(key string, v uint32) {
	r.str(key)
	r.u32(uint32(TypeUint32))
	r.u32(v)
}
func (r *raw) kvStr(key, v string) {
	r.str(key)
	r.u32(uint32(TypeString))
	r.str(v)
}

// tensor writes a tensor info.
func (r *raw) tensor(name string, typ ggml.Type, offset uint64, dims ...uint64) {
	r.str(name)
	r.u32(uint32(len(dims)))
	for _, d := range dims {
		r.count(d)
	}
	r.u32(uint32(typ))
	r.u64(offset)
}

// pad pads to a multiple of a.
func (r *raw) pad(a int) {
	for r.Len()%a != 0 {
		r.WriteByte(0)
	}
}

func TestParseHandMade(t *testing.T) {
	for _, version := range []uint32{1, 2, 3} {
		t.Run(fmt.Sprint("v", version), func(t *testing.T) {
			r := newRaw(version, 2, 5)
			r.kvStr("general.architecture", "llama")
			r.kvU32("llama.block_count", 7)
			r.str("nested")
			r.u32(uint32(TypeArray))
			r.u32(uint32(TypeArray))
			r.count(2)
			r.u32(uint32(TypeInt16))
			r.count(3)
			for _, x := range []int16{-1, 2, -3} {
				binary.Write(r, binary.LittleEndian, x)
			}
			r.u32(uint32(TypeString))
			r.count(1)
			r.str("\xff\xfe")
			r.str("flag")
			r.u32(uint32(TypeBool))
			r.u8(1)
			r.str("f64")
			r.u32(uint32(TypeFloat64))
			r.u64(math.Float64bits(-2.5))
			r.tensor("a", ggml.TypeF32, 0, 3, 2)
			r.tensor("b", ggml.TypeQ4_0, 32, 32)
			r.pad(32)
			dataOff := r.Len()
			for i := 0; i < 24; i++ {
				r.u8(byte(i))
			}
			r.pad(32)
			for i := 0; i < 18; i++ {
				r.u8(byte(100 + i))
			}
			f, err := Parse(r.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if f.Version != version || f.Alignment != 32 || f.DataOffset != int64(dataOff) {
				t.Errorf("header: version %d alignment %d data offset %d, want %d 32 %d", f.Version, f.Alignment, f.DataOffset, version, dataOff)
			}
			if got := f.Architecture(); got != "llama" {
				t.Errorf("Architecture = %q", got)
			}
			if n, err := f.GetUint("llama.block_count"); err != nil || n != 7 {
				t.Errorf("GetUint = %d, %v", n, err)
			}
			if b, err := f.GetBool("flag"); err != nil || !b {
				t.Errorf("GetBool = %v, %v", b, err)
			}
			if x, err := f.GetFloat("f64"); err != nil || x != -2.5 {
				t.Errorf("GetFloat = %v, %v", x, err)
			}
			nested, _ := f.Get("nested")
			want := Value{Type: TypeArray, ElemType: TypeArray, V: []Value{
				{Type: TypeArray, ElemType: TypeInt16, V: []int16{-1, 2, -3}},
				{Type: TypeArray, ElemType: TypeString, V: []string{"\xff\xfe"}},
			}}
			if !reflect.DeepEqual(nested, want) {
				t.Errorf("nested = %#v\nwant %#v", nested, want)
			}
			if got := nested.TypeName(); got != "array[array]" {
				t.Errorf("TypeName of mixed nested arrays = %q", got)
			}
			a, ok := f.Tensor("a")
			if !ok || a.Size != 24 || a.Elements() != 6 || !bytes.Equal(f.TensorData(a), r.Bytes()[dataOff:dataOff+24]) {
				t.Errorf("tensor a = %+v, %v", a, ok)
			}
			b, ok := f.Tensor("b")
			if !ok || b.Size != 18 || len(f.TensorData(b)) != 18 || f.TensorData(b)[0] != 100 {
				t.Errorf("tensor b = %+v, %v", b, ok)
			}
			if _, ok := f.Tensor("c"); ok {
				t.Error("Tensor(c) found")
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	// header returns a v3 file with the given tensors and kv count.
	header := func(nTensors, nKV uint64) *raw { return newRaw(3, nTensors, nKV) }
	tests := []struct {
		name string
		data func() []byte
		want string
	}{
		{"empty", func() []byte { return nil }, "not a GGUF file"},
		{"magic", func() []byte { return []byte("GGML\x03\x00\x00\x00") }, "magic"},
		{"big-endian", func() []byte { return []byte("GGUF\x00\x00\x00\x03" + strings.Repeat("\x00", 16)) }, "big-endian GGUF files are not supported"},
		{"version 0", func() []byte { return []byte("GGUF\x00\x00\x00\x00") }, "version 0"},
		{"version 4", func() []byte { return []byte("GGUF\x04\x00\x00\x00" + strings.Repeat("\x00", 16)) }, "unsupported version 4"},
		{"truncated header", func() []byte { return []byte("GGUF\x03\x00\x00\x00\x00") }, "unexpected end of file"},
		{"huge kv count", func() []byte { return header(0, 1<<60).Bytes() }, "metadata count"},
		{"huge tensor count", func() []byte { return header(1<<60, 0).Bytes() }, "tensor count"},
		{"huge array", func() []byte {
			r := header(0, 1)
			r.str("big")
			r.u32(uint32(TypeArray))
			r.u32(uint32(TypeUint64))
			r.u64(1 << 60)
			return r.Bytes()
		}, `key "big": array[uint64] length`},
		{"huge string array", func() []byte {
			r := header(0, 1)
			r.str("big")
			r.u32(uint32(TypeArray))
			r.u32(uint32(TypeString))
			r.u64(1<<64 - 1)
			return r.Bytes()
		}, `key "big"`},
		{"huge string", func() []byte {
			r := header(0, 1)
			r.str("s")
			r.u32(uint32(TypeString))
			r.u64(1 << 62)
			return r.Bytes()
		}, `key "s": string length`},
		{"unknown value type", func() []byte {
			r := header(0, 1)
			r.str("k")
			r.u32(13)
			return r.Bytes()
		}, `key "k": unknown value type 13`},
		{"unknown element type", func() []byte {
			r := header(0, 1)
			r.str("k")
			r.u32(uint32(TypeArray))
			r.u32(99)
			r.u64(0)
			return r.Bytes()
		}, `key "k": unknown array element type 99`},
		{"deep nesting", func() []byte {
			r := header(0, 1)
			r.str("deep")
			r.u32(uint32(TypeArray))
			for i := 0; i < 100; i++ {
				r.u32(uint32(TypeArray))
				r.u64(1)
			}
			return r.Bytes()
		}, `key "deep"`},
		{"duplicate key", func() []byte {
			r := header(0, 2)
			r.kvU32("a", 1)
			r.kvU32("a", 2)
			return r.Bytes()
		}, `key "a": duplicate key`},
		{"alignment not power of two", func() []byte {
			r := header(0, 1)
			r.kvU32(KeyAlignment, 24)
			return r.Bytes()
		}, `key "general.alignment"`},
		{"alignment zero", func() []byte {
			r := header(0, 1)
			r.kvU32(KeyAlignment, 0)
			return r.Bytes()
		}, `key "general.alignment"`},
		{"alignment string", func() []byte {
			r := header(0, 1)
			r.kvStr(KeyAlignment, "32")
			return r.Bytes()
		}, `key "general.alignment": have string`},
		{"too many dims", func() []byte {
			r := header(1, 0)
			r.tensor("t", ggml.TypeF32, 0, 1, 1, 1, 1, 1)
			return r.Bytes()
		}, `tensor "t": dimension count 5`},
		{"zero dims", func() []byte {
			r := header(1, 0)
			r.tensor("t", ggml.TypeF32, 0)
			return r.Bytes()
		}, `tensor "t": dimension count is 0`},
		{"unknown ggml type", func() []byte {
			r := header(1, 0)
			r.tensor("t", ggml.Type(4), 0, 4)
			return r.Bytes()
		}, `tensor "t": unknown ggml type 4`},
		{"element overflow", func() []byte {
			r := header(1, 0)
			r.tensor("t", ggml.TypeF32, 0, 1<<32, 1<<32)
			r.pad(32)
			return r.Bytes()
		}, `tensor "t": shape`},
		{"byte size overflow", func() []byte {
			r := header(1, 0)
			r.tensor("t", ggml.TypeF64, 0, 1<<62)
			r.pad(32)
			return r.Bytes()
		}, `tensor "t": shape`},
		{"partial block", func() []byte {
			r := header(1, 0)
			r.tensor("t", ggml.TypeQ4_0, 0, 16)
			r.pad(32)
			return r.Bytes()
		}, `tensor "t": type Q4_0: ne0 16`},
		{"duplicate tensor", func() []byte {
			r := header(2, 0)
			r.tensor("t", ggml.TypeF32, 0, 1)
			r.tensor("t", ggml.TypeF32, 32, 1)
			r.pad(32)
			r.Write(make([]byte, 64))
			return r.Bytes()
		}, `tensor "t": duplicate tensor name`},
		{"data past end", func() []byte {
			r := header(1, 0)
			r.tensor("t", ggml.TypeF32, 0, 8)
			r.pad(32)
			r.Write(make([]byte, 31))
			return r.Bytes()
		}, `tensor "t": data`},
		{"offset overflow", func() []byte {
			r := header(1, 0)
			r.tensor("t", ggml.TypeF32, 1<<64-32, 8)
			r.pad(32)
			r.Write(make([]byte, 64))
			return r.Bytes()
		}, `tensor "t": data`},
		{"misaligned offset", func() []byte {
			r := header(1, 0)
			r.tensor("t", ggml.TypeF32, 4, 1)
			r.pad(32)
			r.Write(make([]byte, 64))
			return r.Bytes()
		}, `tensor "t": data offset 4, want 0`},
		{"data section past end", func() []byte {
			r := header(1, 0)
			r.tensor("t", ggml.TypeF32, 0, 0)
			return r.Bytes()
		}, "data section"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.data())
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", f)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "gguf: ") {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestGetters(t *testing.T) {
	kvs := []struct {
		key string
		v   any
	}{
		{"u8", uint8(200)}, {"i8", int8(-5)}, {"u64big", uint64(1 << 63)}, {"i64", int64(-1 << 40)},
		{"f32", float32(0.5)}, {"s", "text"}, {"b", false},
		{"i32s", []int32{1, -2, 3}}, {"u32s", []uint32{1, 1 << 31}}, {"u8s", []uint8{0, 255}},
		{"f32s", []float32{1.5, -2}}, {"f64s", []float64{0.25}}, {"ss", []string{"x", "y"}},
		{"u64s", []uint64{1 << 63}},
	}
	var kv []KV
	for _, e := range kvs {
		kv = append(kv, KV{e.key, MustValueOf(e.v)})
	}
	var buf bytes.Buffer
	if err := Write(&buf, kv, nil, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got any, err error, want any, wantErr string) {
		t.Helper()
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%s: error %v, want %q", name, err, wantErr)
			}
			return
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, %v; want %v", name, got, err, want)
		}
	}
	u, err := f.GetUint("u8")
	check("GetUint(u8)", u, err, uint64(200), "")
	u, err = f.GetUint("i8")
	check("GetUint(i8)", u, err, nil, "negative")
	u, err = f.GetUint("u64big")
	check("GetUint(u64big)", u, err, uint64(1<<63), "")
	i, err := f.GetInt("u64big")
	check("GetInt(u64big)", i, err, nil, "overflows int64")
	i, err = f.GetInt("i64")
	check("GetInt(i64)", i, err, int64(-1<<40), "")
	i, err = f.GetInt("s")
	check("GetInt(s)", i, err, nil, `gguf: key "s": have string, want integer`)
	x, err := f.GetFloat("f32")
	check("GetFloat(f32)", x, err, 0.5, "")
	x, err = f.GetFloat("i8")
	check("GetFloat(i8)", x, err, -5.0, "")
	x, err = f.GetFloat("b")
	check("GetFloat(b)", x, err, nil, "have bool, want number")
	s, err := f.GetString("s")
	check("GetString", s, err, "text", "")
	s, err = f.GetString("u8")
	check("GetString(u8)", s, err, nil, "have uint8, want string")
	b, err := f.GetBool("b")
	check("GetBool", b, err, false, "")
	is, err := f.GetInt32s("i32s")
	check("GetInt32s", is, err, []int32{1, -2, 3}, "")
	is, err = f.GetInt32s("u8s")
	check("GetInt32s(u8s)", is, err, []int32{0, 255}, "")
	is, err = f.GetInt32s("u32s")
	check("GetInt32s(u32s)", is, err, nil, "element 1 (2147483648) is out of the int32 range")
	is, err = f.GetInt32s("u64s")
	check("GetInt32s(u64s)", is, err, nil, "out of the int32 range")
	is, err = f.GetInt32s("ss")
	check("GetInt32s(ss)", is, err, nil, "have array[string], want array[int32]")
	fs, err := f.GetFloat32s("f32s")
	check("GetFloat32s", fs, err, []float32{1.5, -2}, "")
	fs, err = f.GetFloat32s("f64s")
	check("GetFloat32s(f64s)", fs, err, []float32{0.25}, "")
	fs, err = f.GetFloat32s("i32s")
	check("GetFloat32s(i32s)", fs, err, []float32{1, -2, 3}, "")
	ss, err := f.GetStrings("ss")
	check("GetStrings", ss, err, []string{"x", "y"}, "")
	ss[0] = "changed"
	if again, _ := f.GetStrings("ss"); again[0] != "x" {
		t.Error("GetStrings returned the file's own slice")
	}
	for _, get := range []func(string) error{
		func(k string) error { _, err := f.GetString(k); return err },
		func(k string) error { _, err := f.GetUint(k); return err },
		func(k string) error { _, err := f.GetInt(k); return err },
		func(k string) error { _, err := f.GetFloat(k); return err },
		func(k string) error { _, err := f.GetBool(k); return err },
		func(k string) error { _, err := f.GetStrings(k); return err },
		func(k string) error { _, err := f.GetFloat32s(k); return err },
		func(k string) error { _, err := f.GetInt32s(k); return err },
	} {
		err := get("missing.key")
		if !errors.Is(err, ErrKeyNotFound) || !strings.Contains(err.Error(), `"missing.key"`) {
			t.Errorf("missing key: error %v", err)
		}
	}
	if f.Architecture() != "" {
		t.Errorf("Architecture = %q, want empty", f.Architecture())
	}
}

func TestSharedFiles(t *testing.T) {
	for _, path := range testutil.SharedGGUFs(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			end := fi.Size()
			if len(f.Tensors) == 0 {
				// Vocabularies end without the padding.
				end += int64(f.Alignment) - 1
			}
			if f.DataOffset <= 0 || f.DataOffset > end || uint64(f.DataOffset)%f.Alignment != 0 {
				t.Errorf("data offset %d outside file of %d bytes or not aligned to %d", f.DataOffset, fi.Size(), f.Alignment)
			}
			if f.Architecture() == "" {
				t.Error("no general.architecture")
			}
			// Tensor data is laid out back to back, each aligned, as
			// llama.cpp writes it.
			next := uint64(0)
			for i := range f.Tensors {
				ti := &f.Tensors[i]
				if ti.Offset != next {
					t.Errorf("tensor %q at offset %d, want %d", ti.Name, ti.Offset, next)
				}
				next = alignUp(ti.Offset+ti.Size, f.Alignment)
				if got := f.TensorData(ti); uint64(len(got)) != ti.Size {
					t.Errorf("tensor %q: TensorData has %d bytes, want %d", ti.Name, len(got), ti.Size)
				}
				if p, ok := f.Tensor(ti.Name); !ok || p != ti {
					t.Errorf("Tensor(%q) did not find it", ti.Name)
				}
			}
			if len(f.Tensors) > 0 {
				if uint64(f.DataOffset)+next != uint64(fi.Size()) {
					t.Errorf("data ends at %d, file at %d", uint64(f.DataOffset)+next, fi.Size())
				}
				arch := f.Architecture()
				blocks, err := f.GetUint(arch + ".block_count")
				if err != nil {
					t.Fatal(err)
				}
				for b := uint64(0); b < blocks; b++ {
					if _, ok := f.Tensor(fmt.Sprintf("blk.%d.attn_norm.weight", b)); !ok {
						t.Errorf("block_count %d but no blk.%d.attn_norm.weight", blocks, b)
					}
				}
				if _, ok := f.Tensor(fmt.Sprintf("blk.%d.attn_norm.weight", blocks)); ok {
					t.Errorf("block_count %d but a block %d exists", blocks, blocks)
				}
			}
			tokens, err := f.GetStrings("tokenizer.ggml.tokens")
			if err != nil {
				t.Fatal(err)
			}
			if n, err := f.GetUint(f.Architecture() + ".vocab_size"); err == nil && n != uint64(len(tokens)) {
				t.Errorf("vocab_size %d, %d tokens", n, len(tokens))
			}
			if emb, ok := f.Tensor("token_embd.weight"); ok && emb.Dims[1] != uint64(len(tokens)) {
				t.Errorf("token_embd.weight %v, %d tokens", emb.Dims, len(tokens))
			}
			if err := f.Close(); err != nil {
				t.Error(err)
			}
			if len(f.Tensors) > 0 && f.TensorData(&f.Tensors[0]) != nil {
				t.Error("TensorData after Close is not nil")
			}
		})
	}
}

// TestV1MatchesV3 compares stories260k in GGUF v1 and v3: the same model,
// so the same metadata values and tensors.
func TestV1MatchesV3(t *testing.T) {
	v1, err := Open(testutil.SharedFile(t, "testdata/models/stories260k-v1.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer v1.Close()
	v3, err := Open(testutil.SharedFile(t, "testdata/models/stories260k.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer v3.Close()
	if v1.Version != 1 || v3.Version != 3 {
		t.Fatalf("versions %d and %d", v1.Version, v3.Version)
	}
	for _, kv := range v1.KV {
		other, ok := v3.Get(kv.Key)
		if !ok {
			t.Errorf("key %q only in v1", kv.Key)
			continue
		}
		if !reflect.DeepEqual(kv.Value, other) {
			t.Errorf("key %q: v1 %s, v3 %s differ", kv.Key, kv.Value.TypeName(), other.TypeName())
		}
	}
	if len(v1.Tensors) != len(v3.Tensors) || len(v1.Tensors) == 0 {
		t.Fatalf("%d and %d tensors", len(v1.Tensors), len(v3.Tensors))
	}
	for i := range v1.Tensors {
		a, b := &v1.Tensors[i], &v3.Tensors[i]
		if !reflect.DeepEqual(*a, *b) {
			t.Errorf("tensor %d: %+v vs %+v", i, *a, *b)
		}
		if !bytes.Equal(v1.TensorData(a), v3.TensorData(b)) {
			t.Errorf("tensor %q: data differs", a.Name)
		}
	}
}

// openEmbedded writes data between prefix and a trailer into a new file and
// opens the GGUF there with OpenFile, as a llamafile's engine opens one in
// its zip; it returns the GGUF, closed when the test ends, and the outer
// file's path.
func openEmbedded(t *testing.T, prefix, data []byte) (*File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "outer")
	if err := os.WriteFile(path, append(append(prefix, data...), "trailer"...), 0o644); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(fh, int64(len(prefix)), int64(len(data)))
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, path
}

func TestOpenFileRange(t *testing.T) {
	src := testutil.SharedFile(t, "testdata/models/stories260k.gguf")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// Embed the GGUF at an odd offset inside a larger file.
	f, path := openEmbedded(t, bytes.Repeat([]byte("x"), 12345), data)
	want, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if f.DataOffset != want.DataOffset || len(f.Tensors) != len(want.Tensors) {
		t.Fatalf("OpenFile: data offset %d, %d tensors; want %d, %d", f.DataOffset, len(f.Tensors), want.DataOffset, len(want.Tensors))
	}
	for i := range f.Tensors {
		if !bytes.Equal(f.TensorData(&f.Tensors[i]), want.TensorData(&want.Tensors[i])) {
			t.Errorf("tensor %q differs", f.Tensors[i].Name)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.gguf")); err == nil {
		t.Error("Open of a missing file succeeded")
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Open(non-GGUF) error %v, want one naming the file", err)
	}
}
