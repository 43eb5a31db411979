package engine_test

import (
	"fmt"
	"log"
	"os"

	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// Generate a completion greedily (temperature 0), printing it as it comes.
func Example() {
	m, err := engine.Open("stories260k.gguf", engine.Options{ContextSize: 256, Threads: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	c, err := m.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	prompt := m.Tokenize("Once upon a time", true, true)
	_, err = c.Generate(prompt, engine.Greedy{}, 64, func(tok int32) bool {
		os.Stdout.Write(m.TokenToPiece(tok))
		return true
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println()
}

// Sample with llama.cpp's default sampler chain (temperature 0.8, top-k 40,
// top-p 0.95, min-p 0.05) and a fixed seed.
func ExampleContext_Generate() {
	m, err := engine.Open("model.gguf", engine.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	c, err := m.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	p := sample.DefaultParams()
	p.Seed = 42
	s, err := sample.New(p, m.NumVocab())
	if err != nil {
		log.Fatal(err)
	}
	out, err := c.Generate(m.Tokenize("The capital of France is", true, true), s, 32, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Detokenize(out))
}

// Read the logits of every position of a prompt (teacher forcing), for
// example to compute perplexity.
func ExampleContext_Logits() {
	m, err := engine.Open("model.gguf", engine.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	c, err := m.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	toks := m.Tokenize("One day, a big bird", true, true)
	if err := c.Eval(toks); err != nil {
		log.Fatal(err)
	}
	for i := range toks {
		logits := c.Logits(i)
		best, _ := engine.Greedy{}.Sample(logits)
		fmt.Printf("after %q the model expects %q\n", m.Detokenize(toks[:i+1]), m.TokenToPiece(best))
	}
}
