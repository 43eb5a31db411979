// Package model runs the forward pass of transformer language models stored
// in GGUF files, computing the same logits as llama.cpp.
//
// Load reads a model's hyperparameters from the file's metadata and takes
// its weights in place from the file's memory map: nothing is copied or
// dequantized at load time. Each architecture (general.architecture) lives
// in a file of its own (llama.go) and registers itself in the architectures
// table; the layers they share (normalization, rotary embeddings,
// attention, feed forward) are in layers.go and the key/value cache in
// kvcache.go.
//
// A State holds what one sequence needs to run: the key/value cache and
// preallocated working buffers. State.Eval processes a batch of tokens at
// once and makes the logits of every position available; State.EvalLast
// computes only those of the last position, as text generation needs. Once
// a State has run a batch of its largest size, evaluation allocates
// nothing.
//
// Numerics follow ggml's CPU backend, which llama.cpp runs by default: the
// key/value cache is F16 (or F32 or Q8_0, see [CacheType]) and attention
// is computed the way ggml's flash attention kernels do; matrix products
// go through package [github.com/llamafile-go/llamafile/pkg/ggml/cpu],
// which quantizes activations as ggml does (once for the matrices that
// share an input). Matrix products, attention and the element-wise steps
// between them all run on the State's threads.
package model

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"

	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// Errors that Load and State methods wrap; test with errors.Is.
var (
	// ErrUnknownArchitecture: general.architecture names an architecture
	// this package does not implement.
	ErrUnknownArchitecture = errors.New("unknown model architecture")
	// ErrMissingTensor: a tensor the architecture requires is absent.
	ErrMissingTensor = errors.New("missing tensor")
	// ErrTensorShape: a tensor's dimensions differ from those the
	// hyperparameters imply.
	ErrTensorShape = errors.New("wrong tensor shape")
	// ErrUnsupportedType: a tensor's element type has no compute kernel.
	ErrUnsupportedType = errors.New("unsupported tensor type")
	// ErrContextOverflow: a batch would go past the end of the context.
	ErrContextOverflow = errors.New("context overflow")
	// ErrBadToken: a token id is outside the vocabulary.
	ErrBadToken = errors.New("token id out of range")
)

// HParams are a model's hyperparameters, read from GGUF metadata
// ("{arch}.embedding_length" and so on).
type HParams struct {
	ContextLength int     // context the model was trained with
	Embd          int     // embedding width (n_embd)
	Layers        int     // transformer blocks
	FF            int     // feed-forward hidden width (per expert for MoE)
	Heads         int     // attention query heads
	HeadsKV       int     // key/value heads (grouped-query attention when < Heads)
	HeadDimK      int     // key (and query) length per head
	HeadDimV      int     // value length per head
	RMSEps        float32 // RMS normalization epsilon
	RopeDims      int     // rotated dimensions per head
	RopeFreqBase  float32 // RoPE theta base
	RopeFreqScale float32 // 1 / RoPE scaling factor
	RopeScaling   string  // "none", "linear" or "yarn"
	RopeOrigCtx   int     // original context for YaRN
	Experts       int     // experts per MoE layer (0: dense)
	ExpertsUsed   int     // experts chosen per token
	Vocab         int     // vocabulary size (rows of the output matrix)
}

// Model is a loaded model. It is immutable and safe for concurrent use;
// each sequence being evaluated needs its own State.
type Model struct {
	Arch   string  // general.architecture
	Params HParams // hyperparameters
	net    network
}

// network is an architecture's forward pass over loaded weights.
type network interface {
	// forward evaluates tokens at positions pos.. with s's cache and
	// buffers, and writes logits to s.logits: one row per token, or only
	// the last token's when last is set.
	forward(s *State, tokens []int32, pos int, last bool)
	// scratch reports the extra per-token buffer sizes the network needs
	// beyond the common ones.
	scratch() scratchSizes
}

// scratchSizes lists the per-token buffer widths a network's forward pass
// uses.
type scratchSizes struct {
	q, k, v, att int // query, key, value and attention-output widths
	ff           int // feed-forward hidden width
	router       int // MoE router logits (experts)
	expertsUsed  int // experts per token
	fused        int // fused QKV projection width (0: none)
}

