package main

import (
	"bufio"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/llamafile-go/llamafile/pkg/gguf"
)

const (
	maxTextString = 80 // longer strings are shortened in the text output
	shownItems    = 3  // array elements shown before "..."
	maxFullArray  = 5  // arrays up to this length are shown whole
)

// writeText prints the report for people.
func writeText(w *bufio.Writer, path string, f *gguf.File, index, count int, opt options) {
	all := !opt.keys && !opt.tensors
	if index > 0 {
		w.WriteByte('\n')
	}
	if count > 1 || all {
		fmt.Fprintf(w, "%s:\n", path)
	}
	if all {
		fmt.Fprintf(w, "  GGUF version %d, alignment %d, data offset %d, %d metadata keys, %d tensors\n\n",
			f.Version, f.Alignment, f.DataOffset, len(f.KV), len(f.Tensors))
	}
	if all || opt.keys {
		if all {
			fmt.Fprintf(w, "metadata:\n")
		}
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		for _, kv := range f.KV {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", quoteIfNeeded(kv.Key), kv.Value.TypeName(), textValue(kv.Value))
		}
		tw.Flush()
	}
	if all {
		w.WriteByte('\n')
	}
	if all || opt.tensors {
		if all {
			fmt.Fprintf(w, "tensors:\n")
		}
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintf(tw, "  NAME\tTYPE\tSHAPE\tOFFSET\tSIZE\n")
		for _, t := range f.Tensors {
			dims := make([]string, len(t.Dims))
			for i, d := range t.Dims {
				dims[i] = strconv.FormatUint(d, 10)
			}
			fmt.Fprintf(tw, "  %s\t%s\t[%s]\t%d\t%d\n", quoteIfNeeded(t.Name), t.Type, strings.Join(dims, ", "), t.Offset, t.Size)
		}
		tw.Flush()
	}
}

// quoteIfNeeded quotes names holding spaces, control characters or invalid
// UTF-8, so every name stays one visible field.
func quoteIfNeeded(s string) string {
	q := strconv.Quote(s)
	if q[1:len(q)-1] != s || strings.ContainsAny(s, " \t") || s == "" {
		return q
	}
	return s
}

// textValue formats a value on one line, abbreviating long strings and
// arrays.
func textValue(v gguf.Value) string {
	if v.Type != gguf.TypeArray {
		return scalarText(v.V, true)
	}
	n := v.Len()
	var items []string
	limit := n
	if n > maxFullArray {
		limit = shownItems
	}
	for i := 0; i < limit; i++ {
		items = append(items, elemText(v, i))
	}
	if n > limit {
		items = append(items, fmt.Sprintf("... (%d items)", n))
	}
	return "[" + strings.Join(items, ", ") + "]"
}

func elemText(v gguf.Value, i int) string {
	switch a := v.V.(type) {
	case []gguf.Value:
		return textValue(a[i])
	case []string:
		return scalarText(a[i], true)
	}
	return scalarText(index(v.V, i), true)
}

// scalarText formats a scalar; quote selects Go quoting for strings.
func scalarText(x any, quote bool) string {
	switch x := x.(type) {
	case string:
		if !quote {
			return x
		}
		if len(x) > maxTextString {
			return strconv.Quote(x[:maxTextString]) + fmt.Sprintf("... (%d bytes)", len(x))
		}
		return strconv.Quote(x)
	case float32:
		return formatFloat(float64(x), 32)
	case float64:
		return formatFloat(x, 64)
	}
	return fmt.Sprint(x)
}

// formatFloat prints the shortest text that reads back as the same value
// (Go syntax: NaN, +Inf, -Inf for the special values).
func formatFloat(x float64, bitSize int) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', -1, bitSize)
}

// index returns element i of a typed slice.
func index(s any, i int) any {
	switch a := s.(type) {
	case []uint8:
		return a[i]
	case []int8:
		return a[i]
	case []uint16:
		return a[i]
	case []int16:
		return a[i]
	case []uint32:
		return a[i]
	case []int32:
		return a[i]
	case []float32:
		return a[i]
	case []bool:
		return a[i]
	case []string:
		return a[i]
	case []uint64:
		return a[i]
	case []int64:
		return a[i]
	case []float64:
		return a[i]
	case []gguf.Value:
		return a[i]
	}
	return nil
}

// writeRaw prints a value for shell scripts: scalars plain on one line,
// arrays one element per line (nested arrays as JSON).
func writeRaw(w *bufio.Writer, v gguf.Value) {
	if v.Type != gguf.TypeArray {
		w.WriteString(scalarText(v.V, false))
		w.WriteByte('\n')
		return
	}
	for i := 0; i < v.Len(); i++ {
		switch e := index(v.V, i).(type) {
		case gguf.Value:
			writeJSONValue(w, e)
		default:
			w.WriteString(scalarText(e, false))
		}
		w.WriteByte('\n')
	}
}
