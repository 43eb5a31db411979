package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/llamafile-go/llamafile/pkg/grammar"
	"github.com/llamafile-go/llamafile/pkg/model"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// ServeOptions configure a Scheduler.
type ServeOptions struct {
	// Slots is the number of sequences generated at once (llama-server's
	// -np); 0 means 1.
	Slots int
	// ContextSize is the total number of positions, split evenly across
	// the slots as llama-server does; 0 means the model's Options'
	// ContextSize times Slots (so each slot gets what a Context would).
	ContextSize int
	// BatchSize is the most prompt tokens one step evaluates (-ub); a
	// step adds the generating slots' tokens to them. 0 means the model's
	// Options.BatchSize (512 by default).
	BatchSize int
	// QueueSize bounds the requests waiting for a slot; past it Generate
	// fails with ErrQueueFull. 0 means 64 per slot; -1 means no queue
	// (a request that finds every slot busy fails at once).
	QueueSize int
	// ContextShift lets a generation without a token limit (MaxTokens
	// -1) go on past the end of its slot's context by dropping the older
	// half of what follows the kept prompt tokens, as llama.cpp's
	// --context-shift does. Without it such a generation ends with
	// FinishLength.
	ContextShift bool
	// Embeddings enables Embed.
	Embeddings bool
	// Pooling is how Embed pools the hidden states of a text's tokens:
	// "none" (every token's), "mean", "cls" (the first), "last", "rank"
	// (a reranker's scores), or "" for the model's (its
	// {arch}.pooling_type, else last for a causal model and mean for an
	// encoder, model.Model.DefaultPooling).
	Pooling string
}

// Stats are a Scheduler's running totals, for /metrics.
type Stats struct {
	PromptTokens     int64         // prompt tokens evaluated
	PromptTime       time.Duration // spent on them
	GeneratedTokens  int64
	GenerateTime     time.Duration
	Decodes          int64 // forward passes (llama_decode calls)
	Busy             int   // slots serving a request
	Queued           int   // requests waiting for a slot
	RequestsFinished int64
	KVUsed, KVSize   int // positions in use and in all, over the slots
}

// Scheduler serves text generations for many clients at once on one
// Runner: continuous batching. Each request takes a free slot (a
// sequence with its own key/value cache, waiting in a bounded queue when
// none is free); at every step one forward pass evaluates the next token
// of every generating slot together with chunks of the prompts of
// newly started ones. Prompts are cut into chunks of BatchSize from
// where a slot's cache stops matching them, the same however busy the
// server is, so a request's tokens do not depend on the other requests.
//
// A slot keeps its cache after a request: the next one reuses the
// longest common prefix of its tokens (Request.CachePrompt), so a
// multi-turn chat evaluates only the new turn.
//
// Its methods are safe for concurrent use.
type Scheduler struct {
	m     *Model
	opts  ServeOptions
	r     *model.Runner
	slots []*slot
	nCtx  int // positions per slot

	pooling string

	mu        sync.Mutex
	queue     []*job // waiting for a slot, in order of arrival
	wake      chan struct{}
	closed    bool
	stats     Stats
	slotsView []SlotInfo // the slots as the loop last left them
	order     int64      // requests started so far

	done chan struct{} // closed when the loop has returned
}

// slot is one sequence of the Scheduler, owned by its loop.
type slot struct {
	id     int
	seq    *model.Seq
	tokens []int32 // the tokens in seq's cache, by position
	job    *job    // the request being served, or nil
}

// job is a request in the Scheduler: queued, then on a slot.
type job struct {
	ctx   context.Context
	req   *Request
	embed bool  // an embedding, not a generation
	order int64 // when it got its slot

	// Events for the caller, who reads them in Generate or Embed.
	mu     sync.Mutex
	ended  bool // the loop is done with it
	chunks []Chunk
	result *Result
	vector []float32
	err    error
	notify chan struct{} // signalled after each change

	// The slot's progress, owned by the loop.
	prompt  []int32 // tokens still to evaluate
	smpl    *sample.Sampler
	grammar *grammar.Matcher // nil without a grammar
	text    *TextStream
	pending []TokenInfo // generated tokens whose text is not out yet
	res     Result
	tStart  time.Time // the prompt's evaluation began
	tGen    time.Time // the first token was sampled
}

// Errors of the Scheduler; test with errors.Is.
var (
	// ErrClosed: the Scheduler has been closed.
	ErrClosed = errors.New("engine: scheduler closed")
)

