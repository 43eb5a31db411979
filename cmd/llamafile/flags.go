package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/llamafile-go/llamafile/pkg/escape"
	"github.com/llamafile-go/llamafile/pkg/model"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// mode is what the command does.
type mode int

const (
	modeGenerate mode = iota
	modeTokenize
	modePerplexity
	modeServer
	modeApplyTemplate
	modeChat
	modeEmbedding
)

// options are the parsed command line.
type options struct {
	mode mode

	model      string
	prompt     string
	promptSet  bool   // -p or -f given
	promptFile string // -f FNAME, "" for none
	fileText   []byte // the content of -f, verbatim

	nPredict     int
	ctxSize      int
	ctxSizeSet   bool
	batchSize    int
	threads      int
	threadsBatch int
	cacheTypeK   model.CacheType
	cacheTypeV   model.CacheType

	sampling sample.Params

	// grammar constrains the output (GBNF text, from --grammar,
	// --grammar-file, -j or --json-schema-file); grammarFlag names the
	// flag it came from, for errors.
	grammar     string
	grammarFlag string

	escape          bool
	reversePrompts  []string
	ignoreEOS       bool
	noDisplayPrompt bool
	logDisable      bool
	verbosePrompt   bool // --verbose-prompt: the prompt's tokens on stderr
	color           bool // --color: the prompt and the user's input coloured on a terminal

	// --prompt-cache FILE: the evaluated prompt's key/value state, reused
	// when the prompt starts the same way; -all saves the generated
	// tokens too, -ro never writes the file.
	promptCache    string
	promptCacheAll bool
	promptCacheRO  bool

	// --mmproj FILE: a vision projector; --image FILE (repeatable): the
	// images of -p's prompt.
	mmproj string
	images []string

	// the model's memory: --mlock keeps it resident, --no-mmap reads it
	// into memory instead of mapping it
	mlock  bool
	noMmap bool

	// swaFull keeps every position in sliding-window layers' caches.
	swaFull bool
	// noRepack uses the weights in place instead of repacking them.
	noRepack bool

	// gpuWanted is set when -ngl N (N > 0) or --gpu NAME asks for a GPU,
	// which this build has no support for: a notice says so.
	gpuWanted bool

	// --unsecure: no sandbox
	unsecure bool

	// --embedding with -p or -f: llama-embedding
	embed embeddingOptions

	// --apply-template CONV.json
	applyTemplate string

	// --chat
	systemPrompt string

	// -i, --interactive-first: llama.cpp's raw interactive mode
	interactive      bool
	interactiveFirst bool
	inPrefix         string
	inSuffix         string

	// --tokenize
	ids          bool
	useStdin     bool
	noBOS        bool
	parseSpecial bool
	showCount    bool

	// --perplexity
	chunks int

	// the server (llama-server's flags)
	server serverOptions

	version bool
}

// usageError is a mistake on the command line.
type usageError struct{ error }

// readFileFunc reads a -f argument; tests and main pass os.ReadFile.
type readFileFunc func(name string) ([]byte, error)

