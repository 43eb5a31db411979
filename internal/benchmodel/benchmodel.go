// Package benchmodel writes GGUF models with random weights for
// benchmarking, so that speed can be measured on a realistic shape
// (TinyLlama 1.1B by default) without downloading anything. Besides llama,
// it writes a twin of the same size in each other family the engine
// runs (Archs; Shape.ForArch): the same widths and depth, with the
// family's own tensors and metadata keys, named as llama.cpp's converters
// write them, so that llama.cpp loads the twins too and the families'
// speed can be compared with llama's and with llama.cpp's.
//
// The weights are deterministic for a seed: normally distributed with a
// small standard deviation so that activations stay in a sane range, with
// normalization weights of 1 and biases as random as the weights.
// Matrices are F16 (a mixture of experts' router F32) and vectors F32, as
// llama.cpp's converter writes them; quantize the file for other types.
// The vocabulary is a synthesized SentencePiece one (<unk>, <s>, </s>, the
// 256 byte tokens and unique filler pieces, with scores and token types;
// Phi-3's chat tokens too for phi3, Gemma's special tokens and ids for
// gemma3), so that both this project's engine and llama.cpp load the file.
//
// Tensors are generated and written one at a time through the streaming
// GGUF writer, so memory use stays at about the largest tensor.
package benchmodel

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/llamafile-go/llamafile/internal/atomicfile"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// Shape holds a model's architecture and hyperparameters.
type Shape struct {
	// Arch is general.architecture, one of Archs; "" is llama.
	Arch     string
	Name     string  // general.name
	Embd     int     // n_embd
	Layers   int     // transformer blocks
	FF       int     // feed-forward width
	Heads    int     // attention heads
	HeadsKV  int     // key/value heads
	Vocab    int     // vocabulary size, at least the special tokens and the 256 byte tokens
	Context  int     // training context length
	RopeBase float32 // RoPE frequency base (gemma3: of the global layers)
	RMSEps   float32 // RMS norm epsilon (stablelm: LayerNorm epsilon)
	// Std is the standard deviation of the weights; 0 means 0.02.
	Std float64
	// RopeDims is the number of rotated elements of each head; 0 means
	// all of them. Only stablelm rotates part of a head.
	RopeDims int
	// Window is the sliding window of gemma3's local layers (five of
	// every six); 0 means none, all layers global. Only gemma3 has one.
	Window int
	// Experts, ExpertsUsed and ExpertFF are qwen3moe's mixture of
	// experts: the experts of each layer, those each token goes through,
	// and an expert's feed-forward width (0: FF / ExpertsUsed).
	Experts, ExpertsUsed, ExpertFF int
	// Weights is the type of the matrices: F16 (the zero value means F16)
	// or Q8_0, whose blocks are drawn directly (a scale of std/32 and
	// uniform 8-bit values), for tests that need a large quantized file
	// quickly rather than a quantization of the F16 weights.
	Weights ggml.Type
}

// Archs are the architectures Write writes, llama first.
var Archs = []string{"llama", "qwen2", "qwen3", "phi3", "stablelm", "gemma3", "qwen3moe"}

// arch returns s's architecture, "llama" when unset.
func (s Shape) arch() string {
	if s.Arch == "" {
		return "llama"
	}
	return s.Arch
}

// headSize returns the size of an attention head.
func (s Shape) headSize() int { return s.Embd / s.Heads }

// ropeDims returns the number of rotated elements of each head.
func (s Shape) ropeDims() int {
	if s.RopeDims == 0 {
		return s.headSize()
	}
	return s.RopeDims
}

// expertFF returns an expert's feed-forward width.
func (s Shape) expertFF() int {
	if s.ExpertFF == 0 && s.ExpertsUsed > 0 {
		return s.FF / s.ExpertsUsed
	}
	return s.ExpertFF
}

