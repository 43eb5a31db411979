// Package vision runs the CLIP vision encoders of multimodal projector
// ("mmproj") GGUF files as llama.cpp writes them (clip.* metadata, v.* and
// mm.* tensors), computing the image embeddings llama.cpp's mtmd library
// computes, for a language model to read in place of token embeddings.
//
// Load reads the encoder's hyperparameters and takes its weights in place
// from the file's memory map. DecodeImage turns image bytes into RGB
// pixels (bounded in size before decoding); Encoder.Preprocess fits them
// to the encoder's square input exactly as mtmd does (Pillow-compatible
// fixed-point resampling, padding with the projector's colour,
// normalization by the file's image_mean and image_std), and
// Encoder.Encode runs the vision transformer and the projector.
//
// The encoder is a ViT: patch embedding (a convolution, computed as one
// matrix product over the image's patches), class token, position
// embeddings, pre-LayerNorm, pre-norm blocks of attention and a GELU (or
// quick-GELU, or SiLU) feed forward, an optional post-LayerNorm, and the
// output of the layer the projector reads (clip.vision.feature_layer, or
// llama.cpp's default for LLaVA projectors: the second to last block).
// Numerics follow ggml's CPU backend as mtmd runs it: matrix products
// through package cpu, flash attention with keys and values rounded to
// F16 (its tiled kernel), GELU through ggml's F16 lookup table.
//
// Projectors are a table (projectors.go); LLaVA 1.5's two-layer MLP
// ("mlp") is the one implemented.
package vision

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// Errors Load wraps; test with errors.Is.
var (
	// ErrNotVision: the file has no CLIP vision encoder.
	ErrNotVision = errors.New("not a vision projector")
	// ErrUnsupported: the file uses a projector type or feature this
	// package does not implement.
	ErrUnsupported = errors.New("unsupported vision projector")
	// ErrTensor: a tensor is missing, of the wrong shape or of an
	// unsupported type.
	ErrTensor = errors.New("bad vision tensor")
)

// Activation is a feed-forward activation function.
type Activation int

// The activations (clip.use_gelu, clip.use_silu, else quick GELU).
const (
	QuickGELU Activation = iota
	GELU
	SiLU
)

func (a Activation) String() string {
	switch a {
	case GELU:
		return "gelu"
	case SiLU:
		return "silu"
	}
	return "gelu_quick"
}

// Params are a vision encoder's hyperparameters.
type Params struct {
	Projector  string     // clip.projector_type
	ImageSize  int        // input width and height
	PatchSize  int        // patch width and height
	Embd       int        // encoder width
	FF         int        // feed-forward width
	Heads      int        // attention heads
	Layers     int        // blocks in the file
	Eps        float32    // LayerNorm epsilon
	Act        Activation // feed-forward activation
	Mean, Std  [3]float32 // per-channel normalization
	Features   []int      // clip.vision.feature_layer (nil: the default)
	OutEmbd    int        // width of the projected embeddings (the text model's n_embd)
	Tokens     int        // embeddings per image
	ResizeAlgo ResizeAlgo // preprocessing filter
	Pad        PadStyle   // preprocessing padding
	PadColor   [3]uint8   // preprocessing padding colour
}

type layer struct {
	ln1w, ln1b, ln2w, ln2b []float32
	q, k, v, o             cpu.Matrix
	qb, kb, vb, ob         []float32
	up, down               cpu.Matrix
	upb, downb             []float32
}

// Encoder is a loaded vision encoder with its projector. It is immutable
// and safe for concurrent use.
type Encoder struct {
	P Params

	patch      cpu.Matrix // [Embd][3*Patch*Patch], columns (channel, y, x)
	patchBias  []float32
	cls        []float32 // class embedding, nil if none
	pos        []float32 // [nPos][Embd]
	preW, preB []float32
	postW      []float32
	postB      []float32
	layers     []layer
	runLayers  int // blocks evaluated
	proj       projector
	actTable   []float32 // activation by F16 bit pattern (GELU, quick GELU)
}

// loader reads an mmproj file's keys and tensors, naming the file in
// its errors.
type loader struct {
	f    *gguf.File
	name string
}

func (l *loader) errorf(format string, args ...any) error {
	return fmt.Errorf("vision: %s: "+format, append([]any{l.name}, args...)...)
}

func (l *loader) uint(key string, def int, required bool) (int, error) {
	if _, ok := l.f.Get(key); !ok {
		if required {
			return 0, l.errorf("%w: missing key %s", ErrNotVision, key)
		}
		return def, nil
	}
	v, err := l.f.GetUint(key)
	if err != nil || v > 1<<20 {
		return 0, l.errorf("key %s: bad value (%v)", key, err)
	}
	return int(v), nil
}

