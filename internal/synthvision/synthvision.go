// Package synthvision writes synthetic CLIP vision projector (mmproj) GGUF
// files with random weights, in the layout llama.cpp's LLaVA converter
// writes (clip.* keys, v.* and mm.* tensors), and deterministic test
// images, so that pkg/vision can be compared with llama.cpp's mtmd without
// downloading a model. The weights are deterministic for a seed: each
// tensor draws from its own PCG stream, so a file is the same bytes on
// every machine.
package synthvision

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// Shape is a vision encoder's hyperparameters.
type Shape struct {
	ImageSize, PatchSize int
	Embd, FF, Heads      int
	Layers               int
	ProjHidden, OutEmbd  int       // mm.0 output width, mm.2 output width (the text model's n_embd)
	GELU                 bool      // clip.use_gelu (else quick GELU)
	Features             []int32   // clip.vision.feature_layer (nil: absent)
	PostLN               bool      // write v.post_ln
	MatType              ggml.Type // type of the 2-D weights and the patch embedding (F32 or F16)
	Std                  float64   // weight standard deviation; 0 means 0.05
}

// Small is the shape of the committed reference goldens: a 112×112
// image in 14×14 patches (64 patches and a class token, enough for ggml's
// tiled attention), 128 wide, 4 heads, 3 blocks, projecting to 256 (the
// width of ../shared's synth-llama models).
func Small() Shape {
	return Shape{ImageSize: 112, PatchSize: 14, Embd: 128, FF: 256, Heads: 4, Layers: 3,
		ProjHidden: 256, OutEmbd: 256, GELU: false, MatType: ggml.TypeF32}
}

// LLaVA15 is LLaVA 1.5's encoder shape (CLIP ViT-L/14 at 336, 24 blocks
// of which 23 run, F16 weights), projecting to outEmbd.
func LLaVA15(outEmbd int) Shape {
	return Shape{ImageSize: 336, PatchSize: 14, Embd: 1024, FF: 4096, Heads: 16, Layers: 24,
		ProjHidden: outEmbd, OutEmbd: outEmbd, GELU: false, MatType: ggml.TypeF16, Std: 0.02}
}

type tensor struct {
	name  string
	dims  []uint64
	typ   ggml.Type
	kind  int // 0 random, 1 around one (norm weights), 2 small (biases)
	scale float64
}

func (s Shape) tensors() []tensor {
	d, p := uint64(s.Embd), uint64(s.PatchSize)
	np := uint64((s.ImageSize / s.PatchSize) * (s.ImageSize / s.PatchSize))
	std := s.Std
	if std == 0 {
		std = 0.05
	}
	m := func(name string, cols, rows uint64) tensor {
		return tensor{name: name, dims: []uint64{cols, rows}, typ: s.MatType, scale: std}
	}
	v := func(name string, n uint64, kind int) tensor {
		return tensor{name: name, dims: []uint64{n}, typ: ggml.TypeF32, kind: kind, scale: 0.05}
	}
	ts := []tensor{
		{name: "v.patch_embd.weight", dims: []uint64{p, p, 3, d}, typ: s.MatType, scale: std},
		v("v.class_embd", d, 0),
		{name: "v.position_embd.weight", dims: []uint64{d, np + 1}, typ: ggml.TypeF32, scale: 0.05},
		v("v.pre_ln.weight", d, 1), v("v.pre_ln.bias", d, 2),
	}
	for il := 0; il < s.Layers; il++ {
		b := fmt.Sprintf("v.blk.%d.", il)
		for _, n := range []string{"attn_q", "attn_k", "attn_v", "attn_out"} {
			ts = append(ts, m(b+n+".weight", d, d), v(b+n+".bias", d, 2))
		}
		ts = append(ts,
			v(b+"ln1.weight", d, 1), v(b+"ln1.bias", d, 2),
			m(b+"ffn_up.weight", d, uint64(s.FF)), v(b+"ffn_up.bias", uint64(s.FF), 2),
			m(b+"ffn_down.weight", uint64(s.FF), d), v(b+"ffn_down.bias", d, 2),
			v(b+"ln2.weight", d, 1), v(b+"ln2.bias", d, 2))
	}
	if s.PostLN {
		ts = append(ts, v("v.post_ln.weight", d, 1), v("v.post_ln.bias", d, 2))
	}
	in := d
	if len(s.Features) > 0 {
		in = d * uint64(len(s.Features))
	}
	ts = append(ts,
		m("mm.0.weight", in, uint64(s.ProjHidden)), v("mm.0.bias", uint64(s.ProjHidden), 2),
		m("mm.2.weight", uint64(s.ProjHidden), uint64(s.OutEmbd)), v("mm.2.bias", uint64(s.OutEmbd), 2))
	return ts
}

