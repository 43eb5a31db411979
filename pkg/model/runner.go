package model

import (
	"context"
	"fmt"
	"runtime"

	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	// BatchSize is the most batch rows (tokens) one forward pass
	// evaluates; 0 means 512. The Runner's working buffers are sized by
	// it.
	BatchSize int
	// Threads is the number of threads for single-token batches; 0
	// means 1.
	Threads int
	// BatchThreads is the number of threads for batches of several
	// tokens; 0 means Threads.
	BatchThreads int
	// CacheTypeK and CacheTypeV are the element types of the key and
	// value caches of the Runner's sequences (llama.cpp's
	// --cache-type-k/-v); the zero value is F16. Q8_0 needs key (value)
	// lengths that are multiples of 32.
	CacheTypeK, CacheTypeV CacheType
	// SWAFull keeps every position in the caches of sliding-window
	// layers too (llama.cpp's --swa-full), instead of only the window and
	// a batch: more memory, but a sequence can be cut back to any
	// position and reused.
	SWAFull bool
}

// A Runner evaluates batches of tokens of any number of sequences at
// once: one forward pass per batch, whose rows each carry their own
// sequence and position, reading every weight once for all of them. It
// holds what the sequences share: the thread pools, the single-token
// team and the working buffers, sized for the largest batch. Each
// sequence's own state, its key/value cache, is a Seq.
//
// A batch's rows of one sequence form a segment (consecutive rows at
// consecutive positions), and attention reads only that sequence's
// cache. Each segment is computed as it would be alone in a batch: the
// same kernels on the same rows, so a sequence's logits do not depend on
// which other sequences share its batches.
//
// A Runner is not safe for concurrent use: one goroutine drives it, for
// example a scheduler that gathers the next token of every generating
// sequence and chunks of new prompts into each batch.
type Runner struct {
	m         *Model
	opts      RunnerOptions
	pool      *cpu.Pool // the pool for the current forward pass
	pool1     *cpu.Pool // single-token pool
	poolN     *cpu.Pool // batch pool
	ws        *cpu.Workspace
	ropeCache []float32 // [batch][RopeDims]

	// Per-row buffers, sized for BatchSize rows.
	x, xn, tmp   []float32 // residual stream, normalized, projection output
	q, k, v, att []float32
	qkv          []float32
	gate, up     []float32
	router       []float32
	sel          []int
	selW         []float32
	moeIn        []float32 // gathered expert inputs
	moeOut       []float32 // per-token, per-slot expert outputs
	tmpE         []float32 // expert down-projection output
	moeRows      []int
	slots        []attnSlot // attention scratch, one per work slot
	attn         attnJob
	attnFn       func(lo, hi int) // s.attnRun
	ew           ewJob            // element-wise work being run
	ewFns        ewFuncs          // its bound functions
	dec          decoder          // single-token passes (llama networks)

	// The batch being evaluated.
	tokens  []int32     // its tokens
	inEmbd  [][]float32 // by row: the input embedding, or nil for the token's (nil: none has one)
	rows    []batchRow  // by row
	segs    []batchSeg  // its segments, in row order
	outRows []int       // rows whose outputs are wanted, ascending
	embd    bool        // outputs are hidden states, not logits
	dst     []float32   // where the outputs go

	out      []float32 // Decode's outputs: [len(outRows)][outWidth]
	nOut     int       // rows in out
	outWidth int       // Vocab, or Embd for embeddings

	done <-chan struct{} // the running evaluation's ctx.Done(), or nil
}

// batchRow is one row of a batch: the sequence it belongs to and its
// position there.
type batchRow struct {
	seq *Seq
	pos int
}

// batchSeg is a batch segment: rows i0..i1-1, of one sequence, at
// positions pos, pos+1, ...
type batchSeg struct {
	seq    *Seq
	i0, i1 int
	pos    int
}

