package model

import "github.com/llamafile-go/llamafile/pkg/ggml/cpu"

// kvCache holds the keys and values of every layer for one sequence, in
// F16 (two little-endian bytes per element) as llama.cpp keeps them by
// default. Cell i holds position i; keys and values are stored row-major,
// one row of kDim (vDim) elements per position: n_head_kv heads of the key
// (value) length each.
type kvCache struct {
	size  int // positions the cache can hold
	kDim  int // elements per key row (n_head_kv × key length)
	vDim  int // elements per value row
	k, v  [][]byte
	nUsed int // positions 0..nUsed-1 hold valid entries
}

func newKVCache(layers, size, kDim, vDim int) *kvCache {
	c := &kvCache{size: size, kDim: kDim, vDim: vDim, k: make([][]byte, layers), v: make([][]byte, layers)}
	for l := range c.k {
		c.k[l] = make([]byte, 2*size*kDim)
		c.v[l] = make([]byte, 2*size*vDim)
	}
	return c
}

// store writes n rows of keys and values for layer l at positions
// pos..pos+n-1, rounding them to F16.
func (c *kvCache) store(l, pos, n int, k, v []float32) {
	cpu.FP32ToFP16Row(c.k[l][2*pos*c.kDim:2*(pos+n)*c.kDim], k[:n*c.kDim])
	cpu.FP32ToFP16Row(c.v[l][2*pos*c.vDim:2*(pos+n)*c.vDim], v[:n*c.vDim])
}
