package vision

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// faTile is the query and key tile of ggml's tiled flash-attention kernel
// (ggml_fa_tile_config), which mtmd's attention takes on the CPU.
const faTile = 64

// run is one encoding's working state: the pool, a workspace, the
// encoder.
type run struct {
	e    *Encoder
	pool *cpu.Pool
	ws   cpu.Workspace
}

// matmul computes out = x·wᵀ (+ bias per row) for n rows.
func (r *run) matmul(w cpu.Matrix, x []float32, n int, out []float32, bias []float32) {
	cpu.MatMul(r.pool, &r.ws, w, x, n, out[:n*w.Rows])
	if bias != nil {
		r.rows(n, func(i int) {
			row := out[i*w.Rows : (i+1)*w.Rows]
			cpu.Add(row, row, bias)
		})
	}
}

// rows runs fn(i) for i in [0, n) on the pool.
func (r *run) rows(n int, fn func(i int)) {
	r.pool.Run(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			fn(i)
		}
	})
}

// act applies the activation a in place, as ggml's CPU backend does.
func (r *run) act(x []float32, a Activation) {
	t := r.e.actTable
	if a != r.e.P.Act {
		t = activationTable(a)
	}
	const chunk = 4096
	r.pool.Run((len(x)+chunk-1)/chunk, func(lo, hi int) {
		applyAct(x[lo*chunk:min(hi*chunk, len(x))], a, t)
	})
}

// applyAct applies a to x in place. GELU and quick GELU convert x to F16
// a block at a time and look the results up in t (ggml_vec_gelu_f32 and
// ggml_vec_gelu_quick_f32 with GGML_GELU_FP16; GELU passes inputs of 10 or
// more through and gives 0 at -10 or less).
func applyAct(x []float32, a Activation, t []float32) {
	if a == SiLU {
		for i, v := range x {
			x[i] = v / (1 + float32(math.Exp(float64(-v))))
		}
		return
	}
	const block = 256
	var h [2 * block]byte
	for off := 0; off < len(x); off += block {
		c := x[off:min(off+block, len(x))]
		cpu.FP32ToFP16Row(h[:2*len(c)], c)
		for i, v := range c {
			if a == GELU {
				if v <= -10 {
					c[i] = 0
					continue
				}
				if v >= 10 {
					continue
				}
			}
			c[i] = t[uint16(h[2*i])|uint16(h[2*i+1])<<8]
		}
	}
}

// layerNorm writes (x - mean)/sqrt(var + eps) · w + b of each of n rows
// of width d to out, as ggml_norm, ggml_mul and ggml_add do.
func (r *run) layerNorm(x, out, w, b []float32, n, d int) {
	eps := r.e.P.Eps
	r.rows(n, func(i int) {
		xr, y := x[i*d:(i+1)*d], out[i*d:(i+1)*d]
		var sum float64
		for _, v := range xr {
			sum += float64(v)
		}
		mean := float32(sum) / float32(d)
		var sq float64
		for j, v := range xr {
			c := v - mean
			y[j] = c
			sq += float64(c * c)
		}
		variance := float32(sq / float64(d))
		scale := 1 / float32(math.Sqrt(float64(variance+eps)))
		cpu.Scale(y, scale)
		if w != nil {
			cpu.Mul(y, y, w)
		}
		if b != nil {
			cpu.Add(y, y, b)
		}
	})
}

