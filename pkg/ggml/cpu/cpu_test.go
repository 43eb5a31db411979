package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// weightTypes are the supported weight types, with their fp16 scale fields
// (byte offsets inside a block) so random blocks get sane scales.
var weightTypes = []struct {
	t      ggml.Type
	scales []int
}{
	{ggml.TypeF32, nil},
	{ggml.TypeF16, nil},
	{ggml.TypeBF16, nil},
	{ggml.TypeQ4_0, []int{0}},
	{ggml.TypeQ4_1, []int{0, 2}},
	{ggml.TypeQ5_0, []int{0}},
	{ggml.TypeQ5_1, []int{0, 2}},
	{ggml.TypeQ8_0, []int{0}},
	{ggml.TypeQ2_K, []int{80, 82}},
	{ggml.TypeQ3_K, []int{108}},
	{ggml.TypeQ4_K, []int{0, 2}},
	{ggml.TypeQ5_K, []int{0, 2}},
	{ggml.TypeQ6_K, []int{208}},
	{ggml.TypeIQ4_NL, []int{0}},
	{ggml.TypeIQ4_XS, []int{0}},
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(0x5eed, 42)) }

// randomWeights fills rows×cols weights of type t: random numbers for the
// float types; random bits with random but finite, moderate fp16 scales for
// the block types, which exercises every quant value and scale pattern.
func randomWeights(r *rand.Rand, t ggml.Type, scales []int, rows, cols int) []byte {
	rb, err := RowBytes(t, cols)
	if err != nil {
		panic(err)
	}
	data := make([]byte, rows*rb)
	switch t {
	case ggml.TypeF32:
		convertF32Generic(data, randomFloats(r, rows*cols, 1))
		return data
	case ggml.TypeF16:
		convertF16BytesGeneric(data, randomFloats(r, rows*cols, 1))
		return data
	case ggml.TypeBF16:
		convertBF16Generic(data, randomFloats(r, rows*cols, 1))
		return data
	}
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	bb := t.BlockBytes()
	for b := 0; b < len(data); b += bb {
		for _, off := range scales {
			s := float32(0.001 + 0.02*r.Float64())
			if r.IntN(4) == 0 {
				s = -s
			}
			putHalf(data[b+off:], s)
		}
	}
	return data
}

// randomFloats returns n normally distributed values with scale s, with a
// few larger outliers as real activations have.
func randomFloats(r *rand.Rand, n int, s float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		v := r.NormFloat64() * s
		if r.IntN(50) == 0 {
			v *= 8
		}
		x[i] = float32(v)
	}
	return x
}

// dequantActivations converts activation row bytes of vec_dot type vt back
// to float64 with ggml.Dequantize, which is independent of this package's
// kernels.
func dequantActivations(vt ggml.Type, b []byte, cols int) []float64 {
	if vt == ggml.TypeF16 {
		// Kept as float32 values rounded to F16; check they are.
		f := dequantActivations(ggml.TypeF32, b, cols)
		for i, v := range f {
			if h := ggml.FP32ToFP16(float32(v)); float64(ggml.FP16ToFP32(h)) != v {
				panic(fmt.Sprintf("F16 activation %d = %g is not an F16 value", i, v))
			}
		}
		return f
	}
	rs, err := vt.RowBytes(int64(cols))
	if err != nil {
		panic(err)
	}
	f := make([]float32, cols)
	if err := ggml.Dequantize(vt, b[:rs], f); err != nil {
		panic(err)
	}
	out := make([]float64, cols)
	for i, v := range f {
		out[i] = float64(v)
	}
	return out
}

// q8_1Correction is what ggml's Q4_1/Q5_1 dot adds beyond the dequantized
// product: per block, min * (s - sum of the dequantized activations), since
// it uses the stored sum s (rounded to fp16) instead.
func q8_1Correction(wrow, arow []byte, wbb int, cols int, act []float64) float64 {
	var c float64
	for b := 0; b < cols/32; b++ {
		m := float64(halfToFloat(le16(wrow[b*wbb+2:])))
		s := float64(halfToFloat(le16(arow[b*36+2:])))
		var sum float64
		for j := 0; j < 32; j++ {
			sum += act[32*b+j]
		}
		c += m * (s - sum)
	}
	return c
}

func colsFor(t ggml.Type) []int {
	switch bs := t.BlockSize(); bs {
	case 1:
		return []int{1, 7, 63, 64, 65, 130, 256, 1000}
	case 32:
		return []int{32, 64, 96, 160, 512}
	default:
		return []int{256, 512, 1280}
	}
}

