package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// rewriteModel writes a copy of the GGUF model src to dir/name after edit
// changed its metadata and tensors (data[i] is tensor i's bytes).
func rewriteModel(t *testing.T, src, dir, name string, edit func(kv []gguf.KV, ts []gguf.TensorInfo, data [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte)) string {
	t.Helper()
	f, err := gguf.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kv := append([]gguf.KV(nil), f.KV...)
	var ts []gguf.TensorInfo
	var data [][]byte
	for i := range f.Tensors {
		ti := f.Tensors[i]
		data = append(data, f.TensorData(&ti))
		ti.Dims = append([]uint64(nil), ti.Dims...)
		ts = append(ts, ti)
	}
	kv, ts, data = edit(kv, ts, data)
	path := filepath.Join(dir, name)
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := gguf.Write(out, kv, ts, func(i int) ([]byte, error) { return data[i], nil }); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// tensorIndex returns the index of the tensor called name in ts.
func tensorIndex(t *testing.T, ts []gguf.TensorInfo, name string) int {
	t.Helper()
	for i := range ts {
		if ts[i].Name == name {
			return i
		}
	}
	t.Fatalf("no tensor %q", name)
	return -1
}

// TestCraftedModelErrors runs the command on models made broken with the
// GGUF writer: each error is one line naming the problem and the file, with
// status 1 and no stack trace.
func TestCraftedModelErrors(t *testing.T) {
	src := stories(t)
	dir := t.TempDir()
	type editFunc = func(kv []gguf.KV, ts []gguf.TensorInfo, data [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte)
	tests := []struct {
		name string
		edit editFunc
		want []string
	}{
		{"unknown architecture", func(kv []gguf.KV, ts []gguf.TensorInfo, data [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte) {
			for i := range kv {
				if kv[i].Key == "general.architecture" {
					kv[i].Value = gguf.MustValueOf("mamba7")
				}
			}
			return kv, ts, data
		}, []string{"unknown model architecture", `"mamba7"`}},
		{"missing tensor", func(kv []gguf.KV, ts []gguf.TensorInfo, data [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte) {
			i := tensorIndex(t, ts, "blk.2.ffn_down.weight")
			return kv, append(ts[:i:i], ts[i+1:]...), append(data[:i:i], data[i+1:]...)
		}, []string{"missing tensor", `"blk.2.ffn_down.weight"`}},
		{"wrong shape", func(kv []gguf.KV, ts []gguf.TensorInfo, data [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte) {
			// The same number of elements, rows and columns swapped.
			i := tensorIndex(t, ts, "blk.1.ffn_up.weight")
			ts[i].Dims[0], ts[i].Dims[1] = ts[i].Dims[1], ts[i].Dims[0]
			return kv, ts, data
		}, []string{"wrong tensor shape", `"blk.1.ffn_up.weight"`}},
		{"unsupported type", func(kv []gguf.KV, ts []gguf.TensorInfo, data [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte) {
			// I32 has the size of F32 but no matrix kernel.
			i := tensorIndex(t, ts, "blk.0.attn_k.weight")
			ts[i].Type = ggml.TypeI32
			return kv, ts, data
		}, []string{"unsupported tensor type", `"blk.0.attn_k.weight"`, "I32"}},
		{"missing hyperparameter", func(kv []gguf.KV, ts []gguf.TensorInfo, data [][]byte) ([]gguf.KV, []gguf.TensorInfo, [][]byte) {
			for i := range kv {
				if kv[i].Key == "llama.embedding_length" {
					return append(kv[:i:i], kv[i+1:]...), ts, data
				}
			}
			t.Fatal("no llama.embedding_length")
			return nil, nil, nil
		}, []string{`"llama.embedding_length"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := rewriteModel(t, src, dir, strings.ReplaceAll(tt.name, " ", "-")+".gguf", tt.edit)
			r := llamafile(t, nil, "-m", path, "-p", "Once upon a time", "-n", "4", "--log-disable")
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "llamafile: ") {
				t.Errorf("exit %d, stderr %q: want one error line and status 1", r.code, r.stderr)
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not mention %q", r.stderr, w)
				}
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
				t.Errorf("stack trace:\n%s", r.stderr)
			}
		})
	}

	// A prompt longer than the context: one line with the numbers.
	r := llamafile(t, nil, "-m", src, "-c", "16", "-p", strings.Repeat("Once upon a time ", 8), "--log-disable")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "prompt is too long (") || !strings.Contains(r.stderr, "context is 16") {
		t.Errorf("long prompt: exit %d, stderr %q", r.code, r.stderr)
	}
	// The model's own context (-c 0) is 512 tokens for stories260k.
	r = llamafile(t, nil, "-m", src, "-p", strings.Repeat("Once upon a time ", 200), "--log-disable")
	if r.code != 1 || !strings.Contains(r.stderr, "context is 512") {
		t.Errorf("prompt longer than the model's context: exit %d, stderr %q", r.code, r.stderr)
	}
}
