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
// A Runner evaluates batches that mix any number of sequences (Seq, each
// with its own key/value cache) in one forward pass per batch: the next
// token of every generating sequence beside chunks of new prompts, each
// row with its own sequence and position, as continuous batching needs.
// It holds what they share (thread pools, the single-token team, working
// buffers sized for the largest batch); a sequence's results do not
// depend on the others in its batches. A State is the simple interface
// for one sequence: State.Eval processes a batch of tokens at once and
// makes the logits of every position available; State.EvalLast computes
// only those of the last position, as text generation needs. Once a
// Runner has run a batch of its largest size, evaluation allocates
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
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

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
	ContextLength  int     // context the model was trained with
	Embd           int     // embedding width (n_embd)
	Layers         int     // transformer blocks
	FF             int     // feed-forward hidden width (per expert for MoE)
	Heads          int     // attention query heads
	HeadsKV        int     // key/value heads (grouped-query attention when < Heads)
	HeadDimK       int     // key (and query) length per head
	HeadDimV       int     // value length per head
	RMSEps         float32 // RMS normalization epsilon
	RopeDims       int     // rotated dimensions per head
	RopeFreqBase   float32 // RoPE theta base
	RopeFreqScale  float32 // 1 / RoPE scaling factor
	RopeScaling    string  // "none", "linear" or "yarn"
	RopeOrigCtx    int     // original context for YaRN
	RopeAttnFactor float32 // rope.scaling.attn_factor (1 when unset)
	Experts        int     // experts per MoE layer (0: dense)
	ExpertsUsed    int     // experts chosen per token
	Vocab          int     // vocabulary size (rows of the output matrix)
	// Encoders (BERT): NonCausal when every token attends to all the
	// tokens of its sequence ({arch}.attention.causal false), Pooling as
	// {arch}.pooling_type gives it ("" when unset, else none, mean, cls,
	// last or rank), ClassOut the scores of the classifier head (rank
	// pooling).
	NonCausal bool
	Pooling   string
	ClassOut  int
}

// Model is a loaded model. It is immutable and safe for concurrent use;
// each goroutine evaluating it needs its own Runner (or State).
type Model struct {
	Arch   string  // general.architecture
	Params HParams // hyperparameters
	net    network
}

// network is an architecture's forward pass over loaded weights.
type network interface {
	// forward evaluates the batch tokens (one per row of s.rows, each
	// with its sequence and position) with s's buffers, storing keys and
	// values in the rows' caches, and writes the logits (hidden states
	// when s.embd) of the rows s.outRows lists to s.outRowsDst.
	forward(s *Runner, tokens []int32)
	// rotary returns the rotary embedding its keys are stored with, to
	// shift a cache's positions.
	rotary(contextSize int) *rope
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
	ropes        int // cos/sin caches per row (0: one)
}

// slidingWindow is implemented by networks with sliding-window attention
// layers whose caches need only the window (Gemma 2 and 3): the window
// and which layers are local.
type slidingWindow interface {
	slidingWindow() (window int, local []bool)
}

// layerRotary is implemented by networks whose layers rotate their keys
// with different RoPE parameters (Gemma's local and global layers).
type layerRotary interface {
	layerRotary(l int) *rope
}

// architecture describes one model family.
type architecture struct {
	// load reads hyperparameters and weights from l.
	load func(l *loader) (network, HParams, error)
}

