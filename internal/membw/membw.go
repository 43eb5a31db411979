// Package membw measures what bounds token generation on a CPU: how fast a
// number of threads stream through memory far larger than the caches, and
// how many bytes one single-token pass of a model reads. Their ratio is the
// generation speed no implementation can beat on that machine; make bench
// prints it beside the measured speeds (scripts/bench.sh).
package membw

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// Stream returns the best read bandwidth, in bytes per second, of threads
// goroutines each scanning its own contiguous part of buf, over reps
// passes. buf should be several times the size of the last-level cache;
// Stream writes it first, so that every page is backed by its own memory
// (an untouched page reads as the one shared zero page, from the cache).
func Stream(buf []byte, threads, reps int) float64 {
	threads = max(1, threads)
	for i := range buf {
		buf[i] = byte(i%255 + 1) // never 0: IndexByte reads it all
	}
	best := 0.0
	found := make([]int, threads) // kept, so that the scans are not dropped
	for range max(1, reps) {
		var wg sync.WaitGroup
		start := time.Now()
		for t := range threads {
			lo, hi := t*len(buf)/threads, (t+1)*len(buf)/threads
			wg.Add(1)
			go func() {
				defer wg.Done()
				// IndexByte is vectorized (internal/bytealg) and, with no
				// zero to find, a pure streaming read of its part.
				found[t] = bytes.IndexByte(buf[lo:hi], 0)
			}()
		}
		wg.Wait()
		if d := time.Since(start).Seconds(); d > 0 {
			best = max(best, float64(len(buf))/d)
		}
	}
	_ = found
	return best
}

// TokenBytes returns the bytes a single-token pass of the model in f reads
// at cache position pos: every weight once (the token embedding table only
// for its one row, unless the output projection is that same table) and
// the keys and values of pos cells in every layer, at kvBytes bytes per
// element (2 for an F16 cache).
func TokenBytes(f *gguf.File, pos int, kvBytes float64) (float64, error) {
	_, hasOutput := f.Tensor("output.weight")
	total := 0.0
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Name == "token_embd.weight" && hasOutput { // not tied: one row
			if len(t.Dims) > 1 && t.Dims[1] > 0 {
				total += float64(t.Size) / float64(t.Dims[1])
			}
			continue
		}
		total += float64(t.Size)
	}
	arch := f.Architecture()
	layers, err := f.GetUint(arch + ".block_count")
	if err != nil {
		return 0, fmt.Errorf("membw: %w", err)
	}
	embd, err := f.GetUint(arch + ".embedding_length")
	if err != nil {
		return 0, fmt.Errorf("membw: %w", err)
	}
	heads, err := f.GetUint(arch + ".attention.head_count")
	if err != nil {
		return 0, fmt.Errorf("membw: %w", err)
	}
	headsKV := heads
	if v, err := f.GetUint(arch + ".attention.head_count_kv"); err == nil {
		headsKV = v
	}
	if heads == 0 {
		return 0, fmt.Errorf("membw: %s.attention.head_count is 0", arch)
	}
	kvWidth := float64(embd / heads * headsKV)
	total += float64(layers) * 2 * kvWidth * kvBytes * float64(pos)
	return total, nil
}
