package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a persistent pool of worker goroutines that run data-parallel
// loops. The goroutine calling [Pool.Run] takes part in the work, so a pool
// of n threads starts n-1 goroutines. A nil *Pool is valid and runs
// everything on the calling goroutine.
//
// Generating a token runs a few hundred short loops (each matrix product
// of a layer takes tens of microseconds), so the hand-off matters: after a
// loop, workers spin for a while (spinTime) watching for the next one, and
// only then park. Waking a parked goroutine costs tens of microseconds
// (more in a virtual machine), spinning a fraction of one.
//
// Run calls are serialized: a Pool may be shared by goroutines, but they take
// turns. Close stops the workers; a closed pool still runs work, serially.
type Pool struct {
	threads int

	mu      sync.Mutex // serializes Run and Close
	closed  bool
	workers []*poolWorker
	quit    atomic.Bool

	// state is the current job's sequence number (high 32 bits), whether
	// it is finished (jobDone) and the number of workers that have joined
	// it and not yet left (low bits). Workers join a job by incrementing
	// the count while the job is not finished; Run finishes a job once the
	// count is zero, so the job's fields below are never read by a worker
	// while Run writes them.
	state atomic.Uint64

	// The current job, written by Run before it publishes a new sequence
	// number.
	fn    func(lo, hi int)
	n     int
	chunk int
	next  atomic.Int64
}

const (
	jobDone    = 1 << 31
	activeMask = jobDone - 1
	seqShift   = 32

	// spinTime is how long an idle worker watches for the next job
	// before it parks.
	spinTime = 2 * time.Millisecond
	// spinCheck is the number of polls between looks at the clock.
	spinCheck = 64
)

// poolWorker is the parking place of one worker goroutine.
type poolWorker struct {
	sleeping atomic.Bool
	wake     chan struct{} // capacity 1
	_        [64]byte      // keep workers' flags on separate cache lines
}

// NewPool starts a pool of threads threads (threads <= 0 means
// runtime.NumCPU()).
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &Pool{threads: threads}
	p.state.Store(jobDone)
	for i := 1; i < threads; i++ {
		w := &poolWorker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go p.worker(w)
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
		p.quit.Store(true)
		for _, w := range p.workers {
			if w.sleeping.CompareAndSwap(true, false) {
				w.wake <- struct{}{}
			}
		}
	}
}

// worker runs the jobs of p until p is closed.
func (p *Pool) worker(w *poolWorker) {
	last := p.state.Load() >> seqShift // the last job seen
	for {
		// Wait for a new job: spin, then park.
		var st uint64
		idleSince := time.Now()
		for polls := 1; ; polls++ {
			if p.quit.Load() {
				return
			}
			st = p.state.Load()
			if st>>seqShift != last {
				break
			}
			if polls%spinCheck != 0 {
				cpuRelax()
				continue
			}
			if time.Since(idleSince) < spinTime {
				// Let goroutines waiting for this P run (the caller of
				// Run when GOMAXPROCS is below the pool's threads).
				runtime.Gosched()
				continue
			}
			// Park. Run clears sleeping and sends a wake-up after it
			// publishes a job; checking the state after setting sleeping
			// closes the race with a job published meanwhile. Setting it
			// is a swap, a full barrier, so that the load below cannot
			// pass it (qemu-user lets a store-release pass a later
			// load-acquire on x86 hosts; see model's parker).
			w.sleeping.Swap(true)
			if st = p.state.Load(); st>>seqShift != last || p.quit.Load() {
				if !w.sleeping.CompareAndSwap(true, false) {
					<-w.wake // Run or Close sent one: consume it
				}
			} else {
				<-w.wake
			}
			idleSince = time.Now()
		}
		last = st >> seqShift
		// Join the job unless it is already finished.
		for st&jobDone == 0 && !p.state.CompareAndSwap(st, st+1) {
			st = p.state.Load()
			if st>>seqShift != last {
				last = st >> seqShift
			}
		}
		if st&jobDone != 0 {
			continue
		}
		p.drain()
		p.state.Add(^uint64(0)) // leave
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
	helpers := min(p.threads, n) - 1
	// Several chunks per thread balance the load when threads are
	// preempted or chunks differ in cost.
	p.run(n, max(1, (n+4*(helpers+1)-1)/(4*(helpers+1))), fn)
}

// run is Run with chunks of chunk items.
func (p *Pool) run(n, chunk int, fn func(lo, hi int)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		fn(0, n)
		return
	}
	// The previous job is finished (no worker is inside it), so its
	// fields are free.
	p.fn, p.n, p.chunk = fn, n, chunk
	p.next.Store(0)
	seq := p.state.Load()>>seqShift + 1
	p.state.Store(seq << seqShift)
	// Wake parked workers, as many as there are chunks for.
	wake := min(len(p.workers), (n+chunk-1)/chunk-1)
	for _, w := range p.workers {
		if wake == 0 {
			break
		}
		if w.sleeping.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
		wake--
	}
	p.drain()
	// Every chunk has been handed out; wait for the workers still running
	// one, then finish the job.
	for polls := 1; ; polls++ {
		st := p.state.Load()
		if st&activeMask == 0 {
			if p.state.CompareAndSwap(st, st|jobDone) {
				break
			}
			continue
		}
		if polls%spinCheck == 0 {
			runtime.Gosched() // a worker may wait for this P
		} else {
			cpuRelax()
		}
	}
	p.fn = nil
}
