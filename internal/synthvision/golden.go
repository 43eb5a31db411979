package synthvision

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// GoldenPrefix is where, under the repository's root, llama.cpp's results
// for the reference image prompt (the Small encoder, seed 1, the 97×61
// Image of seed 1, on the shared synthetic llama) are kept: PREFIX.json
// and PREFIX.logits.f32.
const GoldenPrefix = "pkg/vision/testdata/f32-97x61"

// GoldenLogits returns llama.cpp's logits of the reference image prompt
// (every text position, n_vocab values each, float32 little-endian).
func GoldenLogits(root string) ([]float32, error) {
	raw, err := os.ReadFile(filepath.Join(root, GoldenPrefix+".logits.f32"))
	if err != nil {
		return nil, fmt.Errorf("synthvision: %w", err)
	}
	logits := make([]float32, len(raw)/4)
	for i := range logits {
		logits[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return logits, nil
}

// GoldenNext returns the arg max of llama.cpp's logits at the last
// position of the reference image prompt: the first token a greedy
// generation after it gives.
func GoldenNext(root string, nVocab int) (int32, error) {
	logits, err := GoldenLogits(root)
	if err != nil {
		return 0, err
	}
	if nVocab <= 0 || len(logits) < nVocab {
		return 0, fmt.Errorf("synthvision: %d golden logits for a vocabulary of %d", len(logits), nVocab)
	}
	last := logits[len(logits)-nVocab:]
	best := 0
	for i, v := range last {
		if v > last[best] {
			best = i
		}
	}
	return int32(best), nil
}
