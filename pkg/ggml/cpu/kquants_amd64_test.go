//go:build !noasm

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// scalesOf returns the fp16 scale offsets of weight type t from weightTypes.
func scalesOf(t ggml.Type) []int {
	for _, wt := range weightTypes {
		if wt.t == t {
			return wt.scales
		}
	}
	panic("no weightTypes entry for " + t.String())
}

// randomQ8KBytes returns nb Q8_K blocks with quants drawn from the whole
// int8 range (including -128, which the converter never makes, unless
// no128), random positive scales and matching bsums.
func randomQ8KBytes(r *rand.Rand, nb int, no128 bool) []byte {
	b := make([]byte, nb*q8_KBytes)
	for i := 0; i < nb; i++ {
		y := b[i*q8_KBytes : (i+1)*q8_KBytes]
		u := math.Float32bits(float32(0.001 + 0.05*r.Float64()))
		y[0], y[1], y[2], y[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		for g := 0; g < 16; g++ {
			var s int
			for l := 0; l < 16; l++ {
				q := int8(r.Uint32())
				if no128 && q == -128 {
					q = -127
				}
				if r.IntN(8) == 0 && !no128 {
					q = []int8{-128, 127, -127}[r.IntN(3)]
				}
				y[4+16*g+l] = byte(q)
				s += int(q)
			}
			y[q8KBsumsOff+2*g], y[q8KBsumsOff+2*g+1] = byte(s), byte(uint16(s)>>8)
		}
	}
	return b
}

// dotMagnitude returns Σ|w·a| over one row of n weights of type t and n
// Q8_K activations, from ggml.Dequantize (independent of the kernels).
func dotMagnitude(t testing.TB, wt ggml.Type, w, a []byte, n int) float64 {
	t.Helper()
	wf := make([]float32, n)
	af := make([]float32, n)
	wb, _ := wt.RowBytes(int64(n))
	if err := ggml.Dequantize(wt, w[:wb], wf); err != nil {
		t.Fatal(err)
	}
	if err := ggml.Dequantize(ggml.TypeQ8_K, a[:n/qkK*q8_KBytes], af); err != nil {
		t.Fatal(err)
	}
	var m float64
	for i := range wf {
		m += math.Abs(float64(wf[i]) * float64(af[i]))
	}
	return m
}

// TestKQuantKernels compares every K-quant kernel this CPU can run with the
// generic one on random rows of 1 to 22 blocks, with activations from the
// Q8_K converter and with raw random Q8_K blocks.
func TestKQuantKernels(t *testing.T) {
	generic := genericKernelSet()
	ran := 0
	for _, im := range kqImpls(kqDetect()) {
		if !im.ok {
			t.Logf("%s: not supported by this CPU, skipped", im.name)
			continue
		}
		ran++
		t.Run(im.name, func(t *testing.T) {
			r := newRand()
			want := generic.vecDot[im.t]
			for _, nb := range []int{1, 2, 3, 8, 22} {
				n := nb * qkK
				for trial := 0; trial < 20; trial++ {
					w := randomWeights(r, im.t, scalesOf(im.t), 1, n)
					var a []byte
					if trial%2 == 0 {
						a = make([]byte, nb*q8_KBytes)
						quantizeQ8_KGeneric(a, randomFloats(r, n, 1))
					} else {
						a = randomQ8KBytes(r, nb, im.no128)
					}
					got, exp := im.dot(n, w, a), want(n, w, a)
					mag := dotMagnitude(t, im.t, w, a, n)
					if d := math.Abs(float64(got) - float64(exp)); d > 1e-6*mag || math.IsNaN(float64(got)) {
						t.Fatalf("%d blocks, trial %d: got %g, generic %g (diff %.3g, scale %.3g)", nb, trial, got, exp, d, mag)
					}
					if genericUnfused && math.Float32bits(got) != math.Float32bits(exp) {
						t.Fatalf("%d blocks, trial %d: got %g, generic %g: not bit-identical", nb, trial, got, exp)
					}
				}
			}
			if got := im.dot(0, nil, nil); got != 0 {
				t.Errorf("empty row: got %g", got)
			}
		})
	}
	t.Logf("ran %d K-quant kernels (bit-identical to generic required: %v)", ran, genericUnfused)
}

// TestKQuantKernelsMatMul runs every supported K-quant kernel through
// MatMul's tiling (n = 1 and n > 1) and compares with the generic kernel.
func TestKQuantKernelsMatMul(t *testing.T) {
	generic := genericKernelSet()
	for _, im := range kqImpls(kqDetect()) {
		if !im.ok {
			continue
		}
		t.Run(im.name, func(t *testing.T) {
			r := newRand()
			const rows, cols = 37, 768
			m, err := NewMatrix(im.t, rows, cols, randomWeights(r, im.t, scalesOf(im.t), rows, cols))
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 19} {
				a := QuantizeActivations(nil, nil, ggml.TypeQ8_K, randomFloats(r, n*cols, 1), n, cols)
				got := mulWith(im.dot, m, a)
				want := mulWith(generic.vecDot[im.t], m, a)
				for i := range got {
					k, row := i/rows, i%rows
					mag := dotMagnitude(t, im.t, m.Data[row*m.RowBytes():], a.data[k*a.rowSize:], cols)
					if d := math.Abs(float64(got[i]) - float64(want[i])); d > 1e-6*mag ||
						genericUnfused && math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("n=%d: out[%d][%d] = %g, generic %g", n, k, row, got[i], want[i])
					}
				}
			}
		})
	}
}

