package model

import (
	"errors"

	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// ErrNoEmbeddingInput: a batch row carries an input embedding (an image's,
// say) and the model's architecture does not take them.
var ErrNoEmbeddingInput = errors.New("architecture does not take input embeddings")

// embeddingInput is implemented by networks whose forward pass takes a
// batch row's input embedding (BatchEntry.Embd) in place of its token's
// embedding, as llama.cpp's llama_batch.embd does.
type embeddingInput interface {
	takesEmbeddings() bool
}

func (n *llama) takesEmbeddings() bool { return true }

// inputRow writes row i's input to dst: its embedding from the batch if
// it has one, else row t of the token embedding matrix.
func (s *Runner) inputRow(tokEmbd cpu.Matrix, i int, t int32, dst []float32) {
	if i < len(s.inEmbd) && s.inEmbd[i] != nil {
		copy(dst, s.inEmbd[i])
		return
	}
	cpu.Row(tokEmbd, int(t), dst)
}