// EncodePixels encodes preprocessed pixels (Preprocess's layout):
// Tokens rows of OutEmbd values. It stops between blocks when ctx is
// done. A nil pool runs on the calling goroutine.
func (e *Encoder) EncodePixels(ctx context.Context, pool *cpu.Pool, pix []float32) ([]float32, error) {
	p := &e.P
	s, ps, d := p.ImageSize, p.PatchSize, p.Embd
	if len(pix) != 3*s*s {
		return nil, fmt.Errorf("vision: %d pixel values, want %d (%dx%dx3)", len(pix), 3*s*s, s, s)
	}
	r := &run{e: e, pool: pool}
	side := s / ps
	np := side * side
	n := np
	if e.cls != nil {
		n++
	}
	// Patch embedding: the convolution as a product with the patches
	// laid out as im2col does (channel, then y, then x).
	k := 3 * ps * ps
	cols := make([]float32, np*k)
	r.rows(np, func(i int) {
		py, px := i/side, i%side
		c := cols[i*k : (i+1)*k]
		for ch := 0; ch < 3; ch++ {
			for ky := 0; ky < ps; ky++ {
				row := pix[3*((py*ps+ky)*s+px*ps):]
				for kx := 0; kx < ps; kx++ {
					c[ch*ps*ps+ky*ps+kx] = row[3*kx+ch]
				}
			}
		}
	})
	x := make([]float32, n*d)
	r.matmul(e.patch, cols, np, x, e.patchBias)
	// The class embedding is appended after the patches (ggml_concat
	// in clip_graph_llava), then every row gets its position embedding.
	if e.cls != nil {
		copy(x[np*d:], e.cls)
	}
	cpu.Add(x, x, e.pos[:n*d])
	if e.preW != nil || e.preB != nil {
		r.layerNorm(x, x, e.preW, e.preB, n, d)
	}
	var stack [][]float32
	xn := make([]float32, n*d)
	q, kk, v := make([]float32, n*d), make([]float32, n*d), make([]float32, n*d)
	att := make([]float32, n*d)
	ff := make([]float32, n*p.FF)
	for il := range e.layers {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("vision: encoding stopped: %w", err)
		}
		L := &e.layers[il]
		if e.isFeature(il) {
			stack = append(stack, append([]float32(nil), x...))
		}
		r.layerNorm(x, xn, L.ln1w, L.ln1b, n, d)
		r.matmul(L.q, xn, n, q, L.qb)
		r.matmul(L.k, xn, n, kk, L.kb)
		r.matmul(L.v, xn, n, v, L.vb)
		r.attention(q, kk, v, att, n)
		r.matmul(L.o, att, n, xn, L.ob)
		cpu.Add(x, xn, x)
		r.layerNorm(x, xn, L.ln2w, L.ln2b, n, d)
		r.matmul(L.up, xn, n, ff, L.upb)
		r.act(ff, p.Act)
		r.matmul(L.down, ff, n, xn, L.downb)
		cpu.Add(x, x, xn)
	}
	if e.postW != nil || e.postB != nil {
		r.layerNorm(x, x, e.postW, e.postB, n, d)
	}
	if e.isFeature(len(e.layers)) {
		stack = append(stack, x)
	}
	feat, fw := x, d
	if len(stack) > 0 {
		// Stacked feature layers are concatenated along the width.
		fw = d * len(stack)
		feat = make([]float32, n*fw)
		for j, st := range stack {
			for i := 0; i < n; i++ {
				copy(feat[i*fw+j*d:i*fw+(j+1)*d], st[i*d:(i+1)*d])
			}
		}
	}
	// The projector reads rows 1..np when there is a class embedding
	// (clip.cpp's "patches" input skips row 0).
	off := 0
	if e.cls != nil {
		off = 1
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("vision: encoding stopped: %w", err)
	}
	return e.proj.project(r, feat[off*fw:(off+np)*fw], np), nil
}