// architecture describes one model family.
type architecture struct {
	// load reads hyperparameters and weights from l.
	load func(l *loader) (network, HParams, error)
}

// architectures maps general.architecture to its implementation.
var architectures = map[string]architecture{
	"llama": {load: loadLlama},
}

// Architectures returns the names of the supported architectures, sorted.
func Architectures() []string {
	names := make([]string, 0, len(architectures))
	for n := range architectures {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Load prepares the model in f for evaluation. The weights stay in f's
// memory map, so f must stay open as long as the Model is used.
func Load(f *gguf.File) (*Model, error) {
	name := f.Architecture()
	arch, ok := architectures[name]
	if !ok {
		return nil, fmt.Errorf("model: %w %q (supported: %v)", ErrUnknownArchitecture, name, Architectures())
	}
	l := &loader{f: f, arch: name}
	net, hp, err := arch.load(l)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", name, err)
	}
	return &Model{Arch: name, Params: hp, net: net}, nil
}

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
}

// State is the evaluation state of one sequence: its key/value cache,
// working buffers and the logits of the last batch. A State is not safe
// for concurrent use.
//
// Its buffers are sized by the batch size (and the thread count), not by
// the context: besides the cache, a State holds a few activation rows per
// batch token and the logits of the rows an evaluation returns.
type State struct {
	m         *Model
	opts      StateOptions
	kv        *kvCache
	pool      *cpu.Pool // the pool for the current forward pass
	pool1     *cpu.Pool // single-token pool
	poolN     *cpu.Pool // batch pool
	ws        *cpu.Workspace
	ropeCache []float32 // [batch][RopeDims]

	// Per-token buffers, sized for BatchSize tokens.
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

	logits    []float32 // [rows][Vocab], grown as needed
	logitRows int       // rows in logits
	logitsOff int       // where the current forward pass writes logits
	lastOnly  bool      // logits hold only the last position
	nTokens   int       // tokens in the last Eval

	done <-chan struct{} // the running evaluation's ctx.Done(), or nil
}

