package model

// The Qwen 2 and Qwen 3 architectures (general.architecture "qwen2",
// "qwen3"): llama's graph, with RoPE rotating each half of a head against
// the other (gpt-neox style) rather than adjacent pairs. Qwen 2 adds
// biases to the query, key and value projections (llama's loader takes
// them where present); Qwen 3 has none, but RMS-normalizes every head of
// the queries and keys (attn_q_norm, attn_k_norm) before the rotation.
// Both run through llama.go's forward pass and single-token decode.

func loadQwen2(l *loader) (network, HParams, error) {
	return loadDecoder(l, llamaVariant{rope: ropeNeox})
}

func loadQwen3(l *loader) (network, HParams, error) {
	return loadDecoder(l, llamaVariant{rope: ropeNeox, qkNorm: true})
}
