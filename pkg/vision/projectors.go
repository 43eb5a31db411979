package vision

import (
	"sort"

	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// projector maps the encoder's features (one row per image patch) to the
// text model's embedding width.
type projector interface {
	// width is the output width (the text model's n_embd).
	width() int
	// project maps n rows of features x to n rows of width() values.
	project(r *run, x []float32, n int) []float32
	// preprocessing is how images are fitted to the encoder's input
	// for this projector (clip.cpp's per-projector hparams).
	preprocessing() (ResizeAlgo, PadStyle, [3]uint8)
}

// projectors maps clip.projector_type to the function loading it; in is
// the width of the features it reads. Adding a projector is one entry.
var projectors = map[string]func(l *loader, in int) (projector, error){
	"mlp": loadMLP,
}

// Projectors returns the supported clip.projector_type values, sorted.
func Projectors() []string {
	names := make([]string, 0, len(projectors))
	for n := range projectors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// mlp is LLaVA's projector: mm.0 → GELU → mm.2 (mm.2 optional).
type mlp struct {
	w0, w2 cpu.Matrix
	b0, b2 []float32
	has2   bool
}

func loadMLP(l *loader, in int) (projector, error) {
	t, ok := l.f.Tensor("mm.0.weight")
	if !ok || len(t.Dims) != 2 {
		return nil, l.errorf("%w: missing 2-D tensor %q", ErrTensor, "mm.0.weight")
	}
	var err error
	hidden := int(t.Dims[1])
	p := &mlp{}
	if p.w0, _, err = l.matrix("mm.0.weight", false, in, hidden); err != nil {
		return nil, err
	}
	if p.b0, err = l.floats("mm.0.bias", true, hidden); err != nil {
		return nil, err
	}
	out := hidden
	if t2, ok := l.f.Tensor("mm.2.weight"); ok && len(t2.Dims) == 2 {
		out = int(t2.Dims[1])
		if p.w2, p.has2, err = l.matrix("mm.2.weight", false, hidden, out); err != nil {
			return nil, err
		}
		if p.b2, err = l.floats("mm.2.bias", true, out); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *mlp) width() int {
	if p.has2 {
		return p.w2.Rows
	}
	return p.w0.Rows
}

func (p *mlp) project(r *run, x []float32, n int) []float32 {
	h := make([]float32, n*p.w0.Rows)
	r.matmul(p.w0, x, n, h, p.b0)
	r.act(h, GELU)
	if !p.has2 {
		return h
	}
	out := make([]float32, n*p.w2.Rows)
	r.matmul(p.w2, h, n, out, p.b2)
	return out
}

// preprocessing: LLaVA pads with the CLIP mean colour, rounded down
// (122, 116, 104), and resizes bicubically.
func (p *mlp) preprocessing() (ResizeAlgo, PadStyle, [3]uint8) {
	return Bicubic, PadCeil, [3]uint8{122, 116, 104}
}
