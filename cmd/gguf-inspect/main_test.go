package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// runCmd runs the built command and returns stdout, stderr and the exit
// status.
func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testutil.Command(t, "gguf-inspect"), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	if strings.Contains(stderr.String(), "goroutine ") || strings.Contains(stderr.String(), "panic:") {
		t.Errorf("stack trace on stderr:\n%s", stderr.String())
	}
	return stdout.String(), stderr.String(), code
}

// jsonDoc is the --json output for one file.
type jsonDoc struct {
	File       any         `json:"file"`
	Version    json.Number `json:"version"`
	Alignment  json.Number `json:"alignment"`
	DataOffset json.Number `json:"data_offset"`
	Metadata   []struct {
		Key   any    `json:"key"`
		Type  string `json:"type"`
		Value any    `json:"value"`
	} `json:"metadata"`
	Tensors []struct {
		Name   any           `json:"name"`
		Type   string        `json:"type"`
		Shape  []json.Number `json:"shape"`
		Offset json.Number   `json:"offset"`
		Size   json.Number   `json:"size"`
	} `json:"tensors"`
}

// decodeDocs decodes the documents of a --json run, strictly.
func decodeDocs(t *testing.T, out string) []jsonDoc {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var docs []jsonDoc
	for {
		var d jsonDoc
		err := dec.Decode(&d)
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatalf("decoding JSON output: %v", err)
		}
		docs = append(docs, d)
	}
}

// A canonical form of metadata, for comparing the three sources: scalars
// become tagged strings ("u:5", "i:-3", "f32:<bits>", "b:true", "s:<bytes>"),
// arrays []any.

// jsonString decodes a string as the command writes it: a JSON string, or
// {"base64": ...} for invalid UTF-8.
func jsonString(t *testing.T, j any) string {
	t.Helper()
	switch j := j.(type) {
	case string:
		return j
	case map[string]any:
		s, _ := j["base64"].(string)
		b, err := base64.StdEncoding.DecodeString(s)
		if len(j) != 1 || err != nil {
			t.Fatalf("bad string object %v", j)
		}
		if string(b) == string([]rune(string(b))) && isValidUTF8(b) {
			t.Errorf("valid UTF-8 %q written as base64", b)
		}
		return string(b)
	}
	t.Fatalf("have %T %v, want a string", j, j)
	return ""
}

func isValidUTF8(b []byte) bool { return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) }

func canonFloat(x float64, bitSize int) string {
	if math.IsNaN(x) {
		return fmt.Sprintf("f%d:NaN", bitSize)
	}
	if bitSize == 32 {
		return fmt.Sprintf("f32:%#x", math.Float32bits(float32(x)))
	}
	return fmt.Sprintf("f64:%#x", math.Float64bits(x))
}

// canonJSON converts a JSON value of the given type name.
func canonJSON(t *testing.T, typ string, j any) any {
	t.Helper()
	if inner, ok := strings.CutPrefix(typ, "array["); ok {
		inner = strings.TrimSuffix(inner, "]")
		arr, ok := j.([]any)
		if !ok {
			t.Fatalf("type %s: have %T, want an array", typ, j)
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			et := inner
			if inner == "array" {
				et = "array[?]" // element type unknown: taken from the element itself
			}
			out[i] = canonJSON(t, et, e)
		}
		return out
	}
	switch typ {
	case "string":
		return "s:" + jsonString(t, j)
	case "bool":
		b, ok := j.(bool)
		if !ok {
			t.Fatalf("bool: have %T", j)
		}
		return fmt.Sprint("b:", b)
	case "float32", "float64":
		bitSize := 64
		if typ == "float32" {
			bitSize = 32
		}
		var s string
		switch j := j.(type) {
		case json.Number:
			s = j.String()
		case string:
			if j != "NaN" && j != "Infinity" && j != "-Infinity" {
				t.Fatalf("%s: unexpected string %q", typ, j)
			}
			s = j
		default:
			t.Fatalf("%s: have %T", typ, j)
		}
		x, err := strconv.ParseFloat(s, bitSize)
		if err != nil {
			t.Fatalf("%s %q: %v", typ, s, err)
		}
		return canonFloat(x, bitSize)
	case "uint8", "uint16", "uint32", "uint64":
		n, ok := j.(json.Number)
		if _, err := strconv.ParseUint(n.String(), 10, 64); !ok || err != nil {
			t.Fatalf("%s: have %v", typ, j)
		}
		return "u:" + n.String()
	case "int8", "int16", "int32", "int64":
		n, ok := j.(json.Number)
		if _, err := strconv.ParseInt(n.String(), 10, 64); !ok || err != nil {
			t.Fatalf("%s: have %v", typ, j)
		}
		return "i:" + n.String()
	case "array[?]":
		// An inner array whose type the outer type name does not spell.
		if arr, ok := j.([]any); ok {
			return canonJSON(t, "array[json]", arr)
		}
	case "json":
		// Untyped inner element: keep the JSON text.
		b, _ := json.Marshal(j)
		return "json:" + string(b)
	}
	t.Fatalf("unknown type %q", typ)
	return nil
}