// NewRunner allocates a Runner for m.
func (m *Model) NewRunner(opts RunnerOptions) (*Runner, error) {
	hp := m.Params
	if opts.BatchSize < 0 || opts.Threads < 0 || opts.BatchThreads < 0 {
		return nil, fmt.Errorf("model: negative runner option %+v", opts)
	}
	for _, ct := range []CacheType{opts.CacheTypeK, opts.CacheTypeV} {
		if int(ct) >= len(cacheTypeNames) {
			return nil, fmt.Errorf("model: unsupported cache type %v (supported: %v)", ct, CacheTypes())
		}
	}
	// The cache rows must be representable (Q8_0 needs whole blocks).
	if _, err := newKVCache(0, 0, hp.HeadsKV, hp.HeadDimK, hp.HeadDimV, opts.CacheTypeK, opts.CacheTypeV, 0, 0, nil); err != nil {
		return nil, err
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 512
	}
	if opts.Threads == 0 {
		opts.Threads = 1
	}
	if opts.BatchThreads == 0 {
		opts.BatchThreads = opts.Threads
	}
	s := &Runner{m: m, opts: opts}
	ss := m.net.scratch()
	b := opts.BatchSize
	s.pool1 = cpu.NewPool(opts.Threads)
	s.poolN = s.pool1
	if opts.BatchThreads != opts.Threads {
		s.poolN = cpu.NewPool(opts.BatchThreads)
	}
	s.pool = s.pool1
	s.ws = &cpu.Workspace{}
	s.ropeCache = make([]float32, b*hp.RopeDims*max(1, ss.ropes))
	s.x = make([]float32, b*hp.Embd)
	s.xn = make([]float32, b*hp.Embd)
	s.tmp = make([]float32, b*hp.Embd)
	s.q = make([]float32, b*ss.q)
	s.k = make([]float32, b*ss.k)
	s.v = make([]float32, b*ss.v)
	s.att = make([]float32, b*ss.att)
	if ss.fused > 0 {
		s.qkv = make([]float32, b*ss.fused)
	}
	s.gate = make([]float32, b*ss.ff)
	s.up = make([]float32, b*ss.ff)
	if ss.router > 0 {
		s.router = make([]float32, b*ss.router)
		s.sel = make([]int, b*ss.expertsUsed)
		s.selW = make([]float32, b*ss.expertsUsed)
		s.moeIn = make([]float32, b*hp.Embd)
		s.moeOut = make([]float32, b*ss.expertsUsed*hp.Embd)
		s.moeRows = make([]int, 0, b*ss.expertsUsed)
		s.tmpE = make([]float32, b*hp.Embd)
	}
	// Four attention slots per thread balance the load; each converts a
	// query once here so that decoding allocates nothing later.
	s.slots = make([]attnSlot, 4*max(opts.Threads, opts.BatchThreads))
	vt, _ := cpu.VecDotType(attnType(opts.CacheTypeK.GGMLType()))
	g := hp.Heads / hp.HeadsKV
	for i := range s.slots {
		s.slots[i] = newAttnSlot(g, hp.HeadDimK, hp.HeadDimV)
		cpu.QuantizeActivations(nil, &s.slots[i].ws, vt, s.q[:g*hp.HeadDimK], g, hp.HeadDimK)
	}
	s.tokens = make([]int32, 0, b)
	s.rows = make([]batchRow, 0, b)
	s.segs = make([]batchSeg, 0, b)
	s.outRows = make([]int, 0, b)
	s.attn.segs = make([]attnSeg, 0, b)
	// The logits of one row; batches that return more grow them.
	s.out = make([]float32, hp.Vocab)
	s.attnFn = s.attnRun
	s.ewFns = ewFuncs{addNorm: s.addNormRun, swiglu: s.swigluRun, qkv: s.ropeStoreRun, geglu: s.gegluRun}
	if n, ok := m.net.(*llama); ok {
		s.newDecoder(n, max(1, min(opts.Threads, runtime.GOMAXPROCS(0))))
		runtime.AddCleanup(s, (*team).close, s.dec.team)
	}
	// The pools' (and team's) goroutines refer to them, not to s: let
	// them exit once s is unreachable.
	runtime.AddCleanup(s, (*cpu.Pool).Close, s.pool1)
	if s.poolN != s.pool1 {
		runtime.AddCleanup(s, (*cpu.Pool).Close, s.poolN)
	}
	return s, nil
}

// Close stops the Runner's threads; the Runner must not be used
// afterwards. (An unreachable Runner's threads stop by themselves; Close
// stops them now.)
func (s *Runner) Close() {
	s.pool1.Close()
	s.poolN.Close()
	if s.dec.team != nil {
		s.dec.team.close()
	}
}

