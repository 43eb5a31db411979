package model

import (
	"fmt"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// Synthetic Gemma models (random weights, as writeSynth writes them, plus
// what gemmaExtras adds), with every tensor their graphs take: tied
// output, post-attention and post-FFN norms (Gemma 2, 3), per-head query
// and key norms (Gemma 3). Their 70 tokens cross the sliding window of
// 16 positions several times.
var gemmaHeldout = []synthSpec{
	{arch: "gemma", embd: 64, layers: 2, ff: 96, heads: 2, headsKV: 1, headDim: 64, vocab: 300, typ: ggml.TypeF32, tied: true, ropeBase: 10000, seed: 101,
		edit: gemmaExtras("gemma", 2, 64, 101, nil)},
	// Gemma 2: every other layer local (window 16), soft-capped scores
	// and logits.
	{arch: "gemma2", embd: 64, layers: 4, ff: 128, heads: 4, headsKV: 2, headDim: 32, vocab: 300, typ: ggml.TypeF32, tied: true, ropeBase: 10000, seed: 102,
		edit: gemmaExtras("gemma2", 4, 64, 102, map[string]any{"attention.sliding_window": uint32(16), "attn_logit_softcapping": float32(2), "final_logit_softcapping": float32(3)})},
	{arch: "gemma2", embd: 64, layers: 3, ff: 96, heads: 4, headsKV: 1, headDim: 32, vocab: 300, typ: ggml.TypeQ8_0, tied: true, ropeBase: 10000, seed: 103,
		edit: gemmaExtras("gemma2", 3, 64, 103, map[string]any{"attention.sliding_window": uint32(16), "attn_logit_softcapping": float32(4), "final_logit_softcapping": float32(5), "rope.freq_base_swa": float32(500)})},
	// Gemma 3: five local layers for one global (global RoPE base 1e6,
	// local 10000), per-head query and key norms.
	{arch: "gemma3", qkNorm: true, embd: 64, layers: 6, ff: 96, heads: 4, headsKV: 1, headDim: 32, vocab: 300, typ: ggml.TypeF32, tied: true, ropeBase: 1000000, seed: 104,
		edit: gemmaExtras("gemma3", 6, 64, 104, map[string]any{"attention.sliding_window": uint32(16)})},
	// Gemma 3, Q8_0, a pattern of 3 with linear RoPE scaling on the
	// global layers, a local base and final soft-capping set.
	{arch: "gemma3", qkNorm: true, embd: 64, layers: 4, ff: 128, heads: 2, headsKV: 2, headDim: 64, vocab: 300, typ: ggml.TypeQ8_0, tied: true, ropeBase: 1000000, seed: 105,
		edit: gemmaExtras("gemma3", 4, 64, 105, map[string]any{"attention.sliding_window": uint32(16), "attention.sliding_window_pattern": uint32(3),
			"rope.freq_base_swa": float32(20000), "rope.scaling.type": "linear", "rope.scaling.factor": float32(4), "final_logit_softcapping": float32(6)})},
}

// gemmaExtras adds Gemma's metadata keys (arch-prefixed) and, for Gemma 2
// and 3, the post norms of each of the layers (random, from seed).
func gemmaExtras(arch string, layers, embd int, seed uint64, keys map[string]any) editFunc {
	return func(kv []gguf.KV, ts []gguf.TensorInfo, d [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte) {
		for _, k := range sortedKeys(keys) {
			kv = append(kv, gguf.KV{Key: arch + "." + k, Value: gguf.MustValueOf(keys[k])})
		}
		if arch == "gemma" {
			return kv, ts, d
		}
		r := rng(seed * 7919)
		for l := 0; l < layers; l++ {
			for _, name := range []string{"post_attention_norm", "post_ffw_norm"} {
				x := make([]float32, embd)
				for i := range x {
					x[i] = 1 + 0.3*r.Uniform()
				}
				ts = append(ts, gguf.TensorInfo{Name: fmt.Sprintf("blk.%d.%s.weight", l, name), Dims: []uint64{uint64(embd)}, Type: ggml.TypeF32})
				d = append(d, encode(ggml.TypeF32, x))
			}
		}
		return kv, ts, d
	}
}

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// TestWriteGemmaModels writes the synthetic Gemma models to
// $LLAMAFILE_SYNTH_DIR (skipped when unset), for llama.cpp's reference
// logits in gemmaRef (see TestWriteHeldoutModels).
func TestWriteGemmaModels(t *testing.T) { writeSynthModels(t, gemmaHeldout) }

// TestGemmaConsistency checks that one batch (the tiled attention kernel),
// and token-by-token decoding agree on the synthetic Gemma models.
func TestGemmaConsistency(t *testing.T) {
	dir := t.TempDir()
	for _, sp := range gemmaHeldout {
		m := openModel(t, writeSynth(t, dir, sp))
		nmse, top1 := batchVsSingle(t, m, heldoutTokens(sp.vocab))
		t.Logf("seed %d (%s %s): token by token vs batch: nmse %.3e top-1 %.3f", sp.seed, sp.arch, sp.typ, nmse, top1)
		lim := 1e-5
		if sp.typ != ggml.TypeF32 {
			lim = 1e-3
		}
		if nmse > lim || top1 < 0.95 {
			t.Errorf("seed %d: token by token vs batch: nmse %.3e (limit %.0e) top-1 %.3f", sp.seed, nmse, lim, top1)
		}
	}
}

// TestGemmaReference compares the synthetic Gemma models' logits with
// llama.cpp's (gemmaRef).
func TestGemmaReference(t *testing.T) {
	dir := t.TempDir()
	for _, c := range gemmaRef {
		var sp synthSpec
		for _, h := range gemmaHeldout {
			if h.seed == c.seed {
				sp = h
			}
		}
		m := openModel(t, writeSynth(t, dir, sp))
		s, err := m.NewState(StateOptions{ContextSize: 128, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Eval(heldoutTokens(sp.vocab), 0); err != nil {
			t.Fatal(err)
		}
		nmse, top1 := scoreRef(s, c)
		lim := 1e-6
		if sp.typ != ggml.TypeF32 {
			lim = 2e-3
		}
		t.Logf("seed %d (%s %s): nmse %.3e over %d sampled logits, top-1 %.3f", sp.seed, sp.arch, sp.typ, nmse, len(c.values), top1)
		if nmse > lim || top1 < 0.9 {
			t.Errorf("seed %d: nmse %.3e (limit %.0e), top-1 %.3f (limit 0.9)", sp.seed, nmse, lim, top1)
		}
	}
}

// gemmaRef holds llama.cpp's results for gemmaHeldout, as heldoutRef does
// for heldout (the reference "logits" program on the files
// TestWriteGemmaModels writes; ggml v0.4.0, sapphirerapids CPU backend).
// Over all logits: nmse 1.3e-12 (gemma), 5.3e-10 and 7.4e-13 (gemma2 F32,
// Q8_0), 1.4e-9 and 6.5e-13 (gemma3 F32, Q8_0), top-1 1.0.
var gemmaRef = []heldoutCase{
	{seed: 101, top1: []int{1, 14, 51, 88, 125, 162, 199, 236, 273, 13, 50, 87, 124, 161, 198, 235, 272, 12, 49, 86, 123, 160, 197, 234, 271, 11, 48, 85, 122, 159, 196, 233, 270, 10, 47, 84, 121, 158, 195, 232, 269, 9, 46, 83, 120, 157, 194, 231, 268, 8, 45, 82, 119, 156, 193, 230, 267, 7, 44, 81, 118, 155, 192, 229, 266, 6, 43, 80, 117, 154}, values: []heldoutValue{
		{0, 0, 4.04731},
		{0, 3, -2.72431},
		{0, 50, -1.08145},
		{0, 100, -7.67254},
		{0, 150, 1.33149},
		{0, 200, 7.30705},
		{0, 250, 2.8082},
		{0, 299, 5.23697},
		{17, 0, 4.66518},
		{17, 3, -1.66846},
		{17, 50, 8.59805},
		{17, 100, 1.44356},
		{17, 150, -9.26533},
		{17, 200, -4.48019},
		{17, 250, 3.94826},
		{17, 299, 3.38493},
		{35, 0, -2.50113},
		{35, 3, 3.10385},
		{35, 50, -0.217772},
		{35, 100, -0.735226},
		{35, 150, -2.30676},
		{35, 200, -1.54861},
		{35, 250, 6.47459},
		{35, 299, 1.73498},
		{52, 0, -3.50935},
		{52, 3, -2.59399},
		{52, 50, -1.61501},
		{52, 100, 2.91624},
		{52, 150, -1.37699},
		{52, 200, -3.49752},
		{52, 250, -1.70864},
		{52, 299, 5.50584},
		{69, 0, -6.01059},
		{69, 3, -8.9279},
		{69, 50, -2.89221},
		{69, 100, 3.27862},
		{69, 150, 1.39538},
		{69, 200, -2.42568},
		{69, 250, 4.86207},
		{69, 299, 1.23782},
	}},
	{seed: 102, top1: []int{1, 14, 51, 88, 125, 162, 199, 236, 273, 13, 50, 87, 124, 161, 198, 235, 272, 12, 49, 86, 123, 160, 197, 234, 271, 11, 48, 85, 122, 159, 196, 233, 270, 10, 47, 84, 121, 158, 195, 232, 269, 9, 46, 83, 120, 157, 194, 231, 268, 8, 45, 82, 119, 156, 193, 230, 267, 7, 44, 81, 118, 155, 192, 229, 266, 6, 43, 80, 117, 154}, values: []heldoutValue{
		{0, 0, -2.74344},
		{0, 3, 2.85092},
		{0, 50, 0.117457},
		{0, 100, -2.91269},
		{0, 150, -2.81525},
		{0, 200, -2.88612},
		{0, 250, -2.64257},
		{0, 299, -2.57149},
		{17, 0, 2.90233},
		{17, 3, 1.36759},
		{17, 50, 2.32877},
		{17, 100, -0.509984},
		{17, 150, 2.98343},
		{17, 200, 2.989},
		{17, 250, 2.98853},
		{17, 299, -2.98724},
		{35, 0, -0.723778},
		{35, 3, -2.97725},
		{35, 50, 2.49729},
		{35, 100, 1.84237},
		{35, 150, -2.84016},
		{35, 200, -2.95796},
		{35, 250, 2.99873},
		{35, 299, 2.80941},
		{52, 0, 0.832245},
		{52, 3, 1.83901},
		{52, 50, -0.310622},
		{52, 100, 2.98752},
		{52, 150, -2.90531},
		{52, 200, -2.34529},
		{52, 250, 2.8194},
		{52, 299, 2.8999},
		{69, 0, 0.233874},
		{69, 3, -2.98989},
		{69, 50, -1.98157},
		{69, 100, 2.85095},
		{69, 150, -0.0876854},
		{69, 200, 2.93122},
		{69, 250, 2.98722},
		{69, 299, 1.55505},
	}},
	{seed: 103, top1: []int{1, 14, 51, 88, 125, 162, 199, 236, 273, 13, 50, 87, 124, 161, 198, 235, 272, 12, 49, 86, 123, 160, 197, 234, 271, 11, 48, 85, 122, 159, 196, 233, 270, 10, 47, 84, 121, 158, 195, 232, 269, 9, 46, 83, 120, 157, 194, 231, 268, 8, 45, 82, 119, 156, 193, 230, 267, 7, 44, 81, 118, 155, 192, 229, 266, 6, 43, 80, 117, 154}, values: []heldoutValue{
		{0, 0, -3.09641},
		{0, 3, 1.75011},
		{0, 50, 3.45748},
		{0, 100, 2.7666},
		{0, 150, 4.03089},
		{0, 200, -2.33351},
		{0, 250, 0.578836},
		{0, 299, 3.6159},
		{17, 0, -4.62363},
		{17, 3, 4.86882},
		{17, 50, -4.37972},
		{17, 100, 4.70225},
		{17, 150, -0.470415},
		{17, 200, -0.768011},
		{17, 250, -4.84837},
		{17, 299, -4.67055},
		{35, 0, 2.83222},
		{35, 3, -4.31577},
		{35, 50, 2.54892},
		{35, 100, -3.73536},
		{35, 150, 1.81828},
		{35, 200, -3.11457},
		{35, 250, -1.64424},
		{35, 299, 3.98253},
		{52, 0, -4.69792},
		{52, 3, 3.28186},
		{52, 50, -4.60745},
		{52, 100, -2.44259},
		{52, 150, -3.30262},
		{52, 200, 2.62677},
		{52, 250, 2.47804},
		{52, 299, -1.86608},
		{69, 0, 2.06382},
		{69, 3, -3.63624},
		{69, 50, -1.2182},
		{69, 100, -3.78128},
		{69, 150, 0.657829},
		{69, 200, -2.95519},
		{69, 250, 1.00546},
		{69, 299, 0.345233},
	}},
	{seed: 104, top1: []int{1, 14, 51, 88, 125, 162, 199, 236, 273, 13, 50, 87, 124, 161, 198, 235, 272, 12, 49, 86, 123, 160, 197, 234, 271, 11, 48, 85, 122, 159, 196, 233, 270, 10, 47, 84, 121, 158, 195, 232, 269, 9, 46, 83, 120, 157, 194, 231, 268, 8, 45, 82, 119, 156, 193, 230, 267, 7, 44, 81, 118, 155, 192, 229, 266, 6, 43, 80, 117, 154}, values: []heldoutValue{
		{0, 0, 1.48676},
		{0, 3, 3.42052},
		{0, 50, -5.0332},
		{0, 100, -4.73226},
		{0, 150, 4.33158},
		{0, 200, -1.8651},
		{0, 250, -10.1113},
		{0, 299, -1.54887},
		{17, 0, -1.36394},
		{17, 3, 5.51804},
		{17, 50, -1.08646},
		{17, 100, -7.61252},
		{17, 150, -0.110662},
		{17, 200, -7.55083},
		{17, 250, -0.862658},
		{17, 299, -2.59413},
		{35, 0, 2.6819},
		{35, 3, 0.346723},
		{35, 50, 3.93814},
		{35, 100, -0.0760977},
		{35, 150, 1.9787},
		{35, 200, 6.43545},
		{35, 250, 3.9394},
		{35, 299, -2.36735},
		{52, 0, 8.13657},
		{52, 3, 2.02941},
		{52, 50, 7.26302},
		{52, 100, -5.17327},
		{52, 150, 0.249819},
		{52, 200, 4.00181},
		{52, 250, 10.0037},
		{52, 299, -0.0871075},
		{69, 0, -1.8908},
		{69, 3, -2.49615},
		{69, 50, 1.48191},
		{69, 100, -5.50202},
		{69, 150, -1.89291},
		{69, 200, 1.83983},
		{69, 250, 3.67161},
		{69, 299, 8.71379},
	}},
	{seed: 105, top1: []int{1, 14, 51, 88, 125, 162, 199, 236, 273, 13, 50, 87, 124, 161, 198, 235, 272, 12, 49, 86, 123, 160, 197, 234, 271, 11, 48, 85, 122, 159, 196, 233, 270, 10, 47, 84, 121, 158, 195, 232, 269, 9, 46, 83, 120, 157, 194, 231, 268, 8, 45, 82, 119, 156, 193, 230, 267, 7, 44, 81, 118, 155, 192, 229, 266, 6, 43, 80, 117, 154}, values: []heldoutValue{
		{0, 0, -2.54143},
		{0, 3, 3.89808},
		{0, 50, -1.04646},
		{0, 100, 2.99337},
		{0, 150, 4.84041},
		{0, 200, 3.19604},
		{0, 250, -0.990926},
		{0, 299, 3.1168},
		{17, 0, -2.06463},
		{17, 3, 3.63017},
		{17, 50, -5.54215},
		{17, 100, 2.87725},
		{17, 150, -5.15517},
		{17, 200, -1.84917},
		{17, 250, -2.77383},
		{17, 299, -0.62924},
		{35, 0, -3.71451},
		{35, 3, 1.06574},
		{35, 50, 1.48894},
		{35, 100, -4.20614},
		{35, 150, 2.90428},
		{35, 200, -1.05743},
		{35, 250, 2.47673},
		{35, 299, -1.3375},
		{52, 0, 5.09422},
		{52, 3, 3.2355},
		{52, 50, 3.76392},
		{52, 100, -1.19785},
		{52, 150, -2.74437},
		{52, 200, -4.69806},
		{52, 250, 3.11991},
		{52, 299, -3.50377},
		{69, 0, 2.53612},
		{69, 3, 1.15031},
		{69, 50, -1.86248},
		{69, 100, -4.56786},
		{69, 150, 4.38797},
		{69, 200, -3.61551},
		{69, 250, -5.80816},
		{69, 299, -1.55165},
	}},
}
