package main

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"reflect"
	"regexp"
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
		// llamafile's --server --v2 (its new server) is this server; --v2
		// serves as --server does, with a prompt too.
		{"--server --v2", []string{"-m", "x", "--server", "--v2"}, func(o *options) bool { return o.mode == modeServer }},
		{"--v2 with a prompt", []string{"-m", "x", "--v2", "-p", "hi"}, func(o *options) bool { return o.mode == modeServer }},
		{"reranking", []string{"-m", "x", "--reranking"}, func(o *options) bool { return o.server.pooling == "rank" && o.server.embeddings }},
		{"rerank with --pooling rank", []string{"-m", "x", "--rerank", "--pooling", "rank"}, func(o *options) bool { return o.server.pooling == "rank" && o.server.embeddings }},
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
		// llamafile's and llama.cpp's older spellings.
		{"underscores", []string{"-p", "x", "--ctx_size", "4096", "--batch_size=1024", "--n_predict", "7", "--top_k", "5", "--top_p", "0.5",
			"--repeat_penalty", "1.1", "--repeat_last_n", "8", "--reverse_prompt", "User:", "--no_display_prompt"}, func(o *options) bool {
			p := o.sampling
			return o.ctxSize == 4096 && o.batchSize == 1024 && o.nPredict == 7 && p.TopK == 5 && p.TopP == 0.5 &&
				p.RepeatPenalty == float32(1.1) && p.RepeatLastN == 8 && o.reversePrompts[0] == "User:" && o.noDisplayPrompt
		}},
		{"underscores stay in values", []string{"-p", "--ctx_size", "-r", "a_b"}, func(o *options) bool {
			return o.prompt == "--ctx_size" && o.reversePrompts[0] == "a_b"
		}},
		{"-ngl asks for a GPU", []string{"-ngl", "9999", "-p", "x"}, func(o *options) bool { return o.gpuWanted }},
		{"--n-gpu-layers", []string{"--n-gpu-layers", "35"}, func(o *options) bool { return o.gpuWanted }},
		{"--gpu nvidia", []string{"--gpu", "NVIDIA"}, func(o *options) bool { return o.gpuWanted }},
		{"--gpu auto", []string{"--gpu", "auto"}, func(o *options) bool { return !o.gpuWanted }},
		{"-ngl 0", []string{"-ngl", "0", "--gpu", "nvidia"}, func(o *options) bool { return !o.gpuWanted }},
		{"--gpu disable", []string{"-ngl", "99", "--gpu", "disabled"}, func(o *options) bool { return !o.gpuWanted }},
		{"no GPU flag", nil, func(o *options) bool { return !o.gpuWanted }},
		{"--silent-prompt", []string{"--silent-prompt"}, func(o *options) bool { return o.noDisplayPrompt }},
		{"--display-prompt after", []string{"--silent-prompt", "--display-prompt"}, func(o *options) bool { return !o.noDisplayPrompt }},
		{"--display-prompt before", []string{"--display-prompt", "--no-display-prompt"}, func(o *options) bool { return o.noDisplayPrompt }},
		{"compat bools", []string{"-p", "x", "--color", "--verbose-prompt", "--mlock", "--no-mmap", "--fast", "--precise"}, func(o *options) bool {
			return o.color && o.verbosePrompt && o.mlock && o.noMmap
		}},
		{"-co", []string{"-co"}, func(o *options) bool { return o.color }},
		{"prompt cache", []string{"-p", "x", "--prompt-cache", "p.bin", "--prompt-cache-all"}, func(o *options) bool {
			return o.promptCache == "p.bin" && o.promptCacheAll && !o.promptCacheRO
		}},
		{"context shift on in the CLI", []string{"-p", "x", "--keep", "-1"}, func(o *options) bool { return o.server.contextShift && o.server.keep == -1 }},
		{"--no-context-shift", []string{"-p", "x", "--no-context-shift"}, func(o *options) bool { return !o.server.contextShift }},
		{"context shift off in the server", nil, func(o *options) bool { return !o.server.contextShift }},
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
		{[]string{"-m", "x", "--reranking", "--pooling", "mean"}, "--reranking pools rank: it cannot be combined with --pooling mean"},
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
		{[]string{"--v2", "--tokenize", "-p", "x"}, "--server cannot be combined with --tokenize"},
		{[]string{"-m", "x", "stray"}, `unexpected argument "stray"`},
		{[]string{"-ctk", "q4_0"}, "-ctk/--cache-type-k \"q4_0\": must be one of f16, f32, q8_0"},
		{[]string{"--cache-type-v", "F16"}, "-ctv/--cache-type-v"},
		{[]string{"--gpu", "voodoo"}, `--gpu "voodoo": must be auto, apple, amd, nvidia or disable`},
		{[]string{"-ngl", "all"}, "-ngl"},
		{[]string{"--no_such_flag"}, "unknown flag --no_such_flag"},
		{[]string{"-p", "x", "--prompt-cache-ro"}, "need --prompt-cache FILE"},
		{[]string{"--prompt-cache", "p.bin"}, "--prompt-cache works when generating"},
		{[]string{"--chat", "--prompt-cache", "p.bin"}, "--prompt-cache works when generating"},
		{[]string{"-i", "-p", "x", "--prompt-cache", "p.bin", "--prompt-cache-all"}, "--prompt-cache-all cannot be combined with -i"},
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

