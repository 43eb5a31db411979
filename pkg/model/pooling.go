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
	batch := make([]BatchEntry, 0, min(chunk, len(tokens)))
	defer seq.Truncate(0)
	seq.Truncate(0)
	pl := newPooler(pooling, len(tokens), hp.Embd)
	for i := 0; i < len(tokens); i += chunk {
		batch = batch[:0]
		n := min(chunk, len(tokens)-i)
		for k := 0; k < n; k++ {
			p := i + k
			batch = append(batch, BatchEntry{Seq: seq, Pos: p, Token: tokens[p], Output: pl.wants(p)})
		}
		if err := s.Decode(ctx, batch, true); err != nil {
			return nil, err
		}
		for k := 0; ; k++ {
			o := s.Output(k)
			if o == nil {
				break
			}
			pl.add(o)
		}
	}
	return pl.result(s)
}

// EmbedSeqs embeds inputs[i] as the whole content of seqs[i], each as
// Embed would, and returns their pooled states in the inputs' order.
// An encoder's inputs share a Decode while their tokens fit in the batch
// size together (each sequence attends only to itself), as llama-server
// batches its slots' embeddings; a causal model's are embedded one after
// another.
func (s *Runner) EmbedSeqs(ctx context.Context, seqs []*Seq, inputs [][]int32, pooling string) ([][]float32, error) {
	hp := s.m.Params
	if len(seqs) != len(inputs) {
		return nil, fmt.Errorf("model: %d sequences for %d inputs", len(seqs), len(inputs))
	}
	out := make([][]float32, len(inputs))
	if !hp.NonCausal || len(inputs) == 1 {
		for i, toks := range inputs {
			v, err := s.Embed(ctx, seqs[i], toks, pooling)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	if !slices.Contains(Poolings, pooling) {
		return nil, fmt.Errorf("model: pooling %q: want one of %v", pooling, Poolings)
	}
	if pooling == "rank" {
		if rk, ok := s.m.net.(ranker); !ok || !rk.hasRankHead() {
			return nil, fmt.Errorf("model: pooling rank: %s has no classifier head", s.m.Arch)
		}
	}
	for i, toks := range inputs {
		switch {
		case len(toks) == 0:
			return nil, fmt.Errorf("model: input %d: embedding of no tokens", i)
		case len(toks) > seqs[i].ContextSize():
			return nil, fmt.Errorf("model: input %d: %w: %d tokens to embed, the context holds %d", i, ErrContextOverflow, len(toks), seqs[i].ContextSize())
		case len(toks) > s.opts.BatchSize:
			return nil, fmt.Errorf("model: input %d: %d tokens to embed with a non-causal model need a batch size of at least as many (have %d)", i, len(toks), s.opts.BatchSize)
		}
		for _, o := range seqs[:i] {
			if o == seqs[i] {
				return nil, fmt.Errorf("model: input %d: its sequence is another input's too", i)
			}
		}
	}
	defer func() {
		for _, sq := range seqs {
			sq.Truncate(0)
		}
	}()
	batch := make([]BatchEntry, 0, s.opts.BatchSize)
	pls := make([]*pooler, 0, len(inputs))
	for i := 0; i < len(inputs); {
		// A group: the inputs from i that fit in one batch together.
		batch, pls = batch[:0], pls[:0]
		j := i
		for ; j < len(inputs) && len(batch)+len(inputs[j]) <= s.opts.BatchSize; j++ {
			seqs[j].Truncate(0)
			pl := newPooler(pooling, len(inputs[j]), hp.Embd)
			pls = append(pls, pl)
			for p, t := range inputs[j] {
				batch = append(batch, BatchEntry{Seq: seqs[j], Pos: p, Token: t, Output: pl.wants(p)})
			}
		}
		if err := s.Decode(ctx, batch, true); err != nil {
			return nil, err
		}
		k := 0
		for g, pl := range pls {
			for range pl.nOut() {
				pl.add(s.Output(k))
				k++
			}
			v, err := pl.result(s)
			if err != nil {
				return nil, err
			}
			out[i+g] = v
		}
		i = j
	}
	return out, nil
}

// pooler pools one input's output rows as Embed's pooling says.
type pooler struct {
	pooling string
	n       int // the input's tokens
	out     []float32
	sum     []float64
	picked  []float32
}

func newPooler(pooling string, n, d int) *pooler {
	pl := &pooler{pooling: pooling, n: n}
	switch pooling {
	case "none":
		pl.out = make([]float32, 0, n*d)
	case "mean":
		pl.sum = make([]float64, d)
	}
	return pl
}

// wants reports whether the row at position p is an output.
func (pl *pooler) wants(p int) bool {
	switch pl.pooling {
	case "none", "mean":
		return true
	case "cls", "rank":
		return p == 0
	}
	return p == pl.n-1 // last
}

// nOut is how many output rows the input has.
func (pl *pooler) nOut() int {
	if pl.pooling == "none" || pl.pooling == "mean" {
		return pl.n
	}
	return 1
}

func (pl *pooler) add(o []float32) {
	switch pl.pooling {
	case "none":
		pl.out = append(pl.out, o...)
	case "mean":
		for j, v := range o {
			pl.sum[j] += float64(v)
		}
	default:
		pl.picked = slices.Clone(o)
	}
}

func (pl *pooler) result(s *Runner) ([]float32, error) {
	switch pl.pooling {
	case "none":
		return pl.out, nil
	case "mean":
		out := make([]float32, len(pl.sum))
		for j, v := range pl.sum {
			out[j] = float32(v / float64(pl.n))
		}
		return out, nil
	case "rank":
		return s.Rank(pl.picked)
	}
	return pl.picked, nil
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

// CosineSimilarity is llama.cpp's common_embd_similarity_cos: the cosine
// of the angle between a and b, summed in float64; 1 when both are zero,
// 0 when only one is.
func CosineSimilarity(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	switch {
	case aa == 0 && bb == 0:
		return 1
	case aa == 0 || bb == 0:
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
