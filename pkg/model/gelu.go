package model

import (
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// geluTable holds GELU (the tanh approximation) of every F16 value, as
// F16. ggml's CPU backend computes GELU, and the GELU of GeGLU, through
// such a table (GGML_GELU_FP16): the input is rounded to F16 and looked
// up, except below -10 (0) and from 10 on (the input itself).
type geluTable [1 << 16]uint16

func newGeluTable() *geluTable {
	t := new(geluTable)
	for i := range t {
		t[i] = ggml.FP32ToFP16(geluF32(ggml.FP16ToFP32(uint16(i))))
	}
	return t
}

// geluF32 is ggml's ggml_gelu_f32: 0.5·x·(1 + tanh(√(2/π)·x·(1 +
// 0.044715·x²))), in float32.
func geluF32(x float32) float32 {
	const a, c = float32(0.044715), float32(0.79788456080286535587989211986876)
	inner := float32(float32(c*x) * float32(1+float32(float32(a*x)*x)))
	return float32(float32(0.5*x) * float32(1+float32(math.Tanh(float64(inner)))))
}

// geglu sets dst = GELU(x)·g, as ggml_vec_geglu_f32 does with the table.
func (t *geluTable) geglu(dst, x, g []float32) {
	g = g[:len(x)]
	dst = dst[:len(x)]
	for i, v := range x {
		switch {
		case v <= -10:
			dst[i] = 0
		case v >= 10:
			dst[i] = v * g[i]
		default:
			dst[i] = ggml.FP16ToFP32(t[ggml.FP32ToFP16(v)]) * g[i]
		}
	}
}
