package model

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// Poolings are the ways Embed pools a sequence's hidden states, as
// llama.cpp's --pooling names them.
var Poolings = []string{"none", "mean", "cls", "last", "rank"}

// DefaultPooling returns the pooling llama.cpp's embedding tools use for m:
// its {arch}.pooling_type, else last for a causal model (a generative
// model used for embeddings, e5-mistral say) and mean for an encoder.
func (m *Model) DefaultPooling() string {
	switch {
	case m.Params.Pooling != "":
		return m.Params.Pooling
	case m.Params.NonCausal:
		return "mean"
	}
	return "last"
}

// Embed evaluates tokens as the whole content of seq (from position 0,
// replacing what it held) and returns their final hidden states pooled as
// pooling says: "none", every token's (len(tokens)·Embd values); "mean",
// their mean; "cls", the first token's; "last", the last's; "rank", the
// classifier head's Params.ClassOut scores of the first token's (models
// with a head only). Nothing is normalized. An encoder (Params.NonCausal)
// evaluates all its tokens in one batch, as llama.cpp requires, so they
// must fit in the batch size; a causal model evaluates them in chunks of
// the batch size. The sequence's cache is cleared afterwards.
func (s *Runner) Embed(ctx context.Context, seq *Seq, tokens []int32, pooling string) ([]float32, error) {
	hp := s.m.Params
	if !slices.Contains(Poolings, pooling) {
		return nil, fmt.Errorf("model: pooling %q: want one of %v", pooling, Poolings)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("model: embedding of no tokens")
	}
	if len(tokens) > seq.ContextSize() {
		return nil, fmt.Errorf("model: %w: %d tokens to embed, the context holds %d", ErrContextOverflow, len(tokens), seq.ContextSize())
	}
	if pooling == "rank" {
		if rk, ok := s.m.net.(ranker); !ok || !rk.hasRankHead() {
			return nil, fmt.Errorf("model: pooling rank: %s has no classifier head", s.m.Arch)
		}
	}
	chunk := s.opts.BatchSize
	if hp.NonCausal && len(tokens) > chunk {
		return nil, fmt.Errorf("model: %d tokens to embed with a non-causal model need a batch size of at least as many (have %d)", len(tokens), chunk)
	}
	d := hp.Embd
	var out []float32
	var sum []float64
	switch pooling {
	case "none":
		out = make([]float32, 0, len(tokens)*d)
	case "mean":
		sum = make([]float64, d)
	}
	var picked []float32
	batch := make([]BatchEntry, 0, min(chunk, len(tokens)))
	defer seq.Truncate(0)
	seq.Truncate(0)
	for i := 0; i < len(tokens); i += chunk {
		batch = batch[:0]
		n := min(chunk, len(tokens)-i)
		for k := 0; k < n; k++ {
			p := i + k
			want := pooling == "none" || pooling == "mean" || ((pooling == "cls" || pooling == "rank") && p == 0) || (pooling == "last" && p == len(tokens)-1)
			batch = append(batch, BatchEntry{Seq: seq, Pos: p, Token: tokens[p], Output: want})
		}
		if err := s.Decode(ctx, batch, true); err != nil {
			return nil, err
		}
		for k := 0; ; k++ {
			o := s.Output(k)
			if o == nil {
				break
			}
			switch pooling {
			case "none":
				out = append(out, o...)
			case "mean":
				for j, v := range o {
					sum[j] += float64(v)
				}
			default:
				picked = slices.Clone(o)
			}
		}
	}
	switch pooling {
	case "none":
		return out, nil
	case "mean":
		out = make([]float32, d)
		for j, v := range sum {
			out[j] = float32(v / float64(len(tokens)))
		}
		return out, nil
	case "rank":
		return s.Rank(picked)
	}
	return picked, nil
}

// NormalizeEmbedding writes v scaled as llama.cpp's common_embd_normalize
// does with norm: -1 leaves it, 0 scales the largest magnitude to 32760
// (an int16 range), 2 divides by the Euclidean norm, any other p by the
// p-norm (1: taxicab). A zero vector stays zero. dst may be v.
func NormalizeEmbedding(dst, v []float32, norm int) {
	var sum float64
	switch norm {
	case -1:
		sum = 1
	case 0:
		for _, x := range v {
			sum = max(sum, math.Abs(float64(x)))
		}
		sum /= 32760
	case 2:
		for _, x := range v {
			sum += float64(x * x)
		}
		sum = math.Sqrt(sum)
	default:
		for _, x := range v {
			sum += math.Pow(math.Abs(float64(x)), float64(norm))
		}
		sum = math.Pow(sum, 1/float64(norm))
	}
	f := float32(0)
	if sum > 0 {
		f = float32(1 / sum)
	}
	for i, x := range v {
		dst[i] = x * f
	}
}
