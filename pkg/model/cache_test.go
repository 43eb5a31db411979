package model

import (
	"math"
	"slices"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// The reference values in this file were made with llama.cpp (the build
// that produced ../shared, zen4 CPU backend, flash attention on as by
// default) through a variant of tools/reference/logits.cpp that sets
// llama_context_params.type_k/type_v (0 f32, 1 f16, 8 q8_0), evaluates the
// first NB tokens in one batch and then the rest one token at a time, with
// n_ctx and n_threads as given in each test, and writes all logits.

func TestParseCacheType(t *testing.T) {
	for _, name := range CacheTypes() {
		ct, err := ParseCacheType(name)
		if err != nil || ct.String() != name {
			t.Errorf("ParseCacheType(%q) = %v, %v", name, ct, err)
		}
	}
	if ct, _ := ParseCacheType("f16"); ct != CacheF16 || ct.GGMLType() != ggml.TypeF16 {
		t.Errorf("f16 parses as %v (%v), want the zero value", ct, ct.GGMLType())
	}
	for _, bad := range []string{"", "F16", "q4_0", "bf16"} {
		if _, err := ParseCacheType(bad); err == nil {
			t.Errorf("ParseCacheType(%q) succeeded", bad)
		}
	}
}

// TestCacheTypeErrors checks that a Q8_0 cache needs head sizes that are
// multiples of 32 (as in llama.cpp, whose cache rows are whole blocks).
func TestCacheTypeErrors(t *testing.T) {
	sp := heldout[0] // head size 16
	m := openModel(t, writeSynth(t, t.TempDir(), sp))
	for _, o := range []StateOptions{{CacheTypeK: CacheQ8_0}, {CacheTypeV: CacheQ8_0}, {CacheTypeK: 7}} {
		o.ContextSize = 64
		if _, err := m.NewState(o); err == nil {
			t.Errorf("NewState(%+v) with head size %d succeeded", o, sp.headDim)
		}
	}
}

// cacheGoldenQ8 is llama.cpp's nmse against the shared golden logits (made
// with its default F16 cache) when both caches are Q8_0: how much the Q8_0
// cache changes the result (tokens of the golden file in one batch, n_ctx
// len+16, 2 threads). With an F32 cache llama.cpp gives the golden logits
// (nmse 1e-12): flash attention casts an F32 cache to F16.
var cacheGoldenQ8 = map[string]float64{
	"synth-llama-f32":  1.692e-05,
	"synth-llama-f16":  1.713e-05,
	"synth-moe-f32":    1.304e-05,
	"synth-llama-q8_0": 2.620e-04,
	"synth-llama-q4_0": 3.013e-04,
}

// TestCacheTypeGolden runs golden files with F32 and Q8_0 caches: F32 must
// stay within the usual limits of the F16 golden logits, and Q8_0 must move
// away from them by as much as llama.cpp's Q8_0 cache does.
func TestCacheTypeGolden(t *testing.T) {
	for name, want := range cacheGoldenQ8 {
		t.Run(name, func(t *testing.T) {
			g, ref := readGolden(t, testutil.SharedFile(t, "testdata/golden/logits/"+name+".json"))
			m := openModel(t, testutil.SharedFile(t, "testdata/models/"+g.Model))
			for _, ct := range []CacheType{CacheF32, CacheQ8_0} {
				s, err := m.NewState(StateOptions{ContextSize: len(g.Tokens) + 16, Threads: 2, CacheTypeK: ct, CacheTypeV: ct})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Eval(g.Tokens, 0); err != nil {
					t.Fatal(err)
				}
				var got []float32
				for i := range g.Tokens {
					got = append(got, s.Logits(i)...)
				}
				nmse, top1 := compare(got, ref, g.NVocab)
				t.Logf("%s cache: nmse %.3e against the F16-cache golden (llama.cpp's Q8_0 cache: %.3e), top-1 %.3f", ct, nmse, want, top1)
				switch {
				case top1 < 0.9:
					t.Errorf("%s cache: top-1 agreement %.3f (limit 0.9)", ct, top1)
				case ct == CacheF32 && nmse > threshold(g.Model):
					t.Errorf("F32 cache: nmse %.3e (limit %.0e)", nmse, threshold(g.Model))
				case ct == CacheQ8_0 && math.Abs(nmse/want-1) > 0.25:
					t.Errorf("Q8_0 cache: nmse %.3e against the golden logits, llama.cpp's %.3e", nmse, want)
				}
			}
		})
	}
}

// cacheCase is a held-out model run with llama.cpp with cache types k and
// v: nb tokens in one batch, then the rest one at a time, in a context of
// nCtx with 2 threads; ref holds the arg max from position ref.pos0 on and
// sampled logits.
type cacheCase struct {
	name        string
	k, v        CacheType
	nTokens, nb int
	nCtx        int
	pos0        int // position of ref.top1[0]
	ref         heldoutCase
	cacheEffect float64 // llama.cpp's nmse between this run and its F16-cache run
}

// heldoutTokens300 is the token sequence of the decode cases (as in
// TestHeldoutDecodeReference).
func heldoutTokens300(vocab int) []int32 {
	toks := []int32{1}
	for i := 0; len(toks) < 300; i++ {
		toks = append(toks, int32(3+(i*131+7)%(vocab-3)))
	}
	return toks
}

// TestCacheTypeReference compares held-out model 3 (head size 32) with
// Q8_0 and mixed caches against llama.cpp, in one batch of 70 (the vector
// kernel: a Q8_0 cache never takes the tiled one) and decoding one token at
// a time past position 256.
func TestCacheTypeReference(t *testing.T) {
	sp := heldout[2]
	if sp.seed != 3 {
		t.Fatal("heldout[2] is not seed 3")
	}
	m := openModel(t, writeSynth(t, t.TempDir(), sp))
	for _, c := range cacheRef {
		t.Run(c.name, func(t *testing.T) {
			toks := heldoutTokens(sp.vocab)
			if c.nTokens == 300 {
				toks = heldoutTokens300(sp.vocab)
			}
			got := evalCase(t, m, toks, c.nb, c.nCtx, c.k, c.v)
			nv := sp.vocab
			agree := 0
			for i, want := range c.ref.top1 {
				if argmax(got[(c.pos0+i)*nv:(c.pos0+i+1)*nv]) == want {
					agree++
				}
			}
			var num, den float64
			for _, v := range c.ref.values {
				d := float64(got[v.pos*nv+v.tok]) - float64(v.logit)
				num += d * d
				den += float64(v.logit) * float64(v.logit)
			}
			nmse, top1 := num/den, float64(agree)/float64(len(c.ref.top1))
			t.Logf("nmse %.3e over %d sampled logits (llama.cpp's F16 and %s/%s caches differ by %.1e), top-1 %.3f", nmse, len(c.ref.values), c.k, c.v, c.cacheEffect, top1)
			if nmse > 1e-8 || top1 < 0.95 {
				t.Errorf("nmse %.3e (limit 1e-8), top-1 %.3f (limit 0.95)", nmse, top1)
			}
		})
	}
}

// TestCacheF32AsF16 checks that an F32 cache gives the logits of an F16
// cache, in the tiled (batch of 70) and split (decoding past 256) kernels
// too: llama.cpp casts an F32 cache to F16 for flash attention (its F32
// and F16 runs of these cases give identical logits).
func TestCacheF32AsF16(t *testing.T) {
	sp := heldout[2]
	m := openModel(t, writeSynth(t, t.TempDir(), sp))
	for _, c := range []struct {
		toks     []int32
		nb, nCtx int
	}{{heldoutTokens(sp.vocab), 70, 128}, {heldoutTokens300(sp.vocab), 200, 512}} {
		want := evalCase(t, m, c.toks, c.nb, c.nCtx, CacheF16, CacheF16)
		got := evalCase(t, m, c.toks, c.nb, c.nCtx, CacheF32, CacheF32)
		if !slices.Equal(got, want) {
			nmse, _ := compare(got, want, sp.vocab)
			t.Errorf("%d tokens: F32 cache differs from F16 (nmse %.3e)", len(c.toks), nmse)
		}
	}
}

// evalCase evaluates toks[:nb] in one batch and the rest one at a time,
// with 2 threads, and returns every position's logits.
func evalCase(t *testing.T, m *Model, toks []int32, nb, nCtx int, k, v CacheType) []float32 {
	t.Helper()
	s, err := m.NewState(StateOptions{ContextSize: nCtx, BatchSize: nb, Threads: 2, CacheTypeK: k, CacheTypeV: v})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Eval(toks[:nb], 0); err != nil {
		t.Fatal(err)
	}
	var got []float32
	for i := 0; i < nb; i++ {
		got = append(got, s.Logits(i)...)
	}
	for i := nb; i < len(toks); i++ {
		if err := s.EvalLast(toks[i:i+1], i); err != nil {
			t.Fatal(err)
		}
		got = append(got, s.Logits(0)...)
	}
	return got
}

var cacheRef = []cacheCase{
	{name: "batch-q8_0-q8_0", k: CacheQ8_0, v: CacheQ8_0, nTokens: 70, nb: 70, nCtx: 128, cacheEffect: 1.311e-05, ref: heldoutCase{seed: 3,
		top1: []int{27, 206, 203, 25, 200, 206, 31, 202, 207, 74, 4, 8, 84, 206, 222, 23, 172, 18, 227, 200, 233, 275, 146, 94, 8, 97, 17, 16, 123, 236, 27, 164, 206, 251, 187, 73, 207, 16, 148, 23, 163, 113, 157, 228, 207, 63, 187, 0, 172, 53, 207, 134, 228, 215, 25, 83, 217, 66, 243, 25, 152, 12, 209, 117, 212, 235, 176, 178, 104, 45},
		values: []heldoutValue{
			{0, 0, -0.021476}, {0, 3, 0.890403}, {0, 100, 1.26791}, {0, 150, -0.31171}, {0, 200, 1.92893}, {0, 250, 0.389044}, {0, 279, -1.26753},
			{35, 0, -0.936324}, {35, 3, -0.774779}, {35, 100, 0.560238}, {35, 150, -0.415726}, {35, 200, 1.53104}, {35, 250, 1.96393}, {35, 279, 0.207959},
			{69, 0, -0.15134}, {69, 3, 0.120377}, {69, 100, 0.387578}, {69, 150, 0.388348}, {69, 200, 1.6359}, {69, 250, 1.84737}, {69, 279, 0.0605915},
		}}},
	{name: "batch-q8_0-f16", k: CacheQ8_0, v: CacheF16, nTokens: 70, nb: 70, nCtx: 128, cacheEffect: 5.502e-06, ref: heldoutCase{seed: 3,
		top1: []int{27, 206, 203, 25, 200, 206, 31, 202, 207, 74, 17, 8, 84, 206, 222, 23, 172, 18, 227, 200, 233, 275, 146, 94, 8, 97, 17, 16, 123, 236, 27, 164, 206, 251, 187, 73, 207, 16, 148, 23, 163, 113, 157, 228, 207, 63, 187, 0, 172, 53, 207, 134, 228, 215, 25, 83, 217, 66, 243, 25, 152, 12, 209, 117, 212, 235, 176, 178, 104, 45},
		values: []heldoutValue{
			{0, 0, -0.0161052}, {0, 3, 0.897473}, {0, 100, 1.27138}, {0, 150, -0.31126}, {0, 200, 1.92924}, {0, 250, 0.38384}, {0, 279, -1.26775},
			{35, 0, -0.936245}, {35, 3, -0.775462}, {35, 100, 0.559918}, {35, 150, -0.418838}, {35, 200, 1.53037}, {35, 250, 1.96336}, {35, 279, 0.211363},
			{69, 0, -0.152876}, {69, 3, 0.121577}, {69, 100, 0.385781}, {69, 150, 0.38446}, {69, 200, 1.63481}, {69, 250, 1.84517}, {69, 279, 0.0604001},
		}}},
	{name: "batch-f16-q8_0", k: CacheF16, v: CacheQ8_0, nTokens: 70, nb: 70, nCtx: 128, cacheEffect: 8.736e-06, ref: heldoutCase{seed: 3,
		top1: []int{27, 206, 203, 25, 200, 206, 31, 202, 207, 74, 84, 8, 84, 206, 222, 23, 172, 18, 227, 200, 233, 275, 146, 94, 8, 97, 17, 16, 123, 236, 27, 164, 206, 251, 187, 73, 207, 16, 148, 23, 163, 113, 157, 228, 207, 63, 187, 0, 172, 53, 207, 134, 228, 215, 25, 83, 217, 66, 243, 25, 152, 12, 209, 117, 212, 235, 176, 178, 104, 45},
		values: []heldoutValue{
			{0, 0, -0.021476}, {0, 3, 0.890403}, {0, 100, 1.26791}, {0, 150, -0.31171}, {0, 200, 1.92893}, {0, 250, 0.389044}, {0, 279, -1.26753},
			{35, 0, -0.934513}, {35, 3, -0.771368}, {35, 100, 0.559798}, {35, 150, -0.417258}, {35, 200, 1.52967}, {35, 250, 1.96426}, {35, 279, 0.206666},
			{69, 0, -0.151535}, {69, 3, 0.118161}, {69, 100, 0.389041}, {69, 150, 0.389106}, {69, 200, 1.64065}, {69, 250, 1.84595}, {69, 279, 0.0628542},
		}}},
	// Positions 250..299 of 300 tokens: 200 in one batch, then one at a
	// time (n_ctx 512).
	{name: "decode-q8_0-q8_0", k: CacheQ8_0, v: CacheQ8_0, nTokens: 300, nb: 200, nCtx: 512, pos0: 250, cacheEffect: 6.697e-06, ref: heldoutCase{seed: 3,
		top1: []int{193, 119, 44, 146, 237, 57, 92, 251, 149, 4, 16, 215, 144, 44, 116, 238, 187, 260, 262, 60, 4, 100, 209, 152, 119, 206, 90, 257, 199, 207, 61, 275, 89, 55, 52, 234, 222, 146, 18, 42, 194, 117, 143, 25, 226, 83, 274, 238, 37, 139},
		values: []heldoutValue{
			{260, 0, -0.328627}, {260, 3, -0.365217}, {260, 100, -1.21115}, {260, 150, -0.0487401}, {260, 200, 0.443352}, {260, 250, -0.324453}, {260, 279, 0.256178},
			{280, 0, -0.760865}, {280, 3, 0.610129}, {280, 100, 2.11934}, {280, 150, 1.26235}, {280, 200, 1.42484}, {280, 250, 0.421356}, {280, 279, -0.818506},
			{299, 0, 2.14956}, {299, 3, 0.278211}, {299, 100, -0.765968}, {299, 150, 1.28664}, {299, 200, -1.76464}, {299, 250, 0.232811}, {299, 279, 0.445498},
		}}},
}