// Model returns the Runner's model.
func (s *Runner) Model() *Model { return s.m }

// BatchSize returns the most rows one batch may have.
func (s *Runner) BatchSize() int { return s.opts.BatchSize }

// Options returns the Runner's options, defaults filled in.
func (s *Runner) Options() RunnerOptions { return s.opts }

// A Seq is one sequence's state in a Runner: its key/value cache (of
// every position, or of the window only in sliding-window layers). A Seq
// is used by its Runner's goroutine only.
type Seq struct {
	r  *Runner
	kv *kvCache
}

// NewSeq allocates a sequence of contextSize positions (0: the model's
// training context) with the Runner's cache types.
func (s *Runner) NewSeq(contextSize int) (*Seq, error) {
	hp := s.m.Params
	if contextSize < 0 {
		return nil, fmt.Errorf("model: negative context size %d", contextSize)
	}
	if contextSize == 0 {
		contextSize = hp.ContextLength
	}
	if contextSize <= 0 {
		return nil, fmt.Errorf("model: context size must be positive (model gives %d)", hp.ContextLength)
	}
	window, local := 0, []bool(nil)
	if sw, ok := s.m.net.(slidingWindow); ok && !s.opts.SWAFull {
		window, local = sw.slidingWindow()
	}
	kv, err := newKVCache(hp.Layers, contextSize, hp.HeadsKV, hp.HeadDimK, hp.HeadDimV, s.opts.CacheTypeK, s.opts.CacheTypeV, window, s.opts.BatchSize, local)
	if err != nil {
		return nil, err
	}
	return &Seq{r: s, kv: kv}, nil
}

// ContextSize returns the number of positions the sequence's cache holds.
func (q *Seq) ContextSize() int { return q.kv.size }

// Pos returns the number of positions in the cache: the position the
// next token evaluated takes.
func (q *Seq) Pos() int { return q.kv.nUsed }

// CacheBytes returns the memory the sequence's cache holds.
func (q *Seq) CacheBytes() int64 { return q.kv.bytes() }

// Truncate drops cached positions from n on, so that evaluation continues
// at position n (0 clears the cache). A model with sliding-window layers
// keeps only the window and a batch of their positions (unless
// RunnerOptions.SWAFull): cut back further than that, the sequence is
// cleared instead, as llama-server then evaluates the whole prompt again.
// Pos tells where evaluation continues.
func (q *Seq) Truncate(n int) { q.kv.truncate(n) }

// PosMin returns the lowest position every layer of the cache still
// holds: 0, or in a sliding-window model the oldest position its rings
// keep (llama.cpp's llama_memory_seq_pos_min).
func (q *Seq) PosMin() int { return q.kv.ringLo }

// Shift drops the discard positions after the first keep ones and moves
// the rest down, as llama.cpp's context shift does: the keys kept are
// rotated by -discard positions, so the cache then holds what
// evaluating the shortened sequence would give up to rounding, and
// evaluation continues at Pos()-discard. In sliding-window layers, whose
// rings hold only the last positions, the kept first ones are often gone
// already: those layers then see the moved positions only, as llama.cpp's
// SWA cache does.
func (q *Seq) Shift(keep, discard int) error {
	kv := q.kv
	if keep < 0 || discard <= 0 || keep+discard > kv.nUsed {
		return fmt.Errorf("model: shift keeping %d and discarding %d of %d cached positions", keep, discard, kv.nUsed)
	}
	hp := q.r.m.Params
	net := q.r.m.net
	c := make([]float32, hp.RopeDims)
	k32 := make([]float32, kv.dk)
	lo := kv.ringLo // the rings' positions from lo on are held
	var keys, values []byte
	for l := range kv.k {
		r := net.rotary(kv.size)
		if lr, ok := net.(layerRotary); ok {
			r = lr.layerRotary(l)
		}
		r.cache(-discard, c)
		from := keep + discard // the first position moved
		if kv.isRing(l) {
			// A ring's cells of the old and new positions overlap: the
			// moved rows are copied out first.
			from = max(from, lo)
			n := kv.nUsed - from
			keys, values = grow(keys, n*kv.kRow), grow(values, n*kv.vRow)
			for h := 0; h < kv.heads; h++ {
				for i := range n {
					copy(keys[i*kv.kRow:], kv.keyRow(l, h, from+i))
					copy(values[i*kv.vRow:], kv.valueRow(l, h, from+i))
				}
				for i := range n {
					getRow(kv.kt, k32, keys[i*kv.kRow:(i+1)*kv.kRow])
					r.apply(k32, c)
					putRow(kv.kt, kv.keyRow(l, h, from-discard+i), k32)
					copy(kv.valueRow(l, h, from-discard+i), values[i*kv.vRow:(i+1)*kv.vRow])
				}
			}
			continue
		}
		for h := 0; h < kv.heads; h++ {
			for i := range kv.nUsed - from {
				src, dst := from+i, from-discard+i
				getRow(kv.kt, k32, kv.keyRow(l, h, src))
				r.apply(k32, c)
				putRow(kv.kt, kv.keyRow(l, h, dst), k32)
				copy(kv.valueRow(l, h, dst), kv.valueRow(l, h, src))
			}
		}
	}
	if lo >= keep {
		// The rings held none of the kept positions: they now hold the
		// moved ones only.
		kv.ringLo = max(lo, keep+discard) - discard
	}
	kv.nUsed -= discard
	return nil
}

