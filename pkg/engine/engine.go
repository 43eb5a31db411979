// Package engine is the Go API for running language models stored in GGUF
// files: open a model, tokenize text, evaluate a batch of tokens, read the
// logits of every position, sample and generate text. The llamafile
// commands and server are built on it.
//
// A Model is opened once and shared; each conversation or request gets its
// own Context, which holds a key/value cache of ContextSize positions:
//
//	m, err := engine.Open("model.gguf", engine.Options{Threads: 4})
//	if err != nil { ... }
//	defer m.Close()
//	c, err := m.NewContext()
//	if err != nil { ... }
//	prompt := m.Tokenize("Once upon a time", true, true)
//	_, err = c.Generate(prompt, engine.Greedy{}, 64, func(tok int32) bool {
//		os.Stdout.Write(m.TokenToPiece(tok))
//		return true
//	})
//
// [Context.Eval] evaluates a batch of tokens and makes the logits of every
// one available through [Context.Logits] (teacher forcing, perplexity);
// [Context.EvalLast] computes only the last one's, as generation needs.
// Any [Sampler] picks tokens: [Greedy], or package sample's
// llama.cpp-compatible chain (temperature, top-k, top-p, min-p, typical,
// penalties, Mirostat, logit bias, seed). The ...Context variants of the
// evaluation methods stop between the model's layers when their
// context.Context is done, so that a long prompt can be interrupted.
// [Options.VocabOnly] opens only the tokenizer, which also works for
// vocabulary-only GGUF files.
//
// Results match llama.cpp's: the same tokens for the same text, at
// temperature 0 the same completion, token for token, and with the same
// seed and sampling settings the same sampled text.
package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/llamafile-go/llamafile/pkg/gguf"
	"github.com/llamafile-go/llamafile/pkg/grammar"
	"github.com/llamafile-go/llamafile/pkg/model"
	"github.com/llamafile-go/llamafile/pkg/tokenizer"
)

// Options configure a Model and the Contexts it makes.
type Options struct {
	// ContextSize is the number of token positions a Context holds; 0
	// means the model's training context length.
	ContextSize int
	// BatchSize is the most tokens one forward pass processes; longer
	// inputs are split. 0 means 512.
	BatchSize int
	// Threads is the number of threads used to generate (one token at a
	// time); 0 means runtime.NumCPU().
	Threads int
	// BatchThreads is the number of threads used to process prompts
	// (batches of tokens); 0 means Threads.
	BatchThreads int
	// CacheTypeK and CacheTypeV are the element types of the key and
	// value caches, as llama.cpp's --cache-type-k/-v (-ctk/-ctv) choose
	// them: model.CacheF16 (the zero value and llama.cpp's default),
	// model.CacheF32 or model.CacheQ8_0 (about half the memory of F16).
	// Parse names with model.ParseCacheType.
	CacheTypeK, CacheTypeV model.CacheType
	// SWAFull keeps every position in the caches of sliding-window
	// attention layers (Gemma 2 and 3), as llama.cpp's --swa-full does.
	// By default they keep the window and a batch only: a fraction of the
	// memory at long contexts, but a sequence cut back further than that
	// (a new prompt sharing only an older prefix) is evaluated again.
	SWAFull bool
	// VocabOnly loads only the tokenizer, as llama.cpp's vocab_only does:
	// the architecture and weights are not looked at, so vocabulary-only
	// GGUF files open too. Such a Model tokenizes and detokenizes, but
	// NewContext fails and Params is zero.
	VocabOnly bool
	// NoMmap reads the model file into memory instead of mapping it, as
	// llama.cpp's --no-mmap does.
	NoMmap bool
	// Mlock locks the model's bytes in memory so that the system never
	// pages them out (llama.cpp's --mlock). Where the system refuses, the
	// model works on and Model.LockError says why.
	Mlock bool
	// NoRepack uses the weights in place, as mapped (llama.cpp's
	// --no-repack): processes running the same file share its pages. By
	// default the weights of the types this CPU has a faster layout for
	// are copied into it at load time (model.LoadOptions.Repack), with the
	// same results and the file's pages released.
	NoRepack bool
}

