package model

import (
	"errors"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

type editFunc = func([]gguf.KV, []gguf.TensorInfo, [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte)

// setKV replaces (or adds) a metadata key.
func setKV(key string, v any) editFunc {
	return func(kv []gguf.KV, ts []gguf.TensorInfo, d [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte) {
		for i := range kv {
			if kv[i].Key == key {
				kv[i].Value = gguf.MustValueOf(v)
				return kv, ts, d
			}
		}
		return append(kv, gguf.KV{Key: key, Value: gguf.MustValueOf(v)}), ts, d
	}
}

// dropKV removes a metadata key.
func dropKV(key string) editFunc {
	return func(kv []gguf.KV, ts []gguf.TensorInfo, d [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte) {
		out := kv[:0]
		for _, e := range kv {
			if e.Key != key {
				out = append(out, e)
			}
		}
		return out, ts, d
	}
}

// dropTensor removes a tensor.
func dropTensor(name string) editFunc {
	return func(kv []gguf.KV, ts []gguf.TensorInfo, d [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte) {
		for i := range ts {
			if ts[i].Name == name {
				return kv, append(ts[:i:i], ts[i+1:]...), append(d[:i:i], d[i+1:]...)
			}
		}
		return kv, ts, d
	}
}

// reshapeTensor swaps a 2-D tensor's dimensions (same data size).
func reshapeTensor(name string) editFunc {
	return func(kv []gguf.KV, ts []gguf.TensorInfo, d [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte) {
		for i := range ts {
			if ts[i].Name == name {
				ts[i].Dims = []uint64{ts[i].Dims[1], ts[i].Dims[0]}
			}
		}
		return kv, ts, d
	}
}

// retype relabels a tensor's element type as one without kernels (same
// byte size: I16 for F16 data).
func retype(name string, typ ggml.Type) editFunc {
	return func(kv []gguf.KV, ts []gguf.TensorInfo, d [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte) {
		for i := range ts {
			if ts[i].Name == name {
				ts[i].Type = typ
			}
		}
		return kv, ts, d
	}
}

func TestLoadErrors(t *testing.T) {
	base := synthSpec{embd: 64, layers: 1, ff: 64, heads: 4, headsKV: 2, headDim: 16, vocab: 270, typ: ggml.TypeF16, ropeBase: 10000}
	tests := []struct {
		name    string
		edit    editFunc
		is      error
		mention string
	}{
		{"unknown architecture", setKV("general.architecture", "mamba9"), ErrUnknownArchitecture, "mamba9"},
		{"missing tensor", dropTensor("blk.0.ffn_up.weight"), ErrMissingTensor, "blk.0.ffn_up.weight"},
		{"missing norm", dropTensor("output_norm.weight"), ErrMissingTensor, "output_norm.weight"},
		{"wrong shape", reshapeTensor("blk.0.attn_k.weight"), ErrTensorShape, "blk.0.attn_k.weight"},
		{"unsupported type", retype("blk.0.attn_q.weight", ggml.TypeI16), ErrUnsupportedType, "blk.0.attn_q.weight"},
		{"missing key", dropKV("llama.embedding_length"), gguf.ErrKeyNotFound, "llama.embedding_length"},
		{"bad head count", setKV("llama.attention.head_count_kv", uint32(3)), nil, "head_count_kv"},
		{"bad rope scaling", setKV("llama.rope.scaling.type", "spiral"), nil, "spiral"},
		{"wrong key type", setKV("llama.block_count", "two"), nil, "llama.block_count"},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := base
			sp.seed = uint64(100 + i)
			sp.edit = tc.edit
			f, err := gguf.Open(writeSynth(t, dir, sp))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, err = Load(f)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	sp := synthSpec{embd: 64, layers: 1, ff: 64, heads: 4, headsKV: 4, headDim: 16, vocab: 270, typ: ggml.TypeF32, ropeBase: 10000, seed: 7}
	m := openModel(t, writeSynth(t, t.TempDir(), sp))
	s, err := m.NewState(StateOptions{ContextSize: 8, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Eval([]int32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 0); !errors.Is(err, ErrContextOverflow) {
		t.Errorf("9 tokens in a context of 8: got %v, want ErrContextOverflow", err)
	}
	if err := s.Eval([]int32{1, 270}, 0); !errors.Is(err, ErrBadToken) {
		t.Errorf("token 270 of 270: got %v, want ErrBadToken", err)
	}
	if err := s.Eval([]int32{1, -1}, 0); !errors.Is(err, ErrBadToken) {
		t.Errorf("token -1: got %v, want ErrBadToken", err)
	}
	if err := s.Eval(nil, 0); err == nil {
		t.Error("empty batch accepted")
	}
	if err := s.Eval([]int32{1, 2, 3}, 0); err != nil {
		t.Fatal(err)
	}
	if s.Pos() != 3 {
		t.Errorf("Pos %d after 3 tokens", s.Pos())
	}
	if err := s.Eval([]int32{4}, 5); err == nil {
		t.Error("position 5 after 3 cached positions accepted")
	}
	if err := s.Eval([]int32{4, 5, 6, 7, 8, 9}, 3); !errors.Is(err, ErrContextOverflow) {
		t.Errorf("3 cached + 6 tokens in a context of 8: got %v, want ErrContextOverflow", err)
	}
	if l := s.Logits(0); len(l) != sp.vocab {
		t.Errorf("Logits(0) has %d values after a failed Eval, want the previous batch's %d", len(l), sp.vocab)
	}
	if s.Logits(3) != nil || s.Logits(-1) != nil {
		t.Error("Logits out of the batch not nil")
	}
	if _, err := m.NewState(StateOptions{Threads: -1}); err == nil {
		t.Error("negative thread count accepted")
	}
	// Rewinding and re-evaluating gives the same logits.
	want := append([]float32(nil), s.Logits(2)...)
	if err := s.EvalLast([]int32{3}, 2); err != nil {
		t.Fatal(err)
	}
	if nmse, _ := compare(s.Logits(0), want, sp.vocab); nmse > 1e-8 {
		t.Errorf("re-evaluating position 2: nmse %.3e, want (nearly) identical", nmse)
	}
	if s.Logits(0) == nil || s.Logits(1) != nil {
		t.Error("after EvalLast of one token: Logits(0) must be set, Logits(1) nil")
	}
}

// TestDecodeAllocs checks that single-token evaluation does not allocate
// once warmed up.
func TestDecodeAllocs(t *testing.T) {
	sp := synthSpec{embd: 64, layers: 2, ff: 64, heads: 4, headsKV: 2, headDim: 16, vocab: 270, experts: 3, used: 2, typ: ggml.TypeQ8_0, ropeBase: 10000, seed: 8}
	m := openModel(t, writeSynth(t, t.TempDir(), sp))
	s, err := m.NewState(StateOptions{ContextSize: 256, BatchSize: 8, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Eval([]int32{1, 5, 9, 12, 40, 41, 42, 43}, 0); err != nil {
		t.Fatal(err)
	}
	pos := 8
	tok := make([]int32, 1)
	allocs := testing.AllocsPerRun(50, func() {
		tok[0] = int32(pos % 200)
		if err := s.EvalLast(tok, pos); err != nil {
			t.Fatal(err)
		}
		pos++
	})
	if allocs != 0 {
		t.Errorf("EvalLast of one token allocates %.1f times", allocs)
	}
}

// TestDecodeAllocsCacheTypes is TestDecodeAllocs for each cache type, past
// 512 cache cells (where single tokens take the split kernel) and after a
// batch that takes the tiled kernel.
func TestDecodeAllocsCacheTypes(t *testing.T) {
	sp := synthSpec{embd: 128, layers: 2, ff: 96, heads: 4, headsKV: 2, headDim: 32, vocab: 300, typ: ggml.TypeQ8_0, ropeBase: 10000, seed: 12}
	m := openModel(t, writeSynth(t, t.TempDir(), sp))
	prompt := heldoutTokens300(sp.vocab)
	prompt = append(prompt, prompt...)[:520]
	for _, ct := range []CacheType{CacheF16, CacheF32, CacheQ8_0} {
		s, err := m.NewState(StateOptions{ContextSize: 1024, BatchSize: 128, Threads: 2, CacheTypeK: ct, CacheTypeV: ct})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EvalLast(prompt, 0); err != nil {
			t.Fatal(err)
		}
		pos := len(prompt)
		tok := make([]int32, 1)
		allocs := testing.AllocsPerRun(20, func() {
			tok[0] = int32(pos % 200)
			if err := s.EvalLast(tok, pos); err != nil {
				t.Fatal(err)
			}
			pos++
		})
		if allocs != 0 {
			t.Errorf("%s cache: EvalLast of one token allocates %.1f times", ct, allocs)
		}
	}
}