// grow returns b resliced to n bytes, reallocated if it is shorter.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// BatchEntry is one row of a batch: a token of a sequence at a
// position, and whether its output (logits, or hidden state) is wanted.
// A row with Embd (Embd values, an image embedding for example) reads
// it in place of Token's embedding, as llama_batch.embd does; the
// architectures that take them say so (ErrNoEmbeddingInput otherwise).
type BatchEntry struct {
	Seq    *Seq
	Pos    int
	Token  int32
	Embd   []float32
	Output bool
}

// Decode evaluates one batch in one forward pass: every entry's token at
// its position in its sequence, storing keys and values in the
// sequences' caches. A sequence's entries must be adjacent, at
// consecutive positions, starting at most at its Pos (cached positions
// from there on are replaced). Afterwards Output gives the outputs of the
// entries that asked for one, in batch order: logits, or with
// embeddings the final normalized hidden states.
//
// Decode stops early when ctx is done, between the model's layers, and
// returns an error wrapping ctx.Err(); the sequences' positions from
// their segment's start on are then dropped.
func (s *Runner) Decode(ctx context.Context, batch []BatchEntry, embeddings bool) error {
	if len(batch) == 0 {
		return fmt.Errorf("model: empty batch")
	}
	if len(batch) > s.opts.BatchSize {
		return fmt.Errorf("model: batch of %d rows is larger than the batch size %d", len(batch), s.opts.BatchSize)
	}
	hp := s.m.Params
	s.resetBatch(embeddings)
	for i, e := range batch {
		if e.Seq == nil || e.Seq.r != s {
			return fmt.Errorf("model: batch row %d: sequence of another runner (or nil)", i)
		}
		if e.Embd != nil {
			if ei, ok := s.m.net.(embeddingInput); !ok || !ei.takesEmbeddings() {
				return fmt.Errorf("model: batch row %d: %s: %w", i, s.m.Arch, ErrNoEmbeddingInput)
			}
			if len(e.Embd) != hp.Embd {
				return fmt.Errorf("model: batch row %d: input embedding of %d values, the model's width is %d", i, len(e.Embd), hp.Embd)
			}
			for len(s.inEmbd) < i {
				s.inEmbd = append(s.inEmbd, nil)
			}
			s.inEmbd = append(s.inEmbd, e.Embd)
		} else if e.Token < 0 || int(e.Token) >= hp.Vocab {
			return fmt.Errorf("model: %w: token %d at batch index %d (vocabulary has %d)", ErrBadToken, e.Token, i, hp.Vocab)
		}
		if n := len(s.segs); n > 0 && s.segs[n-1].seq == e.Seq {
			sg := &s.segs[n-1]
			if e.Pos != sg.pos+sg.i1-sg.i0 {
				return fmt.Errorf("model: batch row %d: position %d does not follow %d", i, e.Pos, sg.pos+sg.i1-sg.i0-1)
			}
			sg.i1++
		} else {
			for _, sg := range s.segs {
				if sg.seq == e.Seq {
					return fmt.Errorf("model: batch row %d: the sequence's rows are not adjacent", i)
				}
			}
			if err := e.Seq.kv.checkStart(e.Pos); err != nil {
				return fmt.Errorf("model: batch row %d: %w", i, err)
			}
			s.segs = append(s.segs, batchSeg{seq: e.Seq, i0: i, i1: i + 1, pos: e.Pos})
		}
		if e.Pos >= e.Seq.kv.size {
			return fmt.Errorf("model: %w: batch row %d at position %d, context size %d", ErrContextOverflow, i, e.Pos, e.Seq.kv.size)
		}
		s.tokens = append(s.tokens, e.Token)
		s.rows = append(s.rows, batchRow{seq: e.Seq, pos: e.Pos})
		if e.Output {
			s.outRows = append(s.outRows, i)
		}
	}
	s.outWidth = hp.Vocab
	if embeddings {
		s.outWidth = hp.Embd
	}
	if need := len(s.outRows) * s.outWidth; need > len(s.out) {
		s.out = make([]float32, need)
	}
	s.nOut = 0
	s.dst = s.out
	if err := s.run(ctx); err != nil {
		return err
	}
	s.nOut = len(s.outRows)
	return nil
}

