package engine_test

import (
	"encoding/binary"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// Open a model, tokenize a prompt, evaluate it, read the logits of every
// position and generate with a seeded sampler. The model here is a tiny
// random one written for the example (see writeTinyModel); point Open at
// any llama-family .gguf file instead.
func Example() {
	dir, err := os.MkdirTemp("", "engine-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path, err := writeTinyModel(dir)
	if err != nil {
		log.Fatal(err)
	}

	m, err := engine.Open(path, engine.Options{ContextSize: 64, Threads: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	fmt.Println("architecture:", m.Arch(), "vocabulary:", m.NumVocab())

	prompt := m.Tokenize("hello world", true, true) // BOS added
	// As in llama.cpp, detokenizing after a BOS keeps SentencePiece's
	// leading space.
	fmt.Printf("prompt: %v %q\n", prompt, m.Detokenize(prompt))

	c, err := m.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	// Teacher forcing: the logits of every position.
	if err := c.Eval(prompt); err != nil {
		log.Fatal(err)
	}
	for i := range prompt {
		fmt.Printf("position %d: %d logits\n", i, len(c.Logits(i)))
	}

	// Continue from there with llama.cpp's default sampler chain and a
	// fixed seed; banning the end-of-sequence token makes it generate
	// exactly 8 tokens.
	p := sample.DefaultParams()
	p.Seed = 42
	p.LogitBias = map[int32]float32{2: float32(math.Inf(-1))}
	s, err := sample.New(p, m.NumVocab())
	if err != nil {
		log.Fatal(err)
	}
	out, err := c.Generate(nil, s, 8, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("generated:", len(out), "tokens; cache holds", c.Pos())
	// Output:
	// architecture: llama vocabulary: 269
	// prompt: [1 263 268] " hello world"
	// position 0: 269 logits
	// position 1: 269 logits
	// position 2: 269 logits
	// generated: 8 tokens; cache holds 10
}

// writeTinyModel writes a random llama model (one layer, width 32, a
// SentencePiece vocabulary of control, byte and word tokens) to
// dir/tiny.gguf with the GGUF writer.
func writeTinyModel(dir string) (string, error) {
	const embd, ff, heads, vocab = 32, 64, 4, 269
	seed := uint64(1)
	random := func(n uint64, scale, offset float32) []byte {
		b := make([]byte, 4*n)
		for i := uint64(0); i < n; i++ {
			seed = seed*6364136223846793005 + 1442695040888963407
			v := offset + scale*(float32(seed>>40)/(1<<24)*2-1)
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	}
	var tensors []gguf.TensorInfo
	var data [][]byte
	add := func(name string, scale, offset float32, dims ...uint64) {
		n := uint64(1)
		for _, d := range dims {
			n *= d
		}
		tensors = append(tensors, gguf.TensorInfo{Name: name, Dims: dims, Type: ggml.TypeF32})
		data = append(data, random(n, scale, offset))
	}
	add("token_embd.weight", 1, 0, embd, vocab)
	add("output_norm.weight", 0.1, 1, embd)
	add("blk.0.attn_norm.weight", 0.1, 1, embd)
	for _, w := range []string{"q", "k", "v", "output"} {
		add("blk.0.attn_"+w+".weight", 0.3, 0, embd, embd)
	}
	add("blk.0.ffn_norm.weight", 0.1, 1, embd)
	add("blk.0.ffn_gate.weight", 0.3, 0, embd, ff)
	add("blk.0.ffn_up.weight", 0.3, 0, embd, ff)
	add("blk.0.ffn_down.weight", 0.2, 0, ff, embd)
	// No output.weight: the output projection is tied to the embeddings.

	tokens := []string{"<unk>", "<s>", "</s>"}
	types := []int32{2, 3, 3} // unknown, control, control
	for b := 0; b < 256; b++ {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
		types = append(types, 6) // byte
	}
	// SentencePiece merges pairs of pieces into pieces of the vocabulary,
	// so every prefix of a word is a piece too.
	for _, w := range []string{"hello", "world"} {
		for n := 1; n <= len(w); n++ {
			tokens = append(tokens, "\u2581"+w[:n])
			types = append(types, 1) // normal
		}
	}
	scores := make([]float32, len(tokens))
	u32 := func(v uint32) gguf.Value { return gguf.MustValueOf(v) }
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.MustValueOf("llama")},
		{Key: "llama.context_length", Value: u32(64)},
		{Key: "llama.embedding_length", Value: u32(embd)},
		{Key: "llama.block_count", Value: u32(1)},
		{Key: "llama.feed_forward_length", Value: u32(ff)},
		{Key: "llama.attention.head_count", Value: u32(heads)},
		{Key: "llama.attention.head_count_kv", Value: u32(heads)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: gguf.MustValueOf(float32(1e-5))},
		{Key: "tokenizer.ggml.model", Value: gguf.MustValueOf("llama")},
		{Key: "tokenizer.ggml.tokens", Value: gguf.MustValueOf(tokens)},
		{Key: "tokenizer.ggml.scores", Value: gguf.MustValueOf(scores)},
		{Key: "tokenizer.ggml.token_type", Value: gguf.MustValueOf(types)},
		{Key: "tokenizer.ggml.bos_token_id", Value: u32(1)},
		{Key: "tokenizer.ggml.eos_token_id", Value: u32(2)},
	}
	path := filepath.Join(dir, "tiny.gguf")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := gguf.Write(f, kv, tensors, func(i int) ([]byte, error) { return data[i], nil }); err != nil {
		return "", err
	}
	return path, f.Close()
}

// Generate a completion greedily (temperature 0), printing it as it comes.
func Example_greedy() {
	m, err := engine.Open("stories260k.gguf", engine.Options{ContextSize: 256, Threads: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	c, err := m.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	prompt := m.Tokenize("Once upon a time", true, true)
	_, err = c.Generate(prompt, engine.Greedy{}, 64, func(tok int32) bool {
		os.Stdout.Write(m.TokenToPiece(tok))
		return true
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println()
}

// Sample with llama.cpp's default sampler chain (temperature 0.8, top-k 40,
// top-p 0.95, min-p 0.05) and a fixed seed.
func ExampleContext_Generate() {
	m, err := engine.Open("model.gguf", engine.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	c, err := m.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	p := sample.DefaultParams()
	p.Seed = 42
	s, err := sample.New(p, m.NumVocab())
	if err != nil {
		log.Fatal(err)
	}
	out, err := c.Generate(m.Tokenize("The capital of France is", true, true), s, 32, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Detokenize(out))
}

// Read the logits of every position of a prompt (teacher forcing), for
// example to compute perplexity.
func ExampleContext_Logits() {
	m, err := engine.Open("model.gguf", engine.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	c, err := m.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	toks := m.Tokenize("One day, a big bird", true, true)
	if err := c.Eval(toks); err != nil {
		log.Fatal(err)
	}
	for i := range toks {
		logits := c.Logits(i)
		best, _ := engine.Greedy{}.Sample(logits)
		fmt.Printf("after %q the model expects %q\n", m.Detokenize(toks[:i+1]), m.TokenToPiece(best))
	}
}

// Tokenize with a vocabulary-only GGUF file (no weights), as llama-tokenize
// does.
func ExampleOptions_vocabOnly() {
	m, err := engine.Open("ggml-vocab-llama-spm.gguf", engine.Options{VocabOnly: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	fmt.Println(m.Tokenize("Hello world", true, false)) // [1 15043 3186]
}