// parseArgs parses the command line (without the program name). It returns
// nil options, and no error, when it printed the help text.
func parseArgs(args []string, stdout io.Writer, readFile readFileFunc) (*options, error) {
	o := &options{}
	def := sample.DefaultParams()
	v := &flagValues{}
	var (
		ran   bool
		canon []string // args, canonicalFlags rewrote
	)
	app := &cli.App{
		Name:                      "llamafile",
		HideHelpCommand:           true,
		HideVersion:               true,
		Writer:                    stdout,
		ErrWriter:                 io.Discard,
		DisableSliceFlagSeparator: true,
		CustomAppHelpTemplate:     helpText,
		Flags:                     commandFlags(o, v),
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{flagError(err, args)}
		},
		Action: func(c *cli.Context) error {
			ran = true
			temp, topP, minP, typical, repeatPenalty := v.temp, v.topP, v.minP, v.typical, v.repeatPenalty
			presencePenalty, frequencyPenalty, mirLR, mirEnt := v.presencePenalty, v.frequencyPenalty, v.mirLR, v.mirEnt
			topK, repeatLastN, mirostat, seed := v.topK, v.repeatLastN, v.mirostat, v.seed
			// Which of two flags came last is read from the arguments
			// with every flag under its canonical name.
			args := canon
			if c.NArg() > 0 {
				return usageError{fmt.Errorf("unexpected argument %q (flags take the form -f VALUE or --flag=VALUE; see --help)", c.Args().First())}
			}
			// --v2 is llamafile's way to ask for its newer server
			// (--server --v2); this server is the OpenAI-compatible one
			// that it is, so --v2 serves as --server does.
			serve := c.Bool("server") || c.Bool("v2")
			switch {
			case c.Bool("tokenize") && c.Bool("perplexity"):
				return usageError{errors.New("--tokenize and --perplexity cannot be combined")}
			case serve && (c.Bool("tokenize") || c.Bool("perplexity")):
				return usageError{errors.New("--server cannot be combined with --tokenize or --perplexity")}
			case c.IsSet("apply-template") && (serve || c.Bool("tokenize") || c.Bool("perplexity")):
				return usageError{errors.New("--apply-template cannot be combined with --server, --tokenize or --perplexity")}
			case c.IsSet("apply-template"):
				o.mode = modeApplyTemplate
			case c.Bool("chat") && (serve || c.Bool("tokenize") || c.Bool("perplexity")):
				return usageError{errors.New("--chat cannot be combined with --server, --tokenize or --perplexity")}
			case c.Bool("chat"):
				o.mode = modeChat
			case (c.Bool("i") || c.Bool("if")) && (serve || c.Bool("tokenize") || c.Bool("perplexity")):
				return usageError{errors.New("-i and --interactive-first cannot be combined with --server, --tokenize or --perplexity")}
			case c.Bool("i") || c.Bool("if"):
				o.mode = modeGenerate // interactive generation, without a prompt too
			case c.Bool("tokenize"):
				o.mode = modeTokenize
			case c.Bool("perplexity"):
				o.mode = modePerplexity
			case c.Bool("embedding") && !serve && (c.IsSet("p") || c.IsSet("f")):
				// --embedding with a prompt is llama-embedding; without,
				// the server's embeddings endpoints.
				o.mode = modeEmbedding
			case serve || !c.IsSet("p") && !c.IsSet("f"):
				// No prompt and no other mode: serve, as llamafile does.
				o.mode = modeServer
			}
			if err := o.server.finish(c, o.mode == modeServer); err != nil {
				return err
			}

			// Escapes are on by default, except for --perplexity, as in
			// llama.cpp's tools; -e and --no-escape decide otherwise.
			o.escape = o.mode != modePerplexity
			if c.IsSet("e") {
				o.escape = c.Bool("e")
			}
			if c.Bool("no-escape") {
				o.escape = false
			}
			// --tokenize parses special tokens unless told not to.
			o.parseSpecial = o.mode == modeTokenize
			if c.Bool("parse-special") {
				o.parseSpecial = true
			}
			if c.Bool("no-parse-special") {
				o.parseSpecial = false
			}

			// -p and -f both set the prompt; the last one given wins, as
			// in llama.cpp, where each overwrites it.
			if c.IsSet("p") {
				o.prompt, o.promptSet = c.String("p"), true
			}
			if c.IsSet("f") {
				name := c.String("f")
				data, err := readFile(name)
				if err != nil {
					return usageError{fmt.Errorf("-f: %w", err)}
				}
				if !c.IsSet("p") || lastIndex(args, "f", "file") > lastIndex(args, "p", "prompt") {
					o.promptFile, o.fileText = name, data
					o.prompt, o.promptSet = string(data), true
					// Like llama.cpp's -f: one trailing newline is dropped
					// (--tokenize uses fileText, verbatim).
					o.prompt = strings.TrimSuffix(o.prompt, "\n")
				}
			}
			for _, f := range []struct {
				name, spelled string
				dst           *model.CacheType
			}{{"ctk", "-ctk/--cache-type-k", &o.cacheTypeK}, {"ctv", "-ctv/--cache-type-v", &o.cacheTypeV}} {
				ct, err := model.ParseCacheType(c.String(f.name))
				if err != nil {
					return usageError{fmt.Errorf("%s %q: must be one of %s", f.spelled, c.String(f.name), strings.Join(model.CacheTypes(), ", "))}
				}
				*f.dst = ct
			}
			if err := o.readGrammar(c, args, readFile); err != nil {
				return err
			}
			o.reversePrompts = c.StringSlice("r")
			if o.mode == modeEmbedding {
				o.embed.prompts = valuesOf(args, "p")
				if o.escape {
					o.embed.separator = escape.Process(o.embed.separator)
					o.embed.clsSep = escape.Process(o.embed.clsSep)
					for i := range o.embed.prompts {
						o.embed.prompts[i] = escape.Process(o.embed.prompts[i])
					}
				}
				if err := o.checkEmbedding(); err != nil {
					return err
				}
			}
			o.images = c.StringSlice("image")
			o.noDisplayPrompt = c.Bool("no-display-prompt") && lastIndex(args, "no-display-prompt") > lastIndex(args, "display-prompt")
			if err := o.checkPromptCache(); err != nil {
				return err
			}
			if err := o.checkGPU(c); err != nil {
				return err
			}
			o.ctxSizeSet = c.IsSet("c")

			p := def
			p.Temp = float32(temp)
			p.TopK = topK
			p.TopP = float32(topP)
			p.MinP = float32(minP)
			p.TypicalP = float32(typical)
			p.RepeatPenalty = float32(repeatPenalty)
			p.RepeatLastN = repeatLastN
			p.PresencePenalty = float32(presencePenalty)
			p.FrequencyPenalty = float32(frequencyPenalty)
			p.Mirostat = mirostat
			p.MirostatEta = float32(mirLR)
			p.MirostatTau = float32(mirEnt)
			if repeatLastN < 0 {
				return usageError{fmt.Errorf("--repeat-last-n %d: must not be negative", repeatLastN)}
			}
			if r := float32(repeatPenalty); r <= 0 || math.IsInf(float64(r), 0) || math.IsNaN(float64(r)) {
				return usageError{fmt.Errorf("--repeat-penalty %g: must be finite and greater than 0", repeatPenalty)}
			}
			if mirostat < 0 || mirostat > 2 {
				return usageError{fmt.Errorf("--mirostat %d: must be 0, 1 or 2", mirostat)}
			}
			switch {
			case seed == -1:
				p.Seed = sample.RandomSeed
			case seed < 0 || seed > math.MaxUint32:
				return usageError{fmt.Errorf("--seed %d: must be -1 (random) or in [0, %d]", seed, uint32(math.MaxUint32))}
			default:
				p.Seed = uint32(seed)
			}
			for _, s := range c.StringSlice("l") {
				tok, bias, err := parseLogitBias(s)
				if err != nil {
					return usageError{fmt.Errorf("--logit-bias %q: %w", s, err)}
				}
				if p.LogitBias == nil {
					p.LogitBias = map[int32]float32{}
				}
				p.LogitBias[tok] += bias
			}
			o.sampling = p
			return nil
		},
	}
	canon = canonicalFlags(app.Flags, args)
	if err := app.Run(append([]string{"llamafile"}, canon...)); err != nil {
		return nil, err
	}
	if !ran {
		return nil, nil // help was printed
	}
	return o, nil
}