// ForArch returns s as a twin in architecture arch (one of Archs): the
// same widths, depth and vocabulary, with what tells that family apart
// from llama:
//
//   - qwen2: biases on the query, key and value projections.
//   - qwen3: an RMS norm of each query and key head.
//   - phi3: the query, key and value projections fused in attn_qkv, the
//     gate and up projections in ffn_up.
//   - stablelm: LayerNorms with biases, query, key and value biases (as
//     StableLM 2 1.6B), and RoPE over a quarter of each head (RopeDims,
//     unless set).
//   - gemma3: norms after attention and after the feed forward, query
//     and key head norms, local layers with a sliding window of 512
//     (Window, unless set) five in six, global RoPE base 10⁶, the output
//     tied to the embeddings and Gemma's special tokens.
//   - qwen3moe: qwen3 with a mixture of 8 experts, 4 per token, each
//     FF/4 wide (unless Experts, ExpertsUsed or ExpertFF are set), so
//     that a token's feed forward costs what llama's does.
//
// phi3's vocabulary holds Phi-3's chat tokens, which llama.cpp looks up
// for a model named so. All but llama rotate each half of a head against
// the other (gpt-neox RoPE), as llama.cpp does for them; that is in the
// engines, not in the file. The name gets the architecture as a prefix.
func (s Shape) ForArch(arch string) (Shape, error) {
	if !known(arch) {
		return s, fmt.Errorf("benchmodel: unknown architecture %q (want one of %v)", arch, Archs)
	}
	if arch == s.arch() {
		return s, nil
	}
	if s.arch() != "llama" {
		return s, fmt.Errorf("benchmodel: shape is already %s, not llama", s.Arch)
	}
	s.Arch = arch
	s.Name = arch + "-" + s.Name
	switch arch {
	case "stablelm":
		if s.RopeDims == 0 && s.Heads > 0 {
			s.RopeDims = max(2, s.headSize()/4&^1)
		}
	case "gemma3":
		if s.Window == 0 {
			s.Window = 512
		}
		s.RopeBase = 1e6
	case "qwen3moe":
		if s.Experts == 0 {
			s.Experts = 8
		}
		if s.ExpertsUsed == 0 {
			s.ExpertsUsed = min(4, s.Experts)
		}
	}
	return s, nil
}

func known(arch string) bool {
	for _, a := range Archs {
		if a == arch {
			return true
		}
	}
	return false
}

// TinyLlama returns the shape of TinyLlama 1.1B: n_embd 2048, 22 layers,
// n_ff 5632, 32 heads, 4 key/value heads, a 32000-token vocabulary and a
// 2048-token context.
func TinyLlama() Shape {
	return Shape{
		Name: "tinyllama-1.1b-shape-random", Embd: 2048, Layers: 22, FF: 5632,
		Heads: 32, HeadsKV: 4, Vocab: 32000, Context: 2048, RopeBase: 10000, RMSEps: 1e-5,
	}
}

// Small returns a tiny shape for tests: n_embd 64, 2 layers, n_ff 128,
// 4 heads, 2 key/value heads, 512 tokens.
func Small() Shape {
	return Shape{
		Name: "small-shape-random", Embd: 64, Layers: 2, FF: 128,
		Heads: 4, HeadsKV: 2, Vocab: 512, Context: 256, RopeBase: 10000, RMSEps: 1e-5,
	}
}

// numBytes is the number of byte tokens <0x00>..<0xFF>.
const numBytes = 256

