//go:build !noasm

package cpu

import (
	"math"
	"testing"
)

// TestNEONTileKernels runs every NEON tile kernel the CPU supports on
// random weights and activations, for every token count, and requires the
// generic kernels' results bit for bit: the integer parts are exact and the
// float operations are those of the generic kernels (as the Go compiler
// builds them for arm64, with fused multiply-adds) in the same order.
func TestNEONTileKernels(t *testing.T) {
	f := detectNEON()
	if !f.asimd {
		t.Skip("CPU lacks Advanced SIMD")
	}
	gen := genericKernelSet()
	for _, nk := range neonTiles() {
		if nk.sdot && !f.dotProd {
			t.Logf("%s: needs the dot-product extension, skipped", nk.name)
			continue
		}
		vt := vecDotTypes[nk.t]
		r := newRand()
		total := 0
		for _, cols := range neonTileCols(nk.t) {
			for _, rows := range []int{nk.k.rows, 3 * nk.k.rows} {
				w := randomWeights(r, nk.t, scaleOffsets(nk.t), rows, cols)
				rb, _ := RowBytes(nk.t, cols)
				for nt := 1; nt <= nk.pk.tokens; nt++ {
					x := randomFloats(r, nt*cols, 1)
					a := quantizeActivations(gen, nil, nil, vt, x, nt, cols)
					panel := a.data
					if nk.pk.pack != nil {
						panel = make([]byte, nt*nk.pk.tokenBytes(cols))
						nk.pk.pack(panel, a.data, a.rowSize, nt, cols)
					}
					const ldo = 50
					out := make([]float32, (nt-1)*ldo+rows+1)
					out[len(out)-1] = 42 // must not be written
					nk.k.fn(w, rb, rows, panel, nt, cols, out, ldo)
					if out[len(out)-1] != 42 {
						t.Fatalf("%s: wrote past the tile", nk.name)
					}
					for tk := 0; tk < nt; tk++ {
						arow := a.data[tk*a.rowSize : (tk+1)*a.rowSize]
						for i := 0; i < rows; i++ {
							got := out[tk*ldo+i]
							want := gen.vecDot[nk.t](cols, w[i*rb:(i+1)*rb], arow)
							if math.Float32bits(got) != math.Float32bits(want) {
								t.Fatalf("%s cols=%d rows=%d nt=%d: row %d token %d: %g, generic %g",
									nk.name, cols, rows, nt, i, tk, got, want)
							}
							total++
						}
					}
				}
			}
		}
		t.Logf("%s: %d results bit-identical to the generic kernel", nk.name, total)
	}
}

// neonTileCols are short row lengths: one block, a few, and a longer row.
func neonTileCols(t interface{ BlockSize() int }) []int {
	if t.BlockSize() == 32 {
		return []int{32, 96, 512}
	}
	return []int{256, 768}
}

// TestNEONTileExtremeQuants checks the tile kernels where integer overflow
// or saturation would show: every weight byte at an extreme and
// activations of ±127.
func TestNEONTileExtremeQuants(t *testing.T) {
	f := detectNEON()
	if !f.asimd {
		t.Skip("CPU lacks Advanced SIMD")
	}
	gen := genericKernelSet()
	for _, nk := range neonTiles() {
		if nk.sdot && !f.dotProd {
			continue
		}
		vt := vecDotTypes[nk.t]
		cols := neonTileCols(nk.t)[1]
		rows := nk.k.rows
		rb, _ := RowBytes(nk.t, cols)
		bb := nk.t.BlockBytes()
		for _, wv := range []byte{0x00, 0xff, 0x80, 0x81, 0x7f} {
			for _, av := range []float32{1, -1} {
				w := make([]byte, rows*rb)
				for i := range w {
					w[i] = wv
				}
				for b := 0; b < len(w); b += bb {
					for _, off := range scaleOffsets(nk.t) {
						putHalf(w[b+off:], 0.01)
					}
				}
				nt := nk.pk.tokens
				x := make([]float32, nt*cols)
				for i := range x {
					x[i] = av
					if i%5 == 0 && av < 0 {
						x[i] = -av
					}
				}
				a := quantizeActivations(gen, nil, nil, vt, x, nt, cols)
				panel := a.data
				if nk.pk.pack != nil {
					panel = make([]byte, nt*nk.pk.tokenBytes(cols))
					nk.pk.pack(panel, a.data, a.rowSize, nt, cols)
				}
				out := make([]float32, nt*rows)
				nk.k.fn(w, rb, rows, panel, nt, cols, out, rows)
				for tk := 0; tk < nt; tk++ {
					arow := a.data[tk*a.rowSize : (tk+1)*a.rowSize]
					for i := 0; i < rows; i++ {
						want := gen.vecDot[nk.t](cols, w[i*rb:(i+1)*rb], arow)
						if got := out[tk*rows+i]; math.Float32bits(got) != math.Float32bits(want) {
							t.Fatalf("%s weights %#x activations %g: row %d token %d: %g, generic %g", nk.name, wv, av, i, tk, got, want)
						}
					}
				}
			}
		}
	}
}

// TestNEONTileMatMul runs whole MatMuls with the NEON kernels of each
// variant against the generic kernels, over shapes that mix tile groups,
// leftover rows and partial token groups: bit for bit.
func TestNEONTileMatMul(t *testing.T) {
	gen := baseKernelSet()
	pool := NewPool(2)
	defer pool.Close()
	for _, f := range neonVariants(t) {
		arch := baseKernelSet()
		useNEONFeatures(arch, f)
		for _, wt := range weightTypes {
			if arch.tile[wt.t].fn == nil {
				continue
			}
			r := newRand()
			exact, total := 0, 0
			for _, shape := range [][3]int{{4, 32, 1}, {7, 64, 1}, {37, 256, 1}, {16, 256, 9}, {22, 512, 13}} {
				rows, cols, n := shape[0], shape[1], shape[2]
				if cols%wt.t.BlockSize() != 0 {
					continue
				}
				m, _ := NewMatrix(wt.t, rows, cols, randomWeights(r, wt.t, wt.scales, rows, cols))
				x := randomFloats(r, n*cols, 1)
				got := make([]float32, n*rows)
				want := make([]float32, n*rows)
				matMul(arch, pool, &Workspace{}, m, x, n, got)
				matMul(gen, pool, &Workspace{}, m, x, n, want)
				vt := vecDotTypes[wt.t]
				a := quantizeActivations(gen, nil, nil, vt, x, n, cols)
				rb := m.RowBytes()
				for k := 0; k < n; k++ {
					for i := 0; i < rows; i++ {
						g, w := float64(got[k*rows+i]), float64(want[k*rows+i])
						total++
						if g == w {
							exact++
							continue
						}
						_, mag := refDot(wt.t, m.Data[i*rb:(i+1)*rb], a.data[k*a.rowSize:], cols)
						t.Fatalf("%+v %v %dx%d n=%d: out[%d][%d] = %g, generic %g (diff %.3g, scale %.3g)",
							f, wt.t, rows, cols, n, k, i, g, w, math.Abs(g-w), mag)
					}
				}
			}
			t.Logf("%+v %v: %d of %d results bit-identical to generic", f, wt.t, exact, total)
		}
	}
}