// flagValues receive the flags whose values parseArgs checks and
// converts before they go into the options.
type flagValues struct {
	temp, topP, minP, typical, repeatPenalty         float64
	presencePenalty, frequencyPenalty, mirLR, mirEnt float64
	topK, repeatLastN, mirostat                      int
	seed                                             int64
}

// commandFlags returns every flag of the command, writing into o and v;
// --help documents each of them once.
func commandFlags(o *options, v *flagValues) []cli.Flag {
	def := sample.DefaultParams()
	return append([]cli.Flag{
		&cli.StringFlag{Name: "m", Aliases: []string{"model"}, Destination: &o.model},
		&cli.StringFlag{Name: "p", Aliases: []string{"prompt"}},
		&cli.StringFlag{Name: "f", Aliases: []string{"file"}},
		&cli.IntFlag{Name: "n", Aliases: []string{"predict", "n-predict"}, Value: -1, Destination: &o.nPredict},
		&cli.IntFlag{Name: "c", Aliases: []string{"ctx-size"}, Destination: &o.ctxSize},
		&cli.IntFlag{Name: "b", Aliases: []string{"batch-size"}, Value: 2048, Destination: &o.batchSize},
		&cli.IntFlag{Name: "t", Aliases: []string{"threads"}, Destination: &o.threads},
		&cli.IntFlag{Name: "tb", Aliases: []string{"threads-batch"}, Destination: &o.threadsBatch},
		&cli.StringFlag{Name: "ctk", Aliases: []string{"cache-type-k"}, Value: "f16"},
		&cli.StringFlag{Name: "ctv", Aliases: []string{"cache-type-v"}, Value: "f16"},
		&cli.Float64Flag{Name: "temp", Aliases: []string{"temperature"}, Value: float64(def.Temp), Destination: &v.temp},
		&cli.IntFlag{Name: "top-k", Value: def.TopK, Destination: &v.topK},
		&cli.Float64Flag{Name: "top-p", Value: float64(def.TopP), Destination: &v.topP},
		&cli.Float64Flag{Name: "min-p", Value: float64(def.MinP), Destination: &v.minP},
		&cli.Float64Flag{Name: "typical", Aliases: []string{"typical-p"}, Value: float64(def.TypicalP), Destination: &v.typical},
		&cli.Float64Flag{Name: "repeat-penalty", Value: float64(def.RepeatPenalty), Destination: &v.repeatPenalty},
		&cli.IntFlag{Name: "repeat-last-n", Value: def.RepeatLastN, Destination: &v.repeatLastN},
		&cli.Float64Flag{Name: "presence-penalty", Value: float64(def.PresencePenalty), Destination: &v.presencePenalty},
		&cli.Float64Flag{Name: "frequency-penalty", Value: float64(def.FrequencyPenalty), Destination: &v.frequencyPenalty},
		&cli.IntFlag{Name: "mirostat", Value: def.Mirostat, Destination: &v.mirostat},
		&cli.Float64Flag{Name: "mirostat-lr", Value: float64(def.MirostatEta), Destination: &v.mirLR},
		&cli.Float64Flag{Name: "mirostat-ent", Value: float64(def.MirostatTau), Destination: &v.mirEnt},
		&cli.Int64Flag{Name: "s", Aliases: []string{"seed"}, Value: -1, Destination: &v.seed},
		&cli.StringSliceFlag{Name: "l", Aliases: []string{"logit-bias"}},
		&cli.StringFlag{Name: "grammar"},
		&cli.StringFlag{Name: "grammar-file"},
		&cli.StringFlag{Name: "j", Aliases: []string{"json-schema"}},
		&cli.StringFlag{Name: "json-schema-file"},
		&cli.BoolFlag{Name: "e", Aliases: []string{"escape"}},
		&cli.BoolFlag{Name: "no-escape"},
		&cli.StringSliceFlag{Name: "r", Aliases: []string{"reverse-prompt"}},
		&cli.BoolFlag{Name: "ignore-eos", Destination: &o.ignoreEOS},
		&cli.BoolFlag{Name: "no-display-prompt", Aliases: []string{"silent-prompt"}},
		&cli.BoolFlag{Name: "display-prompt"},
		&cli.BoolFlag{Name: "verbose-prompt", Destination: &o.verbosePrompt},
		&cli.BoolFlag{Name: "co", Aliases: []string{"color"}, Destination: &o.color},
		&cli.StringFlag{Name: "prompt-cache", Destination: &o.promptCache},
		&cli.StringFlag{Name: "mmproj", Destination: &o.mmproj},
		&cli.StringSliceFlag{Name: "image"},
		&cli.BoolFlag{Name: "prompt-cache-all", Destination: &o.promptCacheAll},
		&cli.BoolFlag{Name: "prompt-cache-ro", Destination: &o.promptCacheRO},
		&cli.BoolFlag{Name: "mlock", Destination: &o.mlock},
		&cli.BoolFlag{Name: "no-mmap", Destination: &o.noMmap},
		&cli.BoolFlag{Name: "swa-full", Destination: &o.swaFull},
		&cli.BoolFlag{Name: "nr", Aliases: []string{"no-repack"}, Destination: &o.noRepack},
		&cli.IntFlag{Name: "ngl", Aliases: []string{"gpu-layers", "n-gpu-layers"}, Value: -1},
		&cli.StringFlag{Name: "gpu"},
		&cli.BoolFlag{Name: "unsecure", Destination: &o.unsecure},
		&cli.IntFlag{Name: "embd-normalize", Value: 2, Destination: &o.embed.normalize},
		&cli.StringFlag{Name: "embd-output-format", Destination: &o.embed.format},
		&cli.StringFlag{Name: "embd-separator", Value: "\n", Destination: &o.embed.separator},
		&cli.StringFlag{Name: "cls-separator", Value: "\t", Destination: &o.embed.clsSep},
		&cli.BoolFlag{Name: "fast"},
		&cli.BoolFlag{Name: "precise"},
		&cli.BoolFlag{Name: "log-disable", Destination: &o.logDisable},
		&cli.BoolFlag{Name: "tokenize"},
		&cli.BoolFlag{Name: "ids", Destination: &o.ids},
		&cli.BoolFlag{Name: "stdin", Destination: &o.useStdin},
		&cli.BoolFlag{Name: "no-bos", Destination: &o.noBOS},
		&cli.BoolFlag{Name: "parse-special"},
		&cli.BoolFlag{Name: "no-parse-special"},
		&cli.BoolFlag{Name: "show-count", Destination: &o.showCount},
		&cli.BoolFlag{Name: "perplexity"},
		&cli.StringFlag{Name: "apply-template", Destination: &o.applyTemplate},
		&cli.BoolFlag{Name: "chat", Aliases: []string{"cnv", "conversation"}},
		&cli.BoolFlag{Name: "i", Aliases: []string{"interactive"}, Destination: &o.interactive},
		&cli.BoolFlag{Name: "if", Aliases: []string{"interactive-first"}, Destination: &o.interactiveFirst},
		&cli.StringFlag{Name: "in-prefix", Destination: &o.inPrefix},
		&cli.StringFlag{Name: "in-suffix", Destination: &o.inSuffix},
		&cli.StringFlag{Name: "sys", Aliases: []string{"system-prompt"}, Destination: &o.systemPrompt},
		&cli.IntFlag{Name: "chunks", Value: -1, Destination: &o.chunks},
		&cli.BoolFlag{Name: "version", Destination: &o.version},
	}, serverFlags(&o.server)...)
}