// NewState allocates a State for m.
func (m *Model) NewState(opts StateOptions) (*State, error) {
	hp := m.Params
	if opts.ContextSize < 0 || opts.BatchSize < 0 || opts.Threads < 0 || opts.BatchThreads < 0 {
		return nil, fmt.Errorf("model: negative state option %+v", opts)
	}
	for _, ct := range []CacheType{opts.CacheTypeK, opts.CacheTypeV} {
		if int(ct) >= len(cacheTypeNames) {
			return nil, fmt.Errorf("model: unsupported cache type %v (supported: %v)", ct, CacheTypes())
		}
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
	if opts.Threads == 0 {
		opts.Threads = 1
	}
	if opts.BatchThreads == 0 {
		opts.BatchThreads = opts.Threads
	}
	s := &State{m: m, opts: opts}
	ss := m.net.scratch()
	b := opts.BatchSize
	var err error
	s.kv, err = newKVCache(hp.Layers, opts.ContextSize, hp.HeadsKV, hp.HeadDimK, hp.HeadDimV, opts.CacheTypeK, opts.CacheTypeV)
	if err != nil {
		return nil, err
	}
	s.pool1 = cpu.NewPool(opts.Threads)
	s.poolN = s.pool1
	if opts.BatchThreads != opts.Threads {
		s.poolN = cpu.NewPool(opts.BatchThreads)
	}
	s.ws = &cpu.Workspace{}
	s.ropeCache = make([]float32, b*hp.RopeDims)
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
	vt, _ := cpu.VecDotType(attnType(s.kv.kt))
	g := hp.Heads / hp.HeadsKV
	for i := range s.slots {
		s.slots[i] = newAttnSlot(g, hp.HeadDimK, hp.HeadDimV)
		cpu.QuantizeActivations(nil, &s.slots[i].ws, vt, s.q[:g*hp.HeadDimK], g, hp.HeadDimK)
	}
	// The logits of one row; evaluations that return more grow them.
	s.logits = make([]float32, hp.Vocab)
	s.attnFn = s.attnRun
	s.ewFns = ewFuncs{addNorm: s.addNormRun, swiglu: s.swigluRun, qkv: s.ropeStoreRun}
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

// ContextSize returns the number of positions the State's cache holds.
func (s *State) ContextSize() int { return s.opts.ContextSize }

// BatchSize returns the most tokens one forward pass processes.
func (s *State) BatchSize() int { return s.opts.BatchSize }

// Pos returns the number of positions in the cache: the position the next
// token evaluated takes.
func (s *State) Pos() int { return s.kv.nUsed }

// Truncate drops cached positions from n on, so that evaluation continues
// at position n (0 clears the cache). Logits of the last evaluation are
// dropped with them.
func (s *State) Truncate(n int) {
	if n >= 0 && n < s.kv.nUsed {
		s.kv.nUsed = n
		s.nTokens = 0 // the logits belong to dropped positions
	}
}

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

// stopped reports whether the running evaluation's context is done; the
// forward passes call it between layers.
func (s *State) stopped() bool {
	select {
	case <-s.done: // never ready when nil
		return true
	default:
		return false
	}
}

func (s *State) eval(ctx context.Context, tokens []int32, pos int, last bool) error {
	hp := s.m.Params
	if len(tokens) == 0 {
		return fmt.Errorf("model: empty batch")
	}
	if pos < 0 || pos > s.kv.nUsed {
		return fmt.Errorf("model: batch position %d is not within the %d cached positions", pos, s.kv.nUsed)
	}
	if pos+len(tokens) > s.opts.ContextSize {
		return fmt.Errorf("model: %w: %d positions cached + %d tokens > context size %d", ErrContextOverflow, pos, len(tokens), s.opts.ContextSize)
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
	s.kv.nUsed = pos
	s.done = ctx.Done()
	defer func() { s.done = nil }()
	b := s.opts.BatchSize
	for i := 0; i < len(tokens); i += b {
		if s.stopped() {
			s.nTokens = 0
			return fmt.Errorf("model: evaluation stopped after %d of %d tokens: %w", i, len(tokens), ctx.Err())
		}
		chunk := tokens[i:min(i+b, len(tokens))]
		s.pool = s.poolN
		if len(chunk) == 1 {
			s.pool = s.pool1
		}
		final := i+len(chunk) == len(tokens)
		s.logitsOff = i * hp.Vocab
		if last {
			s.logitsOff = 0
		}
		if last && !final {
			// Only the cache matters for this chunk; computing the last
			// row's logits is cheap and keeps one code path.
			s.m.net.forward(s, chunk, pos+i, true)
		} else {
			s.m.net.forward(s, chunk, pos+i, last)
		}
		if s.stopped() {
			// The pass may have ended early: its positions are not cached.
			s.nTokens = 0
			return fmt.Errorf("model: evaluation stopped after %d of %d tokens: %w", i, len(tokens), ctx.Err())
		}
		s.kv.nUsed = pos + i + len(chunk)
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
	v := s.m.Params.Vocab
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

// outLogits returns the logits rows a forward pass writes.
func (s *State) outLogits(rows int) []float32 {
	v := s.m.Params.Vocab
	return s.logits[s.logitsOff : s.logitsOff+rows*v]
}

// loader reads hyperparameters and tensors for an architecture, wrapping
// errors with the key or tensor name.
type loader struct {
	f    *gguf.File
	arch string
}

// key returns "{arch}.suffix".
func (l *loader) key(suffix string) string { return l.arch + "." + suffix }

// uintKey reads an unsigned integer; when the key is absent it returns def,
// or an error when required.
func (l *loader) uintKey(suffix string, def int, required bool) (int, error) {
	k := l.key(suffix)
	v, err := l.f.GetUint(k)
	if errors.Is(err, gguf.ErrKeyNotFound) {
		if required {
			return 0, fmt.Errorf("metadata key %q: %w", k, err)
		}
		return def, nil
	}
	if err != nil {
		return 0, fmt.Errorf("metadata key %q: %w", k, err)
	}
	if v > 1<<31 {
		return 0, fmt.Errorf("metadata key %q: value %d out of range", k, v)
	}
	return int(v), nil
}

// floatKey reads a float; absent keys give def.
func (l *loader) floatKey(suffix string, def float32) (float32, error) {
	k := l.key(suffix)
	v, err := l.f.GetFloat(k)
	if errors.Is(err, gguf.ErrKeyNotFound) {
		return def, nil
	}
	if err != nil {
		return 0, fmt.Errorf("metadata key %q: %w", k, err)
	}
	return float32(v), nil
}

// stringKey reads a string; absent keys give def.
func (l *loader) stringKey(suffix, def string) (string, error) {
	k := l.key(suffix)
	v, err := l.f.GetString(k)
	if errors.Is(err, gguf.ErrKeyNotFound) {
		return def, nil
	}
	if err != nil {
		return "", fmt.Errorf("metadata key %q: %w", k, err)
	}
	return v, nil
}

// tensor looks a tensor up and checks its dimensions (ne0 first; trailing
// dimensions of 1 are ignored). A missing tensor gives (nil, nil) when
// optional.
func (l *loader) tensor(name string, optional bool, dims ...int) (*gguf.TensorInfo, error) {
	t, ok := l.f.Tensor(name)
	if !ok {
		if optional {
			return nil, nil
		}
		return nil, fmt.Errorf("%w %q", ErrMissingTensor, name)
	}
	have := make([]int, 0, len(t.Dims))
	for _, d := range t.Dims {
		have = append(have, int(d))
	}
	for len(have) > len(dims) && have[len(have)-1] == 1 {
		have = have[:len(have)-1]
	}
	want := dims
	for len(want) > len(have) && want[len(want)-1] == 1 {
		want = want[:len(want)-1]
	}
	if !slices.Equal(have, want) {
		return nil, fmt.Errorf("tensor %q: %w: want %v, have %v", name, ErrTensorShape, dims, t.Dims)
	}
	return t, nil
}

// matrix loads a 2-D weight of rows × cols (GGUF dims [cols, rows]) for
// use in place. An absent optional tensor gives ok=false.
func (l *loader) matrix(name string, optional bool, cols, rows int) (m cpu.Matrix, ok bool, err error) {
	t, err := l.tensor(name, optional, cols, rows)
	if err != nil || t == nil {
		return cpu.Matrix{}, false, err
	}
	m, err = cpu.NewMatrix(t.Type, rows, cols, l.f.TensorData(t))
	if err != nil {
		return cpu.Matrix{}, false, fmt.Errorf("tensor %q (%s): %w: %v", name, t.Type, ErrUnsupportedType, err)
	}
	return m, true, nil
}

// experts loads a 3-D expert weight (GGUF dims [cols, rows, n]) as n
// matrices of rows × cols.
func (l *loader) experts(name string, optional bool, cols, rows, n int) ([]cpu.Matrix, error) {
	t, err := l.tensor(name, optional, cols, rows, n)
	if err != nil || t == nil {
		return nil, err
	}
	all, err := cpu.NewMatrix(t.Type, rows*n, cols, l.f.TensorData(t))
	if err != nil {
		return nil, fmt.Errorf("tensor %q (%s): %w: %v", name, t.Type, ErrUnsupportedType, err)
	}
	ms := make([]cpu.Matrix, n)
	for e := range ms {
		ms[e] = all.Slice(e*rows, rows)
	}
	return ms, nil
}

// vector loads a 1-D float tensor of n elements (norm weights, biases,
// RoPE factors). An absent optional tensor gives nil.
func (l *loader) vector(name string, optional bool, n int) ([]float32, error) {
	t, err := l.tensor(name, optional, n)
	if err != nil || t == nil {
		return nil, err
	}
	m, err := cpu.NewMatrix(t.Type, 1, n, l.f.TensorData(t))
	if err != nil {
		return nil, fmt.Errorf("tensor %q (%s): %w: %v", name, t.Type, ErrUnsupportedType, err)
	}
	// Vectors are tiny; reading them once into float32 costs nothing.
	v := make([]float32, n)
	cpu.Row(m, 0, v)
	return v, nil
}
