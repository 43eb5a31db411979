// Command mksynthvision writes a synthetic mmproj GGUF file (and test
// images) with package synthvision, for reference comparisons with
// llama.cpp's mtmd and for benchmarks.
//
//	mksynthvision -shape small -o mmproj.gguf [-seed N] [-mat f16] [-out-embd 256]
//	mksynthvision -image 97x61 -o img.png [-seed N]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/llamafile-go/llamafile/internal/synthvision"
	"github.com/llamafile-go/llamafile/pkg/ggml"
)

func main() {
	shape := flag.String("shape", "small", "encoder shape: small or llava15")
	out := flag.String("o", "", "output file")
	seed := flag.Uint64("seed", 1, "random seed")
	mat := flag.String("mat", "", "matrix type: f32 or f16 (default: the shape's)")
	outEmbd := flag.Int("out-embd", 0, "projector output width (default: the shape's; llava15: 4096)")
	img := flag.String("image", "", "write a WxH test PNG instead of an mmproj")
	flag.Parse()
	if *out == "" {
		fail(fmt.Errorf("-o is required"))
	}
	if *img != "" {
		var w, h int
		if _, err := fmt.Sscanf(*img, "%dx%d", &w, &h); err != nil || w <= 0 || h <= 0 {
			fail(fmt.Errorf("-image %q: want WxH", *img))
		}
		b, err := synthvision.PNG(synthvision.Image(w, h, *seed))
		if err == nil {
			err = os.WriteFile(*out, b, 0o644)
		}
		fail(err)
		return
	}
	var s synthvision.Shape
	switch *shape {
	case "small":
		s = synthvision.Small()
	case "llava15":
		s = synthvision.LLaVA15(4096)
	default:
		fail(fmt.Errorf("-shape %q: want small or llava15", *shape))
	}
	if *outEmbd > 0 {
		s.ProjHidden, s.OutEmbd = *outEmbd, *outEmbd
	}
	switch *mat {
	case "":
	case "f32":
		s.MatType = ggml.TypeF32
	case "f16":
		s.MatType = ggml.TypeF16
	default:
		fail(fmt.Errorf("-mat %q: want f32 or f16", *mat))
	}
	fail(synthvision.WriteFile(*out, s, *seed))
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "mksynthvision:", err)
		os.Exit(1)
	}
}