func TestMatMulAgainstReference(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	var ws Workspace
	for _, wt := range weightTypes {
		t.Run(wt.t.String(), func(t *testing.T) {
			r := newRand()
			for _, cols := range colsFor(wt.t) {
				for _, shape := range [][2]int{{1, 1}, {17, 1}, {5, 3}, {33, 18}} {
					rows, n := shape[0], shape[1]
					m, err := NewMatrix(wt.t, rows, cols, randomWeights(r, wt.t, wt.scales, rows, cols))
					if err != nil {
						t.Fatal(err)
					}
					checkMatMul(t, pool, &ws, m, randomFloats(r, n*cols, 1), n)
				}
			}
		})
	}
}

// checkMatMul runs MatMul and compares every output with two float64
// references built with ggml.Dequantize: a tight one from the weights and
// the converted activations the kernels saw (only rounding in the kernels'
// float32 accumulation differs), and a loose one from the weights and the
// original float32 activations (the error of converting activations).
func checkMatMul(t *testing.T, pool *Pool, ws *Workspace, m Matrix, x []float32, n int) {
	t.Helper()
	rows, cols := m.Rows, m.Cols
	vt, _ := VecDotType(m.Type)
	out := make([]float32, n*rows)
	MatMul(pool, ws, m, x, n, out)

	tol := map[ggml.Type]float64{ggml.TypeF32: 2e-6, ggml.TypeF16: 2e-3, ggml.TypeBF16: 1e-2}[vt]
	if tol == 0 {
		tol = 3e-2
	}
	a := QuantizeActivations(nil, nil, vt, x, n, cols)
	wrow := make([]float32, cols)
	rb := m.RowBytes()
	for k := 0; k < n; k++ {
		act := dequantActivations(vt, a.data[k*a.rowSize:], cols)
		for i := 0; i < rows; i++ {
			if err := ggml.Dequantize(m.Type, m.Data[i*rb:(i+1)*rb], wrow); err != nil {
				t.Fatal(err)
			}
			var tight, loose, mag float64
			for j, w := range wrow {
				tight += float64(w) * act[j]
				loose += float64(w) * float64(x[k*cols+j])
				mag += math.Abs(float64(w) * float64(x[k*cols+j]))
			}
			if vt == ggml.TypeQ8_1 {
				tight += q8_1Correction(m.Data[i*rb:], a.data[k*a.rowSize:], m.Type.BlockBytes(), cols, act)
			}
			got := float64(out[k*rows+i])
			if d := math.Abs(got - tight); d > 2e-6*mag+1e-30 {
				t.Fatalf("%v %dx%d n=%d: out[%d][%d] = %g, quantized-activation reference %g (diff %.3g, scale %.3g)",
					m.Type, rows, cols, n, k, i, got, tight, d, mag)
			}
			if d := math.Abs(got - loose); d > tol*mag {
				t.Fatalf("%v %dx%d n=%d: out[%d][%d] = %g, float reference %g (diff %.3g, scale %.3g)",
					m.Type, rows, cols, n, k, i, got, loose, d, mag)
			}
		}
	}
}

// TestMatMulRealWeights multiplies the 2-D tensors of the shared synthetic
// models, quantized by llama.cpp itself, one tensor of each type per file.
func TestMatMulRealWeights(t *testing.T) {
	files := testutil.SharedGlob(t, "testdata/models/synth-*.gguf")
	pool := NewPool(2)
	defer pool.Close()
	r := newRand()
	seen := map[ggml.Type]bool{}
	for _, path := range files {
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range f.Tensors {
			ti := &f.Tensors[i]
			if len(ti.Dims) != 2 || !Supported(ti.Type) || seen[ti.Type] && ti.Type != ggml.TypeF32 {
				continue
			}
			seen[ti.Type] = true
			rows, cols := min(int(ti.Dims[1]), 64), int(ti.Dims[0])
			data := f.TensorData(ti)
			rb, _ := RowBytes(ti.Type, cols)
			m, err := NewMatrix(ti.Type, rows, cols, data[:rows*rb])
			if err != nil {
				t.Fatalf("%s: %s: %v", path, ti.Name, err)
			}
			for _, n := range []int{1, 5} {
				checkMatMul(t, pool, nil, m, randomFloats(r, n*cols, 1), n)
			}
		}
		f.Close()
	}
	for _, wt := range weightTypes {
		if seen[wt.t] {
			t.Logf("checked %v tensors", wt.t)
		} else {
			t.Logf("no shared model has %v tensors", wt.t)
		}
	}
}

