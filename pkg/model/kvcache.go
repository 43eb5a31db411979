package model

import (
	"encoding/binary"
	"errors"
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
// even, Q8_0 as ggml's x86 quantize_row_q8_0). Each layer's keys (values)
// are stored head by head: for key/value head h the rows of the layer's
// cells are contiguous, so that the cells of one head form a matrix the
// kernels of package cpu multiply directly.
//
// A layer holds every position of the context (cell i is position i),
// or, for a sliding-window layer, a ring of fewer cells: position p in
// cell p mod the ring's size. The ring holds the window and one batch
// more, as llama.cpp sizes its SWA cache (the window plus a batch,
// rounded up to 256 cells), so that every query of a batch sees its
// whole window; older positions are overwritten. Positions before
// ringLo are gone from the rings; a sequence cut back to a position
// whose window they no longer hold must be evaluated again from the
// start (truncate does so), as llama-server re-processes the prompt.
type kvCache struct {
	size       int // positions the cache can hold
	heads      int // key/value heads
	dk, dv     int // key and value length per head
	kt, vt     ggml.Type
	kRow, vRow int      // bytes of one head's key (value) row
	k, v       [][]byte // by layer: [head][cell][row]
	cells      []int    // by layer: its cells, size or a ring's
	nUsed      int      // positions 0..nUsed-1 hold valid entries
	// window is the sliding window of the ring layers (0: none);
	// ring is their cells; ringLo is the lowest position they hold.
	window, ring, ringLo int
}

// newKVCache allocates a cache of size positions for layers layers. When
// window > 0 the layers local names (nil: none) keep only a ring of
// min(size, window+batch rounded up to 256) cells.
func newKVCache(layers, size, heads, dk, dv int, kt, vt CacheType, window, batch int, local []bool) (*kvCache, error) {
	c := &kvCache{size: size, heads: heads, dk: dk, dv: dv, kt: kt.GGMLType(), vt: vt.GGMLType(),
		k: make([][]byte, layers), v: make([][]byte, layers), cells: make([]int, layers)}
	var err error
	if c.kRow, err = cpu.RowBytes(c.kt, dk); err != nil {
		return nil, fmt.Errorf("model: %s key cache for key length %d: %w", kt, dk, err)
	}
	if c.vRow, err = cpu.RowBytes(c.vt, dv); err != nil {
		return nil, fmt.Errorf("model: %s value cache for value length %d: %w", vt, dv, err)
	}
	if ring := (window + batch + 255) / 256 * 256; window > 0 && ring < size {
		c.window, c.ring = window, ring
	}
	for l := range c.k {
		c.cells[l] = size
		if c.ring > 0 && l < len(local) && local[l] {
			c.cells[l] = c.ring
		}
		c.k[l] = make([]byte, heads*c.cells[l]*c.kRow)
		c.v[l] = make([]byte, heads*c.cells[l]*c.vRow)
	}
	return c, nil
}

// bytes returns the memory the cache holds.
func (c *kvCache) bytes() int64 {
	var n int64
	for _, cells := range c.cells {
		n += int64(c.heads) * int64(cells) * int64(c.kRow+c.vRow)
	}
	return n
}

// isRing reports whether layer l keeps a ring of cells.
func (c *kvCache) isRing(l int) bool { return c.cells[l] < c.size }

// cell returns the cell of layer l that holds position pos.
func (c *kvCache) cell(l, pos int) int {
	if c.isRing(l) {
		return pos % c.cells[l]
	}
	return pos
}

// lowest returns the lowest position layer l holds.
func (c *kvCache) lowest(l int) int {
	if c.isRing(l) {
		return c.ringLo
	}
	return 0
}

// runEnd returns the end of the run of positions from pos (before hi)
// whose cells of layer l are adjacent: hi, or where a ring wraps.
func (c *kvCache) runEnd(l, pos, hi int) int {
	if c.isRing(l) {
		return min(hi, pos+c.cells[l]-pos%c.cells[l])
	}
	return hi
}

// eachRun calls fn for the runs of positions lo..hi-1 whose cells of
// layer l are adjacent (one run, or two where a ring wraps), in order,
// and returns its first error.
func (c *kvCache) eachRun(l, lo, hi int, fn func(p0, p1 int) error) error {
	for p0, p1 := lo, 0; p0 < hi; p0 = p1 {
		p1 = c.runEnd(l, p0, hi)
		if err := fn(p0, p1); err != nil {
			return err
		}
	}
	return nil
}

// keys returns the keys of positions lo..hi-1 of head h of layer l as a
// matrix (one row per position); their cells must be adjacent (runEnd).
func (c *kvCache) keys(l, h, lo, hi int) cpu.Matrix {
	off := (h*c.cells[l] + c.cell(l, lo)) * c.kRow
	return cpu.Matrix{Type: c.kt, Rows: hi - lo, Cols: c.dk, Data: c.k[l][off : off+(hi-lo)*c.kRow]}
}

// values returns the value rows of positions lo..hi-1 of head h of layer
// l, whose cells must be adjacent (runEnd).
func (c *kvCache) values(l, h, lo, hi int) []byte {
	off := (h*c.cells[l] + c.cell(l, lo)) * c.vRow
	return c.v[l][off : off+(hi-lo)*c.vRow]
}

// valueRow returns the value row of position j of head h of layer l.
func (c *kvCache) valueRow(l, h, j int) []byte {
	off := (h*c.cells[l] + c.cell(l, j)) * c.vRow
	return c.v[l][off : off+c.vRow]
}

// keyRow returns the key row of position j of head h of layer l.
func (c *kvCache) keyRow(l, h, j int) []byte {
	off := (h*c.cells[l] + c.cell(l, j)) * c.kRow
	return c.k[l][off : off+c.kRow]
}

// windowHeld reports whether the rings hold what evaluation continuing
// at position n needs: the window before it.
func (c *kvCache) windowHeld(n int) bool {
	return c.ring == 0 || c.ringLo <= max(0, n-c.window+1)
}

// truncate drops the positions from n on. When the rings no longer hold
// the window before n, it drops every position: evaluation must start
// again from 0 (nUsed tells where it continues).
func (c *kvCache) truncate(n int) {
	if n < 0 || n >= c.nUsed {
		return
	}
	c.nUsed = n
	if !c.windowHeld(n) {
		c.nUsed = 0
	}
	if c.nUsed == 0 {
		c.ringLo = 0
	}
}

// checkStart checks that a batch may start at position pos: at most at
// nUsed, and, before it, where the rings still hold the window.
func (c *kvCache) checkStart(pos int) error {
	if pos < 0 || pos > c.nUsed {
		return fmt.Errorf("model: batch position %d is not within the %d cached positions", pos, c.nUsed)
	}
	if pos < c.nUsed && !c.windowHeld(pos) {
		return fmt.Errorf("model: %w: the sliding-window layers no longer hold the %d positions before %d (they hold %d on); evaluate the sequence again from position 0",
			ErrWindowGone, c.window, pos, c.ringLo)
	}
	return nil
}

// ErrWindowGone is wrapped by the error of a batch that starts before a
// sequence's last position where its sliding-window layers no longer hold
// the window (Truncate drops the whole cache there instead).
var ErrWindowGone = errors.New("sliding window no longer cached")

// writing records that positions up to hi-1 are about to be stored: the
// rings' older positions they overwrite are gone.
func (c *kvCache) writing(hi int) {
	if c.ring > 0 {
		c.ringLo = max(c.ringLo, hi-c.ring)
	}
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