func (l *loader) bool(key string) (bool, error) {
	if _, ok := l.f.Get(key); !ok {
		return false, nil
	}
	b, err := l.f.GetBool(key)
	if err != nil {
		return false, l.errorf("key %s: %v", key, err)
	}
	return b, nil
}

// tensor finds a tensor of the given dims (ne0 first; trailing ones
// ignored); absent and optional gives nil.
func (l *loader) tensor(name string, optional bool, dims ...int) (*gguf.TensorInfo, error) {
	t, ok := l.f.Tensor(name)
	if !ok {
		if optional {
			return nil, nil
		}
		return nil, l.errorf("%w: missing tensor %q", ErrTensor, name)
	}
	if !t.HasShape(dims...) {
		return nil, l.errorf("%w: tensor %q has shape %v, want %v", ErrTensor, name, t.Dims, dims)
	}
	return t, nil
}

// matrix loads a rows×cols weight (GGUF dims [cols, rows]).
func (l *loader) matrix(name string, optional bool, cols, rows int) (cpu.Matrix, bool, error) {
	t, err := l.tensor(name, optional, cols, rows)
	if err != nil || t == nil {
		return cpu.Matrix{}, false, err
	}
	m, err := cpu.NewMatrix(t.Type, rows, cols, l.f.TensorData(t))
	if err != nil {
		return cpu.Matrix{}, false, l.errorf("%w: tensor %q (%s): %v", ErrTensor, name, t.Type, err)
	}
	return cpu.Pack(m), true, nil
}

// floats loads a tensor of n elements as float32.
func (l *loader) floats(name string, optional bool, dims ...int) ([]float32, error) {
	t, err := l.tensor(name, optional, dims...)
	if err != nil || t == nil {
		return nil, err
	}
	n := 1
	for _, d := range dims {
		n *= d
	}
	m, err := cpu.NewMatrix(t.Type, 1, n, l.f.TensorData(t))
	if err != nil {
		return nil, l.errorf("%w: tensor %q (%s): %v", ErrTensor, name, t.Type, err)
	}
	v := make([]float32, n)
	cpu.Row(m, 0, v)
	return v, nil
}

// IsProjector reports whether f is a vision projector file (it has
// clip.has_vision_encoder, or clip.vision.* hyperparameters).
func IsProjector(f *gguf.File) bool {
	if _, ok := f.Get("clip.has_vision_encoder"); ok {
		return true
	}
	_, ok := f.Get("clip.vision.embedding_length")
	return ok
}

