package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Writer writes a GGUF v3 file: NewWriter writes the header, metadata and
// tensor infos; WriteTensor then writes each tensor's data in order, and
// Close checks that all were written. Tensor offsets are computed from the
// sizes and the alignment (general.alignment when present, otherwise 32),
// so tensors can be produced one at a time without holding them all.
type Writer struct {
	w          io.Writer
	tensors    []TensorInfo
	alignment  uint64
	dataOffset int64
	next       int   // index of the next tensor to write
	pos        int64 // bytes written so far
	err        error // sticky write error
}

// NewWriter validates kv and tensors, computes tensor offsets and sizes
// (the Offset and Size fields of tensors are ignored) and writes everything
// before the data section to w.
func NewWriter(w io.Writer, kv []KV, tensors []TensorInfo) (*Writer, error) {
	gw := &Writer{w: w, alignment: DefaultAlignment}
	var buf bytes.Buffer
	buf.WriteString(Magic)
	le := binary.LittleEndian
	buf.Write(le.AppendUint32(nil, Version))
	buf.Write(le.AppendUint64(nil, uint64(len(tensors))))
	buf.Write(le.AppendUint64(nil, uint64(len(kv))))
	seen := make(map[string]bool, len(kv))
	for _, e := range kv {
		if seen[e.Key] {
			return nil, fmt.Errorf("gguf: key %q: duplicate key", e.Key)
		}
		seen[e.Key] = true
		if e.Key == KeyAlignment {
			a, err := alignmentOf(e.Value)
			if err != nil {
				return nil, fmt.Errorf("gguf: %w", err)
			}
			gw.alignment = a
		}
		writeString(&buf, e.Key)
		buf.Write(le.AppendUint32(nil, uint32(e.Value.Type)))
		if err := encodeValue(&buf, e.Value, 0); err != nil {
			return nil, fmt.Errorf("gguf: key %q: %w", e.Key, err)
		}
	}
	gw.tensors = make([]TensorInfo, len(tensors))
	names := make(map[string]bool, len(tensors))
	offset := uint64(0)
	for i, t := range tensors {
		if names[t.Name] {
			return nil, fmt.Errorf("gguf: tensor %q: duplicate tensor name", t.Name)
		}
		names[t.Name] = true
		size, err := tensorSize(t.Type, t.Dims)
		if err != nil {
			return nil, fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
		}
		t.Dims = append([]uint64(nil), t.Dims...)
		t.Offset, t.Size = offset, size
		gw.tensors[i] = t
		padded := alignUp(size, gw.alignment)
		if padded < size || offset+padded < offset || offset+padded > math.MaxInt64 {
			return nil, fmt.Errorf("gguf: tensor %q: data section size overflows", t.Name)
		}
		offset += padded

		writeString(&buf, t.Name)
		buf.Write(le.AppendUint32(nil, uint32(len(t.Dims))))
		for _, d := range t.Dims {
			buf.Write(le.AppendUint64(nil, d))
		}
		buf.Write(le.AppendUint32(nil, uint32(t.Type)))
		buf.Write(le.AppendUint64(nil, t.Offset))
	}
	if len(tensors) > 0 {
		buf.Write(make([]byte, alignUp(uint64(buf.Len()), gw.alignment)-uint64(buf.Len())))
	}
	gw.dataOffset = int64(buf.Len())
	if err := gw.write(buf.Bytes()); err != nil {
		return nil, err
	}
	return gw, nil
}

// Tensors returns the tensor infos as they are written, with Offset and Size
// filled in.
func (w *Writer) Tensors() []TensorInfo {
	out := make([]TensorInfo, len(w.tensors))
	copy(out, w.tensors)
	return out
}

// Alignment returns the data alignment in use.
func (w *Writer) Alignment() uint64 { return w.alignment }

// DataOffset returns the offset of the data section in the file.
func (w *Writer) DataOffset() int64 { return w.dataOffset }

// Size returns the total size the file will have once complete.
func (w *Writer) Size() int64 {
	if len(w.tensors) == 0 {
		return w.dataOffset
	}
	last := w.tensors[len(w.tensors)-1]
	return w.dataOffset + int64(alignUp(last.Offset+last.Size, w.alignment))
}

func (w *Writer) write(p []byte) error {
	if w.err != nil {
		return w.err
	}
	n, err := w.w.Write(p)
	w.pos += int64(n)
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("gguf: write: %w", err)
	}
	return w.err
}

// WriteTensor writes the data of the next tensor, which must be exactly its
// Size bytes, followed by alignment padding.
func (w *Writer) WriteTensor(data []byte) error {
	if w.next >= len(w.tensors) {
		return errors.New("gguf: WriteTensor: all tensors already written")
	}
	t := &w.tensors[w.next]
	if uint64(len(data)) != t.Size {
		return fmt.Errorf("gguf: tensor %q: have %d bytes of data, want %d", t.Name, len(data), t.Size)
	}
	if err := w.write(data); err != nil {
		return err
	}
	if pad := alignUp(t.Size, w.alignment) - t.Size; pad > 0 {
		if err := w.write(make([]byte, pad)); err != nil {
			return err
		}
	}
	w.next++
	return nil
}

