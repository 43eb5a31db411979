package model

import (
	"context"
	"fmt"
)

// EvalEmbd runs input embeddings (rows of the model's width, an image's
// for example) at positions pos, pos+1, ... through the model as
// EvalContext runs tokens, in passes of the batch size, storing their
// keys and values in the cache. With last the logits of the final row
// are computed (LastLogits returns them), else none are: a run of
// embeddings is usually followed by text, whose logits are wanted.
func (s *State) EvalEmbd(ctx context.Context, embd []float32, pos int, last bool) error {
	hp := s.r.m.Params
	d := hp.Embd
	if len(embd) == 0 || len(embd)%d != 0 {
		return fmt.Errorf("model: %d input embedding values are not rows of the model's width %d", len(embd), d)
	}
	n := len(embd) / d
	kv := s.seq.kv
	if err := kv.checkStart(pos); err != nil {
		return err
	}
	if pos+n > kv.size {
		return fmt.Errorf("model: %w: %d positions cached + %d embeddings > context size %d", ErrContextOverflow, pos, n, kv.size)
	}
	s.nTokens = 0 // the logits belong to the previous evaluation no more
	b := s.r.BatchSize()
	batch := make([]BatchEntry, 0, min(b, n))
	for i := 0; i < n; i += b {
		batch = batch[:0]
		for k := i; k < min(i+b, n); k++ {
			batch = append(batch, BatchEntry{Seq: s.seq, Pos: pos + k, Embd: embd[k*d : (k+1)*d], Output: last && k == n-1})
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("model: evaluation stopped after %d of %d embeddings: %w", i, n, err)
		}
		if err := s.r.Decode(ctx, batch, false); err != nil {
			return fmt.Errorf("model: evaluation stopped after %d of %d embeddings: %w", i, n, err)
		}
	}
	if last {
		copy(s.logits[:hp.Vocab], s.r.Output(0))
		s.lastOnly, s.nTokens, s.logitRows = true, n, 1
	}
	return nil
}

// TakesEmbeddings reports whether the model's architecture takes input
// embeddings in batch rows (BatchEntry.Embd, State.EvalEmbd).
func (m *Model) TakesEmbeddings() bool {
	ei, ok := m.net.(embeddingInput)
	return ok && ei.takesEmbeddings()
}
