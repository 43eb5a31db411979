package main

import (
	"strings"
	"testing"
)

// sampledGolden holds llama.cpp's seeded completions of stories260k.gguf
// (../shared), made with testdata/sampled.cpp: libllama (the reference
// build of ../shared/tools/reference/setup.sh, run from its library
// folder) with llama.cpp's default sampler chain in common/sampling.cpp's
// order, the prompt's tokens accepted first as llama-completion does:
//
//	sampled stories260k.gguf PROMPT N SEED TEMP [TOPK TOPP MINP TYP REP LASTN PRES FREQ MIROSTAT ETA TAU]
//
// args are the llamafile flags of the same settings. Seeds are chosen away
// from near ties: with other seeds a completion may, after many tokens,
// pick the other of two candidates whose logits differ by less than the
// float32 noise between llama.cpp's own CPU backends.
var sampledGolden = []struct {
	prompt string
	n      string
	args   []string
	want   string
}{
	{"Lily and Ben", "64", []string{"--seed", "42", "--temp", "0.8"},
		" are friends. They like to play with birds and sing. One day, they sing a long, close to their house. Lily and Ben were sorry. They started to wrote the to"},
	{"Once upon a time", "48", []string{"--seed", "7", "--temp", "0.8"},
		", there was a little girl named Lily. She loved to play outside and eat them. One day, she saw a big, scary box in her room."},
	{"Once upon a time", "48", []string{"--seed", "7", "--temp", "1.0", "--top-k", "0", "--top-p", "1.0", "--min-p", "0"},
		", there was a big fish who lived in a big house. The park lived in a small house with the other animals. E"},
	{"Once upon a time", "48", []string{"--seed", "7", "--temp", "0.9", "--typical", "0.8"},
		", there was a little girl named Lily. She loved to play outside and eat trees. One day, she was playing with her toys and asked her mom, \""},
	{"Once upon a time", "48", []string{"--seed", "7", "--temp", "0.9", "--repeat-penalty", "1.3", "--repeat-last-n", "32", "--presence-penalty", "0.5", "--frequency-penalty", "0.3"},
		", there was a little girl named Lily. She loved to play outside and eat them in her pocket when she showed it a big story. She"},
	{"Once upon a time", "48", []string{"--seed", "9", "--temp", "1.0", "--mirostat", "1", "--mirostat-lr", "0.2", "--mirostat-ent", "3.0"},
		", there was a little boy named Timmy. Timmy loved to play with his toys. He was very kind and strong and always wanted to eat yet tog"},
	{"Once upon a time", "48", []string{"--seed", "9", "--temp", "1.0", "--mirostat", "2", "--mirostat-lr", "0.2", "--mirostat-ent", "3.0"},
		", there was a little girl named Lily. She loved to find songs with her favorite toys, playing in her backyard. She ted"},
}

// TestSampledMatchesLlamaCpp checks seeded sampling end to end: the same
// seed and settings give llama.cpp's text.
func TestSampledMatchesLlamaCpp(t *testing.T) {
	model := stories(t)
	for _, g := range sampledGolden {
		name := strings.Join(g.args, " ")
		t.Run(name, func(t *testing.T) {
			args := append([]string{"-m", model, "-p", g.prompt, "-n", g.n, "--no-display-prompt", "--log-disable"}, g.args...)
			r := llamafile(t, nil, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if got := completion(t, r.stdout); got != g.want {
				t.Errorf("%q %s:\n got %q\nwant %q", g.prompt, name, got, g.want)
			}
		})
	}
}
