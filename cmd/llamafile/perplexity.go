package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/llamafile-go/llamafile/pkg/engine"
	"io"
	"math"
	"time"

	"github.com/llamafile-go/llamafile/pkg/escape"
	"github.com/llamafile-go/llamafile/pkg/perplexity"
)

// defaultPerplexityContext is llama-perplexity's default -c.
const defaultPerplexityContext = 512

// runPerplexity prints the perplexity of the model over the prompt text
// (usually -f FILE) as llama.cpp's llama-perplexity does: the running value
// after each chunk, "[1]12.3456,[2]...", then the final estimate.
func runPerplexity(ctx context.Context, o *options, self *engine.Bundle, e env, logw io.Writer) error {
	if !o.promptSet {
		return usageError{errors.New("--perplexity: no text: use -f FILE (or -p TEXT)")}
	}
	text := o.prompt
	if o.escape {
		text = escape.Process(text)
	}
	nCtx := defaultPerplexityContext
	if o.ctxSizeSet {
		nCtx = o.ctxSize
	}
	if nCtx <= 0 {
		return usageError{fmt.Errorf("--perplexity requires -c/--ctx-size > 0 (got %d)", nCtx)}
	}

	if o.chunks == 0 || o.chunks < -1 {
		return usageError{fmt.Errorf("--chunks %d: must be -1 (all) or positive", o.chunks)}
	}

	tLoad := time.Now()
	m, c, err := openContext(o.model, self, engineOptions(o, nCtx), logw)
	if err != nil {
		return err
	}
	defer m.Close()
	enterSandbox(o, e, logw, cliPolicy(o))
	pf := perf{start: time.Now(), load: time.Since(tLoad), noSampler: true}
	warnTrainedContext(logw, m, nCtx)

	tok := m.Tokenizer()
	tokens := m.Tokenize(text, true, false)
	nChunks := len(tokens) / nCtx
	if o.chunks >= 0 {
		nChunks = min(nChunks, o.chunks)
	}
	fmt.Fprintf(logw, "perplexity: calculating perplexity over %d chunks, n_ctx=%d, batch_size=%d\n", nChunks, nCtx, min(o.batchSize, nCtx))

	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	t0 := time.Now()
	res, err := perplexity.Compute(ctx, c, tokens, perplexity.Options{
		ContextSize: nCtx,
		Chunks:      max(o.chunks, 0),
		AddBOS:      tok.AddBOS(),
		BOS:         m.BOS(),
	}, func(chunk int, ppl float64) {
		fmt.Fprintf(out, "[%d]%.4f,", chunk, ppl)
		out.Flush()
	})
	pf.promptEval, pf.nPrompt = time.Since(t0), res.Chunks*nCtx
	defer pf.print(logw)
	if ctx.Err() != nil {
		out.WriteString("\n")
		return errInterrupted
	}
	if err != nil {
		return err
	}
	out.WriteString("\n")
	if math.IsNaN(res.StdErr) {
		fmt.Fprintf(out, "Final estimate: PPL = %.4f\n", res.PPL)
		fmt.Fprintln(logw, "Unexpected negative standard deviation of log(prob)")
		return nil
	}
	fmt.Fprintf(out, "Final estimate: PPL = %.4f +/- %.5f\n", res.PPL, res.StdErr)
	return nil
}