// Validate checks that s describes a model llama.cpp can load.
func (s Shape) Validate() error {
	if !known(s.arch()) {
		return fmt.Errorf("benchmodel: unknown architecture %q (want one of %v)", s.Arch, Archs)
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"Embd", s.Embd}, {"Layers", s.Layers}, {"FF", s.FF}, {"Heads", s.Heads}, {"HeadsKV", s.HeadsKV}, {"Context", s.Context}} {
		if v.n <= 0 {
			return fmt.Errorf("benchmodel: shape %s must be positive, got %d", v.name, v.n)
		}
	}
	moe := s.arch() == "qwen3moe"
	switch specials := len(vocabFor(s.arch()).specials); {
	case s.Vocab < specials+numBytes:
		return fmt.Errorf("benchmodel: shape Vocab %d is below %d (%d special tokens and %d byte tokens)", s.Vocab, specials+numBytes, specials, numBytes)
	case s.Embd%s.Heads != 0:
		return fmt.Errorf("benchmodel: shape Embd %d is not a multiple of Heads %d", s.Embd, s.Heads)
	case s.Heads%s.HeadsKV != 0:
		return fmt.Errorf("benchmodel: shape Heads %d is not a multiple of HeadsKV %d", s.Heads, s.HeadsKV)
	case s.headSize()%2 != 0:
		return fmt.Errorf("benchmodel: shape head size %d is odd", s.headSize())
	case s.RopeBase <= 0 || s.RMSEps <= 0 || s.Std < 0:
		return fmt.Errorf("benchmodel: shape RopeBase, RMSEps must be positive and Std not negative")
	case s.RopeDims != 0 && s.arch() != "stablelm":
		return fmt.Errorf("benchmodel: shape RopeDims is stablelm's, not %s's (which rotate whole heads)", s.arch())
	case s.RopeDims < 0 || s.RopeDims%2 != 0 || s.RopeDims > s.headSize():
		return fmt.Errorf("benchmodel: shape RopeDims %d must be even and at most the head size %d", s.RopeDims, s.headSize())
	case s.Window != 0 && s.arch() != "gemma3":
		return fmt.Errorf("benchmodel: shape Window is gemma3's, not %s's", s.arch())
	case s.Window < 0:
		return fmt.Errorf("benchmodel: shape Window %d is negative", s.Window)
	case !moe && (s.Experts != 0 || s.ExpertsUsed != 0 || s.ExpertFF != 0):
		return fmt.Errorf("benchmodel: shape Experts, ExpertsUsed and ExpertFF are qwen3moe's, not %s's", s.arch())
	case s.Weights != 0 && s.Weights != ggml.TypeF16 && s.Weights != ggml.TypeQ8_0:
		return fmt.Errorf("benchmodel: shape Weights %v: only F16 and Q8_0 are written", s.Weights)
	case moe && (s.Experts <= 0 || s.ExpertsUsed <= 0 || s.ExpertsUsed > s.Experts || s.expertFF() <= 0):
		return fmt.Errorf("benchmodel: qwen3moe shape needs 1 <= ExpertsUsed (%d) <= Experts (%d) and a positive expert width (%d)", s.ExpertsUsed, s.Experts, s.expertFF())
	}
	return nil
}

// fill is how a tensor's values are drawn.
type fill int

const (
	fillWeight fill = iota // normal(0, std): weights and biases
	fillOnes               // 1: norm weights
)

// tensor is one tensor to write: its name, shape (GGUF order, the
// contiguous dimension first), type and values.
type tensor struct {
	name string
	dims []uint64
	typ  ggml.Type
	fill fill
}

// tensors lists s's tensors, named as llama.cpp names them, layer by
// layer (for llama in the order earlier versions of this package wrote
// them, so that its files stay the same byte for byte).
func (s Shape) tensors() []tensor {
	a := s.arch()
	u := func(n int) uint64 { return uint64(n) }
	d, ff, hd := u(s.Embd), u(s.FF), u(s.headSize())
	dq, dkv := hd*u(s.Heads), hd*u(s.HeadsKV)
	var ts []tensor
	wt := ggml.TypeF16
	if s.Weights == ggml.TypeQ8_0 {
		wt = s.Weights
	}
	mat := func(name string, dims ...uint64) { ts = append(ts, tensor{name, dims, wt, fillWeight}) }
	norm := func(name string, n uint64) { ts = append(ts, tensor{name, []uint64{n}, ggml.TypeF32, fillOnes}) }
	bias := func(name string, n uint64) { ts = append(ts, tensor{name, []uint64{n}, ggml.TypeF32, fillWeight}) }
	mat("token_embd.weight", d, u(s.Vocab))
	for i := range s.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		norm(p+"attn_norm.weight", d)
		if a == "stablelm" {
			bias(p+"attn_norm.bias", d)
		}
		if a == "phi3" {
			mat(p+"attn_qkv.weight", d, dq+2*dkv)
		} else {
			mat(p+"attn_q.weight", d, dq)
			mat(p+"attn_k.weight", d, dkv)
			mat(p+"attn_v.weight", d, dkv)
		}
		if a == "qwen2" || a == "stablelm" {
			bias(p+"attn_q.bias", dq)
			bias(p+"attn_k.bias", dkv)
			bias(p+"attn_v.bias", dkv)
		}
		if a == "qwen3" || a == "qwen3moe" || a == "gemma3" {
			norm(p+"attn_q_norm.weight", hd)
			norm(p+"attn_k_norm.weight", hd)
		}
		mat(p+"attn_output.weight", dq, d)
		if a == "gemma3" {
			norm(p+"post_attention_norm.weight", d)
		}
		norm(p+"ffn_norm.weight", d)
		if a == "stablelm" {
			bias(p+"ffn_norm.bias", d)
		}
		switch a {
		case "phi3":
			mat(p+"ffn_up.weight", d, 2*ff) // gate, then up
			mat(p+"ffn_down.weight", ff, d)
		case "qwen3moe":
			e, fe := u(s.Experts), u(s.expertFF())
			// The router stays F32, as the converters keep it.
			ts = append(ts, tensor{p + "ffn_gate_inp.weight", []uint64{d, e}, ggml.TypeF32, fillWeight})
			mat(p+"ffn_gate_exps.weight", d, fe, e)
			mat(p+"ffn_up_exps.weight", d, fe, e)
			mat(p+"ffn_down_exps.weight", fe, d, e)
		default:
			mat(p+"ffn_gate.weight", d, ff)
			mat(p+"ffn_up.weight", d, ff)
			mat(p+"ffn_down.weight", ff, d)
		}
		if a == "gemma3" {
			norm(p+"post_ffw_norm.weight", d)
		}
	}
	norm("output_norm.weight", d)
	if a == "stablelm" {
		bias("output_norm.bias", d)
	}
	if a != "gemma3" { // Gemma ties the output to the embeddings
		mat("output.weight", d, u(s.Vocab))
	}
	return ts
}

