package cpu

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

var opSizes = []int{0, 1, 3, 16, 63, 64, 65, 127, 128, 1000}

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestDot(t *testing.T) {
	r := newRand()
	for _, n := range opSizes {
		a, b := randomFloats(r, n, 1), randomFloats(r, n, 1)
		var want, mag float64
		for i := range a {
			want += float64(a[i]) * float64(b[i])
			mag += math.Abs(float64(a[i]) * float64(b[i]))
		}
		if got := float64(Dot(a, b)); math.Abs(got-want) > 1e-6*mag {
			t.Errorf("Dot, n=%d: %g, want %g", n, got, want)
		}
		// The generic byte-row F32 kernel must agree exactly with the
		// generic Dot (SIMD versions may fuse multiply-adds).
		wa, wb := make([]byte, 4*n), make([]byte, 4*n)
		convertF32Generic(wa, a)
		convertF32Generic(wb, b)
		if got, want := vecDotF32Generic(n, wa, wb), dotF32Generic(a, b); math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("vecDotF32Generic, n=%d: %g, dotF32Generic gives %g", n, got, want)
		}
	}
}

func TestRMSNorm(t *testing.T) {
	r := newRand()
	const eps = 1e-5
	for _, n := range opSizes[1:] {
		x, w := randomFloats(r, n, 2), randomFloats(r, n, 1)
		var ss float64
		for _, v := range x {
			ss += float64(v) * float64(v)
		}
		scale := 1 / math.Sqrt(ss/float64(n)+eps)
		got := make([]float32, n)
		RMSNorm(got, x, w, eps)
		noW := make([]float32, n)
		RMSNorm(noW, x, nil, eps)
		for i := range x {
			if want := float64(x[i]) * scale * float64(w[i]); !relClose(float64(got[i]), want, 1e-6) {
				t.Fatalf("n=%d: RMSNorm[%d] = %g, want %g", n, i, got[i], want)
			}
			if want := float64(x[i]) * scale; !relClose(float64(noW[i]), want, 1e-6) {
				t.Fatalf("n=%d: RMSNorm without weight [%d] = %g, want %g", n, i, noW[i], want)
			}
		}
		// In place.
		RMSNorm(x, x, w, eps)
		for i := range x {
			if x[i] != got[i] {
				t.Fatalf("n=%d: in-place RMSNorm differs at %d", n, i)
			}
		}
	}
}

func TestSoftMax(t *testing.T) {
	r := newRand()
	for _, n := range opSizes[1:] {
		x := randomFloats(r, n, 4)
		if n > 2 {
			x[1] = float32(math.Inf(-1)) // masked
		}
		m := math.Inf(-1)
		for _, v := range x {
			m = math.Max(m, float64(v))
		}
		want := make([]float64, n)
		var sum float64
		for i, v := range x {
			want[i] = math.Exp(float64(v) - m)
			sum += want[i]
		}
		SoftMax(x)
		var total float64
		for i := range x {
			total += float64(x[i])
			if !relClose(float64(x[i]), want[i]/sum, 1e-6) {
				t.Fatalf("n=%d: SoftMax[%d] = %g, want %g", n, i, x[i], want[i]/sum)
			}
		}
		if n > 2 && x[1] != 0 {
			t.Errorf("n=%d: masked entry became %g", n, x[1])
		}
		if math.Abs(total-1) > 1e-5 {
			t.Errorf("n=%d: SoftMax sums to %g", n, total)
		}
	}
}

