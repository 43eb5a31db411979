package model

import (
	"context"
	"fmt"
	"io"
)

// StateOptions configure a State.
type StateOptions struct {
	// ContextSize is the number of positions the key/value cache holds;
	// 0 means the model's training context.
	ContextSize int
	// BatchSize is the most tokens one forward pass processes (longer
	// batches given to Eval are split); 0 means 512.
	BatchSize int
	// Threads is the number of threads for single-token evaluation;
	// 0 means 1.
	Threads int
	// BatchThreads is the number of threads for batches of several
	// tokens; 0 means Threads.
	BatchThreads int
	// CacheTypeK and CacheTypeV are the element types of the key and
	// value caches (llama.cpp's --cache-type-k/-v); the zero value is F16.
	// Q8_0 needs key (value) lengths that are multiples of 32.
	CacheTypeK, CacheTypeV CacheType
	// SWAFull keeps every position in sliding-window layers' caches, as
	// RunnerOptions.SWAFull does.
	SWAFull bool
}

// State evaluates one sequence: a Runner of its own with one Seq, and the
// logits of the last evaluation. It is the simple interface for a single
// sequence (the command line, perplexity); serving several sequences at
// once uses a Runner and its Seqs directly. A State is not safe for
// concurrent use.
//
// Its buffers are sized by the batch size (and the thread count), not by
// the context: besides the cache, a State holds a few activation rows per
// batch token and the logits of the rows an evaluation returns.
type State struct {
	r   *Runner
	seq *Seq

	logits    []float32 // [rows][Vocab], grown as needed
	logitRows int       // rows in logits
	lastOnly  bool      // logits hold only the last position
	nTokens   int       // tokens in the last Eval
}

// NewState allocates a State for m.
func (m *Model) NewState(opts StateOptions) (*State, error) {
	hp := m.Params
	if opts.ContextSize < 0 || opts.BatchSize < 0 || opts.Threads < 0 || opts.BatchThreads < 0 {
		return nil, fmt.Errorf("model: negative state option %+v", opts)
	}
	if opts.ContextSize == 0 {
		opts.ContextSize = hp.ContextLength
	}
	if opts.ContextSize <= 0 {
		return nil, fmt.Errorf("model: context size must be positive (model gives %d)", hp.ContextLength)
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 512
	}
	opts.BatchSize = min(opts.BatchSize, opts.ContextSize)
	r, err := m.NewRunner(RunnerOptions{
		BatchSize:    opts.BatchSize,
		Threads:      opts.Threads,
		BatchThreads: opts.BatchThreads,
		CacheTypeK:   opts.CacheTypeK,
		CacheTypeV:   opts.CacheTypeV,
		SWAFull:      opts.SWAFull,
	})
	if err != nil {
		return nil, err
	}
	seq, err := r.NewSeq(opts.ContextSize)
	if err != nil {
		return nil, err
	}
	// The logits of one row; evaluations that return more grow them.
	return &State{r: r, seq: seq, logits: make([]float32, hp.Vocab)}, nil
}

// ContextSize returns the number of positions the State's cache holds.
func (s *State) ContextSize() int { return s.seq.ContextSize() }

// BatchSize returns the most tokens one forward pass processes.
func (s *State) BatchSize() int { return s.r.BatchSize() }

// CacheBytes returns the memory the State's key/value cache holds.
func (s *State) CacheBytes() int64 { return s.seq.CacheBytes() }

// Pos returns the number of positions in the cache: the position the next
// token evaluated takes.
func (s *State) Pos() int { return s.seq.Pos() }

// Truncate drops cached positions from n on, so that evaluation continues
// at position n (0 clears the cache). Logits of the last evaluation are
// dropped with them.
func (s *State) Truncate(n int) {
	if n >= 0 && n < s.seq.Pos() {
		s.seq.Truncate(n)
		s.nTokens = 0 // the logits belong to dropped positions
	}
}

// Shift drops the discard positions after the first keep ones, as
// Seq.Shift does. The logits of the last evaluation stay.
func (s *State) Shift(keep, discard int) error { return s.seq.Shift(keep, discard) }

// Eval runs tokens, at positions pos, pos+1, ..., through the model,
// storing their keys and values in the cache, and makes the logits of every
// token available through Logits. pos must not exceed Pos(); cached
// positions from pos on are replaced. Batches longer than BatchSize are
// processed in several passes.
func (s *State) Eval(tokens []int32, pos int) error {
	return s.eval(context.Background(), tokens, pos, false)
}

