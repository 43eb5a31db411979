package model

// The Qwen 2 and Qwen 3 architectures and their mixtures of experts
// (general.architecture "qwen2", "qwen3", "qwen2moe", "qwen3moe"): llama's
// graph, with RoPE rotating each half of a head against the other
// (gpt-neox style) rather than adjacent pairs. Qwen 2 adds biases to the
// query, key and value projections (llama's loader takes them where
// present); Qwen 3 has none, but RMS-normalizes every head of the queries
// and keys (attn_q_norm, attn_k_norm) before the rotation. Their MoE
// models give the experts a width of their own
// (expert_feed_forward_length); Qwen 3's renormalizes the chosen
// experts' weights as Mixtral does, Qwen 2's keeps the softmax weights
// and adds a shared expert gated by a sigmoid. All run through llama.go's
// forward pass (and, but for the shared expert, its single-token decode).

func loadQwen2(l *loader) (network, HParams, error) {
	return loadDecoder(l, llamaVariant{rope: ropeNeox})
}

func loadQwen3(l *loader) (network, HParams, error) {
	return loadDecoder(l, llamaVariant{rope: ropeNeox, qkNorm: true})
}

func loadQwen2MoE(l *loader) (network, HParams, error) {
	return loadDecoder(l, llamaVariant{rope: ropeNeox, expertFF: true, moeRawWeights: true, sharedExpert: true})
}

func loadQwen3MoE(l *loader) (network, HParams, error) {
	return loadDecoder(l, llamaVariant{rope: ropeNeox, qkNorm: true, expertFF: true})
}