// Close checks that every tensor was written. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.next != len(w.tensors) {
		return fmt.Errorf("gguf: %d of %d tensors written", w.next, len(w.tensors))
	}
	return nil
}

// Write writes a complete GGUF v3 file: the metadata kv, the tensor infos
// (Offset and Size are computed, the given ones ignored) and the data of
// tensor i as returned by data(i), called once per tensor in order.
func Write(w io.Writer, kv []KV, tensors []TensorInfo, data func(i int) ([]byte, error)) error {
	gw, err := NewWriter(w, kv, tensors)
	if err != nil {
		return err
	}
	for i := range tensors {
		p, err := data(i)
		if err != nil {
			return fmt.Errorf("gguf: tensor %q: %w", tensors[i].Name, err)
		}
		if err := gw.WriteTensor(p); err != nil {
			return err
		}
	}
	return gw.Close()
}

func writeString(buf *bytes.Buffer, s string) {
	buf.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(s))))
	buf.WriteString(s)
}

// encodeValue appends v's encoding (without its type tag) to buf.
func encodeValue(buf *bytes.Buffer, v Value, depth int) error {
	le := binary.LittleEndian
	mismatch := func() error {
		return fmt.Errorf("value of type %s holds a Go %T", v.TypeName(), v.V)
	}
	if v.Type == TypeArray {
		if depth+1 >= maxArrayDepth {
			return fmt.Errorf("arrays nested deeper than %d", maxArrayDepth)
		}
		buf.Write(le.AppendUint32(nil, uint32(v.ElemType)))
		var n int
		var body []byte
		switch a := v.V.(type) {
		case []uint8:
			n, body = len(a), a
		case []int8:
			n, body = len(a), appendEach(nil, a, func(b []byte, x int8) []byte { return append(b, byte(x)) })
		case []uint16:
			n, body = len(a), appendEach(nil, a, le.AppendUint16)
		case []int16:
			n, body = len(a), appendEach(nil, a, func(b []byte, x int16) []byte { return le.AppendUint16(b, uint16(x)) })
		case []uint32:
			n, body = len(a), appendEach(nil, a, le.AppendUint32)
		case []int32:
			n, body = len(a), appendEach(nil, a, func(b []byte, x int32) []byte { return le.AppendUint32(b, uint32(x)) })
		case []float32:
			n, body = len(a), appendEach(nil, a, func(b []byte, x float32) []byte { return le.AppendUint32(b, math.Float32bits(x)) })
		case []bool:
			n, body = len(a), appendEach(nil, a, func(b []byte, x bool) []byte { return append(b, boolByte(x)) })
		case []uint64:
			n, body = len(a), appendEach(nil, a, le.AppendUint64)
		case []int64:
			n, body = len(a), appendEach(nil, a, func(b []byte, x int64) []byte { return le.AppendUint64(b, uint64(x)) })
		case []float64:
			n, body = len(a), appendEach(nil, a, func(b []byte, x float64) []byte { return le.AppendUint64(b, math.Float64bits(x)) })
		case []string:
			if v.ElemType != TypeString {
				return mismatch()
			}
			buf.Write(le.AppendUint64(nil, uint64(len(a))))
			for _, s := range a {
				writeString(buf, s)
			}
			return nil
		case []Value:
			if v.ElemType != TypeArray {
				return mismatch()
			}
			buf.Write(le.AppendUint64(nil, uint64(len(a))))
			for i, e := range a {
				if e.Type != TypeArray {
					return fmt.Errorf("element %d: have %s, want an array", i, e.Type)
				}
				if err := encodeValue(buf, e, depth+1); err != nil {
					return fmt.Errorf("element %d: %w", i, err)
				}
			}
			return nil
		default:
			return mismatch()
		}
		if want, err := ValueOf(v.V); err != nil || want.ElemType != v.ElemType {
			return mismatch()
		}
		buf.Write(le.AppendUint64(nil, uint64(n)))
		buf.Write(body)
		return nil
	}
	if want, err := ValueOf(v.V); err != nil || want.Type != v.Type {
		return mismatch()
	}
	switch x := v.V.(type) {
	case uint8:
		buf.WriteByte(x)
	case int8:
		buf.WriteByte(byte(x))
	case uint16:
		buf.Write(le.AppendUint16(nil, x))
	case int16:
		buf.Write(le.AppendUint16(nil, uint16(x)))
	case uint32:
		buf.Write(le.AppendUint32(nil, x))
	case int32:
		buf.Write(le.AppendUint32(nil, uint32(x)))
	case float32:
		buf.Write(le.AppendUint32(nil, math.Float32bits(x)))
	case bool:
		buf.WriteByte(boolByte(x))
	case string:
		writeString(buf, x)
	case uint64:
		buf.Write(le.AppendUint64(nil, x))
	case int64:
		buf.Write(le.AppendUint64(nil, uint64(x)))
	case float64:
		buf.Write(le.AppendUint64(nil, math.Float64bits(x)))
	}
	return nil
}

func appendEach[T any](b []byte, xs []T, app func([]byte, T) []byte) []byte {
	for _, x := range xs {
		b = app(b, x)
	}
	return b
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