func TestMatMulDeterministicAcrossThreads(t *testing.T) {
	r := newRand()
	for _, wt := range weightTypes {
		cols := colsFor(wt.t)[len(colsFor(wt.t))-1]
		for _, shape := range [][2]int{{67, 1}, {130, 37}} {
			rows, n := shape[0], shape[1]
			m, err := NewMatrix(wt.t, rows, cols, randomWeights(r, wt.t, wt.scales, rows, cols))
			if err != nil {
				t.Fatal(err)
			}
			x := randomFloats(r, n*cols, 1)
			var want []float32
			for _, threads := range []int{1, 2, 3, 7} {
				p := NewPool(threads)
				out := make([]float32, n*rows)
				MatMul(p, &Workspace{}, m, x, n, out)
				p.Close()
				if want == nil {
					want = out
					continue
				}
				for i := range out {
					if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v %dx%d n=%d: %d threads: out[%d] = %g, 1 thread gave %g", wt.t, rows, cols, n, threads, i, out[i], want[i])
					}
				}
			}
		}
	}
}

func TestMatMulQuantizedSharedActivations(t *testing.T) {
	r := newRand()
	pool := NewPool(2)
	defer pool.Close()
	const rows, cols, n = 40, 512, 5
	var ws Workspace
	x := randomFloats(r, n*cols, 1)
	q8 := QuantizeActivations(pool, &ws, ggml.TypeQ8_0, x, n, cols)
	q8k := QuantizeActivations(pool, &ws, ggml.TypeQ8_K, x, n, cols)
	for _, wt := range weightTypes {
		vt, _ := VecDotType(wt.t)
		var a Activations
		switch vt {
		case ggml.TypeQ8_0:
			a = q8
		case ggml.TypeQ8_K:
			a = q8k
		default:
			continue
		}
		m, _ := NewMatrix(wt.t, rows, cols, randomWeights(r, wt.t, wt.scales, rows, cols))
		got := make([]float32, n*rows)
		want := make([]float32, n*rows)
		MatMulQuantized(pool, &ws, m, a, got)
		MatMul(nil, nil, m, x, n, want) // nil pool and workspace work too
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%v: MatMulQuantized out[%d] = %g, MatMul %g", wt.t, i, got[i], want[i])
			}
		}
	}
}

func TestMatMulNoAllocs(t *testing.T) {
	r := newRand()
	pool := NewPool(3)
	defer pool.Close()
	for _, wt := range weightTypes {
		for _, n := range []int{1, 20} {
			const rows, cols = 64, 512
			m, _ := NewMatrix(wt.t, rows, cols, randomWeights(r, wt.t, wt.scales, rows, cols))
			x := randomFloats(r, n*cols, 1)
			out := make([]float32, n*rows)
			var ws Workspace
			MatMul(pool, &ws, m, x, n, out) // warm up
			if allocs := testing.AllocsPerRun(5, func() { MatMul(pool, &ws, m, x, n, out) }); allocs != 0 {
				t.Errorf("%v n=%d: MatMul allocates %v times per call", wt.t, n, allocs)
			}
		}
	}
}

func TestNewMatrixErrors(t *testing.T) {
	tests := []struct {
		name       string
		t          ggml.Type
		rows, cols int
		size       int
	}{
		{"unsupported type", ggml.TypeIQ2_XXS, 1, 256, 66},
		{"unknown type", ggml.Type(99), 1, 32, 18},
		{"partial block", ggml.TypeQ4_0, 2, 40, 36},
		{"short data", ggml.TypeQ4_0, 2, 32, 35},
		{"long data", ggml.TypeF32, 2, 3, 25},
		{"negative rows", ggml.TypeF32, -1, 3, 0},
		{"Q8_K weights", ggml.TypeQ8_K, 1, 256, 292},
	}
	for _, tt := range tests {
		if _, err := NewMatrix(tt.t, tt.rows, tt.cols, make([]byte, tt.size)); err == nil {
			t.Errorf("%s: NewMatrix(%v, %d, %d, %d bytes) succeeded", tt.name, tt.t, tt.rows, tt.cols, tt.size)
		}
	}
	if _, err := NewMatrix(ggml.TypeQ4_K, 3, 512, make([]byte, 3*2*144)); err != nil {
		t.Errorf("valid Q4_K matrix: %v", err)
	}
}

func TestSliceAndRow(t *testing.T) {
	r := newRand()
	for _, wt := range weightTypes {
		cols := colsFor(wt.t)[1]
		m, _ := NewMatrix(wt.t, 10, cols, randomWeights(r, wt.t, wt.scales, 10, cols))
		s := m.Slice(3, 4)
		a, b := make([]float32, cols), make([]float32, cols)
		for i := 0; i < 4; i++ {
			Row(s, i, a)
			Row(m, 3+i, b)
			for j := range a {
				if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
					t.Fatalf("%v: Slice(3,4) row %d differs at %d", wt.t, i, j)
				}
			}
		}
	}
}

