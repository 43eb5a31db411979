//go:build !noasm

package cpu

import (
	"fmt"
	"math"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// legacyScales returns the fp16 scale offsets of weight type t (weightTypes).
func legacyScales(t ggml.Type) []int {
	for _, wt := range weightTypes {
		if wt.t == t {
			return wt.scales
		}
	}
	panic(fmt.Sprintf("no weight type %v", t))
}

// checkClose compares a kernel's result with the generic one: the integer
// parts are exact, so only float32 summation order may differ; the tile
// kernels do the float operations of the generic kernels in the same
// order, so they must match bit for bit unless the Go compiler fuses the
// generic kernels' multiply-adds (GOAMD64=v3). exact counts matches.
func checkClose(t *testing.T, what string, got, want, mag float64, exact *int) {
	t.Helper()
	if got == want {
		*exact++
		return
	}
	if !goFusesFMA() {
		t.Fatalf("%s: got %g, generic %g: not bit-identical", what, got, want)
	}
	if d := math.Abs(got - want); !(d <= 1e-6*mag) {
		t.Fatalf("%s: got %g, generic %g (diff %.3g, scale %.3g)", what, got, want, d, mag)
	}
}

var fmaProbe = [3]float32{1 + 0x1p-12, 1 - 0x1p-12, -1}

// goFusesFMA reports whether the compiler turned x*y+z into a fused
// multiply-add in this build.
func goFusesFMA() bool {
	x, y, z := fmaProbe[0], fmaProbe[1], fmaProbe[2]
	return x*y+z != 0
}

// dotMag is Σ|w·a| over the dequantized row and activation, the scale of
// the rounding error of a dot product.
func dotMag(t ggml.Type, w []byte, act []float64) float64 {
	f := make([]float32, len(act))
	if err := ggml.Dequantize(t, w, f); err != nil {
		panic(err)
	}
	var m float64
	for i, v := range f {
		m += math.Abs(float64(v) * act[i])
	}
	return m
}

func TestLegacyTileKernels(t *testing.T) {
	gen := genericKernelSet()
	ran := 0
	for _, lt := range legacyTiles(legacyDetect()) {
		if !lt.ok {
			t.Logf("%s: not supported by this CPU, skipped", lt.name)
			continue
		}
		ran++
		vt := vecDotTypes[lt.t]
		float := lt.t.BlockSize() == 1
		pk := lt.pk
		colsList := []int{32, 64, 96, 512, 2048}
		if float {
			colsList = []int{1, 7, 8, 9, 16, 63, 64, 65, 130, 1000}
		}
		r := newRand()
		exact, total := 0, 0
		for _, cols := range colsList {
			for _, rows := range []int{lt.k.rows, 2 * lt.k.rows, 3 * lt.k.rows} {
				w := randomWeights(r, lt.t, legacyScales(lt.t), rows, cols)
				rb, _ := RowBytes(lt.t, cols)
				for _, nt := range []int{1, 2, 3, pk.tokens - 1, pk.tokens} {
					if nt < 1 || nt > pk.tokens {
						continue
					}
					x := randomFloats(r, nt*cols, 1)
					a := quantizeActivations(gen, nil, nil, vt, x, nt, cols)
					panel := a.data
					if !float {
						panel = make([]byte, nt*pk.tokenBytes(cols))
						pk.pack(panel, a.data, a.rowSize, nt, cols)
					}
					const ldo = 1000
					out := make([]float32, (nt-1)*ldo+rows+1)
					out[len(out)-1] = 42 // must not be written
					lt.k.fn(w, rb, rows, panel, nt, cols, out, ldo)
					if out[len(out)-1] != 42 {
						t.Fatalf("%s: wrote past the tile", lt.name)
					}
					for tk := 0; tk < nt; tk++ {
						arow := a.data[tk*a.rowSize : (tk+1)*a.rowSize]
						act := dequantActivations(vt, arow, cols)
						for i := 0; i < rows; i++ {
							wr := w[i*rb : (i+1)*rb]
							got := out[tk*ldo+i]
							what := fmt.Sprintf("%s cols=%d rows=%d nt=%d: row %d token %d", lt.name, cols, rows, nt, i, tk)
							mag := dotMag(lt.t, wr, act)
							if float {
								// FMA and another summation order than
								// the generic kernel, but the same as
								// the vecDot of its level.
								if want := lt.dot(cols, wr, arow); got != want {
									t.Fatalf("%s: %g, vecDot gives %g", what, got, want)
								}
								want := gen.vecDot[lt.t](cols, wr, arow)
								if d := math.Abs(float64(got - want)); d > float64(cols/8+8)*1.2e-7*mag {
									t.Fatalf("%s: %g, generic %g (diff %.3g, scale %.3g)", what, got, want, d, mag)
								}
								total++
								continue
							}
							want := gen.vecDot[lt.t](cols, wr, arow)
							checkClose(t, what, float64(got), float64(want), mag, &exact)
							total++
						}
					}
				}
			}
		}
		if float {
			t.Logf("%s: %d results close to the generic kernel, identical to its vecDot", lt.name, total)
		} else {
			t.Logf("%s: %d of %d results bit-identical to the generic kernel", lt.name, exact, total)
		}
	}
	if ran == 0 {
		t.Logf("no legacy tile kernel runs on this CPU")
	}
}

// TestLegacyExtremeQuants checks the kernels where integer overflow or
// saturation would show: every weight and activation quant at its extreme
// (Q8_0 weights of -128 and -127, activations of ±127), for each level.
func TestLegacyExtremeQuants(t *testing.T) {
	gen := genericKernelSet()
	for _, lt := range legacyTiles(legacyDetect()) {
		if !lt.ok || lt.t.BlockSize() != 32 {
			continue
		}
		vt := vecDotTypes[lt.t]
		const cols = 256
		rows := lt.k.rows
		rb, _ := RowBytes(lt.t, cols)
		bb := lt.t.BlockBytes()
		for _, wv := range []byte{0x00, 0xff, 0x80, 0x81, 0x7f} {
			for _, av := range []float32{1, -1} {
				w := make([]byte, rows*rb)
				for i := range w {
					w[i] = wv
				}
				for b := 0; b < len(w); b += bb {
					for _, off := range legacyScales(lt.t) {
						putHalf(w[b+off:], 0.01)
					}
				}
				nt := lt.pk.tokens
				x := make([]float32, nt*cols)
				for i := range x {
					x[i] = av
					if i%5 == 0 && av < 0 {
						x[i] = -av
					}
				}
				a := quantizeActivations(gen, nil, nil, vt, x, nt, cols)
				panel := make([]byte, nt*lt.pk.tokenBytes(cols))
				lt.pk.pack(panel, a.data, a.rowSize, nt, cols)
				out := make([]float32, nt*rows)
				lt.k.fn(w, rb, rows, panel, nt, cols, out, rows)
				exact := 0
				for tk := 0; tk < nt; tk++ {
					arow := a.data[tk*a.rowSize : (tk+1)*a.rowSize]
					act := dequantActivations(vt, arow, cols)
					for i := 0; i < rows; i++ {
						wr := w[i*rb : (i+1)*rb]
						want := gen.vecDot[lt.t](cols, wr, arow)
						what := fmt.Sprintf("%s weights %#x activations %g: row %d token %d", lt.name, wv, av, i, tk)
						checkClose(t, what, float64(out[tk*rows+i]), float64(want), dotMag(lt.t, wr, act), &exact)
					}
				}
			}
		}
	}
}

// legacyKernelSet is the generic kernel set with the legacy and float
// kernels of level f.
func legacyKernelSet(f legacyFeatures) *kernelSet {
	k := baseKernelSet()
	useLegacy(k, f)
	return k
}

// TestLegacyMatMulVsGeneric runs whole MatMuls with the kernels of each
// level this CPU supports and with the generic ones, over shapes that mix
// tile groups, leftover rows and partial token groups.
func TestLegacyMatMulVsGeneric(t *testing.T) {
	gen := genericKernelSet()
	pool := NewPool(2)
	defer pool.Close()
	for _, lv := range legacyLevels()[1:] {
		arch := legacyKernelSet(lv.f)
		for _, wt := range weightTypes {
			float := wt.t == ggml.TypeF16 || wt.t == ggml.TypeF32
			if wt.t.BlockSize() != 32 && !float {
				continue
			}
			if arch.tile[wt.t].fn == nil {
				t.Logf("%s %v: no tile kernel", lv.name, wt.t)
				continue
			}
			r := newRand()
			exact, total := 0, 0
			for _, shape := range [][3]int{{16, 32, 1}, {17, 64, 1}, {200, 512, 1}, {64, 256, 5}, {81, 160, 17}, {130, 512, 40}, {7, 100, 3}, {38, 37, 9}} {
				rows, cols, n := shape[0], shape[1], shape[2]
				if !float && cols%32 != 0 {
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
					act := dequantActivations(vt, a.data[k*a.rowSize:], cols)
					for i := 0; i < rows; i++ {
						what := fmt.Sprintf("%s %v %dx%d n=%d: out[%d][%d]", lv.name, wt.t, rows, cols, n, k, i)
						mag := dotMag(wt.t, m.Data[i*rb:(i+1)*rb], act)
						g, w := float64(got[k*rows+i]), float64(want[k*rows+i])
						if float {
							if d := math.Abs(g - w); d > float64(cols/8+8)*1.2e-7*mag {
								t.Fatalf("%s: %g, generic %g (diff %.3g, scale %.3g)", what, g, w, d, mag)
							}
							if g == w {
								exact++
							}
						} else {
							checkClose(t, what, g, w, mag, &exact)
						}
						total++
					}
				}
			}
			t.Logf("%s %v: %d of %d MatMul results bit-identical to the generic kernels", lv.name, wt.t, exact, total)
		}
	}
}

// BenchmarkLegacyMatMul compares the kernels of each level this CPU
// supports in one run, on TinyLlama's matrix shapes.
func BenchmarkLegacyMatMul(b *testing.B) {
	pool := NewPool(0)
	defer pool.Close()
	type set struct {
		name string
		k    *kernelSet
	}
	var sets []set
	for _, lv := range legacyLevels() {
		sets = append(sets, set{lv.name, legacyKernelSet(lv.f)})
	}
	for _, wt := range weightTypes {
		if wt.t.BlockSize() != 32 && wt.t != ggml.TypeF16 && wt.t != ggml.TypeF32 {
			continue
		}
		for _, shape := range [][2]int{{2048, 2048}, {5632, 2048}} {
			rows, cols := shape[0], shape[1]
			r := newRand()
			m, _ := NewMatrix(wt.t, rows, cols, randomWeights(r, wt.t, wt.scales, rows, cols))
			for _, n := range []int{1, 64} {
				x := randomFloats(r, n*cols, 1)
				out := make([]float32, n*rows)
				for _, s := range sets {
					b.Run(fmt.Sprintf("%v/%dx%d/n=%d/%s", wt.t, rows, cols, n, s.name), func(b *testing.B) {
						var ws Workspace
						matMul(s.k, pool, &ws, m, x, n, out)
						b.SetBytes(int64(len(m.Data)))
						b.ResetTimer()
						for i := 0; i < b.N; i++ {
							matMul(s.k, pool, &ws, m, x, n, out)
						}
						b.ReportMetric(float64(2*rows*cols*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}

// converterInputs returns rows of cols values that stress the activation
// quantizers: normal values of several magnitudes, exact rounding ties,
// all-zero and one-value blocks, negative maxima, and equal magnitudes of
// both signs (the first one sets Q8_K's scale).
func converterInputs(cols int) [][]float32 {
	r := newRand()
	var rows [][]float32
	for _, s := range []float64{1, 1e-3, 30, 1e-6, 1e4} {
		rows = append(rows, randomFloats(r, cols, s))
	}
	ties := make([]float32, cols)
	for i := range ties {
		// With amax = 127, x*127/amax = x: halves are ties.
		ties[i] = float32(i%255-127) / 2
	}
	for b := 0; b < cols; b += 32 {
		ties[b] = 127
	}
	rows = append(rows, ties)
	sparse := make([]float32, cols)
	sparse[cols/2] = -3
	rows = append(rows, sparse, make([]float32, cols))
	signs := randomFloats(r, cols, 1)
	for i := 0; i < cols; i += 7 {
		signs[i] = float32(5 - 10*float64(i%2))
	}
	rows = append(rows, signs)
	return rows
}

func TestLegacyConverters(t *testing.T) {
	gen := genericKernelSet()
	for _, lc := range legacyConverters(legacyDetect()) {
		if !lc.ok {
			t.Logf("%s: not supported by this CPU, skipped", lc.name)
			continue
		}
		n := 0
		for _, cols := range []int{256, 512, 4096} {
			for i, x := range converterInputs(cols) {
				rb, _ := lc.t.RowBytes(int64(cols))
				want := make([]byte, rb)
				got := make([]byte, rb+1)
				got[rb] = 0x5a
				gen.convert[lc.t](want, x)
				lc.fn(got[:rb], x)
				if got[rb] != 0x5a {
					t.Fatalf("%s: wrote past the row", lc.name)
				}
				for j := range want {
					if got[j] != want[j] {
						t.Fatalf("%s cols=%d input %d: byte %d = %#x, generic %#x", lc.name, cols, i, j, got[j], want[j])
					}
				}
				n++
			}
		}
		t.Logf("%s: %d rows byte-identical to the generic converter", lc.name, n)
	}
}

// BenchmarkMatVecTiles runs generation's matrix-vector product (2
// threads, weights streamed from memory) through each tile kernel of
// the 32-element block types this CPU supports, to choose the one-token kernel
// (kernelSet.vecTile).
func BenchmarkMatVecTiles(b *testing.B) {
	for _, tc := range []struct {
		t          ggml.Type
		rows, cols int
	}{{ggml.TypeQ8_0, 5632, 2048}, {ggml.TypeQ8_0, 2048, 5632}, {ggml.TypeQ4_0, 5632, 2048}, {ggml.TypeQ4_0, 2048, 5632},
		{ggml.TypeQ4_1, 5632, 2048}, {ggml.TypeQ5_0, 5632, 2048}, {ggml.TypeQ5_1, 5632, 2048}, {ggml.TypeIQ4_NL, 5632, 2048}} {
		rows, cols, t := tc.rows, tc.cols, tc.t
		r := newRand()
		m, _ := NewMatrix(t, rows, cols, randomWeights(r, t, scalesOfType(t), rows, cols))
		ms := streamCopies(m)
		x := randomFloats(r, cols, 1)
		out := make([]float32, rows)
		for _, lt := range legacyTiles(legacyDetect()) {
			if lt.t != t || !lt.ok {
				continue
			}
			k := *kern
			k.tile[t], k.vecTile[t] = lt.k, tileKernel{}
			vt, _ := VecDotType(t)
			k.panel[vt] = lt.pk
			b.Run(lt.name, func(b *testing.B) {
				pool := NewPool(2)
				defer pool.Close()
				var ws Workspace
				b.SetBytes(int64(len(m.Data)))
				i := 0
				for b.Loop() {
					matMul(&k, pool, &ws, ms[i], x, 1, out)
					if i++; i == len(ms) {
						i = 0
					}
				}
			})
		}
	}
}
