package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool is a persistent pool of worker goroutines that run data-parallel
// loops. The goroutine calling [Pool.Run] takes part in the work, so a pool
// of n threads starts n-1 goroutines. A nil *Pool is valid and runs
// everything on the calling goroutine.
//
// Run calls are serialized: a Pool may be shared by goroutines, but they take
// turns. Close stops the workers; a closed pool still runs work, serially.
type Pool struct {
	threads int

	mu     sync.Mutex // serializes Run
	wake   chan struct{}
	wg     sync.WaitGroup
	closed bool

	// The current job, written by Run before waking the workers.
	fn    func(lo, hi int)
	n     int
	chunk int
	next  atomic.Int64
}

// NewPool starts a pool of threads threads (threads <= 0 means
// runtime.NumCPU()).
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &Pool{threads: threads, wake: make(chan struct{}, threads)}
	for i := 1; i < threads; i++ {
		go p.worker()
	}
	return p
}

// Threads returns the number of threads that run work, the caller's
// included (1 for a nil pool).
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Close stops the worker goroutines. It is safe to call more than once.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.wake)
	}
}

func (p *Pool) worker() {
	for range p.wake {
		p.drain()
		p.wg.Done()
	}
}

// drain runs chunks of the current job until none are left.
func (p *Pool) drain() {
	n, chunk, fn := p.n, p.chunk, p.fn
	for {
		lo := int(p.next.Add(int64(chunk))) - chunk
		if lo >= n {
			return
		}
		fn(lo, min(lo+chunk, n))
	}
}

// Run splits [0, n) into contiguous chunks, calls fn(lo, hi) for each chunk
// from the pool's threads (the caller's included), and returns when every
// call has returned. Chunks are handed out dynamically, so fn must not
// depend on which thread runs a chunk or on the chunk boundaries for its
// results. fn must not call Run on the same pool. Run does not allocate (a
// closure created for each call may).
func (p *Pool) Run(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if p == nil || p.threads == 1 || n == 1 {
		fn(0, n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		fn(0, n)
		return
	}
	helpers := min(p.threads, n) - 1
	// Several chunks per thread balance the load when threads are
	// preempted or chunks differ in cost.
	p.chunk = max(1, (n+4*(helpers+1)-1)/(4*(helpers+1)))
	p.fn, p.n = fn, n
	p.next.Store(0)
	p.wg.Add(helpers)
	for i := 0; i < helpers; i++ {
		p.wake <- struct{}{}
	}
	p.drain()
	p.wg.Wait()
	p.fn = nil
}
