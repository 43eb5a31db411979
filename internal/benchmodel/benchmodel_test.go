package benchmodel

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

func TestVocab(t *testing.T) {
	for _, n := range []int{259, 512, 32000} {
		tokens, scores, types := Vocab(n)
		if len(tokens) != n || len(scores) != n || len(types) != n {
			t.Fatalf("Vocab(%d): %d tokens, %d scores, %d types", n, len(tokens), len(scores), len(types))
		}
		seen := map[string]bool{}
		for i, tok := range tokens {
			if seen[tok] {
				t.Fatalf("Vocab(%d): token %d %q repeated", n, i, tok)
			}
			seen[tok] = true
		}
		if tokens[0] != "<unk>" || tokens[1] != "<s>" || tokens[2] != "</s>" || types[0] != 2 || types[1] != 3 || types[2] != 3 {
			t.Errorf("Vocab(%d): special tokens %q %v", n, tokens[:3], types[:3])
		}
		if tokens[3] != "<0x00>" || tokens[3+0x0A] != "<0x0A>" || tokens[258] != "<0xFF>" || types[3] != 6 || types[258] != 6 {
			t.Errorf("Vocab(%d): byte tokens %q ... %q", n, tokens[3], tokens[258])
		}
		for i := 260; i < n; i++ {
			if types[i] != 1 || scores[i] >= scores[i-1] {
				t.Fatalf("Vocab(%d): token %d %q: type %d, score %g after %g", n, i, tokens[i], types[i], scores[i], scores[i-1])
			}
		}
	}
}

func TestShapeValidate(t *testing.T) {
	bad := []func(*Shape){
		func(s *Shape) { s.Embd = 0 },
		func(s *Shape) { s.Vocab = 100 },
		func(s *Shape) { s.Heads = 3 },
		func(s *Shape) { s.HeadsKV = 3 },
		func(s *Shape) { s.RMSEps = 0 },
		func(s *Shape) { s.Layers = -1 },
	}
	for i, f := range bad {
		s := Small()
		f(&s)
		if err := Write(&bytes.Buffer{}, s, 1); err == nil {
			t.Errorf("case %d: Write accepted bad shape %+v", i, s)
		}
	}
	if _, err := ParseShape("huge"); err == nil {
		t.Error("ParseShape accepted an unknown name")
	}
	if s, err := ParseShape("tinyllama"); err != nil || s != TinyLlama() {
		t.Errorf("ParseShape(tinyllama) = %+v, %v", s, err)
	}
}

// TestWriteSmall writes the small shape, reads it back with pkg/gguf and
// evaluates it with pkg/engine.
func TestWriteSmall(t *testing.T) {
	s := Small()
	path := filepath.Join(t.TempDir(), "small.gguf")
	if err := WriteFile(path, s, 7); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	for key, want := range map[string]uint64{
		"llama.embedding_length":        uint64(s.Embd),
		"llama.block_count":             uint64(s.Layers),
		"llama.feed_forward_length":     uint64(s.FF),
		"llama.attention.head_count":    uint64(s.Heads),
		"llama.attention.head_count_kv": uint64(s.HeadsKV),
		"llama.context_length":          uint64(s.Context),
		"general.file_type":             1,
	} {
		if got, err := f.GetUint(key); err != nil || got != want {
			t.Errorf("%s = %d, %v; want %d", key, got, err, want)
		}
	}
	if toks, err := f.GetStrings("tokenizer.ggml.tokens"); err != nil || len(toks) != s.Vocab {
		t.Errorf("tokenizer.ggml.tokens: %d tokens, %v; want %d", len(toks), err, s.Vocab)
	}
	if want := 3 + 9*s.Layers; len(f.Tensors) != want {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), want)
	}

	// Weights: F16 normal(0, 0.02); norms: F32 ones.
	q, ok := f.Tensor("blk.1.ffn_down.weight")
	if !ok || q.Type != ggml.TypeF16 || q.Dims[0] != uint64(s.FF) || q.Dims[1] != uint64(s.Embd) {
		t.Fatalf("blk.1.ffn_down.weight: %+v", q)
	}
	data := f.TensorData(q)
	var sum, sq float64
	n := len(data) / 2
	for i := range n {
		v := float64(ggml.FP16ToFP32(uint16(data[2*i]) | uint16(data[2*i+1])<<8))
		sum += v
		sq += v * v
	}
	mean, std := sum/float64(n), math.Sqrt(sq/float64(n)-(sum/float64(n))*(sum/float64(n)))
	if math.Abs(mean) > 0.002 || math.Abs(std-0.02) > 0.002 {
		t.Errorf("ffn_down weights: mean %g, std %g; want about 0 and 0.02", mean, std)
	}
	norm, ok := f.Tensor("output_norm.weight")
	if !ok || norm.Type != ggml.TypeF32 {
		t.Fatalf("output_norm.weight: %+v", norm)
	}
	for i, b := range f.TensorData(norm) {
		if want := []byte{0, 0, 0x80, 0x3f}[i%4]; b != want {
			t.Fatalf("output_norm.weight byte %d = %#x, want %#x (float32 1)", i, b, want)
		}
	}

	m, err := engine.OpenGGUF(f, engine.Options{Threads: 1, ContextSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	text := "hello world, the cat sat"
	ids := m.Tokenize(text, true, false)
	if len(ids) < 2 || ids[0] != 1 {
		t.Fatalf("Tokenize(%q) = %v, want BOS first", text, ids)
	}
	if got := m.Detokenize(ids); strings.TrimSpace(got) != text {
		t.Errorf("Detokenize(Tokenize(%q)) = %q", text, got)
	}
	c, err := m.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Eval(ids); err != nil {
		t.Fatal(err)
	}
	for i := range ids {
		logits := c.Logits(i)
		if len(logits) != s.Vocab {
			t.Fatalf("logits %d: %d values, want %d", i, len(logits), s.Vocab)
		}
		var norm float64
		for _, v := range logits {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("logits %d: non-finite value %g", i, v)
			}
			norm += float64(v) * float64(v)
		}
		// Random weights give small, nonzero logits.
		if rms := math.Sqrt(norm / float64(len(logits))); rms == 0 || rms > 10 {
			t.Errorf("logits %d: rms %g, want small and nonzero", i, rms)
		}
	}
}

func TestDeterministic(t *testing.T) {
	s := Small()
	s.Layers = 1
	var a, b, c bytes.Buffer
	if err := Write(&a, s, 3); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, s, 3); err != nil {
		t.Fatal(err)
	}
	if err := Write(&c, s, 4); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same seed wrote different files")
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("different seeds wrote the same file")
	}
}
