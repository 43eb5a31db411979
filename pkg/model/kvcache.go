package model

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// CacheType is the element type of the key or value cache, as llama.cpp's
// --cache-type-k and --cache-type-v choose it. The zero value is F16,
// llama.cpp's default.
type CacheType uint8

// Cache types.
const (
	CacheF16  CacheType = iota // IEEE half precision (default)
	CacheF32                   // float32: exact, twice the memory
	CacheQ8_0                  // 8-bit blocks of 32 with an F16 scale: about half of F16
)

var cacheTypeNames = [...]string{CacheF16: "f16", CacheF32: "f32", CacheQ8_0: "q8_0"}

// String returns the name llama.cpp gives the type: "f16", "f32" or "q8_0".
func (t CacheType) String() string {
	if int(t) < len(cacheTypeNames) {
		return cacheTypeNames[t]
	}
	return fmt.Sprintf("CacheType(%d)", t)
}

// GGMLType returns the ggml tensor type of the cache's elements.
func (t CacheType) GGMLType() ggml.Type {
	switch t {
	case CacheF32:
		return ggml.TypeF32
	case CacheQ8_0:
		return ggml.TypeQ8_0
	}
	return ggml.TypeF16
}

// CacheTypes returns the names of the supported cache types.
func CacheTypes() []string { return cacheTypeNames[:] }

// ParseCacheType returns the cache type named name ("f16", "f32" or
// "q8_0", as llama.cpp's -ctk/-ctv take them).
func ParseCacheType(name string) (CacheType, error) {
	for t, n := range cacheTypeNames {
		if n == name {
			return CacheType(t), nil
		}
	}
	return 0, fmt.Errorf("model: unsupported cache type %q (supported: %v)", name, CacheTypes())
}

// kvCache holds the keys and values of every layer for one sequence in the
// chosen cache types: F16 (llama.cpp's default), F32 or Q8_0, converted
// from float32 the way ggml's CPU backend does (F16 rounded to nearest
// even, Q8_0 as ggml's x86 quantize_row_q8_0). Cell i holds position i.
// Each layer's keys (values) are stored head by head: for key/value head h
// the rows of cells 0..size-1 are contiguous, so that the cells of one
// head form a matrix the kernels of package cpu multiply directly.
type kvCache struct {
	size       int // positions the cache can hold
	heads      int // key/value heads
	dk, dv     int // key and value length per head
	kt, vt     ggml.Type
	kRow, vRow int      // bytes of one head's key (value) row
	k, v       [][]byte // by layer: [head][cell][row]
	nUsed      int      // positions 0..nUsed-1 hold valid entries
}

func newKVCache(layers, size, heads, dk, dv int, kt, vt CacheType) (*kvCache, error) {
	c := &kvCache{size: size, heads: heads, dk: dk, dv: dv, kt: kt.GGMLType(), vt: vt.GGMLType(),
		k: make([][]byte, layers), v: make([][]byte, layers)}
	var err error
	if c.kRow, err = cpu.RowBytes(c.kt, dk); err != nil {
		return nil, fmt.Errorf("model: %s key cache for key length %d: %w", kt, dk, err)
	}
	if c.vRow, err = cpu.RowBytes(c.vt, dv); err != nil {
		return nil, fmt.Errorf("model: %s value cache for value length %d: %w", vt, dv, err)
	}
	for l := range c.k {
		c.k[l] = make([]byte, heads*size*c.kRow)
		c.v[l] = make([]byte, heads*size*c.vRow)
	}
	return c, nil
}

// bytes returns the memory the cache holds.
func (c *kvCache) bytes() int64 {
	return int64(len(c.k)) * int64(c.heads) * int64(c.size) * int64(c.kRow+c.vRow)
}

// keys returns the keys of cells lo..hi-1 of head h of layer l as a matrix
// (one row per cell).
func (c *kvCache) keys(l, h, lo, hi int) cpu.Matrix {
	off := (h*c.size + lo) * c.kRow
	return cpu.Matrix{Type: c.kt, Rows: hi - lo, Cols: c.dk, Data: c.k[l][off : off+(hi-lo)*c.kRow]}
}

