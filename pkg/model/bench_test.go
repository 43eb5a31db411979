package model

import (
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// benchModels are the shared models the benchmarks run.
var benchModels = []string{"stories260k", "synth-llama-q4_0", "synth-llama-f16", "synth-moe-q4_0"}

// BenchmarkPrefill evaluates a 64-token prompt in one batch (like
// llama-bench's pp test); tokens/s = 64 / (ns/op).
func BenchmarkPrefill(b *testing.B) {
	for _, name := range benchModels {
		b.Run(name, func(b *testing.B) {
			m := openModel(b, testutil.SharedFile(b, "testdata/models/"+name+".gguf"))
			s, err := m.NewState(StateOptions{ContextSize: 128, Threads: 2})
			if err != nil {
				b.Fatal(err)
			}
			toks := make([]int32, 64)
			for i := range toks {
				toks[i] = int32(1 + i*7%(m.Params.Vocab-1))
			}
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
// (like llama-bench's tg test).
func BenchmarkDecode(b *testing.B) {
	for _, name := range benchModels {
		b.Run(name, func(b *testing.B) {
			m := openModel(b, testutil.SharedFile(b, "testdata/models/"+name+".gguf"))
			s, err := m.NewState(StateOptions{ContextSize: 128, Threads: 2})
			if err != nil {
				b.Fatal(err)
			}
			toks := make([]int32, 64)
			for i := range toks {
				toks[i] = int32(1 + i*7%(m.Params.Vocab-1))
			}
			if err := s.EvalLast(toks, 0); err != nil {
				b.Fatal(err)
			}
			tok := []int32{5}
			b.ResetTimer()
			for range b.N {
				if err := s.EvalLast(tok, 64); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}