// EvalLast is Eval computing only the logits of the last token (Logits of
// len(tokens)-1), which saves the output projection of every other token.
func (s *State) EvalLast(tokens []int32, pos int) error {
	return s.eval(context.Background(), tokens, pos, true)
}

// EvalContext is Eval that stops early when ctx is done: it checks between
// layers and returns an error wrapping ctx.Err(). The passes (of BatchSize
// tokens) completed before stay in the cache, as Pos reports; no logits
// are available.
func (s *State) EvalContext(ctx context.Context, tokens []int32, pos int) error {
	return s.eval(ctx, tokens, pos, false)
}

// EvalLastContext is EvalLast that stops early when ctx is done, as
// EvalContext does.
func (s *State) EvalLastContext(ctx context.Context, tokens []int32, pos int) error {
	return s.eval(ctx, tokens, pos, true)
}

func (s *State) eval(ctx context.Context, tokens []int32, pos int, last bool) error {
	hp := s.r.m.Params
	kv := s.seq.kv
	if len(tokens) == 0 {
		return fmt.Errorf("model: empty batch")
	}
	if err := kv.checkStart(pos); err != nil {
		return err
	}
	if pos+len(tokens) > kv.size {
		return fmt.Errorf("model: %w: %d positions cached + %d tokens > context size %d", ErrContextOverflow, pos, len(tokens), kv.size)
	}
	for i, t := range tokens {
		if t < 0 || int(t) >= hp.Vocab {
			return fmt.Errorf("model: %w: token %d at batch index %d (vocabulary has %d)", ErrBadToken, t, i, hp.Vocab)
		}
	}
	rows := len(tokens)
	if last {
		rows = 1
	}
	if need := rows * hp.Vocab; need > len(s.logits) {
		s.logits = make([]float32, need)
	}
	kv.nUsed = pos
	b := s.r.BatchSize()
	for i := 0; i < len(tokens); i += b {
		chunk := tokens[i:min(i+b, len(tokens))]
		final := i+len(chunk) == len(tokens)
		var dst []float32
		out := 0
		if last {
			// Only the final chunk's last row is wanted; the others fill
			// the cache only.
			dst, out = s.logits, len(chunk)
			if final {
				out = len(chunk) - 1
			}
		} else {
			dst = s.logits[i*hp.Vocab:]
		}
		if ctx.Err() != nil {
			s.nTokens = 0
			return fmt.Errorf("model: evaluation stopped after %d of %d tokens: %w", i, len(tokens), ctx.Err())
		}
		s.r.planSingle(s.seq, chunk, pos+i, out, dst)
		if err := s.r.run(ctx); err != nil {
			// The pass may have ended early: its positions are not cached.
			s.nTokens = 0
			return fmt.Errorf("model: evaluation stopped after %d of %d tokens: %w", i, len(tokens), ctx.Err())
		}
	}
	s.lastOnly = last
	s.nTokens = len(tokens)
	s.logitRows = rows
	return nil
}

// Logits returns the logits (Vocab values) of batch index i of the last
// Eval, or nil when they were not computed (i out of range, or i not the
// last index after EvalLast). The slice is valid until the next
// evaluation.
func (s *State) Logits(i int) []float32 {
	v := s.r.m.Params.Vocab
	switch {
	case i < 0 || i >= s.nTokens:
		return nil
	case s.lastOnly && i != s.nTokens-1:
		return nil
	case s.lastOnly:
		return s.logits[:v]
	}
	return s.logits[i*v : (i+1)*v]
}

// LastLogits returns the logits of the last token of the last Eval or
// EvalLast, or nil before any evaluation.
func (s *State) LastLogits() []float32 { return s.Logits(s.nTokens - 1) }

// WriteCache writes the cache's first n positions, as Seq.WriteCache does.
func (s *State) WriteCache(w io.Writer, n int) error { return s.seq.WriteCache(w, n) }

// ReadCache restores a cache WriteCache wrote, as Seq.ReadCache does; the
// logits of the last evaluation are dropped.
func (s *State) ReadCache(r io.Reader) (int, error) {
	s.nTokens = 0
	return s.seq.ReadCache(r)
}
