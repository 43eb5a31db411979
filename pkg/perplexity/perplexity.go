// Package perplexity measures how well a model predicts a text, the way
// llama.cpp's llama-perplexity tool does, so that the numbers compare.
//
// The tokens (the text tokenized with BOS, without parsing special tokens)
// are cut into chunks of ContextSize tokens; leftover tokens at the end are
// dropped. Each chunk is evaluated from an empty cache, its first token
// replaced by BOS when the model adds one. Only the second half of each
// chunk is scored, so that every scored token has at least ContextSize/2
// tokens of context: the logits at positions first..n-2 (first = n/2)
// predict tokens first+1..n-1. The negative log-likelihoods are summed in
// float64 from a log-softmax whose exponentials are float32, like
// llama.cpp's, and
//
//	PPL = exp(mean NLL)
//	error = PPL * sqrt((mean(NLL²) - mean(NLL)²) / (count-1))
package perplexity

import (
	"context"
	"fmt"
	"math"

	"github.com/llamafile-go/llamafile/pkg/engine"
)

// Options configure Compute.
type Options struct {
	// ContextSize is the number of tokens per chunk (llama-perplexity's
	// -c, 512 there by default). It must be at least 2 and fit in the
	// Context.
	ContextSize int
	// Chunks is the most chunks to evaluate; 0 or less means all.
	Chunks int
	// AddBOS replaces the first token of every chunk by BOS (set it to
	// the tokenizer's AddBOS, as llama-perplexity does).
	AddBOS bool
	// BOS is the beginning-of-sequence token id.
	BOS int32
}

// Result is the outcome of Compute.
type Result struct {
	PPL      float64   // perplexity over all scored tokens
	StdErr   float64   // its standard error (NaN when undefined)
	Chunks   int       // chunks evaluated
	Count    int       // tokens scored
	ChunkPPL []float64 // running perplexity after each chunk
}

// Compute evaluates tokens in chunks with c (whose cache it clears) and
// returns the perplexity. progress, when not nil, is called after each
// chunk with the chunk's number (from 1) and the running perplexity. The
// text must hold at least 2*ContextSize tokens, as llama-perplexity
// requires. Compute stops with ctx's error soon after ctx is cancelled
// (the evaluation of a chunk checks between the model's layers).
func Compute(ctx context.Context, c *engine.Context, tokens []int32, opt Options, progress func(chunk int, ppl float64)) (Result, error) {
	n := opt.ContextSize
	if n < 2 {
		return Result{}, fmt.Errorf("perplexity: context size %d: must be at least 2", n)
	}
	if n > c.ContextSize() {
		return Result{}, fmt.Errorf("perplexity: context size %d exceeds the engine context's %d positions", n, c.ContextSize())
	}
	if len(tokens) < 2*n {
		return Result{}, fmt.Errorf("perplexity: the text tokenizes to only %d tokens; at least %d are needed with a context of %d", len(tokens), 2*n, n)
	}
	nChunks := len(tokens) / n
	if opt.Chunks > 0 {
		nChunks = min(nChunks, opt.Chunks)
	}
	first := n / 2
	chunk := make([]int32, n)
	var res Result
	var nll, nll2 float64
	for i := range nChunks {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		copy(chunk, tokens[i*n:(i+1)*n])
		if opt.AddBOS {
			chunk[0] = opt.BOS
		}
		c.Reset()
		if err := c.EvalContext(ctx, chunk); err != nil {
			return res, fmt.Errorf("perplexity: chunk %d: %w", i+1, err)
		}
		for j := first; j < n-1; j++ {
			logits := c.Logits(j)
			if logits == nil {
				return res, fmt.Errorf("perplexity: chunk %d: no logits at position %d", i+1, j)
			}
			next := tokens[i*n+j+1]
			if next < 0 || int(next) >= len(logits) {
				return res, fmt.Errorf("perplexity: token %d out of the vocabulary (%d)", next, len(logits))
			}
			v := -LogSoftmax(logits, next)
			nll += v
			nll2 += v * v
		}
		res.Count += n - first - 1
		res.Chunks++
		ppl := math.Exp(nll / float64(res.Count))
		res.ChunkPPL = append(res.ChunkPPL, ppl)
		if progress != nil {
			progress(i+1, ppl)
		}
	}
	mean := nll / float64(res.Count)
	res.PPL = math.Exp(mean)
	variance := nll2/float64(res.Count) - mean*mean
	res.StdErr = math.NaN()
	if variance > 0 && res.Count > 1 {
		res.StdErr = math.Sqrt(variance/float64(res.Count-1)) * res.PPL
	}
	return res, nil
}

// LogSoftmax returns log(softmax(logits)[tok]), computed as llama.cpp's
// perplexity tool does: the maximum subtracted in float32, float32
// exponentials summed in float64.
func LogSoftmax(logits []float32, tok int32) float64 {
	maxLogit := logits[0]
	for _, v := range logits[1:] {
		maxLogit = max(maxLogit, v)
	}
	var sum float64
	for _, v := range logits {
		sum += float64(float32(math.Exp(float64(v - maxLogit))))
	}
	return float64(logits[tok]-maxLogit) - math.Log(sum)
}
