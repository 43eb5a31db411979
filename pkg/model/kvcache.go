package model

import "github.com/llamafile-go/llamafile/pkg/ggml"

// kvCache holds the keys and values of every layer for one sequence, in
// F16 as llama.cpp keeps them by default. Cell i holds position i; keys and
// values are stored row-major, one row of kvDim (= heads × head size)
// elements per position.
type kvCache struct {
	size  int // positions the cache can hold
	kDim  int // elements per key row (n_head_kv × key length)
	vDim  int // elements per value row
	k, v  [][]uint16
	nUsed int // positions 0..nUsed-1 hold valid entries
}

func newKVCache(layers, size, kDim, vDim int) *kvCache {
	c := &kvCache{size: size, kDim: kDim, vDim: vDim, k: make([][]uint16, layers), v: make([][]uint16, layers)}
	for l := range c.k {
		c.k[l] = make([]uint16, size*kDim)
		c.v[l] = make([]uint16, size*vDim)
	}
	return c
}

// store writes n rows of keys and values for layer l at positions
// pos..pos+n-1, rounding them to F16.
func (c *kvCache) store(l, pos, n int, k, v []float32) {
	kd := c.k[l][pos*c.kDim : (pos+n)*c.kDim]
	for i, x := range k[:n*c.kDim] {
		kd[i] = ggml.FP32ToFP16(x)
	}
	vd := c.v[l][pos*c.vDim : (pos+n)*c.vDim]
	for i, x := range v[:n*c.vDim] {
		vd[i] = ggml.FP32ToFP16(x)
	}
}
