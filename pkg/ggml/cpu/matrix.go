package cpu

import (
	"fmt"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// Matrix is a 2-D weight: Rows rows of Cols elements of Type, row-major, as
// stored in GGUF (ne0 = Cols, ne1 = Rows). Data holds exactly
// Rows*RowBytes(Type, Cols) bytes. Build one with [NewMatrix], which checks
// the shape.
type Matrix struct {
	Type       ggml.Type
	Rows, Cols int
	Data       []byte

	// packed holds the first rows of Data (a whole number of groups of
	// group rows) rearranged by [Pack] in the layout numbered layout; nil
	// if the matrix is not packed.
	packed        []byte
	layout, group uint8
}

// RowBytes returns the bytes one row of cols elements of t occupies, or an
// error if t is not a supported weight type or cols is not a whole number of
// blocks.
func RowBytes(t ggml.Type, cols int) (int, error) {
	if !Supported(t) {
		return 0, fmt.Errorf("cpu: unsupported weight type %v", t)
	}
	n, err := t.RowBytes(int64(cols))
	if err != nil {
		return 0, fmt.Errorf("cpu: %w", err)
	}
	return int(n), nil
}

// NewMatrix checks that data holds rows rows of cols elements of type t and
// that t is a supported weight type, and returns the matrix.
func NewMatrix(t ggml.Type, rows, cols int, data []byte) (Matrix, error) {
	if rows < 0 || cols < 0 {
		return Matrix{}, fmt.Errorf("cpu: matrix %dx%d: negative dimension", rows, cols)
	}
	rb, err := RowBytes(t, cols)
	if err != nil {
		return Matrix{}, fmt.Errorf("cpu: matrix %dx%d %v: %w", rows, cols, t, err)
	}
	if rb != 0 && rows > len(data)/rb || rows*rb != len(data) {
		return Matrix{}, fmt.Errorf("cpu: matrix %dx%d %v: data has %d bytes, want %d",
			rows, cols, t, len(data), rows*rb)
	}
	return Matrix{Type: t, Rows: rows, Cols: cols, Data: data}, nil
}

// RowBytes returns the bytes one row of m occupies.
func (m Matrix) RowBytes() int {
	return m.Cols / m.Type.BlockSize() * m.Type.BlockBytes()
}

// Slice returns the sub-matrix of rows rows starting at row row0, sharing
// m's data (for example one expert of a 3-D mixture-of-experts tensor, or
// the filled part of a KV cache). It panics if the range is outside m.
func (m Matrix) Slice(row0, rows int) Matrix {
	if row0 < 0 || rows < 0 || row0+rows > m.Rows {
		panic(fmt.Sprintf("cpu: Matrix.Slice(%d, %d) of a matrix with %d rows", row0, rows, m.Rows))
	}
	rb := m.RowBytes()
	s := Matrix{Type: m.Type, Rows: rows, Cols: m.Cols, Data: m.Data[row0*rb : (row0+rows)*rb : (row0+rows)*rb]}
	if m.packed != nil && rb > 0 {
		// The packed groups inside the slice stay packed if the slice
		// starts at a group boundary.
		g := int(m.group)
		if pr := len(m.packed) / rb; row0%g == 0 && row0 < pr {
			if n := min(rows, pr-row0) / g * g; n > 0 {
				s.packed = m.packed[row0*rb : (row0+n)*rb : (row0+n)*rb]
				s.layout, s.group = m.layout, m.group
			}
		}
	}
	return s
}

// Pack returns m with a copy of its weights rearranged for this CPU's
// matrix kernels, where they have a faster layout for m's type (on amd64
// with AVX-512: the 32-element block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
// and IQ4_NL, F16 and F32 with a multiple of 16 columns, and with VBMI
// and GFNI the K-quants Q4_K, Q5_K and Q6_K), and m
// itself otherwise. Products with the packed matrix
// give the same results, bit for bit, and read only the copy (except for
// rows past the last whole group of rows), so the memory of Data is left
// cold: generation streams through one contiguous range per thread
// instead of many rows at once. Pack allocates the size of the packed
// rows; call it once, when loading weights. Data is kept for [Row] and
// for rows the copy does not cover.
func Pack(m Matrix) Matrix {
	m, fill := packDeferred(kern, m)
	if fill != nil {
		fill()
	}
	return m
}

// PackDeferred is Pack in two steps, so that a model's matrices can be
// packed in parallel: it returns m with its packed copy allocated but not
// yet written, and the function that writes it (nil, with m itself, when
// m has no packed layout). The matrix must not be used before fill has
// returned. Packed returns the bytes of Data that the copy covers, which
// products no longer read.
func PackDeferred(m Matrix) (packed Matrix, fill func()) {
	return packDeferred(kern, m)
}

// packDeferred is PackDeferred with the kernels of k.
func packDeferred(k *kernelSet, m Matrix) (Matrix, func()) {
	if uint(m.Type) >= maxType || m.packed != nil {
		return m, nil
	}
	pk := k.packed[m.Type]
	g := pk.tile.rows
	if pk.layout == 0 || g <= 0 || g > 255 || m.Rows < g || m.Cols == 0 || pk.cols > 0 && m.Cols%pk.cols != 0 {
		return m, nil
	}
	rb := m.RowBytes()
	n := m.Rows / g * g
	buf := make([]byte, n*rb)
	src := m.Data
	fill := func() {
		for r := 0; r < n; r += g {
			pk.pack(buf[r*rb:(r+g)*rb], src[r*rb:(r+g)*rb], rb, m.Cols)
		}
	}
	m.packed, m.layout, m.group = buf, pk.layout, uint8(g)
	return m, fill
}

// Packed returns the bytes of m.Data whose rows the packed copy holds
// (nil if m is not packed): products read the copy instead.
func (m Matrix) Packed() []byte {
	if m.packed == nil {
		return nil
	}
	return m.Data[:len(m.packed)]
}

// Row converts row r of w to float32 in dst[:w.Cols] (an embedding lookup).
// It panics if r is out of range or dst is shorter than a row.
func Row(w Matrix, r int, dst []float32) {
	if r < 0 || r >= w.Rows {
		panic(fmt.Sprintf("cpu: Row(%d) of a matrix with %d rows", r, w.Rows))
	}
	rb := w.RowBytes()
	if err := ggml.Dequantize(w.Type, w.Data[r*rb:(r+1)*rb], dst[:w.Cols]); err != nil {
		// Unreachable for a matrix from NewMatrix: its type and shape are valid.
		panic(fmt.Sprintf("cpu: Row: %v", err))
	}
}