// special is a special token: its piece and token type.
type special struct {
	piece string
	typ   int32
}

// vocabSpec is how an architecture's vocabulary starts: its special
// tokens (ids from 0) and which of them are BOS, EOS, unknown and padding
// (-1: none).
type vocabSpec struct {
	specials           []special
	bos, eos, unk, pad int
	noSpacePrefix      bool // tokenizer.ggml.add_space_prefix false
}

// vocabFor returns arch's vocabulary layout: SentencePiece's <unk>, <s>,
// </s>; for phi3 also Phi-3's chat tokens, <|endoftext|> the EOS (as
// llama.cpp, by the model's name, looks them up); for gemma3 Gemma's
// <pad>, <eos>, <bos>, <unk> and turn markers, with no space prefix.
func vocabFor(arch string) vocabSpec {
	switch arch {
	case "phi3":
		return vocabSpec{specials: []special{{"<unk>", 2}, {"<s>", 3}, {"</s>", 3},
			{"<|endoftext|>", 3}, {"<|assistant|>", 3}, {"<|end|>", 3}, {"<|user|>", 3}, {"<|system|>", 3}},
			bos: 1, eos: 3, unk: 0, pad: 3}
	case "gemma3":
		return vocabSpec{specials: []special{{"<pad>", 3}, {"<eos>", 3}, {"<bos>", 3}, {"<unk>", 2}, {"<start_of_turn>", 3}, {"<end_of_turn>", 3}},
			bos: 2, eos: 1, unk: 3, pad: 0, noSpacePrefix: true}
	}
	return vocabSpec{specials: []special{{"<unk>", 2}, {"<s>", 3}, {"</s>", 3}}, bos: 1, eos: 2, unk: 0, pad: -1}
}

// Vocab returns the synthesized SentencePiece vocabulary of n tokens: the
// pieces, their scores and their token types (llama.cpp's
// LLAMA_TOKEN_TYPE values: 1 normal, 2 unknown, 3 control, 6 byte).
func Vocab(n int) (tokens []string, scores []float32, types []int32) {
	return vocab(n, vocabFor("llama").specials)
}

// vocab returns a vocabulary of n tokens: specials, the byte tokens, then
// filler pieces.
func vocab(n int, specials []special) (tokens []string, scores []float32, types []int32) {
	tokens = make([]string, 0, n)
	scores = make([]float32, 0, n)
	types = make([]int32, 0, n)
	add := func(tok string, score float32, typ int32) bool {
		if len(tokens) == n {
			return false
		}
		tokens, scores, types = append(tokens, tok), append(scores, score), append(types, typ)
		return true
	}
	for _, sp := range specials {
		add(sp.piece, 0, sp.typ)
	}
	for b := range numBytes {
		add(fmt.Sprintf("<0x%02X>", b), 0, 6)
	}
	// Filler pieces, unique and in SentencePiece's spelling ("▁" marks a
	// word start): single characters, then words of two and three
	// lowercase letters, with and without the word-start mark. Scores
	// fall with the rank, as in a trained vocabulary.
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:;()"
	const lower = "abcdefghijklmnopqrstuvwxyz"
	normal := func(piece string) bool {
		return add(piece, -float32(len(tokens)-len(specials)-numBytes), 1)
	}
	if !normal("▁") {
		return
	}
	for _, c := range chars {
		if !normal(string(c)) || !normal("▁"+string(c)) {
			return
		}
	}
	for length := 2; ; length++ {
		idx := make([]int, length)
		for {
			w := make([]byte, length)
			for i, j := range idx {
				w[i] = lower[j]
			}
			if !normal("▁"+string(w)) || !normal(string(w)) {
				return
			}
			// Next combination, odometer style.
			i := length - 1
			for i >= 0 && idx[i] == len(lower)-1 {
				idx[i] = 0
				i--
			}
			if i < 0 {
				break
			}
			idx[i]++
		}
	}
}