// Load reads the vision encoder of the mmproj file f; name (the file's
// name) labels errors.
func Load(f *gguf.File, name string) (*Encoder, error) {
	l := &loader{f: f, name: name}
	if _, ok := f.Get("clip.has_vision_encoder"); ok {
		if b, err := f.GetBool("clip.has_vision_encoder"); err != nil || !b {
			return nil, l.errorf("%w: clip.has_vision_encoder is not true", ErrNotVision)
		}
	}
	var p Params
	proj, err := f.GetString("clip.projector_type")
	if err != nil {
		if _, ok := f.Get("clip.projector_type"); ok {
			return nil, l.errorf("key clip.projector_type: %v", err)
		}
		if proj, err = f.GetString("clip.vision.projector_type"); err != nil {
			return nil, l.errorf("%w: no clip.projector_type", ErrNotVision)
		}
	}
	p.Projector = proj
	loadProj, ok := projectors[proj]
	if !ok {
		return nil, l.errorf("%w: projector type %q (supported: %v)", ErrUnsupported, proj, Projectors())
	}
	for _, k := range []struct {
		dst *int
		key string
	}{
		{&p.Embd, "clip.vision.embedding_length"},
		{&p.Heads, "clip.vision.attention.head_count"},
		{&p.FF, "clip.vision.feed_forward_length"},
		{&p.Layers, "clip.vision.block_count"},
		{&p.ImageSize, "clip.vision.image_size"},
		{&p.PatchSize, "clip.vision.patch_size"},
	} {
		if *k.dst, err = l.uint(k.key, 0, true); err != nil {
			return nil, err
		}
	}
	if p.Embd <= 0 || p.Heads <= 0 || p.Embd%p.Heads != 0 || p.FF <= 0 || p.Layers <= 0 ||
		p.PatchSize <= 0 || p.ImageSize < p.PatchSize || p.ImageSize > 4096 {
		return nil, l.errorf("bad hyperparameters: embd %d, heads %d, ff %d, layers %d, image %d, patch %d",
			p.Embd, p.Heads, p.FF, p.Layers, p.ImageSize, p.PatchSize)
	}
	if hd, err := l.uint("clip.vision.attention.head_dim", p.Embd/p.Heads, false); err != nil {
		return nil, err
	} else if hd != p.Embd/p.Heads {
		return nil, l.errorf("%w: head_dim %d is not embedding_length/head_count", ErrUnsupported, hd)
	}
	if kv, err := l.uint("clip.vision.attention.head_count_kv", p.Heads, false); err != nil {
		return nil, err
	} else if kv != p.Heads {
		return nil, l.errorf("%w: head_count_kv %d differs from head_count %d", ErrUnsupported, kv, p.Heads)
	}
	eps, err := f.GetFloat("clip.vision.attention.layer_norm_epsilon")
	if err != nil {
		return nil, l.errorf("%w: key clip.vision.attention.layer_norm_epsilon: %v", ErrNotVision, err)
	}
	p.Eps = float32(eps)
	gelu, err := l.bool("clip.use_gelu")
	if err != nil {
		return nil, err
	}
	silu, err := l.bool("clip.use_silu")
	if err != nil {
		return nil, err
	}
	switch {
	case gelu && silu:
		return nil, l.errorf("both clip.use_gelu and clip.use_silu are set")
	case gelu:
		p.Act = GELU
	case silu:
		p.Act = SiLU
	}
	for i, key := range []string{"clip.vision.image_mean", "clip.vision.image_std"} {
		v, err := f.GetFloat32s(key)
		if err != nil || len(v) < 3 {
			return nil, l.errorf("key %s: want 3 floats (%v)", key, err)
		}
		dst := &p.Mean
		if i == 1 {
			dst = &p.Std
		}
		copy(dst[:], v[:3])
	}
	if _, ok := f.Get("clip.vision.feature_layer"); ok {
		fl, err := f.GetInt32s("clip.vision.feature_layer")
		if err != nil {
			return nil, l.errorf("key clip.vision.feature_layer: %v", err)
		}
		for _, x := range fl {
			if x > int32(p.Layers) {
				return nil, l.errorf("clip.vision.feature_layer %d is past the %d blocks", x, p.Layers)
			}
			p.Features = append(p.Features, int(x))
		}
	}
	if _, ok := f.Get("clip.vision.image_grid_pinpoints"); ok {
		return nil, l.errorf("%w: image_grid_pinpoints (LLaVA 1.6 image slicing)", ErrUnsupported)
	}
	if mt, err := f.GetString("clip.vision.mm_patch_merge_type"); err == nil && mt != "" && mt != "flat" {
		return nil, l.errorf("%w: mm_patch_merge_type %q", ErrUnsupported, mt)
	}

	e := &Encoder{}
	np := (p.ImageSize / p.PatchSize) * (p.ImageSize / p.PatchSize)
	d, ps := p.Embd, p.PatchSize
	t, err := l.tensor("v.patch_embd.weight", false, ps, ps, 3, d)
	if err != nil {
		return nil, err
	}
	if e.patch, err = cpu.NewMatrix(t.Type, d, 3*ps*ps, f.TensorData(t)); err != nil {
		return nil, l.errorf("%w: tensor %q (%s): %v", ErrTensor, t.Name, t.Type, err)
	}
	e.patch = cpu.Pack(e.patch)
	if e.patchBias, err = l.floats("v.patch_embd.bias", true, d); err != nil {
		return nil, err
	}
	if e.cls, err = l.floats("v.class_embd", true, d); err != nil {
		return nil, err
	}
	nPos := np
	if e.cls != nil {
		nPos++
	}
	if e.pos, err = l.floats("v.position_embd.weight", false, d, nPos); err != nil {
		return nil, err
	}
	if e.preW, err = l.floats("v.pre_ln.weight", true, d); err != nil {
		return nil, err
	}
	if e.preB, err = l.floats("v.pre_ln.bias", true, d); err != nil {
		return nil, err
	}
	if e.postW, err = l.floats("v.post_ln.weight", true, d); err != nil {
		return nil, err
	}
	if e.postB, err = l.floats("v.post_ln.bias", true, d); err != nil {
		return nil, err
	}
	// The blocks evaluated: up to the deepest feature layer, or for
	// LLaVA projectors all but the last (clip_graph_llava).
	e.runLayers = p.Layers - 1
	if len(p.Features) > 0 {
		e.runLayers = max(slices.Max(p.Features), 0)
	}
	e.layers = make([]layer, e.runLayers)
	for il := range e.layers {
		L := &e.layers[il]
		name := func(s string) string { return fmt.Sprintf("v.blk.%d.%s", il, s) }
		for _, m := range []struct {
			dst  *cpu.Matrix
			name string
		}{{&L.q, "attn_q"}, {&L.k, "attn_k"}, {&L.v, "attn_v"}, {&L.o, "attn_out"}} {
			if *m.dst, _, err = l.matrix(name(m.name+".weight"), false, d, d); err != nil {
				return nil, err
			}
		}
		for _, v := range []struct {
			dst  *[]float32
			name string
		}{
			{&L.qb, "attn_q.bias"}, {&L.kb, "attn_k.bias"}, {&L.vb, "attn_v.bias"}, {&L.ob, "attn_out.bias"},
			{&L.ln1w, "ln1.weight"}, {&L.ln1b, "ln1.bias"}, {&L.ln2w, "ln2.weight"}, {&L.ln2b, "ln2.bias"},
		} {
			if *v.dst, err = l.floats(name(v.name), true, d); err != nil {
				return nil, err
			}
		}
		if _, ok := f.Tensor(name("ffn_gate.weight")); ok {
			return nil, l.errorf("%w: gated feed forward (%s)", ErrUnsupported, name("ffn_gate.weight"))
		}
		// Old conversions stored the feed forward's up and down
		// projections under each other's names (clip.cpp swaps them
		// back when ffn_down reads the encoder width).
		upName, downName := name("ffn_up"), name("ffn_down")
		if t, ok := f.Tensor(downName + ".weight"); ok && len(t.Dims) > 0 && int(t.Dims[0]) == d {
			upName, downName = downName, upName
		}
		if L.up, _, err = l.matrix(upName+".weight", false, d, p.FF); err != nil {
			return nil, err
		}
		if L.upb, err = l.floats(upName+".bias", true, p.FF); err != nil {
			return nil, err
		}
		if L.down, _, err = l.matrix(downName+".weight", false, p.FF, d); err != nil {
			return nil, err
		}
		if L.downb, err = l.floats(downName+".bias", true, d); err != nil {
			return nil, err
		}
	}
	featW := d
	if n := e.features(); n > 0 {
		featW = n * d
	}
	if e.proj, err = loadProj(l, featW); err != nil {
		return nil, err
	}
	p.OutEmbd = e.proj.width()
	p.Tokens = np
	p.ResizeAlgo, p.Pad, p.PadColor = e.proj.preprocessing()
	e.P = p
	e.actTable = activationTable(p.Act)
	return e, nil
}

