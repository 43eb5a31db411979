package model

// The Phi-3 architecture (general.architecture "phi3"): llama's graph
// with the query, key and value projections fused (attn_qkv), the gate
// and up projections fused in ffn_up (gate first), gpt-neox RoPE, and
// LongRoPE: per-frequency factors for contexts within the original
// length (rope_factors_short) and past it (rope_factors_long), chosen by
// the sequence's context as llama.cpp does, with rope.scaling.attn_factor.
// Phi-3's sliding window is not applied, as llama.cpp does not apply it
// (llama.cpp#13676).

func loadPhi3(l *loader) (network, HParams, error) {
	return loadDecoder(l, llamaVariant{rope: ropeNeox, fusedGateUp: true, longShortRope: true})
}
