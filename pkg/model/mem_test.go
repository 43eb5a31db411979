package model

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// residentBytes returns the process's resident set size (VmRSS in
// /proc/self/status), or false where that file does not exist (not Linux).
func residentBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == "VmRSS:" {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil {
				return 0, false
			}
			return kb << 10, true
		}
	}
	return 0, false
}

// memModel returns the model the memory tests run: the first file of
// $LLAMAFILE_BENCH_MODELS when set (a TinyLlama-shaped model shows the
// real budget), else a shared synthetic model.
func memModel(t *testing.T) string {
	for _, p := range filepath.SplitList(os.Getenv("LLAMAFILE_BENCH_MODELS")) {
		if p != "" {
			return p
		}
	}
	return testutil.SharedFile(t, "testdata/models/synth-llama-q4_0.gguf")
}

// TestResidentMemory checks the memory budget while generating: resident
// memory (the whole test process: mapped weights, cache, buffers, Go
// runtime) stays within the model file's size plus the key/value cache
// plus 100 MiB. The weights are used in place from the file's mapping,
// and working buffers are sized by the batch, not the context.
func TestResidentMemory(t *testing.T) {
	if _, ok := residentBytes(); !ok {
		t.Skip("no /proc/self/status")
	}
	path := memModel(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	m := openModel(t, path)
	ctx := min(m.Params.ContextLength, 2048)
	s, err := m.NewState(StateOptions{ContextSize: ctx, BatchSize: 512, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	limit := fi.Size() + s.seq.kv.bytes() + 100<<20
	var peak int64
	sample := func() {
		if rss, _ := residentBytes(); rss > peak {
			peak = rss
		}
	}
	prompt := benchTokens(m, min(512, ctx-32))
	if testing.Short() || os.Getenv("LLAMAFILE_BENCH_MODELS") != "" {
		prompt = prompt[:min(len(prompt), 64)] // the generic kernels are slow on a large model
	}
	if err := s.EvalLast(prompt, 0); err != nil {
		t.Fatal(err)
	}
	sample()
	tok := []int32{0}
	for i := 0; i < 8; i++ {
		tok[0] = int32(argmax(s.LastLogits()))
		if err := s.EvalLast(tok, s.Pos()); err != nil {
			t.Fatal(err)
		}
		sample()
	}
	t.Logf("%s: peak RSS %.1f MiB; file %.1f MiB + cache %.1f MiB + 100 MiB = %.1f MiB",
		filepath.Base(path), mib(peak), mib(fi.Size()), mib(s.seq.kv.bytes()), mib(limit))
	if peak > limit {
		t.Errorf("peak RSS %.1f MiB over the budget of %.1f MiB", mib(peak), mib(limit))
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// TestStateMemory checks that a State's allocations besides its cache do
// not grow with the context: a huge context with a small batch allocates
// about as much beyond the cache as a small context does.
func TestStateMemory(t *testing.T) {
	m := openModel(t, testutil.SharedFile(t, "testdata/models/synth-llama-q4_0.gguf"))
	extra := func(ctx int) int64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s, err := m.NewState(StateOptions{ContextSize: ctx, BatchSize: 8, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return int64(after.TotalAlloc-before.TotalAlloc) - s.seq.kv.bytes()
	}
	small, large := extra(64), extra(1<<16)
	t.Logf("allocated beyond the cache: %d bytes with a 64-token context, %d with 65536", small, large)
	if large > small+64<<10 {
		t.Errorf("a 65536-token context allocates %d bytes beyond its cache, a 64-token one %d", large, small)
	}
}
