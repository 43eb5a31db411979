// Package benchmodel writes llama-architecture GGUF models with random
// weights for benchmarking, so that speed can be measured on a realistic
// shape (TinyLlama 1.1B by default) without downloading anything.
//
// The weights are deterministic for a seed: normally distributed with a
// small standard deviation so that activations stay in a sane range, with
// normalization weights of 1. Matrices are F16 and vectors F32, as
// llama.cpp's converter writes them; quantize the file for other types.
// The vocabulary is a synthesized SentencePiece one (<unk>, <s>, </s>, the
// 256 byte tokens and unique filler pieces, with scores and token types),
// so that both this project's engine and llama.cpp load the file.
//
// Tensors are generated and written one at a time through the streaming
// GGUF writer, so memory use stays at about the largest tensor.
package benchmodel

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/llamafile-go/llamafile/internal/atomicfile"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// Shape holds a llama model's hyperparameters.
type Shape struct {
	Name     string  // general.name
	Embd     int     // n_embd
	Layers   int     // transformer blocks
	FF       int     // feed-forward width
	Heads    int     // attention heads
	HeadsKV  int     // key/value heads
	Vocab    int     // vocabulary size, at least 259 (3 special + 256 bytes)
	Context  int     // training context length
	RopeBase float32 // RoPE frequency base
	RMSEps   float32 // RMS norm epsilon
	// Std is the standard deviation of the weights; 0 means 0.02.
	Std float64
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
	for _, v := range []struct {
		name string
		n    int
	}{{"Embd", s.Embd}, {"Layers", s.Layers}, {"FF", s.FF}, {"Heads", s.Heads}, {"HeadsKV", s.HeadsKV}, {"Context", s.Context}} {
		if v.n <= 0 {
			return fmt.Errorf("benchmodel: shape %s must be positive, got %d", v.name, v.n)
		}
	}
	switch {
	case s.Vocab < 3+numBytes:
		return fmt.Errorf("benchmodel: shape Vocab %d is below %d (3 special tokens and %d byte tokens)", s.Vocab, 3+numBytes, numBytes)
	case s.Embd%s.Heads != 0:
		return fmt.Errorf("benchmodel: shape Embd %d is not a multiple of Heads %d", s.Embd, s.Heads)
	case s.Heads%s.HeadsKV != 0:
		return fmt.Errorf("benchmodel: shape Heads %d is not a multiple of HeadsKV %d", s.Heads, s.HeadsKV)
	case (s.Embd/s.Heads)%2 != 0:
		return fmt.Errorf("benchmodel: shape head size %d is odd", s.Embd/s.Heads)
	case s.RopeBase <= 0 || s.RMSEps <= 0 || s.Std < 0:
		return fmt.Errorf("benchmodel: shape RopeBase, RMSEps must be positive and Std not negative")
	}
	return nil
}

// tensor is one tensor to write: its name and shape (GGUF order, the
// contiguous dimension first); vectors are F32 ones, matrices F16 random.
type tensor struct {
	name string
	dims []uint64
}

func (s Shape) tensors() []tensor {
	d, ff := uint64(s.Embd), uint64(s.FF)
	dkv := uint64(s.Embd / s.Heads * s.HeadsKV)
	ts := []tensor{{"token_embd.weight", []uint64{d, uint64(s.Vocab)}}}
	for i := range s.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		ts = append(ts,
			tensor{p + "attn_norm.weight", []uint64{d}},
			tensor{p + "attn_q.weight", []uint64{d, d}},
			tensor{p + "attn_k.weight", []uint64{d, dkv}},
			tensor{p + "attn_v.weight", []uint64{d, dkv}},
			tensor{p + "attn_output.weight", []uint64{d, d}},
			tensor{p + "ffn_norm.weight", []uint64{d}},
			tensor{p + "ffn_gate.weight", []uint64{d, ff}},
			tensor{p + "ffn_up.weight", []uint64{d, ff}},
			tensor{p + "ffn_down.weight", []uint64{ff, d}},
		)
	}
	return append(ts,
		tensor{"output_norm.weight", []uint64{d}},
		tensor{"output.weight", []uint64{d, uint64(s.Vocab)}},
	)
}

// Vocab returns the synthesized SentencePiece vocabulary of n tokens: the
// pieces, their scores and their token types (llama.cpp's
// LLAMA_TOKEN_TYPE values: 1 normal, 2 unknown, 3 control, 6 byte).
func Vocab(n int) (tokens []string, scores []float32, types []int32) {
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
	add("<unk>", 0, 2)
	add("<s>", 0, 3)
	add("</s>", 0, 3)
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
		return add(piece, -float32(len(tokens)-3-numBytes), 1)
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

// metadata returns the GGUF metadata of a model of shape s.
func (s Shape) metadata() []gguf.KV {
	tokens, scores, types := Vocab(s.Vocab)
	kv := func(k string, v any) gguf.KV { return gguf.KV{Key: k, Value: gguf.MustValueOf(v)} }
	return []gguf.KV{
		kv("general.architecture", "llama"),
		kv("general.name", s.Name),
		kv("llama.context_length", uint32(s.Context)),
		kv("llama.embedding_length", uint32(s.Embd)),
		kv("llama.block_count", uint32(s.Layers)),
		kv("llama.feed_forward_length", uint32(s.FF)),
		kv("llama.rope.dimension_count", uint32(s.Embd/s.Heads)),
		kv("llama.attention.head_count", uint32(s.Heads)),
		kv("llama.attention.head_count_kv", uint32(s.HeadsKV)),
		kv("llama.attention.layer_norm_rms_epsilon", s.RMSEps),
		kv("llama.rope.freq_base", s.RopeBase),
		kv("general.file_type", uint32(1)), // LLAMA_FTYPE_MOSTLY_F16
		kv("general.quantization_version", uint32(2)),
		kv("tokenizer.ggml.model", "llama"),
		kv("tokenizer.ggml.tokens", tokens),
		kv("tokenizer.ggml.scores", scores),
		kv("tokenizer.ggml.token_type", types),
		kv("tokenizer.ggml.bos_token_id", uint32(1)),
		kv("tokenizer.ggml.eos_token_id", uint32(2)),
		kv("tokenizer.ggml.unknown_token_id", uint32(0)),
		kv("tokenizer.ggml.add_bos_token", true),
		kv("tokenizer.ggml.add_eos_token", false),
	}
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
		typ := ggml.TypeF16
		if len(t.dims) == 1 {
			typ = ggml.TypeF32
		}
		infos[i] = gguf.TensorInfo{Name: t.name, Dims: t.dims, Type: typ}
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
		if t.Type == ggml.TypeF32 {
			ones(buf)
		} else {
			randomF16(buf, seed, uint64(i), std)
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

// chunkElems is the number of F16 values drawn from one random stream.
// Every chunk has its own stream, keyed by seed, tensor and chunk index, so
// chunks are filled in parallel with the same result on any machine.
const chunkElems = 1 << 16

// randomF16 fills buf with normal(0, std) values in F16.
func randomF16(buf []byte, seed, tensor uint64, std float64) {
	n := len(buf) / 2
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
					h := ggml.FP32ToFP16(float32(rng.NormFloat64() * std))
					buf[2*j], buf[2*j+1] = byte(h), byte(h>>8)
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
