package main

import (
	"bufio"
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// writeJSON prints one JSON document describing f: top-level fields, each
// metadata pair and each tensor on a line of its own.
func writeJSON(w *bufio.Writer, path string, f *gguf.File, opt options) {
	w.WriteString(`{"file": `)
	writeJSONString(w, path)
	w.WriteString(",\n \"version\": ")
	w.WriteString(strconv.FormatUint(uint64(f.Version), 10))
	w.WriteString(",\n \"alignment\": ")
	w.WriteString(strconv.FormatUint(f.Alignment, 10))
	w.WriteString(",\n \"data_offset\": ")
	w.WriteString(strconv.FormatInt(f.DataOffset, 10))
	w.WriteString(",\n \"metadata\": [")
	for i, kv := range f.KV {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n  {\"key\": ")
		writeJSONString(w, kv.Key)
		w.WriteString(", \"type\": ")
		writeJSONString(w, kv.Value.TypeName())
		w.WriteString(", \"value\": ")
		writeJSONValue(w, kv.Value)
		w.WriteByte('}')
	}
	w.WriteString("],\n \"tensors\": [")
	for i, t := range f.Tensors {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n  {\"name\": ")
		writeJSONString(w, t.Name)
		w.WriteString(", \"type\": ")
		writeJSONString(w, t.Type.String())
		w.WriteString(", \"shape\": [")
		for j, d := range t.Dims {
			if j > 0 {
				w.WriteString(", ")
			}
			w.WriteString(strconv.FormatUint(d, 10))
		}
		w.WriteString("], \"offset\": ")
		w.WriteString(strconv.FormatUint(t.Offset, 10))
		w.WriteString(", \"size\": ")
		w.WriteString(strconv.FormatUint(t.Size, 10))
		w.WriteByte('}')
	}
	w.WriteString("]}\n")
}

// writeJSONString writes s as a JSON string when it is valid UTF-8, and as
// {"base64": "..."} (standard encoding, padded) of its bytes otherwise.
func writeJSONString(w *bufio.Writer, s string) {
	if !utf8.ValidString(s) {
		w.WriteString(`{"base64": "`)
		w.WriteString(base64.StdEncoding.EncodeToString([]byte(s)))
		w.WriteString(`"}`)
		return
	}
	const hex = "0123456789abcdef"
	w.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			w.WriteByte('\\')
			w.WriteByte(c)
		case c == '\n':
			w.WriteString(`\n`)
		case c == '\r':
			w.WriteString(`\r`)
		case c == '\t':
			w.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			w.WriteString(`\u00`)
			w.WriteByte(hex[c>>4])
			w.WriteByte(hex[c&15])
		default:
			w.WriteByte(c)
		}
	}
	w.WriteByte('"')
}

// writeJSONValue writes a metadata value: numbers exactly (integers from
// their decimal text, floats in the shortest form that reads back as the
// same float32 or float64), NaN and infinities as the strings "NaN",
// "Infinity" and "-Infinity", arrays as JSON arrays.
func writeJSONValue(w *bufio.Writer, v gguf.Value) {
	if v.Type != gguf.TypeArray {
		writeJSONScalar(w, v.V)
		return
	}
	w.WriteByte('[')
	for i := 0; i < v.Len(); i++ {
		if i > 0 {
			w.WriteString(", ")
		}
		switch e := index(v.V, i).(type) {
		case gguf.Value:
			writeJSONValue(w, e)
		default:
			writeJSONScalar(w, e)
		}
	}
	w.WriteByte(']')
}

func writeJSONScalar(w *bufio.Writer, x any) {
	switch x := x.(type) {
	case string:
		writeJSONString(w, x)
	case float32:
		writeJSONFloat(w, float64(x), 32)
	case float64:
		writeJSONFloat(w, x, 64)
	case bool:
		w.WriteString(strconv.FormatBool(x))
	case uint8:
		w.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint16:
		w.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint32:
		w.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint64:
		w.WriteString(strconv.FormatUint(x, 10))
	case int8:
		w.WriteString(strconv.FormatInt(int64(x), 10))
	case int16:
		w.WriteString(strconv.FormatInt(int64(x), 10))
	case int32:
		w.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		w.WriteString(strconv.FormatInt(x, 10))
	default:
		w.WriteString("null")
	}
}

func writeJSONFloat(w *bufio.Writer, x float64, bitSize int) {
	switch {
	case math.IsNaN(x):
		w.WriteString(`"NaN"`)
	case math.IsInf(x, 1):
		w.WriteString(`"Infinity"`)
	case math.IsInf(x, -1):
		w.WriteString(`"-Infinity"`)
	default:
		w.WriteString(strconv.FormatFloat(x, 'g', -1, bitSize))
	}
}
