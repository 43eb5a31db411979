package model

import (
	"slices"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// TestThreadCountIndependence checks that batches and single tokens (over
// fewer than 512 cache cells, where ggml does not split the keys across
// threads) give the same logits whatever the number of threads, with the
// work divided differently (attention items group query heads according
// to the thread count), for the tiled kernel (a batch of 70, F16 cache)
// and the vector kernel (Q8_0 keys, and decoding).
func TestThreadCountIndependence(t *testing.T) {
	// 4 query heads of 32 share each of 2 key/value heads (Q8_0 caches
	// need multiples of 32).
	sp := synthSpec{embd: 128, layers: 2, ff: 96, heads: 4, headsKV: 2, headDim: 32, vocab: 300, typ: ggml.TypeQ8_0, ropeBase: 10000, seed: 11}
	m := openModel(t, writeSynth(t, t.TempDir(), sp))
	toks := heldoutTokens(sp.vocab)
	run := func(threads int, k CacheType) []float32 {
		s, err := m.NewState(StateOptions{ContextSize: 128, Threads: threads, CacheTypeK: k})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Eval(toks, 0); err != nil { // 70 rows: the tiled kernel for F16
			t.Fatal(err)
		}
		var got []float32
		for i := range toks {
			got = append(got, s.Logits(i)...)
		}
		for i := 60; i < len(toks); i++ {
			if err := s.EvalLast(toks[i:i+1], i); err != nil {
				t.Fatal(err)
			}
			got = append(got, s.Logits(0)...)
		}
		return got
	}
	for _, k := range []CacheType{CacheF16, CacheQ8_0} {
		want := run(1, k)
		for _, th := range []int{2, 3, 8} {
			if got := run(th, k); !slices.Equal(got, want) {
				nmse, _ := compare(got, want, sp.vocab)
				t.Errorf("%s keys, %d threads: logits differ from 1 thread (nmse %.3e)", k, th, nmse)
			}
		}
	}
}