// valueRow returns the value row of cell j of head h of layer l.
func (c *kvCache) valueRow(l, h, j int) []byte {
	off := (h*c.size + j) * c.vRow
	return c.v[l][off : off+c.vRow]
}

// keyRow returns the key row of cell j of head h of layer l.
func (c *kvCache) keyRow(l, h, j int) []byte {
	off := (h*c.size + j) * c.kRow
	return c.k[l][off : off+c.kRow]
}

// store writes one batch row's keys and values (heads×dk and heads×dv
// values) for layer l at cell pos, converting them to the cache types.
// Cells are independent, so different cells may be stored concurrently.
func (c *kvCache) store(l, pos int, k, v []float32) {
	for h := 0; h < c.heads; h++ {
		putRow(c.kt, c.keyRow(l, h, pos), k[h*c.dk:(h+1)*c.dk])
		putRow(c.vt, c.valueRow(l, h, pos), v[h*c.dv:(h+1)*c.dv])
	}
}

// putRow converts x to a row of type t in dst, as ggml-cpu's from_float
// for t does.
func putRow(t ggml.Type, dst []byte, x []float32) {
	switch t {
	case ggml.TypeF32:
		for i, f := range x {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(f))
		}
	case ggml.TypeF16:
		cpu.FP32ToFP16Row(dst, x)
	case ggml.TypeQ8_0:
		quantizeRowQ8_0(dst, x)
	default:
		panic(fmt.Sprintf("model: no cache conversion to %v", t))
	}
}

// getRow converts a cache row of type t to float32 in dst.
func getRow(t ggml.Type, dst []float32, row []byte) {
	switch t {
	case ggml.TypeF32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:]))
		}
	case ggml.TypeF16:
		cpu.FP16ToFP32Row(dst, row)
	case ggml.TypeQ8_0:
		dequantizeRowQ8_0(dst, row)
	default:
		panic(fmt.Sprintf("model: no cache conversion from %v", t))
	}
}

// Q8_0 blocks: an F16 scale d and 32 signed bytes q; the value is d·q.
const (
	q8Block = 32
	q8Bytes = 2 + q8Block
)

// quantizeRowQ8_0 quantizes x (a whole number of 32-element blocks) to
// Q8_0 the way ggml-cpu's x86 quantize_row_q8_0 does, which llama.cpp uses
// to store a Q8_0 cache: d = amax/127 stored as F16, each value multiplied
// by 127/amax in float32 and rounded to the nearest integer, ties to even.
// (pkg/ggml's Quantize follows the reference quantize_row_q8_0_ref, which
// rounds ties away from zero and multiplies by 1/d.)
func quantizeRowQ8_0(dst []byte, x []float32) {
	for b := 0; b < len(x)/q8Block; b++ {
		v := x[b*q8Block : (b+1)*q8Block]
		y := dst[b*q8Bytes : (b+1)*q8Bytes]
		var amax float32
		for _, f := range v {
			amax = max(amax, float32(math.Abs(float64(f))))
		}
		binary.LittleEndian.PutUint16(y, ggml.FP32ToFP16(amax/127))
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		for j, f := range v {
			y[2+j] = byte(int8(math.RoundToEven(float64(f * id))))
		}
	}
}

// dequantizeRowQ8_0 expands a Q8_0 row to float32 (d·q, as ggml's
// dequantize_row_q8_0).
func dequantizeRowQ8_0(dst []float32, row []byte) {
	for b := 0; b < len(dst)/q8Block; b++ {
		y := row[b*q8Bytes : (b+1)*q8Bytes]
		d := ggml.FP16ToFP32(binary.LittleEndian.Uint16(y))
		out := dst[b*q8Block : (b+1)*q8Block]
		for j := range out {
			out[j] = float32(int8(y[2+j])) * d
		}
	}
}