// Output returns the output of the j-th entry that asked for one in the
// last Decode (logits, Vocab values; or an embedding, Embd values), or
// nil. The slice is valid until the next Decode.
func (s *Runner) Output(j int) []float32 {
	if j < 0 || j >= s.nOut {
		return nil
	}
	return s.out[j*s.outWidth : (j+1)*s.outWidth]
}

// resetBatch empties the batch plan.
func (s *Runner) resetBatch(embeddings bool) {
	s.tokens, s.rows, s.segs, s.outRows = s.tokens[:0], s.rows[:0], s.segs[:0], s.outRows[:0]
	clear(s.inEmbd)
	s.inEmbd = s.inEmbd[:0]
	s.embd = embeddings
}

// planSingle plans a batch of the n tokens of seq from position pos, the
// outputs of rows from out on wanted, with outputs written to dst.
func (s *Runner) planSingle(seq *Seq, tokens []int32, pos, out int, dst []float32) {
	s.resetBatch(false)
	s.tokens = append(s.tokens, tokens...)
	for i := range tokens {
		s.rows = append(s.rows, batchRow{seq: seq, pos: pos + i})
	}
	for i := out; i < len(tokens); i++ {
		s.outRows = append(s.outRows, i)
	}
	s.segs = append(s.segs, batchSeg{seq: seq, i0: 0, i1: len(tokens), pos: pos})
	s.dst = dst
}

// run evaluates the planned batch. Each segment's sequence holds its
// positions afterwards, or, when ctx ended the pass, those before the
// segment.
func (s *Runner) run(ctx context.Context) error {
	for _, sg := range s.segs {
		kv := sg.seq.kv
		kv.nUsed = min(kv.nUsed, sg.pos)
		kv.writing(sg.pos + sg.i1 - sg.i0)
	}
	s.pool = s.poolN
	if len(s.tokens) == 1 {
		s.pool = s.pool1
	}
	s.done = ctx.Done()
	s.m.net.forward(s, s.tokens)
	stopped := s.stopped()
	s.done = nil
	if stopped {
		return fmt.Errorf("model: evaluation stopped: %w", ctx.Err())
	}
	for _, sg := range s.segs {
		sg.seq.kv.nUsed = sg.pos + sg.i1 - sg.i0
	}
	return nil
}

// stopped reports whether the running evaluation's context is done; the
// forward passes call it between layers.
func (s *Runner) stopped() bool {
	select {
	case <-s.done: // never ready when nil
		return true
	default:
		return false
	}
}

// gatherOut moves the rows of x and out that s.outRows lists (width d)
// to the front and returns their number.
func (s *Runner) gatherOut(x, out []float32, d int) int {
	for j, i := range s.outRows {
		if i != j { // j < i: earlier rows are never overwritten
			copy(x[j*d:(j+1)*d], x[i*d:(i+1)*d])
			copy(out[j*d:(j+1)*d], out[i*d:(i+1)*d])
		}
	}
	return len(s.outRows)
}

// outRowsDst returns the output rows (of width w) a forward pass writes.
func (s *Runner) outRowsDst(rows, w int) []float32 {
	return s.dst[:rows*w]
}