func (s Shape) metadata() []gguf.KV {
	kv := func(k string, v any) gguf.KV { return gguf.KV{Key: k, Value: gguf.MustValueOf(v)} }
	ftype := uint32(0)
	if s.MatType == ggml.TypeF16 {
		ftype = 1
	}
	out := []gguf.KV{
		kv("general.architecture", "clip"),
		kv("general.name", "synthetic-llava-mmproj"),
		kv("general.file_type", ftype),
		kv("clip.has_text_encoder", false),
		kv("clip.has_vision_encoder", true),
		kv("clip.has_llava_projector", true),
		kv("clip.projector_type", "mlp"),
		kv("clip.use_gelu", s.GELU),
		kv("clip.vision.image_size", uint32(s.ImageSize)),
		kv("clip.vision.patch_size", uint32(s.PatchSize)),
		kv("clip.vision.embedding_length", uint32(s.Embd)),
		kv("clip.vision.feed_forward_length", uint32(s.FF)),
		kv("clip.vision.projection_dim", uint32(s.OutEmbd)),
		kv("clip.vision.attention.head_count", uint32(s.Heads)),
		kv("clip.vision.attention.layer_norm_epsilon", float32(1e-5)),
		kv("clip.vision.block_count", uint32(s.Layers)),
		kv("clip.vision.image_mean", []float32{0.48145466, 0.4578275, 0.40821073}),
		kv("clip.vision.image_std", []float32{0.26862954, 0.26130258, 0.27577711}),
	}
	if len(s.Features) > 0 {
		out = append(out, kv("clip.vision.feature_layer", s.Features))
	}
	return out
}

// Write writes the mmproj file of shape s with weights drawn from seed.
func Write(w io.Writer, s Shape, seed uint64) error {
	ts := s.tensors()
	infos := make([]gguf.TensorInfo, len(ts))
	for i, t := range ts {
		infos[i] = gguf.TensorInfo{Name: t.name, Dims: t.dims, Type: t.typ}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	err := gguf.Write(bw, s.metadata(), infos, func(i int) ([]byte, error) {
		t := ts[i]
		n := uint64(1)
		for _, d := range t.dims {
			n *= d
		}
		rng := rand.New(rand.NewPCG(seed, uint64(i)+1))
		vals := make([]float32, n)
		for j := range vals {
			x := rng.NormFloat64() * t.scale
			switch t.kind {
			case 1:
				x += 1
			case 2:
				x *= 0.5
			}
			vals[j] = float32(x)
		}
		if t.typ == ggml.TypeF16 {
			out := make([]byte, 2*n)
			for j, x := range vals {
				binary.LittleEndian.PutUint16(out[2*j:], ggml.FP32ToFP16(x))
			}
			return out, nil
		}
		out := make([]byte, 4*n)
		for j, x := range vals {
			binary.LittleEndian.PutUint32(out[4*j:], math.Float32bits(x))
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// WriteFile writes the mmproj file to path.
func WriteFile(path string, s Shape, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Write(f, s, seed); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Image returns a deterministic w×h test image: smooth gradients, a few
// discs and a little noise, so that resampling has edges to get right.
func Image(w, h int, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 99))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	type disc struct{ x, y, r float64 }
	discs := make([]disc, 4)
	for i := range discs {
		discs[i] = disc{rng.Float64() * float64(w), rng.Float64() * float64(h), (0.1 + 0.2*rng.Float64()) * float64(min(w, h))}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r := 255 * float64(x) / float64(max(w-1, 1))
			g := 255 * float64(y) / float64(max(h-1, 1))
			b := 128 + 100*math.Sin(float64(x+2*y)/7)
			for i, d := range discs {
				if (float64(x)-d.x)*(float64(x)-d.x)+(float64(y)-d.y)*(float64(y)-d.y) < d.r*d.r {
					r, g, b = g, b, r
					if i%2 == 1 {
						r = 255 - r
					}
				}
			}
			c := func(v float64) uint8 { return uint8(max(0, min(255, v+rng.Float64()*16-8))) }
			img.SetNRGBA(x, y, color.NRGBA{c(r), c(g), c(b), 255})
		}
	}
	return img
}

// PNG encodes img as PNG.
func PNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
