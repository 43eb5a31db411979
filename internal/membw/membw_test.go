package membw

import (
	"path/filepath"
	"testing"

	"github.com/llamafile-go/llamafile/internal/benchmodel"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// TestTokenBytes checks the bytes of a single-token pass against the sum
// over the tensors written: every tensor once, the embedding table for one
// row only unless the output is tied to it (gemma3), and the cache's keys
// and values of every layer at the position given.
func TestTokenBytes(t *testing.T) {
	for _, arch := range []string{"llama", "gemma3"} {
		s, err := benchmodel.Small().ForArch(arch)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), arch+".gguf")
		if err := benchmodel.WriteFile(path, s, 1); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		all := 0.0
		for _, ti := range f.Tensors {
			all += float64(ti.Size)
		}
		emb, _ := f.Tensor("token_embd.weight")
		want := all - float64(emb.Size) + float64(emb.Size)/float64(s.Vocab)
		if arch == "gemma3" {
			want = all
		}
		const pos = 10
		want += float64(s.Layers) * 2 * float64(s.Embd/s.Heads*s.HeadsKV) * 2 * pos
		got, err := TokenBytes(f, pos, 2)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: %v bytes per token, want %v", arch, got, want)
		}
	}
}

// TestStream checks that Stream reports a positive rate and writes every
// page of its buffer first.
func TestStream(t *testing.T) {
	buf := make([]byte, 8<<20)
	if bw := Stream(buf, 2, 2); bw <= 0 {
		t.Fatalf("bandwidth %v", bw)
	}
	for i := 0; i < len(buf); i += 4096 {
		if buf[i] != byte(i%255+1) {
			t.Fatalf("byte %d not written", i)
		}
	}
}