// mulWith runs MatMul's tiles for m and a with the given dot kernel.
func mulWith(dot vecDotFunc, m Matrix, a Activations) []float32 {
	out := make([]float32, a.N*m.Rows)
	nTB := (a.N + tileTokens - 1) / tileTokens
	task := mmTask{dot: dot, w: m, rowBytes: m.RowBytes(), a: a, out: out, nTB: nTB}
	task.run(0, (m.Rows+tileRows-1)/tileRows*nTB)
	return out
}

// BenchmarkKQuantMatMul times MatMul (Q8_K conversion included) with the
// generic kernels, with each supported SIMD vecDot kernel alone, and with
// the tile kernel where there is one, on the shapes of a TinyLlama-sized
// model (rows × cols).
func BenchmarkKQuantMatMul(b *testing.B) {
	pool := NewPool(0)
	defer pool.Close()
	f := kqDetect()
	for _, wt := range []ggml.Type{ggml.TypeQ4_K, ggml.TypeQ6_K, ggml.TypeQ5_K, ggml.TypeQ3_K, ggml.TypeQ2_K, ggml.TypeIQ4_XS} {
		type set struct {
			name string
			k    *kernelSet
		}
		sets := []set{{"generic", genericKernelSet()}}
		for _, im := range kqImpls(f) {
			if im.t == wt && im.ok {
				k := newKernelSet()
				k.vecDot[wt], k.tile[wt] = im.dot, tileKernel{}
				sets = append(sets, set{strings.TrimPrefix(im.name, wt.String()+"/"), k})
			}
		}
		if f.avx512 {
			// The tile kernels of a CPU with AVX2 but not AVX-512.
			f2 := f
			f2.avx512 = false
			k := newKernelSet()
			k.tile[wt] = tileKernel{}
			useKQuants(k, f2)
			if k.tile[wt].fn != nil {
				sets = append(sets, set{"AVX2-tile", k})
			}
		}
		if k := newKernelSet(); k.tile[wt].fn != nil {
			sets = append(sets, set{"tile", k})
		}
		if len(sets) == 1 {
			continue
		}
		for _, shape := range [][2]int{{2048, 2048}, {5632, 2048}, {2048, 5632}} {
			rows, cols := shape[0], shape[1]
			r := newRand()
			m, _ := NewMatrix(wt, rows, cols, randomWeights(r, wt, scalesOf(wt), rows, cols))
			for _, n := range []int{1, 64} {
				x := randomFloats(r, n*cols, 1)
				out := make([]float32, n*rows)
				for _, s := range sets {
					b.Run(fmt.Sprintf("%v/%s/%dx%d/n=%d", wt, s.name, rows, cols, n), func(b *testing.B) {
						var ws Workspace
						b.SetBytes(int64(len(m.Data)))
						for b.Loop() {
							matMul(s.k, pool, &ws, m, x, n, out)
						}
						b.ReportMetric(float64(2*rows*cols*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}

// BenchmarkKQuantVecDot times the dot kernels alone on one thread, over 64
// rows of 4096 weights (cache-resident), generic and SIMD in turn.
func BenchmarkKQuantVecDot(b *testing.B) {
	generic := genericKernelSet()
	const rows, cols = 64, 4096
	for _, wt := range []ggml.Type{ggml.TypeQ4_K, ggml.TypeQ6_K, ggml.TypeQ5_K, ggml.TypeQ3_K, ggml.TypeQ2_K, ggml.TypeIQ4_XS} {
		r := newRand()
		m, _ := NewMatrix(wt, rows, cols, randomWeights(r, wt, scalesOf(wt), rows, cols))
		a := QuantizeActivations(nil, nil, ggml.TypeQ8_K, randomFloats(r, cols, 1), 1, cols)
		kernels := []kqImpl{{name: wt.String() + "/generic", dot: generic.vecDot[wt]}}
		for _, im := range kqImpls(kqDetect()) {
			if im.t == wt && im.ok {
				kernels = append(kernels, im)
			}
		}
		for _, im := range kernels {
			b.Run(im.name, func(b *testing.B) {
				rb := m.RowBytes()
				b.SetBytes(int64(len(m.Data)))
				var sink float32
				for b.Loop() {
					for i := 0; i < rows; i++ {
						sink += im.dot(cols, m.Data[i*rb:(i+1)*rb], a.data)
					}
				}
				b.ReportMetric(float64(2*rows*cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				_ = sink
			})
		}
	}
}

// TestKQuantTileKernels checks every K-quant tile kernel this CPU runs
// against its type's vecDot kernel, bit for bit, for every token count,
// with row and output strides wider than the data.
func TestKQuantTileKernels(t *testing.T) {
	f := kqDetect()
	dots := map[ggml.Type]vecDotFunc{}
	no128 := map[ggml.Type]bool{}
	for _, im := range kqImpls(f) {
		if im.ok {
			dots[im.t] = im.dot
			no128[im.t] = im.no128
		}
	}
	ran := 0
	for _, kt := range kqTiles(f) {
		if !kt.ok {
			t.Logf("%s: not supported by this CPU, skipped", kt.name)
			continue
		}
		ran++
		t.Run(kt.name, func(t *testing.T) {
			r := newRand()
			checked := 0
			// 257 blocks is beyond kqTileMaxBlocks.
			for _, shape := range [][2]int{{1, 256}, {3, 512}, {5, 2048}, {2, 5632}, {11, 1024}, {4, 16 * qkK}, {2, 257 * qkK}} {
				rows, cols := shape[0], shape[1]
				rb, _ := RowBytes(kt.t, cols)
				wStride := rb + 7
				w := make([]byte, (rows-1)*wStride+rb)
				for i := range w {
					w[i] = 0xa5 // the gaps between rows
				}
				for i := 0; i < rows; i++ {
					copy(w[i*wStride:], randomWeights(r, kt.t, scalesOf(kt.t), 1, cols))
				}
				for nt := 1; nt <= kt.tokens; nt++ {
					panel := make([]byte, nt*cols/qkK*q8_KBytes)
					for k := 0; k < nt; k++ {
						if nt%2 == 0 && !no128[kt.t] {
							// Raw quants, -128 included, which the
							// converter never makes.
							copy(panel[k*cols/qkK*q8_KBytes:], randomQ8KBytes(r, cols/qkK, false))
							continue
						}
						quantizeQ8_KGeneric(panel[k*cols/qkK*q8_KBytes:(k+1)*cols/qkK*q8_KBytes], randomFloats(r, cols, 1))
					}
					ldo := rows + 3
					out := make([]float32, nt*ldo)
					for i := range out {
						out[i] = -1e30 // must be left alone between the rows
					}
					kt.k.fn(w, wStride, rows, panel, nt, cols, out, ldo)
					for k := 0; k < nt; k++ {
						for i := 0; i < ldo; i++ {
							got := out[k*ldo+i]
							if i >= rows {
								if got != -1e30 {
									t.Fatalf("%dx%d nt=%d: wrote out[%d][%d] beyond the rows", rows, cols, nt, k, i)
								}
								continue
							}
							want := dots[kt.t](cols, w[i*wStride:i*wStride+rb], panel[k*cols/qkK*q8_KBytes:])
							if math.Float32bits(got) != math.Float32bits(want) {
								t.Fatalf("%dx%d nt=%d: out[%d][%d] = %g, vecDot %g", rows, cols, nt, k, i, got, want)
							}
							checked++
						}
					}
				}
			}
			t.Logf("%d results bit-identical to vecDot", checked)
		})
	}
	t.Logf("ran %d K-quant tile kernels", ran)
}

// TestKQuantMatMulVsGeneric runs whole MatMuls with this CPU's kernels and
// with the generic ones, over shapes that mix partial token groups and
// several threads.
func TestKQuantMatMulVsGeneric(t *testing.T) {
	gen := genericKernelSet()
	pool := NewPool(2)
	defer pool.Close()
	levels := []struct {
		name string
		k    *kernelSet
	}{{"this CPU", newKernelSet()}}
	if f := kqDetect(); f.avx512 {
		// Also as on a CPU with AVX2 but not AVX-512.
		f.avx512 = false
		k := genericKernelSet()
		useKQuants(k, f)
		levels = append(levels, struct {
			name string
			k    *kernelSet
		}{"AVX2 only", k})
	}
	for _, lv := range levels {
		for _, wt := range []ggml.Type{ggml.TypeQ4_K, ggml.TypeQ6_K, ggml.TypeQ5_K, ggml.TypeQ3_K, ggml.TypeQ2_K, ggml.TypeIQ4_XS} {
			checkKQuantMatMul(t, pool, gen, lv.k, wt)
			t.Logf("%s: %v: tile kernel %v, panel tokens %d: MatMul matches the generic kernels",
				lv.name, wt, lv.k.tile[wt].fn != nil, lv.k.panel[ggml.TypeQ8_K].tokens)
		}
	}
}

// checkKQuantMatMul compares MatMuls with the kernels arch and gen.
func checkKQuantMatMul(t *testing.T, pool *Pool, gen, arch *kernelSet, wt ggml.Type) {
	t.Helper()
	{
		r := newRand()
		for _, shape := range [][3]int{{7, 256, 1}, {64, 512, 5}, {37, 768, 17}, {130, 256, 40}} {
			rows, cols, n := shape[0], shape[1], shape[2]
			m, _ := NewMatrix(wt, rows, cols, randomWeights(r, wt, scalesOf(wt), rows, cols))
			x := randomFloats(r, n*cols, 1)
			got := make([]float32, n*rows)
			want := make([]float32, n*rows)
			matMul(arch, pool, &Workspace{}, m, x, n, got)
			matMul(gen, pool, &Workspace{}, m, x, n, want)
			a := quantizeActivations(gen, nil, nil, ggml.TypeQ8_K, x, n, cols)
			for i := range got {
				k, row := i/rows, i%rows
				mag := dotMagnitude(t, wt, m.Data[row*m.RowBytes():], a.data[k*a.rowSize:], cols)
				if d := math.Abs(float64(got[i]) - float64(want[i])); d > 1e-6*mag ||
					genericUnfused && math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v %dx%d n=%d: out[%d][%d] = %g, generic %g", wt, rows, cols, n, k, row, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkKQuantPrefill times MatMulQuantized with this CPU's kernels on
// a prompt-sized batch (512 tokens already converted to Q8_K) for the
// Q4_K and Q6_K matrices of a TinyLlama-sized model (rows × cols), the
// shape of prompt processing, on one thread and on all.
func BenchmarkKQuantPrefill(b *testing.B) {
	pool := NewPool(0)
	defer pool.Close()
	const n = 512
	for _, wt := range []ggml.Type{ggml.TypeQ4_K, ggml.TypeQ6_K} {
		for _, shape := range [][2]int{{2048, 2048}, {5632, 2048}, {2048, 5632}} {
			rows, cols := shape[0], shape[1]
			b.Run(fmt.Sprintf("%v/%dx%d/n=%d", wt, rows, cols, n), func(b *testing.B) {
				r := newRand()
				m, _ := NewMatrix(wt, rows, cols, randomWeights(r, wt, scalesOf(wt), rows, cols))
				var ws Workspace
				a := QuantizeActivations(pool, &ws, ggml.TypeQ8_K, randomFloats(r, n*cols, 1), n, cols)
				out := make([]float32, n*rows)
				for _, p := range []*Pool{nil, pool} {
					b.Run(fmt.Sprintf("t=%d", p.Threads()), func(b *testing.B) {
						for b.Loop() {
							MatMulQuantized(p, &ws, m, a, out)
						}
						b.ReportMetric(float64(2*rows*cols*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			})
		}
	}
}

// BenchmarkKQuantTile times each AVX-512 tile kernel alone on one thread,
// with weights and activations in cache: rows weight rows of 2048 values
// times a full group of tokens, as MatMul calls them. ns/block is per
// weight block and token.
func BenchmarkKQuantTile(b *testing.B) {
	f := kqDetect()
	for _, kt := range kqTiles(f) {
		if !kt.ok {
			continue
		}
		for _, rows := range []int{4, 16} {
			b.Run(fmt.Sprintf("%s/rows=%d", kt.name, rows), func(b *testing.B) {
				const cols = 2048
				r := newRand()
				rb, _ := RowBytes(kt.t, cols)
				w := randomWeights(r, kt.t, scalesOf(kt.t), rows, cols)
				nt := kt.tokens
				panel := make([]byte, nt*cols/qkK*q8_KBytes)
				for k := 0; k < nt; k++ {
					quantizeQ8_KGeneric(panel[k*cols/qkK*q8_KBytes:(k+1)*cols/qkK*q8_KBytes], randomFloats(r, cols, 1))
				}
				out := make([]float32, nt*rows)
				for b.Loop() {
					kt.k.fn(w, rb, rows, panel, nt, cols, out, rows)
				}
				b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*rows*nt*cols/qkK), "ns/block")
			})
		}
	}
}

// TestKQuantMatVec checks the AVX-512 Q4_K and Q6_K matrix-vector
// products with their four-row kernels taking rows of any length,
// against the one-row kernels bit for bit and against the generic vecDot:
// every row count from 1 to 13 (whole groups and every remainder), row
// lengths of 1, 3 and 8 blocks, and rows further apart than their length
// (a slice of columns' stride).
func TestKQuantMatVec(t *testing.T) {
	if f := kqDetect(); !f.avx2 || !f.avx512 {
		t.Skip("no AVX-512 VNNI")
	}
	for _, k := range []struct {
		t   ggml.Type
		bb  int
		mv  kqMatVec
		one func(nb int, x, y *byte) float32
	}{
		{ggml.TypeQ4_K, q4_KBytes, kqRows4(kqRows4Q4KAVX512, kqRowsQ4KAVX512, math.MaxInt), kqDotQ4KAVX512},
		{ggml.TypeQ6_K, q6_KBytes, kqRows4(kqRows4Q6KAVX512, kqRowsQ6KAVX512, math.MaxInt), kqDotQ6KAVX512},
	} {
		generic := genericKernelSet().vecDot[k.t]
		r := newRand()
		for _, nb := range []int{1, 3, 8} {
			for _, pad := range []int{0, 3 * k.bb} {
				for rows := 1; rows <= 13; rows++ {
					n, ws := nb*qkK, nb*k.bb+pad
					w := make([]byte, rows*ws)
					for i := 0; i < rows; i++ {
						copy(w[i*ws:], randomWeights(r, k.t, scalesOf(k.t), 1, n))
					}
					y := make([]byte, nb*q8_KBytes)
					quantizeQ8_KGeneric(y, randomFloats(r, n, 1))
					out := make([]float32, rows+1)
					out[rows] = 42 // must be left alone
					k.mv(nb, w, ws, rows, y, out[:rows])
					for i := 0; i < rows; i++ {
						row := w[i*ws : i*ws+nb*k.bb]
						if one := k.one(nb, &row[0], &y[0]); math.Float32bits(out[i]) != math.Float32bits(one) {
							t.Fatalf("%v, %d blocks, %d rows, stride %d: row %d: %g, the one-row kernel %g", k.t, nb, rows, ws, i, out[i], one)
						}
						want := generic(n, row, y)
						mag := dotMagnitude(t, k.t, row, y, n)
						if d := math.Abs(float64(out[i]) - float64(want)); d > 1e-6*mag ||
							genericUnfused && math.Float32bits(out[i]) != math.Float32bits(want) {
							t.Fatalf("%v, %d blocks, %d rows, stride %d: row %d: %g, generic %g", k.t, nb, rows, ws, i, out[i], want)
						}
					}
					if out[rows] != 42 {
						t.Fatalf("%v, %d rows: wrote past the last row", k.t, rows)
					}
				}
			}
		}
	}
}