// features returns how many layer outputs are stacked for the projector
// (0: only the last evaluated one).
func (e *Encoder) features() int {
	return len(e.P.Features)
}

// isFeature reports whether the input of block il (il == runLayers: the
// output after the post-norm) is a feature layer.
func (e *Encoder) isFeature(il int) bool { return slices.Contains(e.P.Features, il) }

// Preprocess fits img to the encoder's input as mtmd does for a
// fixed-size encoder and returns the normalized pixels, interleaved
// ([ImageSize][ImageSize][3]).
func (e *Encoder) Preprocess(img *RGB) ([]float32, error) {
	s := e.P.ImageSize
	r, err := Resize(img, s, s, e.P.ResizeAlgo, e.P.Pad, e.P.PadColor)
	if err != nil {
		return nil, err
	}
	return Normalize(r, e.P.Mean, e.P.Std), nil
}

// Encode preprocesses img and encodes it: Tokens rows of OutEmbd values.
func (e *Encoder) Encode(ctx context.Context, pool *cpu.Pool, img *RGB) ([]float32, error) {
	pix, err := e.Preprocess(img)
	if err != nil {
		return nil, err
	}
	return e.EncodePixels(ctx, pool, pix)
}

// activationTable tabulates GELU or quick GELU over every F16 value, as
// ggml's CPU backend does (ggml_table_gelu_f16): the activation of an F32
// input is the table's entry for the input rounded to F16.
func activationTable(a Activation) []float32 {
	if a == SiLU {
		return nil
	}
	t := make([]float32, 1<<16)
	var in, out [2]byte
	x := make([]float32, 1)
	y := make([]float32, 1)
	for i := range t {
		in[0], in[1] = byte(i), byte(i>>8)
		cpu.FP16ToFP32Row(x, in[:])
		v := x[0]
		switch a {
		case GELU:
			const c = 0.79788456080286535587989211986876
			v = 0.5 * v * (1 + float32(math.Tanh(float64(float32(c)*v*(1+0.044715*v*v)))))
		default:
			v = v * (1 / (1 + float32(math.Exp(float64(-1.702*v)))))
		}
		y[0] = v
		cpu.FP32ToFP16Row(out[:], y)
		cpu.FP16ToFP32Row(x, out[:])
		t[i] = x[0]
	}
	return t
}