// canonValue converts a gguf.Value.
func canonValue(v gguf.Value) any {
	if v.Type == gguf.TypeArray {
		rv := reflect.ValueOf(v.V)
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = canonScalar(rv.Index(i).Interface())
		}
		return out
	}
	return canonScalar(v.V)
}

func canonScalar(x any) any {
	switch x := x.(type) {
	case gguf.Value:
		return canonValue(x)
	case string:
		return "s:" + x
	case bool:
		return fmt.Sprint("b:", x)
	case float32:
		return canonFloat(float64(x), 32)
	case float64:
		return canonFloat(x, 64)
	case uint8, uint16, uint32, uint64:
		return fmt.Sprint("u:", x)
	case int8, int16, int32, int64:
		return fmt.Sprint("i:", x)
	}
	return fmt.Sprintf("?%T", x)
}

// refFile is what the independent reader below finds in a file.
type refFile struct {
	version    uint32
	alignment  uint64
	dataOffset int64
	keys       []string
	types      []string
	values     []any // canonical form
	tensors    []refTensor
}

type refTensor struct {
	name   string
	typ    uint32
	shape  []uint64
	offset uint64
	size   uint64
}

// readRef is a minimal sequential GGUF decoder (binary.Read on a buffered
// reader), written independently of pkg/gguf as a cross-check. It trusts
// its input: only for the well-formed shared files.
func readRef(t *testing.T, path string) *refFile {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := &countingReader{r: bufio.NewReader(fh)}
	rd := func(p any) {
		if err := binary.Read(r, binary.LittleEndian, p); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var magic [4]byte
	var version uint32
	rd(&magic)
	rd(&version)
	count := func() uint64 {
		if version == 1 {
			var n uint32
			rd(&n)
			return uint64(n)
		}
		var n uint64
		rd(&n)
		return n
	}
	str := func() string {
		b := make([]byte, count())
		rd(b)
		return string(b)
	}
	names := []string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}
	var value func(typ uint32) (any, string)
	value = func(typ uint32) (any, string) {
		switch typ {
		case 0:
			var x uint8
			rd(&x)
			return fmt.Sprint("u:", x), names[typ]
		case 1:
			var x int8
			rd(&x)
			return fmt.Sprint("i:", x), names[typ]
		case 2:
			var x uint16
			rd(&x)
			return fmt.Sprint("u:", x), names[typ]
		case 3:
			var x int16
			rd(&x)
			return fmt.Sprint("i:", x), names[typ]
		case 4:
			var x uint32
			rd(&x)
			return fmt.Sprint("u:", x), names[typ]
		case 5:
			var x int32
			rd(&x)
			return fmt.Sprint("i:", x), names[typ]
		case 6:
			var x float32
			rd(&x)
			return canonFloat(float64(x), 32), names[typ]
		case 7:
			var x uint8
			rd(&x)
			return fmt.Sprint("b:", x != 0), names[typ]
		case 8:
			return "s:" + str(), names[typ]
		case 9:
			var et uint32
			rd(&et)
			n := count()
			out := make([]any, n)
			inner := names[et]
			for i := range out {
				var tn string
				out[i], tn = value(et)
				if i == 0 {
					inner = tn
				}
			}
			return out, "array[" + inner + "]"
		case 10:
			var x uint64
			rd(&x)
			return fmt.Sprint("u:", x), names[typ]
		case 11:
			var x int64
			rd(&x)
			return fmt.Sprint("i:", x), names[typ]
		case 12:
			var x float64
			rd(&x)
			return canonFloat(x, 64), names[typ]
		}
		t.Fatalf("%s: value type %d", path, typ)
		return nil, ""
	}
	f := &refFile{version: version, alignment: 32}
	nTensors := count()
	nKV := count()
	for i := uint64(0); i < nKV; i++ {
		key := str()
		var typ uint32
		rd(&typ)
		v, tn := value(typ)
		f.keys = append(f.keys, key)
		f.types = append(f.types, tn)
		f.values = append(f.values, v)
		if key == "general.alignment" {
			a, _ := strconv.ParseUint(strings.TrimPrefix(v.(string), "u:"), 10, 64)
			f.alignment = a
		}
	}
	for i := uint64(0); i < nTensors; i++ {
		var ti refTensor
		ti.name = str()
		var nd uint32
		rd(&nd)
		n := uint64(1)
		for j := uint32(0); j < nd; j++ {
			d := count()
			ti.shape = append(ti.shape, d)
			n *= d
		}
		rd(&ti.typ)
		rd(&ti.offset)
		typ := ggml.Type(ti.typ)
		ti.size = n / uint64(typ.BlockSize()) * uint64(typ.BlockBytes())
		f.tensors = append(f.tensors, ti)
	}
	// Aligned as the specification says, with or without tensors.
	a := int64(f.alignment)
	f.dataOffset = (r.n + a - 1) / a * a
	return f
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestJSONMatchesReaders checks --json on every shared file against
// pkg/gguf and against the independent reader: key for key, value for value,
// tensor for tensor.
func TestJSONMatchesReaders(t *testing.T) {
	files := testutil.SharedGGUFs(t)
	out, stderr, code := runCmd(t, append([]string{"--json"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	docs := decodeDocs(t, out)
	if len(docs) != len(files) {
		t.Fatalf("%d documents for %d files", len(docs), len(files))
	}
	for i, path := range files {
		doc := docs[i]
		t.Run(filepath.Base(path), func(t *testing.T) {
			if got := jsonString(t, doc.File); got != path {
				t.Errorf("file %q, want %q", got, path)
			}
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ref := readRef(t, path)
			header := fmt.Sprint(doc.Version, " ", doc.Alignment, " ", doc.DataOffset)
			if want := fmt.Sprint(f.Version, " ", f.Alignment, " ", f.DataOffset); header != want {
				t.Errorf("header %s, pkg/gguf %s", header, want)
			}
			if want := fmt.Sprint(ref.version, " ", ref.alignment, " ", ref.dataOffset); header != want {
				t.Errorf("header %s, independent reader %s", header, want)
			}
			if len(doc.Metadata) != len(f.KV) || len(doc.Metadata) != len(ref.keys) {
				t.Fatalf("%d metadata entries; pkg/gguf %d, independent reader %d", len(doc.Metadata), len(f.KV), len(ref.keys))
			}
			for k, m := range doc.Metadata {
				key := jsonString(t, m.Key)
				if key != f.KV[k].Key || key != ref.keys[k] {
					t.Errorf("metadata %d: key %q; pkg/gguf %q, independent reader %q", k, key, f.KV[k].Key, ref.keys[k])
					continue
				}
				if m.Type != f.KV[k].Value.TypeName() || m.Type != ref.types[k] {
					t.Errorf("key %q: type %s; pkg/gguf %s, independent reader %s", key, m.Type, f.KV[k].Value.TypeName(), ref.types[k])
					continue
				}
				got := canonJSON(t, m.Type, m.Value)
				if want := canonValue(f.KV[k].Value); !reflect.DeepEqual(got, want) {
					t.Errorf("key %q: JSON value differs from pkg/gguf's", key)
				}
				if !reflect.DeepEqual(got, ref.values[k]) {
					t.Errorf("key %q: JSON value differs from the independent reader's", key)
				}
			}
			if len(doc.Tensors) != len(f.Tensors) || len(doc.Tensors) != len(ref.tensors) {
				t.Fatalf("%d tensors; pkg/gguf %d, independent reader %d", len(doc.Tensors), len(f.Tensors), len(ref.tensors))
			}
			for k, jt := range doc.Tensors {
				got := fmt.Sprint(jsonString(t, jt.Name), " ", jt.Type, " ", jt.Shape, " ", jt.Offset, " ", jt.Size)
				ft := f.Tensors[k]
				if want := fmt.Sprint(ft.Name, " ", ft.Type, " ", ft.Dims, " ", ft.Offset, " ", ft.Size); got != want {
					t.Errorf("tensor %d: %s; pkg/gguf %s", k, got, want)
				}
				rt := ref.tensors[k]
				if want := fmt.Sprint(rt.name, " ", ggml.Type(rt.typ), " ", rt.shape, " ", rt.offset, " ", rt.size); got != want {
					t.Errorf("tensor %d: %s; independent reader %s", k, got, want)
				}
			}
		})
	}
}

// writeTestFile writes a small GGUF with awkward values.
func writeTestFile(t *testing.T) string {
	t.Helper()
	nan := math.Float32frombits(0x7fc00000)
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.MustValueOf("llama")},
		{Key: "bad.utf8", Value: gguf.MustValueOf("ok\xffbad")},
		{Key: "floats", Value: gguf.MustValueOf([]float32{nan, float32(math.Inf(1)), float32(math.Inf(-1)), 0.1, -0, 1e-45, math.MaxFloat32})},
		{Key: "f64", Value: gguf.MustValueOf(0.1)},
		{Key: "u64max", Value: gguf.MustValueOf(uint64(math.MaxUint64))},
		{Key: "i64min", Value: gguf.MustValueOf(int64(math.MinInt64))},
		{Key: "strings", Value: gguf.MustValueOf([]string{"a b", "line\nbreak", "\xfe", `quote"`, "<s>&\\\t\x01\x7f\u2028é😀"})},
		{Key: "nested", Value: gguf.MustValueOf([]gguf.Value{gguf.MustValueOf([]int32{1, -2}), gguf.MustValueOf([]int32{3})})},
		{Key: "mixed", Value: gguf.MustValueOf([]gguf.Value{gguf.MustValueOf([]int32{1, -2}), gguf.MustValueOf([]string{"x"})})},
		{Key: "many", Value: gguf.MustValueOf([]uint16{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})},
		{Key: "flag", Value: gguf.MustValueOf(true)},
		{Key: "i8", Value: gguf.MustValueOf(int8(-7))},
	}
	tensors := []gguf.TensorInfo{
		{Name: "w", Type: ggml.TypeQ8_0, Dims: []uint64{64, 3}},
		{Name: "bad\xffname", Type: ggml.TypeF32, Dims: []uint64{2}},
	}
	path := filepath.Join(t.TempDir(), "awkward.gguf")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	err = gguf.Write(fh, kv, tensors, func(i int) ([]byte, error) {
		return make([]byte, []int{34 * 2 * 3, 8}[i]), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestJSONAwkwardValues(t *testing.T) {
	path := writeTestFile(t)
	out, stderr, code := runCmd(t, "--json", path, path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	docs := decodeDocs(t, out)
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2", len(docs))
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for k, m := range docs[0].Metadata {
		if m.Type == "array[array]" {
			if b, _ := json.Marshal(m.Value); string(b) != `[[1,-2],["x"]]` {
				t.Errorf("key %v: %s", m.Key, b)
			}
			continue
		}
		if got, want := canonJSON(t, m.Type, m.Value), canonValue(f.KV[k].Value); !reflect.DeepEqual(got, want) {
			t.Errorf("key %v: JSON gives %v, want %v", m.Key, got, want)
		}
	}
	if got := jsonString(t, docs[0].Tensors[1].Name); got != "bad\xffname" {
		t.Errorf("tensor name %q", got)
	}
	for _, want := range []string{`"NaN"`, `"Infinity"`, `"-Infinity"`, `18446744073709551615`, `-9223372036854775808`, `{"base64": "b2v/YmFk"}`, `0.1`, `3.4028235e+38`, `"<s>&\\\t\u0001\u007f é😀"`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON output lacks %s", want)
		}
	}
}

func TestGet(t *testing.T) {
	path := writeTestFile(t)
	tests := []struct {
		key, want string
	}{
		{"general.architecture", "llama\n"},
		{"bad.utf8", "ok\xffbad\n"},
		{"u64max", "18446744073709551615\n"},
		{"i64min", "-9223372036854775808\n"},
		{"f64", "0.1\n"},
		{"flag", "true\n"},
		{"strings", "a b\nline\nbreak\n\xfe\nquote\"\n<s>&\\\t\x01\x7f\u2028é😀\n"},
		{"floats", "NaN\n+Inf\n-Inf\n0.1\n0\n1e-45\n3.4028235e+38\n"},
		{"nested", "[1, -2]\n[3]\n"},
		{"mixed", "[1, -2]\n[\"x\"]\n"},
	}
	for _, tt := range tests {
		out, stderr, code := runCmd(t, "--get", tt.key, path)
		if code != 0 || out != tt.want {
			t.Errorf("--get %s: %q (exit %d, %s), want %q", tt.key, out, code, stderr, tt.want)
		}
	}
	out, _, code := runCmd(t, "--json", "--get", "i8", path)
	if code != 0 || out != "-7\n" {
		t.Errorf("--json --get i8: %q, exit %d", out, code)
	}
	out, stderr, code := runCmd(t, "--get", "no.such.key", path)
	if code != 1 || out != "" || !strings.Contains(stderr, `"no.such.key"`) || !strings.Contains(stderr, path) {
		t.Errorf("missing key: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

func TestText(t *testing.T) {
	path := writeTestFile(t)
	out, stderr, code := runCmd(t, path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"GGUF version 3, alignment 32,", "12 metadata keys, 2 tensors",
		"metadata:", "tensors:", "[1, 2, 3, ... (10 items)]", `"ok\xffbad"`, "array[array[int32]]",
		"Q8_0", "[64, 3]", `"bad\xffname"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	keys, _, _ := runCmd(t, "--keys", path)
	if !strings.Contains(keys, "general.architecture") || strings.Contains(keys, "Q8_0") {
		t.Errorf("--keys output:\n%s", keys)
	}
	tensors, _, _ := runCmd(t, "--tensors", path)
	if strings.Contains(tensors, "general.architecture") || !strings.Contains(tensors, "Q8_0") {
		t.Errorf("--tensors output:\n%s", tensors)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	notGGUF := filepath.Join(dir, "not.gguf")
	if err := os.WriteFile(notGGUF, []byte("hello, world"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := writeTestFile(t)
	tests := []struct {
		args     []string
		code     int
		stderr   string
		stdoutOK bool
	}{
		{[]string{notGGUF}, 1, notGGUF, false},
		{[]string{filepath.Join(dir, "missing.gguf")}, 1, "missing.gguf", false},
		{[]string{notGGUF, good}, 1, notGGUF, true}, // the good file is still printed
		{[]string{}, 2, "no FILE", false},
		{[]string{"--no-such-flag", good}, 2, "no-such-flag", false},
		{[]string{"--get", "x", "--keys", good}, 2, "--get", false},
	}
	for _, tt := range tests {
		out, stderr, code := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, tt.code, tt.stderr)
		}
		if tt.stdoutOK != strings.Contains(out, "general.architecture") {
			t.Errorf("%v: stdout %q", tt.args, out)
		}
	}
}

// TestOptionsAfterFiles checks that options may follow the files, and that
// after "--" every argument is a file, even one that looks like an option.
func TestOptionsAfterFiles(t *testing.T) {
	path := writeTestFile(t)
	for _, tt := range []struct{ before, after []string }{
		{[]string{"--json", path}, []string{path, "--json"}},
		{[]string{"--keys", path}, []string{path, "--keys"}},
		{[]string{"--tensors", path, path}, []string{path, "--tensors", path}},
		{[]string{"--get", "general.architecture", path}, []string{path, "--get", "general.architecture"}},
		{[]string{"--json", "--get", "general.architecture", path}, []string{path, "--get=general.architecture", "--json"}},
	} {
		want, wantErr, wantCode := runCmd(t, tt.before...)
		got, gotErr, gotCode := runCmd(t, tt.after...)
		if wantCode != 0 || wantErr != "" {
			t.Fatalf("%v: exit %d, %s", tt.before, wantCode, wantErr)
		}
		if got != want || gotCode != wantCode || gotErr != wantErr {
			t.Errorf("%v: exit %d, stderr %q, stdout:\n%s\nwant the output of %v:\n%s", tt.after, gotCode, gotErr, got, tt.before, want)
		}
	}

	dashed := filepath.Join(t.TempDir(), "-m.gguf")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dashed, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dir, name := filepath.Split(dashed)
	cmd := exec.Command(testutil.Command(t, "gguf-inspect"), "--get", "general.architecture", "--", name)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Errorf("gguf-inspect --get general.architecture -- %s: %v\n%s", name, err, out)
	}
	if _, stderr, code := runCmd(t, path, "--no-such-flag"); code != 2 || !strings.Contains(stderr, "no-such-flag") {
		t.Errorf("unknown option after a file: exit %d, stderr %q", code, stderr)
	}
}

// TestDataOffsetWithoutTensors: --json reports the data offset aligned, as
// the GGUF specification and gguf-py compute it, also for files without
// tensors: the shared vocabularies (gguf-py's GGUFReader(path).data_offset
// gives the figures below; those files end without the padding, so the
// offset lies past their end) and a file written here.
func TestDataOffsetWithoutTensors(t *testing.T) {
	shared := testutil.SharedDir(t)
	tests := []struct {
		path       string
		dataOffset int64 // gguf-py's
	}{
		{"testdata/vocab/ggml-vocab-bert-bge.gguf", 627552},
		{"testdata/vocab/ggml-vocab-gpt-2.gguf", 1766816},
		{"testdata/vocab/ggml-vocab-llama-bpe.gguf", 7818144},
		{"testdata/vocab/ggml-vocab-llama-spm.gguf", 723872},
		{"testdata/vocab/ggml-vocab-phi-3.gguf", 726048},
		{"testdata/vocab/ggml-vocab-qwen2.gguf", 5928704},
	}
	var args []string
	for _, tt := range tests {
		args = append(args, filepath.Join(shared, tt.path))
	}
	// Files written here, ending without padding: 24 header bytes, then
	// key "k" (8 + 1), its type (4) and the string "abc" (8 + 3), 48
	// bytes, 64 aligned to 32; with general.alignment 8 (8 + 17, 4, 4)
	// 81 bytes, 88 aligned to 8.
	for _, a := range []uint32{0, 8} {
		kv := []gguf.KV{{Key: "k", Value: gguf.MustValueOf("abc")}}
		want := int64(64)
		if a != 0 {
			kv = append(kv, gguf.KV{Key: gguf.KeyAlignment, Value: gguf.MustValueOf(a)})
			want = 88
		}
		path := filepath.Join(t.TempDir(), fmt.Sprint("notensors", a, ".gguf"))
		fh, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := gguf.Write(fh, kv, nil, nil); err != nil {
			t.Fatal(err)
		}
		fh.Close()
		args = append(args, path)
		tests = append(tests, struct {
			path       string
			dataOffset int64
		}{path, want})
	}
	out, stderr, code := runCmd(t, append([]string{"--json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	docs := decodeDocs(t, out)
	if len(docs) != len(tests) {
		t.Fatalf("%d documents for %d files", len(docs), len(tests))
	}
	for i, tt := range tests {
		if len(docs[i].Tensors) != 0 {
			t.Errorf("%s: %d tensors", tt.path, len(docs[i].Tensors))
		}
		if got := docs[i].DataOffset.String(); got != fmt.Sprint(tt.dataOffset) {
			t.Errorf("%s: data_offset %s, want %d", tt.path, got, tt.dataOffset)
		}
	}
	text, _, code := runCmd(t, args[0])
	if want := fmt.Sprintf("data offset %d,", tests[0].dataOffset); code != 0 || !strings.Contains(text, want) {
		t.Errorf("text output lacks %q (exit %d):\n%s", want, code, text)
	}
}