// NewScheduler makes a Scheduler for m and starts its loop; Close stops
// it.
func (m *Model) NewScheduler(opts ServeOptions) (*Scheduler, error) {
	if m.m == nil {
		return nil, fmt.Errorf("engine: cannot serve: %w", ErrVocabOnly)
	}
	if opts.Slots < 0 || opts.ContextSize < 0 || opts.BatchSize < 0 || opts.QueueSize < -1 {
		return nil, fmt.Errorf("engine: serve options must not be negative: %+v", opts)
	}
	if opts.Slots == 0 {
		opts.Slots = 1
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = m.opts.BatchSize
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 512
	}
	nCtx := m.opts.ContextSize
	if nCtx == 0 {
		nCtx = m.m.Params.ContextLength
	}
	if opts.ContextSize > 0 {
		nCtx = opts.ContextSize / opts.Slots
	}
	if nCtx < 8 {
		return nil, fmt.Errorf("engine: %d positions per slot (context %d over %d slots) is too small", nCtx, opts.ContextSize, opts.Slots)
	}
	if opts.QueueSize == 0 {
		opts.QueueSize = 64 * opts.Slots
	}
	pooling := opts.Pooling
	if pooling == "" {
		pooling = m.m.DefaultPooling()
	}
	if !slices.Contains(model.Poolings, pooling) {
		return nil, fmt.Errorf("engine: pooling %q: want one of %v", pooling, model.Poolings)
	}
	if pooling == "rank" && m.m.Params.ClassOut == 0 {
		return nil, fmt.Errorf("engine: pooling rank: %s has no classifier head", m.arch)
	}
	r, err := m.m.NewRunner(model.RunnerOptions{
		BatchSize:    opts.BatchSize + opts.Slots,
		Threads:      m.opts.Threads,
		BatchThreads: m.opts.BatchThreads,
		CacheTypeK:   m.opts.CacheTypeK,
		CacheTypeV:   m.opts.CacheTypeV,
		SWAFull:      m.opts.SWAFull,
	})
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	s := &Scheduler{m: m, opts: opts, r: r, nCtx: nCtx, wake: make(chan struct{}, 1), done: make(chan struct{}), pooling: pooling}
	for i := 0; i < opts.Slots; i++ {
		seq, err := r.NewSeq(nCtx)
		if err != nil {
			return nil, fmt.Errorf("engine: slot %d: %w", i, err)
		}
		s.slots = append(s.slots, &slot{id: i, seq: seq})
	}
	s.stats.KVSize = nCtx * opts.Slots
	s.slotsView = make([]SlotInfo, len(s.slots))
	for i := range s.slotsView {
		s.slotsView[i] = SlotInfo{ID: i, NCtx: nCtx}
	}
	go s.loop()
	return s, nil
}

// Close stops the loop: requests queued or running end with ErrClosed.
func (s *Scheduler) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		s.signal()
	}
	s.mu.Unlock()
	<-s.done
}

// SlotContextSize returns the positions each slot holds.
func (s *Scheduler) SlotContextSize() int { return s.nCtx }

// NumSlots returns the number of slots.
func (s *Scheduler) NumSlots() int { return len(s.slots) }

// Stats returns the running totals.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Queued = len(s.queue)
	return st
}

// SlotInfos describes the slots.
func (s *Scheduler) SlotInfos() []SlotInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.slotsView)
}

