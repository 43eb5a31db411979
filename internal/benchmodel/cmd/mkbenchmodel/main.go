// Command mkbenchmodel writes a GGUF model with random F16 weights for
// benchmarking (see package benchmodel):
//
//	mkbenchmodel [-arch ARCH] [-shape tinyllama|small] [-seed N] [-layers N] OUT.gguf
//
// The default shape is TinyLlama 1.1B's (about 2.2 GB in F16) in the llama
// architecture; -arch qwen2, qwen3, phi3, stablelm, gemma3 or qwen3moe
// writes that family's twin of the shape (benchmodel.Shape.ForArch).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/llamafile-go/llamafile/internal/benchmodel"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("mkbenchmodel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	arch := fs.String("arch", "llama", "architecture: "+strings.Join(benchmodel.Archs, ", "))
	shapeName := fs.String("shape", "tinyllama", "model shape: tinyllama or small")
	seed := fs.Uint64("seed", 1, "random seed of the weights")
	layers := fs.Int("layers", 0, "number of layers (0: the shape's)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mkbenchmodel [flags] OUT.gguf")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	shape, err := benchmodel.ParseShape(*shapeName)
	if err != nil {
		fmt.Fprintf(stderr, "mkbenchmodel: %v\n", err)
		return 2
	}
	if *layers != 0 {
		shape.Layers = *layers
	}
	if shape, err = shape.ForArch(*arch); err != nil {
		fmt.Fprintf(stderr, "mkbenchmodel: %v\n", err)
		return 2
	}
	if err := benchmodel.WriteFile(fs.Arg(0), shape, *seed); err != nil {
		fmt.Fprintf(stderr, "mkbenchmodel: %v\n", err)
		return 1
	}
	return 0
}
