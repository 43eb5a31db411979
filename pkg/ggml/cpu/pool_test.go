package cpu

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolWakesParkedWorkers runs jobs after the workers have parked, and
// checks that they take part again: each job waits until a chunk has run
// on another goroutine than the caller's.
func TestPoolWakesParkedWorkers(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	for round := 0; round < 3; round++ {
		time.Sleep(2 * spinTime) // the worker parks
		var caller, other atomic.Int32
		p.Run(2, func(lo, hi int) {
			if lo == 0 {
				caller.Store(1)
				// Wait (boundedly) for the worker to take chunk 1.
				deadline := time.Now().Add(5 * time.Second)
				for other.Load() == 0 && time.Now().Before(deadline) {
					runtime.Gosched()
				}
				return
			}
			other.Store(1)
		})
		if other.Load() == 0 {
			t.Fatalf("round %d: chunk 1 did not run", round)
		}
	}
}

// TestPoolStress runs many jobs of random sizes with pauses that let the
// workers park in between, on pools with more threads than GOMAXPROCS
// too, and checks every index runs once.
func TestPoolStress(t *testing.T) {
	r := newRand()
	for _, threads := range []int{2, 3, 2 * runtime.GOMAXPROCS(0)} {
		p := NewPool(threads)
		for k := 0; k < 300; k++ {
			n := 1 + r.IntN(200)
			hits := make([]int32, n)
			p.Run(n, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("threads=%d job %d n=%d: index %d ran %d times", threads, k, n, i, h)
				}
			}
			if r.IntN(50) == 0 {
				time.Sleep(time.Duration(r.IntN(3)) * spinTime)
			}
		}
		p.Close()
	}
}

// BenchmarkPoolRun measures the hand-off: a job of two chunks that do
// nothing, back to back.
func BenchmarkPoolRun(b *testing.B) {
	p := NewPool(2)
	defer p.Close()
	var sink atomic.Int64
	fn := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	for b.Loop() {
		p.Run(2, fn)
	}
}
