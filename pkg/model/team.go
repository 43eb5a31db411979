package model

import (
	"runtime"
	"sync/atomic"
	"time"
)

// A team runs one function on several goroutines at once, which then
// proceed in lockstep: between dependent steps each member waits at a
// spinning barrier instead of handing work to a pool. Single-token
// evaluation has a few hundred such steps per token, each a fraction of a
// millisecond, where waking parked goroutines for every step would cost
// more than the step itself.
//
// The members besides the caller are goroutines started on first use.
// Between runs they spin for a little while (generation calls again
// within microseconds) and then park until the next run; a closed team
// lets them exit.
type team struct {
	n       int          // members, the caller included
	fn      func(id int) // the running job; nil between runs
	started bool
	bar     barrier
	_       [cacheLine]byte
	epoch   atomic.Uint64 // incremented to start a run
	_       [cacheLine - 8]byte
	active  atomic.Int32 // helpers not yet returned from the run's fn
	_       [cacheLine - 4]byte
	closed  atomic.Bool
}

// cacheLine is the padding that keeps counters that different threads
// write apart.
const cacheLine = 64

// teamIdle is how long helpers spin waiting for the next run before they
// park.
const teamIdle = 2 * time.Millisecond

func newTeam(n int) *team {
	t := &team{n: n}
	t.bar.n = int32(n)
	t.bar.spin = barrierSpin
	t.bar.members = newParkers(n)
	return t
}

// run calls fn(id) for id in [0, n) on the team's members (id 0 on the
// calling goroutine) and returns when every call has returned. Members
// may wait at t.bar any number of times, the same for all; what a member
// does after its last barrier (reading shared state to decide to leave
// early, say) is done before run returns and the caller resets that
// state for the next run.
func (t *team) run(fn func(id int)) {
	if t.n == 1 {
		fn(0)
		return
	}
	if !t.started {
		t.started = true
		for id := 1; id < t.n; id++ {
			go t.helper(id, t.epoch.Load())
		}
	}
	t.fn = fn
	t.active.Store(int32(t.n - 1))
	t.epoch.Add(1)
	for id := 1; id < t.n; id++ {
		t.bar.members[id].unpark()
	}
	fn(0)
	// The others passed the same last barrier and are a few instructions
	// from returning.
	for spin := 1; t.active.Load() != 0; spin++ {
		if spin%128 == 0 {
			runtime.Gosched()
		}
	}
	t.fn = nil
}

// close lets the helpers exit (once they see it; parked ones are woken).
func (t *team) close() {
	t.closed.Store(true)
	t.epoch.Add(1)
	for id := 1; id < t.n; id++ {
		t.bar.members[id].unpark()
	}
}

// helper is member id's goroutine; seen is the epoch before its first run.
func (t *team) helper(id int, seen uint64) {
	p := &t.bar.members[id]
	for {
		start := time.Now()
		for spin := 1; t.epoch.Load() == seen; spin++ {
			if spin%256 != 0 {
				continue
			}
			runtime.Gosched()
			if time.Since(start) >= teamIdle {
				p.park(func() bool { return t.epoch.Load() != seen })
			}
		}
		seen = t.epoch.Load()
		if t.closed.Load() {
			return
		}
		t.fn(id)
		t.active.Add(-1)
	}
}

// barrier is a barrier for the members of a team. Waiting members spin
// for a while (the others are usually microseconds away) and then park,
// so that a member the operating system has descheduled gets the
// processor back.
type barrier struct {
	n       int32
	spin    time.Duration // how long to spin before parking
	_       [cacheLine - 12]byte
	count   atomic.Int32
	_       [cacheLine - 4]byte
	gen     atomic.Uint32
	_       [cacheLine - 4]byte
	members []parker
}

// barrierSpin is how long a member spins at a barrier before parking.
const barrierSpin = 50 * time.Microsecond

// parker is a member's place to park, at a barrier or between runs: a
// member that has published parked waits for a wake-up, which whoever
// moves it on sends after swapping the state back to running.
type parker struct {
	state atomic.Int32
	wake  chan struct{}
	_     [cacheLine - 12]byte
}

// Parker states.
const (
	running int32 = iota
	parked
)

func newParkers(n int) []parker {
	p := make([]parker, n)
	for i := range p {
		p[i].wake = make(chan struct{}, 1)
	}
	return p
}

// park blocks until done reports true, with the member's parker p
// published as parked; the side that makes done true calls unpark after.
//
// Publishing is a swap, not a store: the store-then-load here against
// the waker's store-then-swap is a Dekker pattern, which needs the
// publish ordered before the load of done. ARMv8 orders a store-release
// before a later load-acquire, but qemu-user's translation of them on an
// x86 host does not (no fence between the two), and members then missed
// their wake-up and hung in CI's arm64 runs; an atomic read-modify-write
// is a full barrier everywhere.
func (p *parker) park(done func() bool) {
	p.state.Swap(parked)
	if done() && p.state.Swap(running) == parked {
		return // no wake-up was or will be sent
	}
	<-p.wake
}

// unpark wakes p if it is parked.
func (p *parker) unpark() {
	if p.state.Swap(running) == parked {
		p.wake <- struct{}{}
	}
}

// wait returns once all n members have called it; id is the caller's
// member number.
func (b *barrier) wait(id int) {
	if b.n <= 1 {
		return
	}
	g := b.gen.Load()
	if b.count.Add(1) == b.n {
		b.count.Store(0)
		b.gen.Store(g + 1)
		for i := range b.members {
			if i != id {
				b.members[i].unpark()
			}
		}
		return
	}
	var start time.Time
	for spin := 1; b.gen.Load() == g; spin++ {
		if spin%128 != 0 {
			continue
		}
		if start.IsZero() {
			start = time.Now()
			continue
		}
		if time.Since(start) < b.spin {
			// Let other goroutines run when members outnumber the
			// processors.
			runtime.Gosched()
			continue
		}
		b.members[id].park(func() bool { return b.gen.Load() != g })
	}
}
