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
		func(s *Shape) { s.Arch = "gpt2" },
		func(s *Shape) { s.RopeDims = 8 },                      // llama rotates whole heads
		func(s *Shape) { s.Arch, s.RopeDims = "stablelm", 3 },  // odd
		func(s *Shape) { s.Arch, s.RopeDims = "stablelm", 64 }, // past the head
		func(s *Shape) { s.Window = 16 },                       // gemma3's only
		func(s *Shape) { s.Arch, s.Window = "gemma3", -1 },     // negative
		func(s *Shape) { s.Experts, s.ExpertsUsed = 4, 2 },     // qwen3moe's only
		func(s *Shape) { s.Arch = "qwen3moe" },                 // no experts
		func(s *Shape) { s.Arch, s.Experts, s.ExpertsUsed = "qwen3moe", 2, 4 },
		func(s *Shape) { s.Arch, s.Vocab = "gemma3", 260 }, // 6 special tokens + 256 bytes
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

	checkEngine(t, f, s, 1)
}

// checkEngine evaluates a text with pkg/engine on the model f of shape s
// and checks that it tokenizes with BOS (id bos) first, detokenizes back,
// and that every position's logits are finite, small and nonzero.
func checkEngine(t *testing.T, f *gguf.File, s Shape, bos int32) {
	t.Helper()
	m, err := engine.OpenGGUF(f, engine.Options{Threads: 1, ContextSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	text := "hello world, the cat sat"
	ids := m.Tokenize(text, true, false)
	if len(ids) < 2 || ids[0] != bos {
		t.Fatalf("Tokenize(%q) = %v, want BOS %d first", text, ids, bos)
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

// TestWriteArchs writes the small shape's twin in each architecture,
// checks the metadata and tensors that set it apart, and evaluates it
// with pkg/engine.
func TestWriteArchs(t *testing.T) {
	// Tensors each twin has (of layer 0 or the whole model) and lacks.
	has := map[string][]string{
		"llama":    {"blk.0.attn_q.weight", "blk.0.ffn_gate.weight", "output.weight"},
		"qwen2":    {"blk.0.attn_q.bias", "blk.0.attn_k.bias", "blk.0.attn_v.bias"},
		"qwen3":    {"blk.0.attn_q_norm.weight", "blk.0.attn_k_norm.weight"},
		"phi3":     {"blk.0.attn_qkv.weight", "blk.0.ffn_up.weight"},
		"stablelm": {"blk.0.attn_norm.bias", "blk.0.ffn_norm.bias", "output_norm.bias", "blk.0.attn_q.bias"},
		"gemma3":   {"blk.0.post_attention_norm.weight", "blk.0.post_ffw_norm.weight", "blk.0.attn_q_norm.weight"},
		"qwen3moe": {"blk.0.ffn_gate_inp.weight", "blk.0.ffn_gate_exps.weight", "blk.0.ffn_down_exps.weight", "blk.0.attn_k_norm.weight"},
	}
	lacks := map[string][]string{
		"llama":    {"blk.0.attn_q.bias", "blk.0.attn_q_norm.weight", "blk.0.attn_qkv.weight"},
		"qwen2":    {"blk.0.attn_q_norm.weight"},
		"qwen3":    {"blk.0.attn_q.bias"},
		"phi3":     {"blk.0.attn_q.weight", "blk.0.ffn_gate.weight"},
		"stablelm": {"blk.0.attn_q_norm.weight"},
		"gemma3":   {"output.weight", "blk.0.attn_q.bias"},
		"qwen3moe": {"blk.0.ffn_gate.weight", "blk.0.ffn_up.weight"},
	}
	for _, arch := range Archs {
		t.Run(arch, func(t *testing.T) {
			s, err := Small().ForArch(arch)
			if err != nil {
				t.Fatal(err)
			}
			if arch == "gemma3" {
				s.Window = 4 // local layers that the text crosses
			}
			path := filepath.Join(t.TempDir(), arch+".gguf")
			if err := WriteFile(path, s, 11); err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got, err := f.GetString("general.architecture"); err != nil || got != arch {
				t.Errorf("general.architecture = %q, %v; want %q", got, err, arch)
			}
			if got, err := f.GetUint(arch + ".block_count"); err != nil || got != uint64(s.Layers) {
				t.Errorf("%s.block_count = %d, %v; want %d", arch, got, err, s.Layers)
			}
			for _, name := range has[arch] {
				if _, ok := f.Tensor(name); !ok {
					t.Errorf("no tensor %s", name)
				}
			}
			for _, name := range lacks[arch] {
				if _, ok := f.Tensor(name); ok {
					t.Errorf("tensor %s, which %s has not", name, arch)
				}
			}
			switch arch {
			case "phi3":
				up, _ := f.Tensor("blk.0.ffn_up.weight")
				qkv, _ := f.Tensor("blk.0.attn_qkv.weight")
				if up.Dims[1] != uint64(2*s.FF) || qkv.Dims[1] != uint64(s.Embd+2*s.Embd/s.Heads*s.HeadsKV) {
					t.Errorf("ffn_up %v, attn_qkv %v: want the fused widths", up.Dims, qkv.Dims)
				}
			case "stablelm":
				if got, _ := f.GetUint("stablelm.rope.dimension_count"); got != uint64(s.Embd/s.Heads/4) {
					t.Errorf("stablelm.rope.dimension_count = %d, want a quarter of the head size %d", got, s.Embd/s.Heads)
				}
			case "gemma3":
				if got, _ := f.GetUint("gemma3.attention.sliding_window"); got != 4 {
					t.Errorf("gemma3.attention.sliding_window = %d, want 4", got)
				}
			case "qwen3moe":
				e, _ := f.Tensor("blk.0.ffn_up_exps.weight")
				if len(e.Dims) != 3 || e.Dims[1] != uint64(s.FF/4) || e.Dims[2] != 8 {
					t.Errorf("ffn_up_exps %v: want 8 experts of width %d", e.Dims, s.FF/4)
				}
			}
			checkEngine(t, f, s, int32(vocabFor(arch).bos))
		})
	}
}

func TestForArch(t *testing.T) {
	for _, arch := range Archs {
		s, err := TinyLlama().ForArch(arch)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", arch, err)
		}
		if s.Embd != 2048 || s.Layers != 22 || s.FF != 5632 || s.Heads != 32 || s.HeadsKV != 4 || s.Vocab != 32000 {
			t.Errorf("%s: %+v is not TinyLlama-sized", arch, s)
		}
		if arch != "llama" && !strings.HasPrefix(s.Name, arch+"-") {
			t.Errorf("%s: name %q", arch, s.Name)
		}
		if again, err := s.ForArch(arch); err != nil || again != s {
			t.Errorf("%s: ForArch twice = %+v, %v", arch, again, err)
		}
	}
	if s, _ := TinyLlama().ForArch("llama"); s != TinyLlama() {
		t.Errorf("llama twin %+v differs from TinyLlama()", s)
	}
	if s, _ := TinyLlama().ForArch("stablelm"); s.RopeDims != 16 {
		t.Errorf("stablelm RopeDims %d, want 16", s.RopeDims)
	}
	if s, _ := TinyLlama().ForArch("gemma3"); s.Window != 512 || s.RopeBase != 1e6 {
		t.Errorf("gemma3 Window %d RopeBase %g, want 512 and 1e6", s.Window, s.RopeBase)
	}
	if s, _ := TinyLlama().ForArch("qwen3moe"); s.Experts != 8 || s.ExpertsUsed != 4 || s.expertFF() != 1408 {
		t.Errorf("qwen3moe experts %d used %d width %d, want 8, 4, 1408", s.Experts, s.ExpertsUsed, s.expertFF())
	}
	if _, err := TinyLlama().ForArch("gpt2"); err == nil {
		t.Error("ForArch accepted an unknown architecture")
	}
	if q, _ := TinyLlama().ForArch("qwen2"); q.Arch == "qwen2" {
		if _, err := q.ForArch("phi3"); err == nil {
			t.Error("ForArch turned a qwen2 twin into phi3")
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

// TestWriteQ8_0 checks Shape.Weights: Q8_0 matrices drawn as blocks of
// scale std/32 (norms staying F32), the file type saying so, and the
// types without a writer refused.
func TestWriteQ8_0(t *testing.T) {
	s := Small()
	s.Weights = ggml.TypeQ8_0
	path := filepath.Join(t.TempDir(), "small-q8_0.gguf")
	if err := WriteFile(path, s, 7); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ft, err := f.GetUint("general.file_type"); err != nil || ft != 7 {
		t.Errorf("general.file_type = %d, %v; want 7 (MOSTLY_Q8_0)", ft, err)
	}
	scale := ggml.FP32ToFP16(0.02 / 32)
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		want := ggml.TypeQ8_0
		if len(ti.Dims) == 1 {
			want = ggml.TypeF32
		}
		if ti.Type != want {
			t.Errorf("%s: %v, want %v", ti.Name, ti.Type, want)
			continue
		}
		if want != ggml.TypeQ8_0 {
			continue
		}
		data := f.TensorData(ti)
		distinct := map[byte]bool{}
		for b := 0; b+34 <= len(data); b += 34 {
			if h := uint16(data[b]) | uint16(data[b+1])<<8; h != scale {
				t.Fatalf("%s: block %d has scale %#04x, want %#04x", ti.Name, b/34, h, scale)
			}
			for _, q := range data[b+2 : b+34] {
				distinct[q] = true
			}
		}
		if len(distinct) < 200 {
			t.Errorf("%s: only %d distinct quant bytes: not drawn uniformly", ti.Name, len(distinct))
		}
	}
	s.Weights = ggml.TypeQ4_0
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "Weights") {
		t.Errorf("Validate with Q4_0 weights: %v, want an error naming Weights", err)
	}
}
