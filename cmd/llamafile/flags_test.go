package main

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/model"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

func readFake(name string) ([]byte, error) {
	switch name {
	case "prompt.txt":
		return []byte("from a file\n"), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func parse(t *testing.T, args ...string) *options {
	t.Helper()
	o, err := parseArgs(args, io.Discard, readFake)
	if err != nil {
		t.Fatalf("parseArgs(%q): %v", args, err)
	}
	if o == nil {
		t.Fatalf("parseArgs(%q): printed help", args)
	}
	return o
}

func TestParseDefaults(t *testing.T) {
	o := parse(t, "-m", "x.gguf")
	want := sample.DefaultParams()
	if !reflect.DeepEqual(o.sampling, want) {
		t.Errorf("sampling = %+v, want llama.cpp's defaults %+v", o.sampling, want)
	}
	if o.nPredict != -1 || o.ctxSize != 0 || o.batchSize != 2048 || !o.escape || o.mode != modeServer || o.chunks != -1 {
		t.Errorf("defaults: %+v", o)
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(*options) bool
	}{
		{"multi-letter single dash", []string{"-tb", "3", "-t", "2"}, func(o *options) bool { return o.threadsBatch == 3 && o.threads == 2 }},
		{"double dash with =", []string{"--threads-batch=5", "--ctx-size=64"}, func(o *options) bool { return o.threadsBatch == 5 && o.ctxSize == 64 && o.ctxSizeSet }},
		{"negative value", []string{"-n", "-1"}, func(o *options) bool { return o.nPredict == -1 }},
		{"n-predict alias", []string{"--n-predict", "7"}, func(o *options) bool { return o.nPredict == 7 }},
		{"sampling", []string{"--temp", "0", "--top-k", "5", "--top-p", "0.5", "--min-p", "0.1", "--typical", "0.9",
			"--repeat-penalty", "1.1", "--repeat-last-n", "32", "--presence-penalty", "0.2", "--frequency-penalty", "0.3",
			"--mirostat", "2", "--mirostat-lr", "0.2", "--mirostat-ent", "4", "--seed", "42"},
			func(o *options) bool {
				p := o.sampling
				return p.Temp == 0 && p.TopK == 5 && p.TopP == 0.5 && p.MinP == float32(0.1) && p.TypicalP == float32(0.9) &&
					p.RepeatPenalty == float32(1.1) && p.RepeatLastN == 32 && p.PresencePenalty == float32(0.2) &&
					p.FrequencyPenalty == float32(0.3) && p.Mirostat == 2 && p.MirostatEta == float32(0.2) &&
					p.MirostatTau == 4 && p.Seed == 42
			}},
		{"random seed", []string{"-s", "-1"}, func(o *options) bool { return o.sampling.Seed == sample.RandomSeed }},
		{"logit biases add up", []string{"-l", "15043+1", "--logit-bias", "15043+0.5", "-l", "7-inf"}, func(o *options) bool {
			return o.sampling.LogitBias[15043] == 1.5 && math.IsInf(float64(o.sampling.LogitBias[7]), -1)
		}},
		{"reverse prompts keep commas", []string{"-r", "a, b", "-r", "User:"}, func(o *options) bool {
			return reflect.DeepEqual(o.reversePrompts, []string{"a, b", "User:"})
		}},
		{"prompt starting with a dash", []string{"-p", "-x-"}, func(o *options) bool { return o.prompt == "-x-" && o.promptSet }},
		{"-f drops one trailing newline", []string{"-f", "prompt.txt"}, func(o *options) bool {
			return o.prompt == "from a file" && string(o.fileText) == "from a file\n"
		}},
		{"last of -p and -f wins", []string{"-f", "prompt.txt", "-p", "typed"}, func(o *options) bool { return o.prompt == "typed" }},
		{"last of -p and -f wins (2)", []string{"-p", "typed", "--file=prompt.txt"}, func(o *options) bool { return o.prompt == "from a file" }},
		{"bools", []string{"--ignore-eos", "--no-display-prompt", "--log-disable"}, func(o *options) bool {
			return o.ignoreEOS && o.noDisplayPrompt && o.logDisable
		}},
		{"no-escape", []string{"--no-escape"}, func(o *options) bool { return !o.escape }},
		{"tokenize", []string{"--tokenize", "--ids", "--stdin", "--no-bos", "--show-count"}, func(o *options) bool {
			return o.mode == modeTokenize && o.ids && o.useStdin && o.noBOS && o.showCount && o.parseSpecial && o.escape
		}},
		{"tokenize no-parse-special", []string{"--tokenize", "--no-parse-special"}, func(o *options) bool { return !o.parseSpecial }},
		{"perplexity: escapes off", []string{"--perplexity", "--chunks", "3"}, func(o *options) bool {
			return o.mode == modePerplexity && !o.escape && o.chunks == 3
		}},
		{"perplexity -e", []string{"--perplexity", "-e"}, func(o *options) bool { return o.escape }},
		{"same flag under two names", []string{"-n", "3", "--n-predict", "5", "--temp", "1", "--temperature", "0"}, func(o *options) bool {
			return o.nPredict == 5 && o.sampling.Temp == 0
		}},
		{"value that looks like a flag", []string{"-p", "--temp", "-r", "-n"}, func(o *options) bool {
			return o.prompt == "--temp" && o.reversePrompts[0] == "-n" && o.sampling.Temp == float32(0.8)
		}},
		{"version", []string{"--version"}, func(o *options) bool { return o.version }},
		{"cache types", []string{"-ctk", "q8_0", "--cache-type-v=f32"}, func(o *options) bool {
			return o.cacheTypeK == model.CacheQ8_0 && o.cacheTypeV == model.CacheF32
		}},
		{"cache types (2)", []string{"--cache-type-k", "f32", "-ctv", "q8_0"}, func(o *options) bool {
			return o.cacheTypeK == model.CacheF32 && o.cacheTypeV == model.CacheQ8_0
		}},
		{"cache types default to f16", nil, func(o *options) bool {
			return o.cacheTypeK == model.CacheF16 && o.cacheTypeV == model.CacheF16
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if o := parse(t, tt.args...); !tt.check(o) {
				t.Errorf("parseArgs(%q) = %+v", tt.args, o)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--nope"}, "unknown flag --nope"},
		{[]string{"-nope=1"}, "unknown flag -nope"},
		{[]string{"-p"}, "flag -p needs a value"},
		{[]string{"-n", "x"}, "-n"},
		{[]string{"--temp", "hot"}, "temp"},
		{[]string{"-l", "abc"}, "--logit-bias"},
		{[]string{"-l", "5*2"}, "--logit-bias"},
		{[]string{"-l", "5+x"}, "bad bias"},
		{[]string{"--seed", "-2"}, "--seed"},
		{[]string{"--repeat-penalty", "0"}, "--repeat-penalty"},
		{[]string{"--repeat-last-n", "-1"}, "--repeat-last-n"},
		{[]string{"--mirostat", "3"}, "--mirostat"},
		{[]string{"-f", "missing.txt"}, "missing.txt"},
		{[]string{"--tokenize", "--perplexity"}, "cannot be combined"},
		{[]string{"-m", "x", "stray"}, `unexpected argument "stray"`},
		{[]string{"-ctk", "q4_0"}, "-ctk/--cache-type-k \"q4_0\": must be one of f16, f32, q8_0"},
		{[]string{"--cache-type-v", "F16"}, "-ctv/--cache-type-v"},
	}
	for _, tt := range tests {
		o, err := parseArgs(tt.args, io.Discard, readFake)
		if err == nil {
			t.Errorf("parseArgs(%q) = %+v, want an error", tt.args, o)
			continue
		}
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("parseArgs(%q): %v is not a usage error", tt.args, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseArgs(%q): %q does not mention %q", tt.args, err, tt.want)
		}
	}
}

func TestParseHelp(t *testing.T) {
	var out strings.Builder
	o, err := parseArgs([]string{"--help"}, &out, readFake)
	if err != nil || o != nil {
		t.Fatalf("--help: %+v, %v", o, err)
	}
	for _, flag := range []string{"-m, --model", "--tokenize", "--perplexity", "-tb, --threads-batch", "--logit-bias", "--reverse-prompt",
		"--apply-template", "--chat, -cnv, --conversation", "-sys, --system-prompt", "-i, --interactive", "-if, --interactive-first",
		"--in-prefix", "--in-suffix", "--batched-bench"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("--help does not document %s", flag)
		}
	}
	// Every server flag, under every name.
	for _, f := range serverFlags(&serverOptions{}) {
		for _, n := range f.Names() {
			spelled := "--" + n
			if len(n) <= 2 {
				spelled = "-" + n
			}
			if !strings.Contains(out.String(), spelled+" ") && !strings.Contains(out.String(), spelled+",") && !strings.Contains(out.String(), spelled+"\n") {
				t.Errorf("--help does not document %s", spelled)
			}
		}
	}
}

func TestParseLogitBias(t *testing.T) {
	tests := []struct {
		in   string
		tok  int32
		bias float32
		ok   bool
	}{
		{"15043+1", 15043, 1, true},
		{"15043-1", 15043, -1, true},
		{"15043-1.5", 15043, -1.5, true},
		{"15043+inf", 15043, float32(math.Inf(1)), true},
		{"15043-inf", 15043, float32(math.Inf(-1)), true},
		{"0+2e1", 0, 20, true},
		{"15043", 0, 0, false},
		{"+1", 0, 0, false},
		{"-5+1", 0, 0, false},
		{"x+1", 0, 0, false},
		{"1+", 0, 0, false},
		{"1+nan", 0, 0, false},
		{"99999999999+1", 0, 0, false},
	}
	for _, tt := range tests {
		tok, bias, err := parseLogitBias(tt.in)
		if (err == nil) != tt.ok || (tt.ok && (tok != tt.tok || bias != tt.bias)) {
			t.Errorf("parseLogitBias(%q) = %d, %v, %v; want %d, %v, ok=%v", tt.in, tok, bias, err, tt.tok, tt.bias, tt.ok)
		}
	}
}
