// Package bench measures how fast models run, the way llama.cpp's
// llama-bench does: for every combination of model, prompt length,
// generation length, batch size and thread count it runs a warm-up and then
// a number of timed repetitions, and reports the mean and standard
// deviation of the tokens per second.
//
// A prompt-processing test ("pp512") evaluates n_prompt random tokens
// (the first one BOS when the model adds it) from an empty cache, in
// batches of n_batch tokens that the engine splits into micro-batches of
// n_ubatch. A generation test ("tg128") evaluates n_gen tokens one at a
// time, starting from BOS, each step a forward pass of a single token.
// Only the last token's logits are computed, as llama-bench asks.
//
// Results print as llama-bench's markdown table or as JSON with
// llama-bench's field names, so that numbers from llamafile and llama.cpp
// can be compared side by side:
//
//	os.Exit(bench.Main([]string{"-m", "model.gguf", "-p", "512", "-n", "128"}, os.Stdout, os.Stderr))
//
// Library users call ParseArgs (or fill in Params), Run, and a Printer.
package bench

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// Params select the tests to run. Every list must be non-empty (use
// DefaultParams for llama-bench's defaults); tests are made for every
// combination of Models × Batch × UBatch × Threads, and for each of those
// one test per NPrompt value, one per NGen value and one per PG pair, in
// that order. Zero prompt or generation lengths are skipped.
type Params struct {
	Models  []string // GGUF files
	NPrompt []int    // prompt lengths of pp tests (0: none)
	NGen    []int    // generation lengths of tg tests (0: none)
	PG      [][2]int // prompt and generation lengths of combined pp+tg tests
	Batch   []int    // logical batch sizes (n_batch)
	UBatch  []int    // physical batch sizes (n_ubatch)
	Threads []int    // thread counts
	Reps    int      // timed repetitions per test
	Output  string   // output format: "md", "json" or "jsonl"
	// NoWarmup skips the untimed warm-up run before each test.
	NoWarmup bool
	// Progress writes a line to the progress writer before each run.
	Progress bool
	// NoRepack uses the weights in place (-nr/--no-repack), as
	// engine.Options.NoRepack.
	NoRepack bool
	// Seed seeds the random tokens; the same seed gives the same tokens.
	Seed uint64
}

// Output formats.
const (
	FormatMarkdown = "md"
	FormatJSON     = "json"
	FormatJSONL    = "jsonl"
)

// Defaults, as llama-bench's.
const (
	DefaultNPrompt = 512
	DefaultNGen    = 128
	DefaultBatch   = 2048
	DefaultUBatch  = 512
	DefaultReps    = 5
)

// DefaultParams returns llama-bench's defaults (pp512 and tg128, batch
// 2048, micro-batch 512, 5 repetitions, markdown) with one thread per CPU
// and no model.
func DefaultParams() Params {
	return Params{
		NPrompt: []int{DefaultNPrompt},
		NGen:    []int{DefaultNGen},
		Batch:   []int{DefaultBatch},
		UBatch:  []int{DefaultUBatch},
		Threads: []int{runtime.NumCPU()},
		Reps:    DefaultReps,
		Output:  FormatMarkdown,
		Seed:    1,
	}
}

// ErrHelp is returned by ParseArgs when the arguments ask for help.
var ErrHelp = errors.New("bench: help requested")

// Usage is the help text for the command-line flags ParseArgs accepts.
const Usage = `usage: llamafile --bench [options]

Measures prompt processing (ppN) and text generation (tgN) speed in tokens
per second, like llama.cpp's llama-bench. Lists are comma separated and may
hold ranges: first-last, first-last+step or first-last*step.

options:
  -h, --help
  -m, --model <filename>        model file; repeatable (required)
  -p, --n-prompt <n>            prompt lengths (default: 512; 0 disables)
  -n, --n-gen <n>               generation lengths (default: 128; 0 disables)
  -pg <pp,tg>                   combined prompt+generation test; repeatable
  -b, --batch-size <n>          logical batch sizes (default: 2048)
  -ub, --ubatch-size <n>        physical batch sizes (default: 512)
  -t, --threads <n>             thread counts (default: number of CPUs)
  -r, --repetitions <n>         timed runs per test (default: 5)
  -o, --output <md|json|jsonl>  output format (default: md)
  --no-warmup                   skip the warm-up run
  -nr, --no-repack              use the weights in place, not repacked
  --progress                    report progress on stderr
  --seed <n>                    seed of the random prompt tokens (default: 1)
`

// maxListLen bounds the values one list flag may expand to, so that a range
// like 1-1000000000 is an error rather than an exhausted machine.
const maxListLen = 4096

var rangeRE = regexp.MustCompile(`^(\d+)(?:-(\d+)(?:([+*])(\d+))?)?$`)