// metadata returns the GGUF metadata of a model of shape s, with the keys
// llama.cpp's converters write for its architecture.
func (s Shape) metadata() []gguf.KV {
	a := s.arch()
	vs := vocabFor(a)
	tokens, scores, types := vocab(s.Vocab, vs.specials)
	kv := func(k string, v any) gguf.KV { return gguf.KV{Key: k, Value: gguf.MustValueOf(v)} }
	u := func(n int) uint32 { return uint32(n) }
	eps := "attention.layer_norm_rms_epsilon"
	if a == "stablelm" {
		eps = "attention.layer_norm_epsilon"
	}
	kvs := []gguf.KV{
		kv("general.architecture", a),
		kv("general.name", s.Name),
		kv(a+".context_length", u(s.Context)),
		kv(a+".embedding_length", u(s.Embd)),
		kv(a+".block_count", u(s.Layers)),
		kv(a+".feed_forward_length", u(s.FF)),
		kv(a+".rope.dimension_count", u(s.ropeDims())),
		kv(a+".attention.head_count", u(s.Heads)),
		kv(a+".attention.head_count_kv", u(s.HeadsKV)),
		kv(a+"."+eps, s.RMSEps),
		kv(a+".rope.freq_base", s.RopeBase),
	}
	switch a {
	case "stablelm":
		kvs = append(kvs, kv(a+".use_parallel_residual", false))
	case "gemma3":
		kvs = append(kvs,
			kv(a+".attention.key_length", u(s.headSize())),
			kv(a+".attention.value_length", u(s.headSize())))
		if s.Window > 0 {
			// The local layers' RoPE base is Gemma 3's 10000.
			kvs = append(kvs,
				kv(a+".attention.sliding_window", u(s.Window)),
				kv(a+".rope.freq_base_swa", float32(10000)))
		}
	case "qwen3moe":
		kvs = append(kvs,
			kv(a+".expert_count", u(s.Experts)),
			kv(a+".expert_used_count", u(s.ExpertsUsed)),
			kv(a+".expert_feed_forward_length", u(s.expertFF())))
	}
	kvs = append(kvs,
		kv("general.file_type", s.fileType()),
		kv("general.quantization_version", uint32(2)),
		kv("tokenizer.ggml.model", "llama"),
		kv("tokenizer.ggml.tokens", tokens),
		kv("tokenizer.ggml.scores", scores),
		kv("tokenizer.ggml.token_type", types),
	)
	kvs = append(kvs,
		kv("tokenizer.ggml.bos_token_id", uint32(vs.bos)),
		kv("tokenizer.ggml.eos_token_id", uint32(vs.eos)),
		kv("tokenizer.ggml.unknown_token_id", uint32(vs.unk)))
	if vs.pad >= 0 {
		kvs = append(kvs, kv("tokenizer.ggml.padding_token_id", uint32(vs.pad)))
	}
	kvs = append(kvs,
		kv("tokenizer.ggml.add_bos_token", true),
		kv("tokenizer.ggml.add_eos_token", false))
	if vs.noSpacePrefix {
		kvs = append(kvs, kv("tokenizer.ggml.add_space_prefix", false))
	}
	return kvs
}

// Write writes a model of shape s with weights drawn from seed to w.
func Write(w io.Writer, s Shape, seed uint64) error {
	if err := s.Validate(); err != nil {
		return err
	}
	std := s.Std
	if std == 0 {
		std = 0.02
	}
	ts := s.tensors()
	infos := make([]gguf.TensorInfo, len(ts))
	for i, t := range ts {
		infos[i] = gguf.TensorInfo{Name: t.name, Dims: t.dims, Type: t.typ}
	}
	gw, err := gguf.NewWriter(w, s.metadata(), infos)
	if err != nil {
		return fmt.Errorf("benchmodel: %w", err)
	}
	var buf []byte
	for i, t := range gw.Tensors() {
		if cap(buf) < int(t.Size) {
			buf = make([]byte, t.Size)
		}
		buf = buf[:t.Size]
		if ts[i].fill == fillOnes {
			ones(buf)
		} else {
			random(buf, t.Type, seed, uint64(i), std)
		}
		if err := gw.WriteTensor(buf); err != nil {
			return fmt.Errorf("benchmodel: %w", err)
		}
	}
	if err := gw.Close(); err != nil {
		return fmt.Errorf("benchmodel: %w", err)
	}
	return nil
}

