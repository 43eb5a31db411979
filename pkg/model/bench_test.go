package model

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// benchModels are the shared models the benchmarks run.
var benchModels = []string{"stories260k", "synth-llama-q4_0", "synth-llama-f16", "synth-moe-q4_0"}

// benchModelPaths returns the model files to benchmark: the shared models,
// plus the files listed in $LLAMAFILE_BENCH_MODELS (separated by the OS
// path-list separator), for example a TinyLlama-shaped model written by
// internal/benchmodel/cmd/mkbenchmodel and quantized.
func benchModelPaths(b *testing.B) map[string]string {
	paths := map[string]string{}
	for _, list := range filepath.SplitList(os.Getenv("LLAMAFILE_BENCH_MODELS")) {
		if list != "" {
			paths[strings.TrimSuffix(filepath.Base(list), ".gguf")] = list
		}
	}
	if len(paths) > 0 && os.Getenv("LLAMAFILE_BENCH_SHARED") == "" {
		return paths
	}
	for _, name := range benchModels {
		paths[name] = testutil.SharedFile(b, "testdata/models/"+name+".gguf")
	}
	return paths
}

// openBenchModel opens path as the CLI does by default: weights repacked
// for this CPU's kernels ($LLAMAFILE_BENCH_NO_REPACK set: in place, as
// --no-repack).
func openBenchModel(b *testing.B, path string) *Model {
	b.Helper()
	return loadModel(b, path, LoadOptions{Repack: os.Getenv("LLAMAFILE_BENCH_NO_REPACK") == ""})
}

// benchTokens returns n token ids spread over the vocabulary.
func benchTokens(m *Model, n int) []int32 {
	toks := make([]int32, n)
	for i := range toks {
		toks[i] = int32(1 + i*7%(m.Params.Vocab-1))
	}
	return toks
}

// benchPrompt is the prompt length of BenchmarkPrefill:
// $LLAMAFILE_BENCH_PP, or 64.
func benchPrompt() int {
	if n, err := strconv.Atoi(os.Getenv("LLAMAFILE_BENCH_PP")); err == nil && n > 0 {
		return n
	}
	return 64
}

// BenchmarkPrefill evaluates a 64-token prompt ($LLAMAFILE_BENCH_PP
// tokens) in one batch (like llama-bench's pp test).
func BenchmarkPrefill(b *testing.B) {
	for name, path := range benchModelPaths(b) {
		b.Run(name, func(b *testing.B) {
			m := openBenchModel(b, path)
			pp := benchPrompt()
			s, err := m.NewState(StateOptions{ContextSize: pp + 64, BatchSize: pp, Threads: 2})
			if err != nil {
				b.Fatal(err)
			}
			toks := benchTokens(m, pp)
			b.ResetTimer()
			for range b.N {
				if err := s.EvalLast(toks, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(toks)*b.N)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}

// BenchmarkDecode generates one token at a time after a 64-token context
// ($LLAMAFILE_BENCH_DEPTH tokens; like llama-bench's tg test) and reports
// the resident memory.
func BenchmarkDecode(b *testing.B) {
	depth := 64
	if n, err := strconv.Atoi(os.Getenv("LLAMAFILE_BENCH_DEPTH")); err == nil && n > 0 {
		depth = n
	}
	for name, path := range benchModelPaths(b) {
		b.Run(name, func(b *testing.B) {
			m := openBenchModel(b, path)
			s, err := m.NewState(StateOptions{ContextSize: depth + 64, Threads: 2})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.EvalLast(benchTokens(m, depth), 0); err != nil {
				b.Fatal(err)
			}
			tok := []int32{5}
			b.ResetTimer()
			for range b.N {
				if err := s.EvalLast(tok, depth); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
			if rss, ok := residentBytes(); ok {
				b.ReportMetric(float64(rss)/(1<<20), "RSS-MiB")
			}
		})
	}
}