// canonicalFlags rewrites every flag of args spelled with an alias (such
// as --n-predict) to its canonical name (-n), so that a flag given under
// two names (.args says -n, the user --predict) is an ordinary repetition,
// the last one winning, as in llama.cpp, rather than an error of
// urfave/cli. Long flags may be spelled with underscores, as llama.cpp
// and llamafile accept them (--ctx_size is --ctx-size). Values of flags
// that take one are skipped.
func canonicalFlags(flags []cli.Flag, args []string) []string {
	canon := map[string]string{}
	takesValue := map[string]bool{}
	for _, f := range flags {
		names := f.Names()
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range names {
			canon[n] = names[0]
			takesValue[n] = !isBool
		}
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			out = append(out, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "--") {
			// llama.cpp's old spellings: --ctx_size is --ctx-size.
			name = strings.ReplaceAll(name, "_", "-")
		}
		c, ok := canon[name]
		if !ok {
			out = append(out, a)
			continue
		}
		a = "--" + c
		if hasValue {
			a += "=" + value
		}
		out = append(out, a)
		if takesValue[name] && !hasValue && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// valuesOf returns the values of every occurrence of the flag name in
// args (canonical spellings, as canonicalFlags writes them), in order.
func valuesOf(args []string, name string) []string {
	var vals []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		flag, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if flag != name {
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		vals = append(vals, value)
	}
	return vals
}

// lastIndex returns the index in args of the last flag spelled with one
// of names (a flag and its aliases), to tell which of two flags that set
// the same thing came last.
func lastIndex(args []string, names ...string) int {
	last := -1
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		flag, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			continue
		}
		if slices.Contains(names, flag) {
			last = i
			if !hasValue {
				i++ // skip the value
			}
		}
	}
	return last
}