// attention computes multi-head self-attention over n rows (no mask) the
// way ggml's tiled flash-attention kernel does after mtmd casts the keys
// and values to F16: float32 queries, keys and values rounded to F16,
// float32 scores scaled by 1/sqrt(head dim), an online softmax over tiles
// of faTile keys and a float32 accumulator rescaled once per tile.
func (r *run) attention(q, k, v, out []float32, n int) {
	d, heads := r.e.P.Embd, r.e.P.Heads
	dh := d / heads
	scale := float32(1 / math.Sqrt(float64(dh)))
	tiles := (n + faTile - 1) / faTile
	// Per head: keys rounded to F16 as F32 rows ([n][dh]), values
	// rounded to F16 and transposed per key tile ([tile][dh][nk]).
	kb := make([]byte, 4*n*d)
	vb := make([]byte, 4*n*d)
	r.rows(heads, func(h int) {
		kh := kb[4*h*n*dh : 4*(h+1)*n*dh]
		vh := vb[4*h*n*dh : 4*(h+1)*n*dh]
		h16 := make([]byte, 2*dh)
		row := make([]float32, dh)
		for i := 0; i < n; i++ {
			roundF16Row(row, h16, k[i*d+h*dh:i*d+(h+1)*dh])
			for j, x := range row {
				binary.LittleEndian.PutUint32(kh[4*(i*dh+j):], math.Float32bits(x))
			}
		}
		for t := 0; t < tiles; t++ {
			c0 := t * faTile
			nk := min(faTile, n-c0)
			blk := vh[4*c0*dh:]
			for i := 0; i < nk; i++ {
				roundF16Row(row, h16, v[(c0+i)*d+h*dh:(c0+i)*d+(h+1)*dh])
				for j, x := range row {
					binary.LittleEndian.PutUint32(blk[4*(j*nk+i):], math.Float32bits(x))
				}
			}
		}
	})
	// Work items: (head, query tile).
	items := heads * tiles
	r.pool.Run(items, func(lo, hi int) {
		var ws, wsP cpu.Workspace
		qt := make([]float32, faTile*dh)
		kq := make([]float32, faTile*faTile)
		pv := make([]float32, faTile*dh)
		acc := make([]float32, faTile*dh)
		m := make([]float32, faTile)
		sum := make([]float32, faTile)
		for it := lo; it < hi; it++ {
			h, qt0 := it/tiles, (it%tiles)*faTile
			nq := min(faTile, n-qt0)
			for i := 0; i < nq; i++ {
				copy(qt[i*dh:(i+1)*dh], q[(qt0+i)*d+h*dh:])
			}
			qa := cpu.QuantizeActivations(nil, &ws, ggml.TypeF32, qt[:nq*dh], nq, dh)
			clear(acc)
			for i := range m {
				m[i], sum[i] = float32(math.Inf(-1)), 0
			}
			kh := kb[4*h*n*dh : 4*(h+1)*n*dh]
			vh := vb[4*h*n*dh : 4*(h+1)*n*dh]
			for c0 := 0; c0 < n; c0 += faTile {
				nk := min(faTile, n-c0)
				km := cpu.Matrix{Type: ggml.TypeF32, Rows: nk, Cols: dh, Data: kh[4*c0*dh : 4*(c0+nk)*dh]}
				s := kq[:nq*nk]
				cpu.MatMulQuantized(nil, &ws, km, qa, s)
				for x := 0; x < nq; x++ {
					row := s[x*nk : (x+1)*nk]
					tmax := float32(math.Inf(-1))
					for j, val := range row {
						val *= scale
						row[j] = val
						if val > tmax {
							tmax = val
						}
					}
					if mnew := max(m[x], tmax); mnew > m[x] {
						ms := float32(math.Exp(float64(m[x] - mnew)))
						cpu.Scale(acc[x*dh:(x+1)*dh], ms)
						sum[x] *= ms
						m[x] = mnew
					}
					sum[x] = float32(float64(sum[x]) + cpu.SoftMaxExp(row, m[x]))
				}
				pa := cpu.QuantizeActivations(nil, &wsP, ggml.TypeF32, s, nq, nk)
				vm := cpu.Matrix{Type: ggml.TypeF32, Rows: dh, Cols: nk, Data: vh[4*c0*dh : 4*(c0+nk)*dh]}
				cpu.MatMulQuantized(nil, &wsP, vm, pa, pv[:nq*dh])
				cpu.Add(acc[:nq*dh], acc[:nq*dh], pv[:nq*dh])
			}
			for x := 0; x < nq; x++ {
				inv := float32(0)
				if sum[x] != 0 {
					inv = 1 / sum[x]
				}
				o := out[(qt0+x)*d+h*dh : (qt0+x)*d+(h+1)*dh]
				for j, a := range acc[x*dh : (x+1)*dh] {
					o[j] = a * inv
				}
			}
		}
	})
}

// roundF16Row writes src rounded to the nearest F16 values to dst, as a
// cast to F16 and back; h16 holds 2*len(src) bytes of scratch.
func roundF16Row(dst []float32, h16 []byte, src []float32) {
	cpu.FP32ToFP16Row(h16[:2*len(src)], src)
	cpu.FP16ToFP32Row(dst[:len(src)], h16[:2*len(src)])
}
