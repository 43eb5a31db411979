package testutil

import "runtime"

// Allocated returns the bytes of heap memory f allocates (what the
// adversarial-input tests hold below a ceiling), after a collection so
// that earlier garbage does not count.
func Allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}