func (s *Scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Generate runs req on a free slot, waiting in the queue for one, and
// calls emit (unless nil) with each chunk of text as it is generated, on
// the calling goroutine. It returns when generation ends: at an
// end-of-generation token, a stop string, MaxTokens or the end of the
// context. When ctx is done, or emit returns an error, the generation is
// cancelled (its slot is free for the next step) and that error is
// returned, with the result so far.
func (s *Scheduler) Generate(ctx context.Context, req *Request, emit func(Chunk) error) (*Result, error) {
	if len(req.Prompt) == 0 {
		return nil, fmt.Errorf("engine: %w: empty prompt", ErrPromptTooLong)
	}
	if len(req.Prompt) >= s.nCtx {
		return nil, fmt.Errorf("engine: %w: the prompt has %d tokens, the context of a slot %d", ErrPromptTooLong, len(req.Prompt), s.nCtx)
	}
	if req.Slot >= len(s.slots) {
		return nil, fmt.Errorf("engine: slot %d: there are %d slots", req.Slot, len(s.slots))
	}
	for i, t := range req.Prompt {
		if (t < 0 && len(req.Media) == 0) || int(t) >= s.m.NumVocab() {
			return nil, fmt.Errorf("engine: prompt token %d at index %d is out of the vocabulary (%d tokens)", t, i, s.m.NumVocab())
		}
	}
	if err := s.m.checkMedia(req.Prompt, req.Media); err != nil {
		return nil, err
	}
	p := req.Sampling
	p.ContextSize = s.nCtx
	if req.IgnoreEOS {
		p.LogitBias = ignoreEOSBias(p.LogitBias, s.m.tok.EOGTokens())
	}
	smpl, err := sample.New(p, s.m.NumVocab())
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	gm, err := s.m.newGrammarMatcher(req.Grammar, req.GrammarTriggers)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	j := &job{ctx: ctx, req: req, smpl: smpl, grammar: gm, text: NewTextStream(req.Stop), notify: make(chan struct{}, 1)}
	if err := s.submit(j); err != nil {
		return nil, err
	}
	for {
		select {
		case <-j.notify:
		case <-ctx.Done():
			// The loop sees it at its next step; wait for it to let go.
			s.signal()
			<-s.finished(j)
		}
		j.mu.Lock()
		chunks := j.chunks
		j.chunks = nil
		res, jerr, ended := j.result, j.err, j.ended
		j.mu.Unlock()
		if emit != nil {
			for _, c := range chunks {
				if err := emit(c); err != nil {
					cancel()
					s.signal()
					<-s.finished(j)
					j.mu.Lock()
					r := j.result
					j.mu.Unlock()
					return r, err
				}
			}
		}
		if ended {
			return res, jerr
		}
	}
}

// finished returns a channel closed once j has left the loop.
func (s *Scheduler) finished(j *job) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		for {
			j.mu.Lock()
			end := j.ended
			j.mu.Unlock()
			if end {
				return
			}
			<-j.notify
		}
	}()
	return ch
}

// Pooling returns the pooling Embed applies.
func (s *Scheduler) Pooling() string { return s.pooling }

// Embed returns the final hidden states of tokens pooled as Pooling says:
// L2-normalized for mean, cls and last; as they are for none (every
// token's, one after another) and rank (the classifier's scores), as
// llama-server does (ErrNoEmbeddings unless the Scheduler was made with
// Embeddings).
func (s *Scheduler) Embed(ctx context.Context, tokens []int32) ([]float32, error) {
	if !s.opts.Embeddings {
		return nil, ErrNoEmbeddings
	}
	if err := s.checkEmbed(tokens); err != nil {
		return nil, err
	}
	j := s.embedJob(ctx, tokens)
	if err := s.submit(j); err != nil {
		return nil, err
	}
	<-s.finished(j)
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.vector, j.err
}

// InputError is an input of EmbedBatch that cannot be embedded (too
// long, empty, a token out of the vocabulary): Index says which.
type InputError struct {
	Index int
	Err   error
}

func (e *InputError) Error() string { return fmt.Sprintf("input %d: %v", e.Index, e.Err) }
func (e *InputError) Unwrap() error { return e.Err }

// EmbedBatch embeds several inputs as Embed does each, on as many slots
// as are free at once: the loop evaluates the slots' embeddings of an
// encoder in one forward pass while they fit in the batch size. An input
// that cannot be embedded is an *InputError, before anything runs.
func (s *Scheduler) EmbedBatch(ctx context.Context, inputs [][]int32) ([][]float32, error) {
	if !s.opts.Embeddings {
		return nil, ErrNoEmbeddings
	}
	for i, toks := range inputs {
		if err := s.checkEmbed(toks); err != nil {
			return nil, &InputError{Index: i, Err: err}
		}
	}
	out := make([][]float32, len(inputs))
	for i := 0; i < len(inputs); {
		// A wave: as many jobs as the slots and the queue take now.
		wave := make([]*job, 0, min(len(inputs)-i, len(s.slots)))
		for _, toks := range inputs[i:min(len(inputs), i+len(s.slots))] {
			wave = append(wave, s.embedJob(ctx, toks))
		}
		n, err := s.submitMany(wave)
		if err != nil {
			return nil, err
		}
		var first error
		for k, j := range wave[:n] {
			<-s.finished(j)
			j.mu.Lock()
			out[i+k] = j.vector
			if j.err != nil && first == nil {
				first = j.err
			}
			j.mu.Unlock()
		}
		if first != nil {
			return nil, first
		}
		i += n
	}
	return out, nil
}