// WriteFile writes a model of shape s to path, through a temporary file in
// the same directory that is renamed into place once complete, so an
// interrupted run never leaves a truncated model behind.
func WriteFile(path string, s Shape, seed uint64) (err error) {
	tmp, err := atomicfile.Create(path, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("benchmodel: %w", err)
	}
	defer tmp.Abort()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err = Write(bw, s, seed); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("benchmodel: %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("benchmodel: %s: %w", path, err)
	}
	if err = tmp.Commit(); err != nil {
		return fmt.Errorf("benchmodel: %s: %w", path, err)
	}
	return nil
}

// ones fills buf with float32 ones.
func ones(buf []byte) {
	for i := 0; i+4 <= len(buf); i += 4 {
		buf[i], buf[i+1], buf[i+2], buf[i+3] = 0x00, 0x00, 0x80, 0x3f
	}
}

// chunkElems is the number of values drawn from one random stream.
// Every chunk has its own stream, keyed by seed, tensor and chunk index, so
// chunks are filled in parallel with the same result on any machine.
const chunkElems = 1 << 16

// random fills buf with values of type typ: normal(0, std) for F16 and
// F32, uniform blocks (randomQ8_0) for Q8_0.
func random(buf []byte, typ ggml.Type, seed, tensor uint64, std float64) {
	if typ == ggml.TypeQ8_0 {
		randomQ8_0(buf, seed, tensor, std)
		return
	}
	size := 2
	if typ == ggml.TypeF32 {
		size = 4
	}
	n := len(buf) / size
	chunks := (n + chunkElems - 1) / chunkElems
	workers := min(runtime.GOMAXPROCS(0), chunks)
	var wg sync.WaitGroup
	var next sync.Mutex
	c := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				k := c
				c++
				next.Unlock()
				if k >= chunks {
					return
				}
				rng := rand.New(rand.NewPCG(seed, tensor<<32|uint64(k)))
				for j := k * chunkElems; j < min(n, (k+1)*chunkElems); j++ {
					v := float32(rng.NormFloat64() * std)
					if size == 4 {
						binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
						continue
					}
					h := ggml.FP32ToFP16(v)
					buf[2*j], buf[2*j+1] = byte(h), byte(h>>8)
				}
			}
		}()
	}
	wg.Wait()
}

// fileType is general.file_type: LLAMA_FTYPE_MOSTLY_F16 or _Q8_0.
func (s Shape) fileType() uint32 {
	if s.Weights == ggml.TypeQ8_0 {
		return 7
	}
	return 1
}

// randomQ8_0 fills buf with Q8_0 blocks (a float16 scale, then 32 signed
// bytes) of scale std/32 and uniform bytes: values of standard deviation
// about 2.3 std, drawn eight bytes per random number.
func randomQ8_0(buf []byte, seed, tensor uint64, std float64) {
	const block = 34
	h := ggml.FP32ToFP16(float32(std / 32))
	blocks := len(buf) / block
	per := chunkElems / 32 // blocks per random stream
	chunks := (blocks + per - 1) / per
	var wg sync.WaitGroup
	var next atomic.Int64
	for range min(runtime.GOMAXPROCS(0), chunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int(next.Add(1) - 1); k < chunks; k = int(next.Add(1) - 1) {
				rng := rand.New(rand.NewPCG(seed, tensor<<32|uint64(k)))
				for b := k * per; b < min(blocks, (k+1)*per); b++ {
					q := buf[b*block : (b+1)*block]
					q[0], q[1] = byte(h), byte(h>>8)
					for j := 2; j < block; j += 8 {
						binary.LittleEndian.PutUint64(q[j:], rng.Uint64())
					}
				}
			}
		}()
	}
	wg.Wait()
}

// ParseShape returns the named shape: "tinyllama" or "small".
func ParseShape(name string) (Shape, error) {
	switch name {
	case "tinyllama":
		return TinyLlama(), nil
	case "small":
		return Small(), nil
	}
	return Shape{}, fmt.Errorf("benchmodel: unknown shape %q (want tinyllama or small)", name)
}
