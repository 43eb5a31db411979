package cpu

import (
	"fmt"
	"math"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// TestPackSameResults multiplies packed matrices (where this CPU has a
// packed layout for the type) and checks every product equals, bit for
// bit, the product with the unpacked matrix and with the generic kernels'
// vecDot: for row counts with and without a partial group, one token and
// several, slices that start on a group boundary and elsewhere, and 1 to
// 3 threads.
func TestPackSameResults(t *testing.T) {
	packedTypes := 0
	for _, wt := range weightTypes {
		r := newRand()
		const cols = 256
		for _, rows := range []int{16, 45, 96} {
			m, err := NewMatrix(wt.t, rows, cols, randomWeights(r, wt.t, wt.scales, rows, cols))
			if err != nil {
				t.Fatal(err)
			}
			p := Pack(m)
			if p.packed == nil {
				if rows == 96 {
					t.Logf("%v: not packed on this CPU", wt.t)
				}
				continue
			}
			if rows == 96 {
				packedTypes++
				t.Logf("%v: packed in groups of %d rows", wt.t, p.group)
			}
			if q := Pack(p); &q.packed[0] != &p.packed[0] {
				t.Errorf("%v: Pack of a packed matrix packed again", wt.t)
			}
			for _, n := range []int{1, 3, 17} {
				x := randomFloats(r, n*cols, 1)
				for _, sl := range [][2]int{{0, rows}, {16, rows - 16}, {3, rows - 5}, {0, 5}} {
					if sl[1] <= 0 {
						continue
					}
					ms, ps := m.Slice(sl[0], sl[1]), p.Slice(sl[0], sl[1])
					want := make([]float32, n*sl[1])
					MatMul(nil, nil, ms, x, n, want)
					for threads := 1; threads <= 3; threads++ {
						pool := NewPool(threads)
						got := make([]float32, n*sl[1])
						MatMul(pool, nil, ps, x, n, got)
						pool.Close()
						name := fmt.Sprintf("%v rows=%d slice=%v n=%d threads=%d", wt.t, rows, sl, n, threads)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s: out[%d] = %g packed, %g unpacked", name, i, got[i], want[i])
							}
						}
					}
				}
			}
			// And vecDot, row by row: the generic one for the block types
			// (whose kernels all sum alike), the installed one for the
			// float types (whose lane sums differ from the generic ones').
			vt, _ := VecDotType(wt.t)
			x := randomFloats(r, cols, 1)
			a := QuantizeActivations(nil, nil, vt, x, 1, cols)
			got := make([]float32, rows)
			MatMulQuantized(nil, nil, p, a, got)
			dot := genericKernelSet().vecDot[wt.t]
			if wt.t.BlockSize() == 1 {
				dot = kern.vecDot[wt.t]
			}
			rb := m.RowBytes()
			for i := range got {
				want := dot(cols, m.Data[i*rb:(i+1)*rb], a.data)
				if math.Float32bits(got[i]) != math.Float32bits(want) {
					t.Fatalf("%v rows=%d: row %d = %g packed, generic vecDot %g", wt.t, rows, i, got[i], want)
				}
			}
		}
	}
	if f := kern.packed[ggml.TypeQ4_0]; f.layout != 0 && packedTypes == 0 {
		t.Error("this CPU has packed kernels but nothing was packed")
	}
}

// TestPackLeavesOthers checks Pack returns matrices it cannot pack as they
// are.
func TestPackLeavesOthers(t *testing.T) {
	r := newRand()
	for _, tc := range []struct {
		t          ggml.Type
		rows, cols int
	}{{ggml.TypeF32, 32, 63}, {ggml.TypeBF16, 32, 64}, {ggml.TypeQ4_0, 7, 64}, {ggml.TypeQ4_0, 0, 64}, {ggml.TypeQ4_0, 32, 0}} {
		m, err := NewMatrix(tc.t, tc.rows, tc.cols, randomWeights(r, tc.t, scalesOfType(tc.t), tc.rows, tc.cols))
		if err != nil {
			t.Fatal(err)
		}
		if p := Pack(m); p.packed != nil {
			t.Errorf("Pack(%v %dx%d) packed it", tc.t, tc.rows, tc.cols)
		}
	}
}