// helpEntries returns the flags each entry of the help text documents:
// the names at the start of its lines that begin with a flag.
func helpEntries(help string) map[string]int {
	seen := map[string]int{}
	for _, line := range strings.Split(help, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if indent := len(line) - len(trimmed); !strings.HasPrefix(trimmed, "-") || indent < 2 || indent > 6 {
			continue
		}
		// The names, up to the description (two spaces or more).
		names, _, _ := strings.Cut(trimmed, "  ")
		for _, w := range strings.FieldsFunc(names, func(r rune) bool { return r == ',' || r == ' ' }) {
			if strings.HasPrefix(w, "-") {
				seen[strings.TrimLeft(w, "-")]++
			}
		}
	}
	return seen
}

// TestParseHelp: --help documents every flag the command accepts, under
// every name, in exactly one entry, and nothing it does not accept; the
// man page names each of them too.
func TestParseHelp(t *testing.T) {
	var out strings.Builder
	o, err := parseArgs([]string{"--help"}, &out, readFake)
	if err != nil || o != nil {
		t.Fatalf("--help: %+v, %v", o, err)
	}
	entries := helpEntries(out.String())
	accepted := map[string]bool{"h": true, "help": true} // urfave/cli's own
	for _, f := range commandFlags(&options{}, &flagValues{}) {
		for _, n := range f.Names() {
			accepted[n] = true
		}
	}
	for n := range accepted {
		if entries[n] != 1 {
			t.Errorf("--help documents %s in %d entries, want 1", spelledFlag(n), entries[n])
		}
	}
	for n := range entries {
		if !accepted[n] {
			t.Errorf("--help documents %s, which is not a flag", spelledFlag(n))
		}
	}
	page, err := os.ReadFile("../../man/llamafile.1")
	if err != nil {
		t.Fatal(err)
	}
	man := regexp.MustCompile(`\\f[BIRP]`).ReplaceAllString(strings.ReplaceAll(string(page), "\\-", "-"), "")
	for n := range accepted {
		if !regexp.MustCompile(`(^|[^-\w])` + regexp.QuoteMeta(spelledFlag(n)) + `\b`).MatchString(man) {
			t.Errorf("the man page does not document %s", spelledFlag(n))
		}
	}
}

// spelledFlag returns a flag's name as typed: -x for short names and
// llama.cpp's multi-letter single-dash ones, --name otherwise.
func spelledFlag(n string) string {
	if len(n) <= 3 && n != "gpu" && n != "ids" && n != "v2" || n == "ngl" || n == "ctk" || n == "ctv" || n == "sys" || n == "cnv" {
		return "-" + n
	}
	return "--" + n
}