// flagError rewords the flag package's errors to name the flag as the
// user spelled it (-x or --x).
func flagError(err error, args []string) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Errorf("unknown flag %s (see --help)", spelling(name, args))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return fmt.Errorf("flag %s needs a value", spelling(name, args))
	}
	return err
}

// spelling returns the argument in args that gave flag "-name" to the flag
// package, without any "=value".
func spelling(name string, args []string) string {
	bare := strings.TrimLeft(name, "-")
	for _, a := range args {
		if a == "--" {
			break
		}
		flag, _, _ := strings.Cut(a, "=")
		if flag == "-"+bare || flag == "--"+bare {
			return flag
		}
	}
	return name
}

// parseLogitBias parses llama.cpp's TOKEN_ID(+/-)BIAS syntax: "15043+1",
// "15043-1.5", "15043-inf".
func parseLogitBias(s string) (int32, float32, error) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(s) || (s[i] != '+' && s[i] != '-') {
		return 0, 0, errors.New("want TOKEN_ID+BIAS or TOKEN_ID-BIAS, e.g. 15043+1 or 15043-inf")
	}
	tok, err := strconv.ParseInt(s[:i], 10, 32)
	if err != nil || tok < 0 {
		return 0, 0, fmt.Errorf("bad token id %q", s[:i])
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s[i+1:]), 32)
	if err != nil || math.IsNaN(v) {
		return 0, 0, fmt.Errorf("bad bias %q", s[i+1:])
	}
	if s[i] == '-' {
		v = -v
	}
	return int32(tok), float32(v), nil
}

// writeUsageHint prints the short hint shown when no arguments are given.
func writeUsageHint(w io.Writer) {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "usage: llamafile -m MODEL.gguf [--port N] [options]   (the server)")
	fmt.Fprintln(bw, "       llamafile -m MODEL.gguf -p PROMPT [options]")
	fmt.Fprintln(bw, "       llamafile -m MODEL.gguf --tokenize -p TEXT [--ids]")
	fmt.Fprintln(bw, "       llamafile -m MODEL.gguf --perplexity -f FILE [-c N]")
	fmt.Fprintln(bw, "run 'llamafile --help' for the options")
	bw.Flush()
}
