//go:build !noasm

package cpu

import (
	"fmt"
	"math"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// TestPackedKQuants checks the packed K-quant kernels against the generic
// vecDot bit for bit, over row lengths of one to 22 blocks, every token
// count of a call (1-16, and more, which MatMul splits), row counts with
// a partial group, and weights at the ends of their ranges (all quants
// and scales at their maximum, with activations at +-127).
func TestPackedKQuants(t *testing.T) {
	tested := 0
	for _, wt := range []ggml.Type{ggml.TypeQ4_K, ggml.TypeQ5_K, ggml.TypeQ6_K} {
		if kern.packed[wt].layout == 0 {
			t.Logf("%v: no packed layout on this CPU", wt)
			continue
		}
		tested++
		dot := genericKernelSet().vecDot[wt]
		r := newRand()
		for _, c := range []struct {
			rows, cols int
			extreme    bool
		}{
			{16, 256, false}, {32, 768, false}, {48, 2048, false}, {37, 5632, false},
			{16, 512, true}, {21, 256, true},
		} {
			scales := scalesOfType(wt)
			data := randomWeights(r, wt, scales, c.rows, c.cols)
			if c.extreme {
				// Q4_K and Q5_K: quants 15 (31), scales and mins 63;
				// Q6_K: quants 31, scales -128 (then 127 for every other
				// block).
				bb := wt.BlockBytes()
				for b := 0; b < len(data); b += bb {
					switch wt {
					case ggml.TypeQ4_K, ggml.TypeQ5_K:
						for i := 4; i < bb; i++ {
							data[b+i] = 0xff
						}
					case ggml.TypeQ6_K:
						for i := 0; i < 192; i++ {
							data[b+i] = 0xff
						}
						for i := 192; i < 208; i++ {
							data[b+i] = 0x80 - byte(b/bb%2)
						}
					}
				}
			}
			m, err := NewMatrix(wt, c.rows, c.cols, data)
			if err != nil {
				t.Fatal(err)
			}
			p := Pack(m)
			if p.packed == nil {
				t.Fatalf("%v: not packed", wt)
			}
			for _, n := range []int{1, 2, 3, 5, 8, 15, 16, 17, 40} {
				x := randomFloats(r, n*c.cols, 1)
				if c.extreme {
					// Even tokens all +1 (the largest sums), odd ones
					// alternating.
					for i := range x {
						x[i] = 1
						if i/c.cols%2 == 1 {
							x[i] = float32(1 - 2*(i&1))
						}
					}
				}
				a := QuantizeActivations(nil, nil, ggml.TypeQ8_K, x, n, c.cols)
				got := make([]float32, n*c.rows)
				pool := NewPool(2)
				MatMulQuantized(pool, nil, p, a, got)
				pool.Close()
				rb := m.RowBytes()
				for tok := 0; tok < n; tok++ {
					for row := 0; row < c.rows; row++ {
						want := dot(c.cols, m.Data[row*rb:(row+1)*rb], a.data[tok*a.rowSize:(tok+1)*a.rowSize])
						if g := got[tok*c.rows+row]; math.Float32bits(g) != math.Float32bits(want) {
							t.Fatalf("%s: token %d row %d = %g packed, generic %g", fmt.Sprintf("%v %dx%d extreme=%v n=%d", wt, c.rows, c.cols, c.extreme, n), tok, row, g, want)
						}
					}
				}
			}
		}
	}
	if tested == 0 {
		t.Skip("no packed K-quant layout on this CPU")
	}
}