func TestElementwise(t *testing.T) {
	r := newRand()
	for _, n := range opSizes {
		a, b := randomFloats(r, n, 3), randomFloats(r, n, 1)
		dst := make([]float32, n)
		check := func(name string, f func(i int) float64, tol float64) {
			t.Helper()
			for i := range dst {
				if want := f(i); !relClose(float64(dst[i]), want, tol) {
					t.Fatalf("%s n=%d [%d] = %g, want %g", name, n, i, dst[i], want)
				}
			}
		}
		silu := func(v float32) float64 { return float64(v) / (1 + math.Exp(-float64(v))) }
		SiLU(dst, a)
		check("SiLU", func(i int) float64 { return silu(a[i]) }, 1e-6)
		SwiGLU(dst, a, b)
		check("SwiGLU", func(i int) float64 { return silu(a[i]) * float64(b[i]) }, 1e-6)
		Add(dst, a, b)
		check("Add", func(i int) float64 { return float64(a[i] + b[i]) }, 0)
		Mul(dst, a, b)
		check("Mul", func(i int) float64 { return float64(a[i] * b[i]) }, 0)
		copy(dst, a)
		Scale(dst, 0.125)
		check("Scale", func(i int) float64 { return float64(a[i]) * 0.125 }, 0)
		copy(dst, b)
		AddScaled(dst, a, 0.5)
		check("AddScaled", func(i int) float64 { return float64(b[i] + a[i]*0.5) }, 0)
	}
}

func TestFP16Rows(t *testing.T) {
	r := newRand()
	x := randomFloats(r, 300, 100)
	x = append(x, 0, float32(math.Copysign(0, -1)), 1e-7, 65504, 70000, float32(math.Inf(-1)))
	h := make([]byte, 2*len(x))
	FP32ToFP16Row(h, x)
	back := make([]float32, len(x))
	FP16ToFP32Row(back, h)
	for i, v := range x {
		if got, want := le16(h[2*i:]), ggml.FP32ToFP16(v); got != want {
			t.Fatalf("FP32ToFP16Row[%d] (%g) = %#04x, ggml gives %#04x", i, v, got, want)
		}
		if want := ggml.FP16ToFP32(le16(h[2*i:])); math.Float32bits(back[i]) != math.Float32bits(want) {
			t.Fatalf("FP16ToFP32Row[%d] = %g, want %g", i, back[i], want)
		}
	}
	FP32ToBF16Row(h, x)
	BF16ToFP32Row(back, h)
	for i, v := range x {
		if got, want := le16(h[2*i:]), ggml.FP32ToBF16(v); got != want {
			t.Fatalf("FP32ToBF16Row[%d] (%g) = %#04x, ggml gives %#04x", i, v, got, want)
		}
		if want := ggml.BF16ToFP32(le16(h[2*i:])); math.Float32bits(back[i]) != math.Float32bits(want) {
			t.Fatalf("BF16ToFP32Row[%d] = %g, want %g", i, back[i], want)
		}
	}
}

func TestPoolRunCoversEveryIndexOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 7} {
		p := NewPool(threads)
		if p.Threads() != threads {
			t.Errorf("NewPool(%d).Threads() = %d", threads, p.Threads())
		}
		for _, n := range []int{0, 1, 2, 5, 64, 1001} {
			hits := make([]int32, n)
			p.Run(n, func(lo, hi int) {
				if lo >= hi || lo < 0 || hi > n {
					t.Errorf("bad chunk [%d, %d) of %d", lo, hi, n)
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("threads=%d n=%d: index %d ran %d times", threads, n, i, h)
				}
			}
		}
		p.Close()
		p.Close() // twice is fine
		var count atomic.Int32
		p.Run(10, func(lo, hi int) { count.Add(int32(hi - lo)) })
		if count.Load() != 10 {
			t.Errorf("threads=%d: Run after Close covered %d of 10", threads, count.Load())
		}
	}
	if NewPool(0).Threads() < 1 {
		t.Error("NewPool(0) has no threads")
	}
	var nilPool *Pool
	var count int
	nilPool.Run(7, func(lo, hi int) { count += hi - lo })
	if count != 7 || nilPool.Threads() != 1 {
		t.Errorf("nil pool: covered %d of 7, %d threads", count, nilPool.Threads())
	}
}

func TestPoolConcurrentRuns(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				var sum atomic.Int64
				p.Run(100, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						sum.Add(int64(i))
					}
				})
				if sum.Load() != 4950 {
					t.Errorf("concurrent Run: sum %d, want 4950", sum.Load())
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestPoolRunNoAllocs(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	var hits atomic.Int64
	fn := func(lo, hi int) { hits.Add(int64(hi - lo)) }
	if allocs := testing.AllocsPerRun(50, func() { p.Run(64, fn) }); allocs != 0 {
		t.Errorf("Pool.Run allocates %v times per call", allocs)
	}
}