// TestQuantizeActivations checks the activation quantizers' contract:
// every value comes back within half a step, the scale is amax/127 and, for
// Q8_1 and Q8_K, the stored sums match the quants.
func TestQuantizeActivations(t *testing.T) {
	r := newRand()
	for _, vt := range []ggml.Type{ggml.TypeQ8_0, ggml.TypeQ8_1, ggml.TypeQ8_K} {
		for _, cols := range []int{256, 1024} {
			x := randomFloats(r, cols, 3)
			x[5] = 0.5             // exact ties are rounded to even below
			clear(x[256-32 : 256]) // an all-zero block
			a := QuantizeActivations(nil, &Workspace{}, vt, x, 1, cols)
			deq := dequantActivations(vt, a.data, cols)
			bs := vt.BlockSize()
			for b := 0; b < cols/bs; b++ {
				var amax float64
				for j := 0; j < bs; j++ {
					amax = math.Max(amax, math.Abs(float64(x[b*bs+j])))
				}
				step := amax / 127
				for j := 0; j < bs; j++ {
					i := b*bs + j
					// fp16 rounding of d adds up to 2^-11 relative error.
					if d := math.Abs(deq[i] - float64(x[i])); d > step*0.5001+amax*1e-3 {
						t.Fatalf("%v: x[%d] = %g comes back as %g (step %g)", vt, i, x[i], deq[i], step)
					}
				}
			}
			switch vt {
			case ggml.TypeQ8_1:
				for b := 0; b < cols/32; b++ {
					blk := a.data[b*36:]
					var s int
					for j := 0; j < 32; j++ {
						s += int(int8(blk[4+j]))
					}
					d := float64(halfToFloat(le16(blk)))
					if got := float64(halfToFloat(le16(blk[2:]))); math.Abs(got-d*float64(s)) > 2e-3*math.Abs(d*float64(s))+1e-6 {
						t.Fatalf("Q8_1 block %d: s = %g, want d*sum = %g", b, got, d*float64(s))
					}
				}
			case ggml.TypeQ8_K:
				for b := 0; b < cols/256; b++ {
					blk := a.data[b*292:]
					for g := 0; g < 16; g++ {
						var s int
						for j := 0; j < 16; j++ {
							s += int(int8(blk[4+16*g+j]))
						}
						if got := int(int16(le16(blk[260+2*g:]))); got != s {
							t.Fatalf("Q8_K block %d group %d: bsum %d, want %d", b, g, got, s)
						}
					}
				}
			}
		}
	}
}

func TestHalfToFloat(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		got, want := halfToFloat(uint16(h)), ggml.FP16ToFP32(uint16(h))
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("halfToFloat(%#04x) = %g, ggml.FP16ToFP32 gives %g", h, got, want)
		}
	}
}

func TestRoundEven(t *testing.T) {
	for _, v := range []float32{0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -127.49, 3.7, -3.7, 1e-9} {
		if got, want := roundEven(v), int32(math.RoundToEven(float64(v))); got != want {
			t.Errorf("roundEven(%g) = %d, want %d", v, got, want)
		}
	}
}

func BenchmarkMatMul(b *testing.B) {
	const rows, cols = 2048, 2048
	pool := NewPool(0)
	defer pool.Close()
	for _, wt := range weightTypes {
		r := newRand()
		m, _ := NewMatrix(wt.t, rows, cols, randomWeights(r, wt.t, wt.scales, rows, cols))
		for _, n := range []int{1, 64} {
			b.Run(fmt.Sprintf("%v/n=%d", wt.t, n), func(b *testing.B) {
				x := randomFloats(r, n*cols, 1)
				out := make([]float32, n*rows)
				var ws Workspace
				MatMul(pool, &ws, m, x, n, out)
				b.SetBytes(int64(len(m.Data)))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					MatMul(pool, &ws, m, x, n, out)
				}
				b.ReportMetric(float64(2*rows*cols*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func TestWorkspaceCopy(t *testing.T) {
	r := newRand()
	const rows, cols, n = 64, 256, 8
	m, _ := NewMatrix(ggml.TypeQ4_K, rows, cols, randomWeights(r, ggml.TypeQ4_K, []int{0, 2}, rows, cols))
	x := randomFloats(r, n*cols, 1)
	want := make([]float32, n*rows)
	var ws Workspace
	MatMul(nil, &ws, m, x, n, want)
	ws2 := ws // a copy made after use must still work on its own
	got := make([]float32, n*rows)
	MatMul(nil, &ws2, m, x, n, got)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("copied Workspace: out[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}