// ParseIntList parses a llama-bench number list: comma-separated items,
// each a number or a range first-last, first-last+step or first-last*step.
func ParseIntList(s string) ([]int, error) {
	var out []int
	for _, item := range strings.Split(s, ",") {
		m := rangeRE.FindStringSubmatch(item)
		if m == nil {
			return nil, fmt.Errorf("invalid number or range %q", item)
		}
		first, err := strconv.Atoi(m[1])
		if err != nil {
			return nil, fmt.Errorf("invalid number %q: %w", m[1], err)
		}
		last, op, step := first, "+", 1
		if m[2] != "" {
			if last, err = strconv.Atoi(m[2]); err != nil {
				return nil, fmt.Errorf("invalid number %q: %w", m[2], err)
			}
		}
		if m[3] != "" {
			op = m[3]
			if step, err = strconv.Atoi(m[4]); err != nil {
				return nil, fmt.Errorf("invalid step %q: %w", m[4], err)
			}
		}
		for i := first; i <= last; {
			if len(out) >= maxListLen {
				return nil, fmt.Errorf("list %q has more than %d values", s, maxListLen)
			}
			out = append(out, i)
			next := i + step
			if op == "*" {
				next = i * step
			}
			if next <= i {
				return nil, fmt.Errorf("invalid range %q: it does not increase", item)
			}
			i = next
		}
	}
	return out, nil
}

// ParseArgs parses llama-bench-style command-line arguments (without the
// program name) into Params, starting from DefaultParams. A list flag given
// several times accumulates its values, replacing the default. It returns
// ErrHelp for -h or --help.
func ParseArgs(args []string) (Params, error) {
	p := DefaultParams()
	set := map[string]bool{}
	// appendInts adds the values of a list flag to *dst, dropping the
	// default the first time the flag is seen.
	appendInts := func(name string, dst *[]int, v string, positive bool) error {
		vals, err := ParseIntList(v)
		if err != nil {
			return fmt.Errorf("flag %s: %w", name, err)
		}
		if positive && slices.Contains(vals, 0) {
			return fmt.Errorf("flag %s: values must be positive, got %q", name, v)
		}
		if !set[name] {
			*dst = nil
			set[name] = true
		}
		*dst = append(*dst, vals...)
		return nil
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		value := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag %s needs a value", arg)
			}
			i++
			return args[i], nil
		}
		var v string
		var err error
		switch arg {
		case "-h", "--help":
			return p, ErrHelp
		case "--no-warmup":
			p.NoWarmup = true
			continue
		case "--progress":
			p.Progress = true
			continue
		case "-nr", "--no-repack":
			p.NoRepack = true
			continue
		case "-m", "--model", "-p", "--n-prompt", "-n", "--n-gen", "-pg", "-b", "--batch-size",
			"-ub", "--ubatch-size", "-t", "--threads", "-r", "--repetitions", "-o", "--output", "--seed":
			if v, err = value(); err != nil {
				return p, err
			}
		default:
			return p, fmt.Errorf("unknown argument %q", arg)
		}
		switch arg {
		case "-m", "--model":
			for _, m := range strings.Split(v, ",") {
				if m == "" {
					return p, fmt.Errorf("flag %s: empty model path in %q", arg, v)
				}
				p.Models = append(p.Models, m)
			}
		case "-p", "--n-prompt":
			err = appendInts("-p", &p.NPrompt, v, false)
		case "-n", "--n-gen":
			err = appendInts("-n", &p.NGen, v, false)
		case "-pg":
			var pg []int
			if pg, err = ParseIntList(v); err == nil && len(pg) != 2 {
				err = fmt.Errorf("want two numbers pp,tg, got %q", v)
			}
			if err != nil {
				return p, fmt.Errorf("flag -pg: %w", err)
			}
			p.PG = append(p.PG, [2]int{pg[0], pg[1]})
		case "-b", "--batch-size":
			err = appendInts("-b", &p.Batch, v, true)
		case "-ub", "--ubatch-size":
			err = appendInts("-ub", &p.UBatch, v, true)
		case "-t", "--threads":
			err = appendInts("-t", &p.Threads, v, true)
		case "-r", "--repetitions":
			if p.Reps, err = strconv.Atoi(v); err != nil || p.Reps < 1 {
				err = fmt.Errorf("flag %s: want a positive number, got %q", arg, v)
			}
		case "-o", "--output":
			p.Output = v
		case "--seed":
			if p.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
				err = fmt.Errorf("flag %s: want a non-negative number, got %q", arg, v)
			}
		}
		if err != nil {
			return p, err
		}
	}
	return p, p.Validate()
}

// Validate checks p: at least one model, non-empty positive lists, a
// positive repetition count and a known output format.
func (p *Params) Validate() error {
	if len(p.Models) == 0 {
		return errors.New("no model given (use -m FILE)")
	}
	for _, l := range []struct {
		name string
		v    []int
		min  int
	}{
		{"-p (n_prompt)", p.NPrompt, 0},
		{"-n (n_gen)", p.NGen, 0},
		{"-b (n_batch)", p.Batch, 1},
		{"-ub (n_ubatch)", p.UBatch, 1},
		{"-t (threads)", p.Threads, 1},
	} {
		if len(l.v) == 0 {
			return fmt.Errorf("%s: empty list", l.name)
		}
		for _, x := range l.v {
			if x < l.min {
				return fmt.Errorf("%s: %d is below %d", l.name, x, l.min)
			}
		}
	}
	for _, pg := range p.PG {
		if pg[0] < 0 || pg[1] < 0 {
			return fmt.Errorf("-pg: negative length in %d,%d", pg[0], pg[1])
		}
	}
	if p.Reps < 1 {
		return fmt.Errorf("-r (repetitions): %d is below 1", p.Reps)
	}
	switch p.Output {
	case FormatMarkdown, FormatJSON, FormatJSONL:
	default:
		return fmt.Errorf("-o: unknown output format %q (want md, json or jsonl)", p.Output)
	}
	return nil
}