// helpGroups returns, for each flag an entry of the help text documents,
// the group it is listed in: the "----- NAME -----" header above it, then
// ": " and the example's subheading (a line at the margin ending in a
// colon) where there is one; "" before the first header. The headers come
// in order.
func helpGroups(help string) (groups map[string]string, headers []string) {
	groups = map[string]string{}
	group := ""
	for _, line := range strings.Split(help, "\n") {
		if name, ok := strings.CutPrefix(line, "----- "); ok {
			name, _ = strings.CutSuffix(name, " -----")
			headers = append(headers, name)
			group = name
			continue
		}
		if line != "" && line[0] != ' ' && strings.HasSuffix(line, ":") && len(headers) > 0 {
			group = headers[len(headers)-1] + ": " + line
			continue
		}
		for n := range helpEntries(line) {
			groups[n] = group
		}
	}
	return groups, headers
}

// TestHelpGroups: --help lists the flags under llama.cpp's headers, in its
// order, each where llama.cpp lists it: the model, context and threads
// under common params, the samplers and grammars under sampling params,
// each tool's and the server's flags under example-specific params.
func TestHelpGroups(t *testing.T) {
	var out strings.Builder
	if o, err := parseArgs([]string{"--help"}, &out, readFake); err != nil || o != nil {
		t.Fatalf("--help: %+v, %v", o, err)
	}
	groups, headers := helpGroups(out.String())
	const (
		common   = "common params"
		sampling = "sampling params"
		example  = "example-specific params"
	)
	if want := []string{common, sampling, example}; !reflect.DeepEqual(headers, want) {
		t.Errorf("help headers %q, want %q", headers, want)
	}
	// Every flag is under a header.
	for n, g := range groups {
		if g == "" {
			t.Errorf("%s is listed before the first header", spelledFlag(n))
		}
	}
	// The subheadings under example-specific params, by their start.
	sub := func(start string) string {
		for _, g := range groups {
			if strings.HasPrefix(g, example+": "+start) {
				return g
			}
		}
		t.Errorf("no subheading %q under %s", start, example)
		return example + ": " + start
	}
	generating, server, tokenize, perplexity := sub("generating"), sub("server"), sub("--tokenize"), sub("--perplexity")
	want := map[string][]string{
		common: {"m", "model", "c", "ctx-size", "t", "threads", "tb", "n", "predict", "b", "batch-size",
			"keep", "p", "prompt", "f", "file", "e", "escape", "ctk", "ctv", "mlock", "no-mmap", "ngl", "n-gpu-layers",
			"gpu", "verbose-prompt", "co", "color", "fast", "precise", "context-shift", "no-context-shift"},
		sampling: {"temp", "temperature", "top-k", "top-p", "min-p", "typical", "repeat-penalty", "repeat-last-n",
			"presence-penalty", "frequency-penalty", "mirostat", "mirostat-lr", "mirostat-ent", "s", "seed",
			"ignore-eos", "l", "logit-bias", "grammar", "grammar-file", "j", "json-schema"},
		generating: {"r", "reverse-prompt", "no-display-prompt", "silent-prompt", "prompt-cache", "prompt-cache-ro",
			"i", "interactive", "if", "interactive-first", "in-prefix", "in-suffix", "image", "mmproj"},
		server: {"server", "v2", "host", "port", "nobrowser", "np", "parallel", "api-key", "path", "embedding",
			"metrics", "url-prefix"},
		tokenize:   {"tokenize", "ids", "no-bos", "show-count"},
		perplexity: {"perplexity", "chunks"},
	}
	for g, names := range want {
		for _, n := range names {
			if groups[n] != g {
				t.Errorf("%s is listed under %q, want %q", spelledFlag(n), groups[n], g)
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