// architectures maps general.architecture to its implementation.
var architectures = map[string]architecture{
	"llama":      {load: loadLlama},
	"phi3":       {load: loadPhi3},
	"qwen2":      {load: loadQwen2},
	"qwen3":      {load: loadQwen3},
	"qwen2moe":   {load: loadQwen2MoE},
	"qwen3moe":   {load: loadQwen3MoE},
	"stablelm":   {load: loadStableLM},
	"gemma":      {load: loadGemma},
	"gemma2":     {load: loadGemma2},
	"gemma3":     {load: loadGemma3},
	"bert":       {load: loadBert},
	"nomic-bert": {load: loadNomicBert},
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
func Load(f *gguf.File) (*Model, error) { return LoadWith(f, LoadOptions{}) }

// LoadOptions configure LoadWith.
type LoadOptions struct {
	// Repack copies the weights of the types this CPU's kernels have a
	// faster layout for (cpu.Pack: on amd64 with AVX-512, Q4_0, Q4_1,
	// Q5_0, Q5_1, Q8_0, IQ4_NL, F16 and F32, and with VBMI and GFNI
	// Q4_K, Q5_K and Q6_K) into that layout, as
	// llama.cpp repacks by default, and releases the file's pages they
	// came from (gguf.File.Release), so resident memory stays about the
	// file's size. Results are the same bit for bit. Without it the
	// weights are used in place: processes running the same file share
	// its page cache.
	Repack bool
	// Threads is the number of goroutines that repack (0: one per CPU).
	Threads int
}

// LoadWith is Load with options.
func LoadWith(f *gguf.File, opts LoadOptions) (*Model, error) {
	name := f.Architecture()
	arch, ok := architectures[name]
	if !ok {
		return nil, fmt.Errorf("model: %w %q (supported: %v)", ErrUnknownArchitecture, name, Architectures())
	}
	l := &loader{f: f, arch: name, repack: opts.Repack}
	net, hp, err := arch.load(l)
	if err == nil {
		hp.Pooling, err = l.pooling()
	}
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", name, err)
	}
	l.runPacks(opts.Threads)
	return &Model{Arch: name, Params: hp, net: net}, nil
}

// loader reads hyperparameters and tensors for an architecture, wrapping
// errors with the key or tensor name.
type loader struct {
	f      *gguf.File
	arch   string
	repack bool
	packs  []func() // the repacking of the matrices loaded, to run
}

// pack prepares m's repacking, when the loader repacks, and returns the
// packed matrix (m itself for types without a packed layout).
func (l *loader) pack(m cpu.Matrix) cpu.Matrix {
	if !l.repack {
		return m
	}
	p, fill := cpu.PackDeferred(m)
	if fill != nil {
		l.packs = append(l.packs, func() {
			fill()
			l.f.Release(p.Packed())
		})
	}
	return p
}

// runPacks repacks the matrices loaded on threads goroutines (0: one per
// CPU), each taking the next matrix left.
func (l *loader) runPacks(threads int) {
	if len(l.packs) == 0 {
		return
	}
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(threads, len(l.packs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(l.packs)); i = next.Add(1) - 1 {
				l.packs[i]()
			}
		}()
	}
	wg.Wait()
	l.packs = nil
}

// poolingTypes are llama.cpp's enum llama_pooling_type, by value.
var poolingTypes = []string{"none", "mean", "cls", "last", "rank"}

// pooling reads {arch}.pooling_type ("" when absent).
func (l *loader) pooling() (string, error) {
	v, err := l.f.GetUint(l.key("pooling_type"))
	if errors.Is(err, gguf.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("metadata key %q: %w", l.key("pooling_type"), err)
	}
	if v >= uint64(len(poolingTypes)) {
		return "", fmt.Errorf("metadata key %q: unknown pooling type %d", l.key("pooling_type"), v)
	}
	return poolingTypes[v], nil
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
	if !t.HasShape(dims...) {
		return nil, fmt.Errorf("tensor %q: %w: want %v, have %v", name, ErrTensorShape, dims, t.Dims)
	}
	return t, nil
}

// readers returns the two reading steps of an architecture's loader:
// mat reads a required matrix of rows × cols, vec a vector of n values
// (optional ones may be absent: nil). Each does nothing once *err is set
// and records its own error there, so that a loader reads all its
// tensors and checks the error once.
func (l *loader) readers(err *error) (mat func(dst *cpu.Matrix, name string, cols, rows int), vec func(dst *[]float32, name string, n int, optional bool)) {
	mat = func(dst *cpu.Matrix, name string, cols, rows int) {
		if *err == nil {
			*dst, _, *err = l.matrix(name, false, cols, rows)
		}
	}
	vec = func(dst *[]float32, name string, n int, optional bool) {
		if *err == nil {
			*dst, *err = l.vector(name, optional, n)
		}
	}
	return mat, vec
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
	return l.pack(m), true, nil
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
	all = l.pack(all)
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