// Model is an opened model: weights, hyperparameters and tokenizer. It is
// safe for concurrent use by several Contexts.
type Model struct {
	name  string // as messages name it: the path, or llamafile:entry
	file  *gguf.File
	owned bool         // Close closes file
	m     *model.Model // nil with Options.VocabOnly
	arch  string
	tok   *tokenizer.Tokenizer
	opts  Options

	lockErr error // why Options.Mlock failed, or nil

	gvocabOnce sync.Once
	gvocab     *grammar.Vocab // GrammarVocab
}

// Open opens the GGUF model file at path. The weights are memory-mapped,
// not read, so opening is fast; Close releases the mapping.
func Open(path string, opts Options) (*Model, error) {
	f, err := gguf.OpenWith(path, gguf.Options{Read: opts.NoMmap})
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	m, err := OpenGGUF(f, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	m.owned, m.name = true, path
	return m, nil
}

// OpenGGUF prepares the model in an already opened GGUF file (for example
// one embedded in an executable, opened with gguf.OpenFile). The caller
// keeps ownership of f, which must stay open while the Model is used;
// Model.Close does not close it.
func OpenGGUF(f *gguf.File, opts Options) (*Model, error) {
	if opts.ContextSize < 0 || opts.BatchSize < 0 || opts.Threads < 0 || opts.BatchThreads < 0 {
		return nil, fmt.Errorf("engine: options must not be negative: %+v", opts)
	}
	for _, ct := range []model.CacheType{opts.CacheTypeK, opts.CacheTypeV} {
		if _, err := model.ParseCacheType(ct.String()); err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
	}
	if opts.Threads == 0 {
		opts.Threads = runtime.NumCPU()
	}
	if opts.BatchThreads == 0 {
		opts.BatchThreads = opts.Threads
	}
	if opts.VocabOnly {
		tok, err := tokenizer.FromGGUF(f)
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		return &Model{file: f, arch: f.Architecture(), tok: tok, opts: opts}, nil
	}
	mm, err := model.LoadWith(f, model.LoadOptions{Repack: !opts.NoRepack, Threads: opts.BatchThreads})
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if n := tok.NumTokens(); n != mm.Params.Vocab {
		return nil, fmt.Errorf("engine: tokenizer has %d tokens but the model's vocabulary is %d", n, mm.Params.Vocab)
	}
	m := &Model{file: f, m: mm, arch: mm.Arch, tok: tok, opts: opts}
	if opts.Mlock {
		m.lockErr = f.Lock()
	}
	return m, nil
}

// LockError returns why Options.Mlock could not lock the model in memory
// (for example the locked-memory limit of an unprivileged process), or
// nil when it did or was not asked to.
func (m *Model) LockError() error { return m.lockErr }

// Close releases the model file if Open opened it. Contexts of the model
// must not be used afterwards.
func (m *Model) Close() error {
	if m.owned && m.file != nil {
		err := m.file.Close()
		m.file = nil
		return err
	}
	return nil
}

// Name returns the model's name as messages show it: the file it was
// opened from, "LLAMAFILE:ENTRY" for a model in a llamafile's zip.
func (m *Model) Name() string { return m.name }

// Network returns the loaded network, for driving a model.Runner
// directly (benchmarks, custom schedulers); nil with Options.VocabOnly.
func (m *Model) Network() *model.Model { return m.m }

// Arch returns the model's architecture (general.architecture).
func (m *Model) Arch() string { return m.arch }

// Params returns the model's hyperparameters (zero with
// Options.VocabOnly).
func (m *Model) Params() model.HParams {
	if m.m == nil {
		return model.HParams{}
	}
	return m.m.Params
}

// NumVocab returns the vocabulary size: the length of every logits row.
func (m *Model) NumVocab() int { return m.tok.NumTokens() }

// Options returns the options the model was opened with, defaults filled
// in.
func (m *Model) Options() Options { return m.opts }

// File returns the GGUF file the model was loaded from, for reading more
// metadata.
func (m *Model) File() *gguf.File { return m.file }

// Tokenizer returns the model's tokenizer.
func (m *Model) Tokenizer() *tokenizer.Tokenizer { return m.tok }

// Tokenize converts text to token ids. addSpecial adds the tokens the
// model wants around a text (BOS for most models); parseSpecial lets
// special tokens written in the text ("<|im_start|>") become those tokens.
func (m *Model) Tokenize(text string, addSpecial, parseSpecial bool) []int32 {
	return m.tok.Encode(text, addSpecial, parseSpecial)
}

// TokenToPiece returns the text of one token as generated output shows
// it: special (control) tokens render as nothing.
func (m *Model) TokenToPiece(id int32) []byte { return m.tok.TokenToPiece(id, false) }

// Detokenize returns the text of a token sequence, without special tokens.
func (m *Model) Detokenize(ids []int32) string { return m.tok.Decode(ids, true, false) }

// BOS returns the beginning-of-sequence token id.
func (m *Model) BOS() int32 { return m.tok.BOS() }

// IsEOG reports whether id ends generation (end of sequence, end of turn,
// ...).
func (m *Model) IsEOG(id int32) bool { return m.tok.IsEOG(id) }

// Context is one sequence being evaluated: its key/value cache and the
// logits of the last evaluation. A Context is not safe for concurrent
// use; use one per goroutine.
type Context struct {
	m      *Model
	st     *model.State
	tokens []int32 // tokens in the cache, by position
	pick   []int32 // one-token batch for Generate
}

// ErrVocabOnly is returned (wrapped) by NewContext for a Model opened with
// Options.VocabOnly.
var ErrVocabOnly = errors.New("the model was opened with its vocabulary only")

// NewContext makes a Context with the Model's options.
func (m *Model) NewContext() (*Context, error) {
	if m.m == nil {
		return nil, fmt.Errorf("engine: cannot evaluate: %w", ErrVocabOnly)
	}
	st, err := m.m.NewState(model.StateOptions{
		ContextSize:  m.opts.ContextSize,
		BatchSize:    m.opts.BatchSize,
		Threads:      m.opts.Threads,
		BatchThreads: m.opts.BatchThreads,
		CacheTypeK:   m.opts.CacheTypeK,
		CacheTypeV:   m.opts.CacheTypeV,
		SWAFull:      m.opts.SWAFull,
	})
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return &Context{m: m, st: st, tokens: make([]int32, 0, st.ContextSize()), pick: make([]int32, 1)}, nil
}

// ErrContextFull is returned (wrapped) when tokens do not fit in the
// context.
var ErrContextFull = model.ErrContextOverflow

// Model returns the Context's model.
func (c *Context) Model() *Model { return c.m }

// ContextSize returns the number of positions the Context holds.
func (c *Context) ContextSize() int { return c.st.ContextSize() }

// Pos returns the number of tokens in the cache, the position of the next
// token evaluated.
func (c *Context) Pos() int { return len(c.tokens) }

// CacheBytes returns the memory the Context's key/value cache holds.
func (c *Context) CacheBytes() int64 { return c.st.CacheBytes() }

// Tokens returns the tokens in the cache, by position. The slice is valid
// until the next evaluation.
func (c *Context) Tokens() []int32 { return c.tokens }

// Eval evaluates tokens after those already in the cache and makes the
// logits of every one of them available through Logits.
func (c *Context) Eval(tokens []int32) error {
	return c.eval(context.Background(), tokens, false)
}

// EvalLast is Eval computing only the last token's logits (what
// generation needs; cheaper for long prompts).
func (c *Context) EvalLast(tokens []int32) error {
	return c.eval(context.Background(), tokens, true)
}

// EvalContext is Eval that stops soon after ctx is done (evaluation checks
// between the model's layers) and then returns an error wrapping
// ctx.Err(). The tokens of the passes (of Options.BatchSize tokens)
// completed before stay in the cache: Pos says how many.
func (c *Context) EvalContext(ctx context.Context, tokens []int32) error {
	return c.eval(ctx, tokens, false)
}

// EvalLastContext is EvalLast that stops when ctx is done, as EvalContext
// does.
func (c *Context) EvalLastContext(ctx context.Context, tokens []int32) error {
	return c.eval(ctx, tokens, true)
}

func (c *Context) eval(ctx context.Context, tokens []int32, last bool) error {
	pos := len(c.tokens)
	var err error
	if last {
		err = c.st.EvalLastContext(ctx, tokens, pos)
	} else {
		err = c.st.EvalContext(ctx, tokens, pos)
	}
	if err != nil {
		// An interrupted evaluation keeps the passes it completed.
		if n := c.st.Pos() - pos; n > 0 && n <= len(tokens) {
			c.tokens = append(c.tokens, tokens[:n]...)
		} else {
			c.tokens = c.tokens[:min(len(c.tokens), c.st.Pos())]
		}
		return fmt.Errorf("engine: %w", err)
	}
	c.tokens = append(c.tokens, tokens...)
	return nil
}

// Logits returns the logits (NumVocab values) of token i of the last
// evaluated batch, or nil if they were not computed (i out of range, or
// not the last token after EvalLast). The slice is valid until the next
// evaluation.
func (c *Context) Logits(i int) []float32 { return c.st.Logits(i) }

// LastLogits returns the logits of the last evaluated token, or nil before
// any evaluation.
func (c *Context) LastLogits() []float32 { return c.st.LastLogits() }

// Rewind drops the cached tokens from position n on, so that evaluation
// continues at n (to reuse a common prefix of a new prompt), and returns
// where it continues: n, or 0 when the model's sliding-window layers no
// longer hold the window before n (see model.Seq.Truncate).
func (c *Context) Rewind(n int) (int, error) {
	if n < 0 || n > len(c.tokens) {
		return 0, fmt.Errorf("engine: rewind to %d: the cache holds %d tokens", n, len(c.tokens))
	}
	c.st.Truncate(n)
	n = c.st.Pos()
	c.tokens = c.tokens[:n]
	return n, nil
}

// Shift drops the discard cached tokens after the first keep ones and
// moves the rest down, as llama.cpp's context shift does when the context
// is full (the kept keys are re-rotated to their new positions).
func (c *Context) Shift(keep, discard int) error {
	if err := c.st.Shift(keep, discard); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	c.tokens = append(c.tokens[:keep], c.tokens[keep+discard:]...)
	return nil
}

// Reset empties the cache.
func (c *Context) Reset() { _, _ = c.Rewind(0) }

// Sampler picks the next token from logits; *sample.Sampler implements it.
// Accept is told every token chosen, for samplers with memory (repetition
// penalties, Mirostat).
type Sampler interface {
	Sample(logits []float32) (int32, error)
	Accept(tok int32)
}

// Greedy is the Sampler of temperature 0: it picks the token with the
// highest logit (the lowest id among equals), as llama.cpp's greedy
// decoding does.
type Greedy struct{}

// Sample returns the arg max of logits.
func (Greedy) Sample(logits []float32) (int32, error) {
	if len(logits) == 0 {
		return 0, errors.New("engine: no logits to sample")
	}
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	return int32(best), nil
}

// Accept does nothing.
func (Greedy) Accept(int32) {}

// Generate evaluates prompt (which may be empty to continue from the
// cache, if the last evaluation's logits are at hand) and then samples up
// to maxTokens tokens with s, evaluating each one, until the model ends
// generation (an EOG token, not returned) or emit returns false. emit
// (which may be nil) is called with each token as it is generated. It
// returns the tokens generated. Running out of context ends generation
// with an error wrapping ErrContextFull.
func (c *Context) Generate(prompt []int32, s Sampler, maxTokens int, emit func(tok int32) bool) ([]int32, error) {
	return c.GenerateContext(context.Background(), prompt, s, maxTokens, emit)
}

// GenerateContext is Generate that stops when ctx is done, during the
// prompt's evaluation or between tokens, returning the tokens generated so
// far and an error wrapping ctx.Err().
func (c *Context) GenerateContext(ctx context.Context, prompt []int32, s Sampler, maxTokens int, emit func(tok int32) bool) ([]int32, error) {
	if len(prompt) > 0 {
		if err := c.EvalLastContext(ctx, prompt); err != nil {
			return nil, err
		}
	}
	var out []int32
	for len(out) < maxTokens {
		logits := c.st.LastLogits()
		if logits == nil {
			return out, errors.New("engine: Generate: no logits to start from (empty prompt and no previous evaluation)")
		}
		tok, err := s.Sample(logits)
		if err != nil {
			return out, fmt.Errorf("engine: %w", err)
		}
		s.Accept(tok)
		if c.m.IsEOG(tok) {
			break
		}
		out = append(out, tok)
		if emit != nil && !emit(tok) {
			break
		}
		if len(out) == maxTokens {
			break
		}
		c.pick[0] = tok
		if err := c.EvalLastContext(ctx, c.pick); err != nil {
			return out, err
		}
	}
	return out, nil
}