func (s *Scheduler) embedJob(ctx context.Context, tokens []int32) *job {
	return &job{ctx: ctx, req: &Request{Prompt: tokens, Slot: -1}, embed: true, notify: make(chan struct{}, 1)}
}

// checkEmbed is what Embed asks of its tokens.
func (s *Scheduler) checkEmbed(tokens []int32) error {
	if len(tokens) == 0 {
		return fmt.Errorf("engine: %w: empty input", ErrPromptTooLong)
	}
	if len(tokens) > s.nCtx {
		return fmt.Errorf("engine: %w: the input has %d tokens, the context of a slot %d", ErrPromptTooLong, len(tokens), s.nCtx)
	}
	if s.m.m.Params.NonCausal && len(tokens) > s.opts.BatchSize {
		return fmt.Errorf("engine: %w: the input has %d tokens, an encoder evaluates at most the batch size (%d) at once", ErrPromptTooLong, len(tokens), s.opts.BatchSize)
	}
	for i, t := range tokens {
		if t < 0 || int(t) >= s.m.NumVocab() {
			return fmt.Errorf("engine: input token %d at index %d is out of the vocabulary (%d tokens)", t, i, s.m.NumVocab())
		}
	}
	return nil
}

// submitMany queues the first of js that the queue takes now (at least
// one, else the error of a full queue) and says how many.
func (s *Scheduler) submitMany(js []*job) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	free := 0
	for _, sl := range s.slotsView {
		if !sl.Busy {
			free++
		}
	}
	room := free + max(s.opts.QueueSize, 0) - len(s.queue)
	if room <= 0 {
		return 0, fmt.Errorf("engine: %w (%d waiting)", ErrQueueFull, len(s.queue))
	}
	n := min(room, len(js))
	s.queue = append(s.queue, js[:n]...)
	s.signal()
	return n, nil
}

// submit queues j, or fails when the queue is full.
func (s *Scheduler) submit(j *job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	free := 0
	for _, sl := range s.slotsView {
		if !sl.Busy {
			free++
		}
	}
	if len(s.queue) >= free+max(s.opts.QueueSize, 0) {
		return fmt.Errorf("engine: %w (%d waiting)", ErrQueueFull, len(s.queue))
	}
	s.queue = append(s.queue, j)
	s.signal()
	return nil
}

// post hands the caller of j new events.
func (j *job) post(f func()) {
	j.mu.Lock()
	f()
	j.mu.Unlock()
	select {
	case j.notify <- struct{}{}:
	default:
	}
}

func ignoreEOSBias(bias map[int32]float32, eog []int32) map[int32]float32 {
	out := make(map[int32]float32, len(bias)+len(eog))
	for k, v := range bias {
		out[k] = v
	}
	for _, t := range eog {
		out[t] = float32(math.Inf(-1))
	}
	return out
}

// commonPrefix returns the length of the common prefix of a and b.
func commonPrefix[T comparable](a, b []T) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// topProbs returns the n most likely tokens of logits (softmax of the
// raw logits, as llama.cpp's server reports n_probs) and the log
// probability of tok.
func (s *Scheduler) topProbs(logits []float32, tok int32, n int) TokenInfo {
	mx := float32(math.Inf(-1))
	for _, v := range logits {
		mx = max(mx, v)
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v - mx))
	}
	lse := float64(mx) + math.Log(sum)
	info := TokenInfo{TokenProb: TokenProb{ID: tok, Text: string(s.m.tok.TokenToPiece(tok, true)), Logprob: float64(logits[tok]) - lse}}
	if n <= 0 {
		return info
	}
	n = min(n, len(logits))
	idx := make([]int32, 0, n+1)
	for i := range logits {
		// Insertion into the n best so far (n is small).
		if len(idx) == n && logits[i] <= logits[idx[n-1]] {
			continue
		}
		k := sort.Search(len(idx), func(k int) bool { return logits[idx[k]] < logits[i] })
		idx = slices.Insert(idx, k, int32(i))
		if len(idx) > n {
			idx = idx[:n]
		}
	}
	for _, id := range idx {
		info.Top = append(info.Top, TokenProb{ID: id, Text: string(s.m.tok.TokenToPiece(id, true)), Logprob: float64(logits[id]) - lse})
	}
	return info
}
