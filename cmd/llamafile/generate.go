package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/escape"
	"github.com/llamafile-go/llamafile/pkg/grammar"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// antipromptWindow is how many of the last tokens llama.cpp renders to look
// for a reverse prompt at the end of the output.
const antipromptWindow = 32

// minContext is the smallest context llama.cpp's completion tool accepts.
const minContext = 8

// runGenerate generates text from the prompt, streaming it to stdout, as
// llama.cpp's completion tool does without interaction.
func runGenerate(ctx context.Context, o *options, self *engine.Bundle, e env, logw io.Writer) (retErr error) {
	interactive := o.interactive || o.interactiveFirst
	if !o.promptSet && !interactive {
		return usageError{errors.New("no prompt: use -p PROMPT or -f FILE (see --help)")}
	}
	prompt := o.prompt
	reverse := append([]string(nil), o.reversePrompts...)
	inPrefix, inSuffix := o.inPrefix, o.inSuffix
	if o.escape {
		prompt = escape.Process(prompt)
		for i := range reverse {
			reverse[i] = escape.Process(reverse[i])
		}
		inPrefix, inSuffix = escape.Process(inPrefix), escape.Process(inSuffix)
	}
	ctxSize := o.ctxSize
	if ctxSize != 0 && ctxSize < minContext {
		fmt.Fprintf(logw, "warning: minimum context size is %d, using minimum size.\n", minContext)
		ctxSize = minContext
	}
	if ctxSize < 0 {
		return usageError{fmt.Errorf("-c %d: must not be negative", o.ctxSize)}
	}

	imageData, err := readImages(o)
	if err != nil {
		return err
	}
	tLoad := time.Now()
	m, c, err := openContext(o.model, self, engineOptions(o, ctxSize), logw)
	if err != nil {
		return err
	}
	defer m.Close()
	var proj *engine.Projector // with --image
	if len(imageData) > 0 {
		if proj, err = openVisionProjector(o, self, m); err != nil {
			return err
		}
		defer proj.Close()
	}
	enterSandbox(o, e, logw, cliPolicy(o))
	loadTime := time.Since(tLoad)
	nCtx := c.ContextSize()
	fmt.Fprintf(logw, "llamafile: model %s: %s, %d tokens in the vocabulary\n", m.Name(), m.Arch(), m.NumVocab())
	warnTrainedContext(logw, m, nCtx)

	tok := m.Tokenizer()
	input := m.Tokenize(prompt, true, true)
	var media engine.Prompt // the prompt with its images, with --image
	if proj != nil {
		if media, err = imagePrompt(ctx, o, proj, m, prompt, imageData); err != nil {
			return err
		}
		input = media.Tokens
	}
	if len(input) == 0 {
		if !tok.AddBOS() {
			return errors.New("input is empty")
		}
		input = append(input, m.BOS())
	}
	if max := nCtx - 4; len(input) > max {
		return fmt.Errorf("prompt is too long (%d tokens, context is %d, at most %d fit); use a larger -c", len(input), nCtx, max)
	}

	var cache *promptCache // --prompt-cache
	reused := 0            // prompt tokens the cache holds already
	if o.promptCache != "" {
		cache = &promptCache{path: o.promptCache, all: o.promptCacheAll, ro: o.promptCacheRO, logw: logw}
		if reused, err = cache.load(c, input); err != nil {
			return err
		}
	}

	p := o.sampling
	p.ContextSize = nCtx
	if o.ignoreEOS {
		p.LogitBias = ignoreEOSBias(p.LogitBias, tok.EOGTokens())
	}
	smpl, err := sample.New(p, m.NumVocab())
	if err != nil {
		return err
	}
	fmt.Fprintf(logw, "sampler seed: %d\n", smpl.Seed())
	var gm *grammar.Matcher // nil without a grammar
	var g *grammar.Grammar
	if o.grammar != "" {
		if g, err = m.ParseGrammar(o.grammar); err != nil {
			return usageError{fmt.Errorf("%s: %w", o.grammarFlag, err)}
		}
		gm = g.NewMatcher(m.GrammarVocab())
	}
	// The tokens a context shift keeps: --keep of the prompt's, -1 (or
	// more than it has) for all of them, with the BOS on top.
	nKeep := o.server.keep
	if nKeep < 0 || nKeep > len(input) {
		nKeep = len(input)
	} else if tok.AddBOS() {
		nKeep++
	}
	if o.verbosePrompt {
		printVerbosePrompt(logw, m, prompt, input, nKeep, interactive, reverse, inPrefix, inSuffix)
	}
	fmt.Fprintf(logw, "generate: KV cache = %.2f MiB\n", float64(c.CacheBytes())/(1<<20))
	fmt.Fprintf(logw, "generate: n_ctx = %d, n_batch = %d, n_predict = %d, n_keep = %d\n\n", nCtx, o.batchSize, o.nPredict, nKeep)

	// Single-token reverse prompts also match the last token itself.
	var reverseTokens []int32
	for _, r := range reverse {
		if ids := m.Tokenize(r, false, true); len(ids) == 1 {
			reverseTokens = append(reverseTokens, ids[0])
		}
	}

	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	colors := consoleColors(o.color, e.stdout)
	var history []int32 // accepted tokens, for the reverse prompts
	accept := func(t int32) {
		smpl.Accept(t)
		history = append(history, t)
		if len(history) > 2*antipromptWindow {
			history = append(history[:0], history[len(history)-antipromptWindow:]...)
		}
	}
	stopAtReverse := func() bool {
		if len(reverse) == 0 || len(history) == 0 {
			return false
		}
		var sb strings.Builder
		for _, t := range history[max(0, len(history)-antipromptWindow):] {
			sb.Write(tok.TokenToPiece(t, true))
		}
		last := sb.String()
		for _, r := range reverse {
			// Not interactive, llama.cpp allows two more bytes after the
			// reverse prompt, which may come with the same token.
			slack := 2
			if interactive {
				slack = 0
			}
			from := max(0, len(last)-len(r)-slack)
			if strings.Contains(last[from:], r) {
				return true
			}
		}
		for _, t := range reverseTokens {
			if t == history[len(history)-1] {
				return true
			}
		}
		return false
	}

	pf := perf{start: time.Now(), load: loadTime}
	defer func() { pf.print(logw) }()

	// Interactive mode (-i): at a reverse prompt, an end of generation or
	// -n tokens, the user's line (with --in-prefix and --in-suffix) is
	// added and generation goes on, as in llama.cpp's completion tool.
	// Ctrl-C stops the generation and asks for a line; at the prompt it
	// ends, as Ctrl-D and the end of the input do.
	var in *lineReader
	var sigint <-chan os.Signal
	if interactive {
		var stopSIGINT func()
		sigint, stopSIGINT = takeSIGINT()
		defer stopSIGINT()
		in = newLineReader(e, sigint)
	}
	// shiftContext makes room for need more tokens when the context is
	// full, with llama.cpp's context shift: keep the first n_keep tokens
	// (the BOS counted on top) and drop half of the rest, as often as
	// needed. It says to stop, with the reason on the log, when context
	// shift is off or -n is -2.
	shiftContext := func(need int) (stop bool, err error) {
		if !o.server.contextShift {
			fmt.Fprintf(logw, "\n\ncontext full and context shift is disabled => stopping\n")
			return true, nil
		}
		if o.nPredict == -2 {
			fmt.Fprintf(logw, "\n\ncontext full and n_predict == -2 => stopping\n")
			return true, nil
		}
		keep := nKeep
		for c.Pos()+need >= nCtx {
			keep = min(keep, c.Pos()-2)
			discard := (c.Pos() - keep) / 2
			if discard <= 0 {
				return false, fmt.Errorf("context shift: %d tokens do not fit in a context of %d keeping %d", need, nCtx, keep)
			}
			if err := c.Shift(keep, discard); err != nil {
				return false, fmt.Errorf("context shift: %w", err)
			}
			if cache != nil {
				cache.shifted()
			}
		}
		return false, nil
	}

	// userTurn reads the user's line and evaluates it; done at the end of
	// the input.
	userTurn := func() (done bool, err error) {
		out.WriteString(inPrefix)
		out.WriteString(colors.user)
		out.Flush()
		line, err := in.readLine("")
		out.WriteString(colors.reset)
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return true, err
		}
		text := line + "\n"
		if o.escape {
			text = escape.Process(text)
		}
		out.WriteString(inSuffix)
		var toks []int32
		toks = append(toks, m.Tokenize(inPrefix, false, true)...)
		toks = append(toks, m.Tokenize(text, false, false)...)
		toks = append(toks, m.Tokenize(inSuffix, false, true)...)
		if c.Pos()+len(toks)+1 >= nCtx {
			if o.server.contextShift {
				if _, err := shiftContext(len(toks) + 1); err != nil {
					return true, err
				}
			}
			if c.Pos()+len(toks)+1 >= nCtx {
				return true, fmt.Errorf("the input does not fit in the context (%d of %d positions used)", c.Pos(), nCtx)
			}
		}
		for _, t := range toks {
			accept(t)
		}
		if len(toks) == 0 {
			return false, nil
		}
		if err := c.EvalLastContext(ctx, toks); err != nil {
			return true, fmt.Errorf("evaluating the input: %w", err)
		}
		return false, nil
	}

	if o.nPredict == 0 {
		// llama.cpp's loop does not even start: nothing is shown or
		// evaluated.
		out.WriteString("\n\n")
		return nil
	}
	if !o.noDisplayPrompt {
		out.WriteString(colors.prompt)
	}
	for _, t := range input {
		if engine.IsMediaToken(t) {
			continue // an image's position
		}
		accept(t)
		if !o.noDisplayPrompt {
			out.Write(m.TokenToPiece(t))
		}
	}
	if !o.noDisplayPrompt {
		out.WriteString(colors.reset)
	}
	out.Flush()
	if stopAtReverse() && !interactive {
		out.WriteString("\n\n")
		return nil
	}
	if err := ctx.Err(); err != nil {
		out.WriteString("\n")
		return errInterrupted
	}
	t0 := time.Now()
	evalPrompt := func() error { return c.EvalLastContext(ctx, input[reused:]) }
	if proj != nil {
		evalPrompt = func() error { return c.EvalPrompt(ctx, media, reused) }
	}
	if err := evalPrompt(); err != nil {
		pf.promptEval, pf.nPrompt = time.Since(t0), c.Pos()-reused
		if ctx.Err() != nil {
			out.WriteString("\n")
			return errInterrupted
		}
		return fmt.Errorf("evaluating the prompt: %w", err)
	}
	pf.promptEval, pf.nPrompt = time.Since(t0), len(input)-reused
	if cache != nil {
		if err := cache.promptDone(c); err != nil {
			return err
		}
		defer func() {
			if retErr == nil {
				retErr = cache.finish(c)
			}
		}()
	}

	remain := o.nPredict
	if interactive && (o.interactiveFirst || stopAtReverse()) {
		if done, err := userTurn(); done || err != nil {
			out.WriteString("\n")
			return err
		}
	}
	for remain != 0 {
		if ctx.Err() != nil {
			out.WriteString("\n")
			return errInterrupted
		}
		interrupted := false
		select {
		case <-sigint: // nil unless interactive
			interrupted = true
		default:
		}
		t0 := time.Now()
		var id int32
		if gm != nil {
			id, err = smpl.SampleConstrained(c.LastLogits(), gm)
		} else {
			id, err = smpl.Sample(c.LastLogits())
		}
		if err != nil {
			return err
		}
		accept(id)
		if gm != nil {
			if err := gm.AcceptToken(id); err != nil {
				return err
			}
		}
		pf.sampling += time.Since(t0)
		pf.nSample++
		remain--

		if interactive && m.IsEOG(id) {
			// llama.cpp hands over to the user, with the first reverse
			// prompt in place of the end of generation.
			if len(reverse) > 0 {
				out.WriteString(reverse[0])
				toks := m.Tokenize(reverse[0], false, true)
				for _, t := range toks {
					accept(t)
				}
				if err := c.EvalLastContext(ctx, toks); err != nil {
					return fmt.Errorf("evaluating the reverse prompt: %w", err)
				}
			}
			if done, err := userTurn(); done || err != nil {
				out.WriteString("\n")
				return err
			}
			remain = o.nPredict
			continue
		}
		out.Write(m.TokenToPiece(id))
		if err := out.Flush(); err != nil {
			return fmt.Errorf("writing the output: %w", err)
		}
		atReverse := stopAtReverse()
		// A complete grammar allows only the end of generation: end now.
		grammarDone := gm != nil && gm.Complete()
		if interactive && (atReverse || remain == 0 || interrupted || grammarDone) {
			if gm != nil {
				gm = g.NewMatcher(m.GrammarVocab()) // each answer from the start
			}
			if err := c.EvalLastContext(ctx, []int32{id}); err != nil {
				return fmt.Errorf("evaluating token %d: %w", id, err)
			}
			if done, err := userTurn(); done || err != nil {
				out.WriteString("\n")
				return err
			}
			remain = o.nPredict
			continue
		}
		if atReverse {
			break
		}
		if m.IsEOG(id) || grammarDone {
			out.WriteString(" [end of text]\n")
			break
		}
		if remain == 0 {
			break
		}
		if c.Pos()+1 >= nCtx {
			stop, err := shiftContext(1)
			if err != nil {
				return err
			}
			if stop {
				break
			}
		}
		t0 = time.Now()
		if err := c.EvalLastContext(ctx, []int32{id}); err != nil {
			if ctx.Err() != nil {
				out.WriteString("\n")
				return errInterrupted
			}
			return fmt.Errorf("evaluating token %d: %w", id, err)
		}
		pf.eval += time.Since(t0)
		pf.nEval++
	}
	out.WriteString("\n\n")
	return nil
}

// A palette holds the escape sequences --color writes around the prompt and
// the user's input, llama.cpp's: the prompt yellow, the input bold green.
// They are empty without --color or when standard output is not a
// terminal, so that piped output stays plain.
type palette struct{ prompt, user, reset string }

func consoleColors(color bool, stdout io.Writer) palette {
	if f, ok := stdout.(*os.File); !color || !ok || !term.IsTerminal(int(f.Fd())) {
		return palette{}
	}
	return palette{prompt: "\x1b[33m", user: "\x1b[1m\x1b[32m", reset: "\x1b[0m"}
}

// printVerbosePrompt prints, for --verbose-prompt, the prompt and its
// tokens, the part a context shift keeps, and in interactive mode the
// tokens of the reverse prompts and of the input prefix and suffix, as
// llama.cpp's completion tool does.
func printVerbosePrompt(w io.Writer, m *engine.Model, prompt string, input []int32, nKeep int, interactive bool, reverse []string, inPrefix, inSuffix string) {
	tok := m.Tokenizer()
	tokens := func(ids []int32) {
		for _, t := range ids {
			if engine.IsMediaToken(t) {
				fmt.Fprintf(w, "%6s -> (an image's position)\n", "-")
				continue
			}
			fmt.Fprintf(w, "%6d -> '%s'\n", t, tok.TokenToPiece(t, true))
		}
	}
	fmt.Fprintf(w, "main: prompt: '%s'\n", prompt)
	fmt.Fprintf(w, "main: number of tokens in prompt = %d\n", len(input))
	tokens(input)
	addBOS := 0
	if tok.AddBOS() {
		addBOS = 1
	}
	if nKeep > addBOS {
		fmt.Fprintf(w, "main: static prompt based on n_keep: '")
		for _, t := range input[:min(nKeep, len(input))] {
			if engine.IsMediaToken(t) {
				continue
			}
			w.Write(tok.TokenToPiece(t, true))
		}
		fmt.Fprintf(w, "'\n")
	}
	fmt.Fprintln(w)
	if !interactive {
		return
	}
	fmt.Fprintf(w, "main: interactive mode on.\n")
	for _, r := range reverse {
		fmt.Fprintf(w, "Reverse prompt: '%s'\n", r)
		tokens(m.Tokenize(r, false, true))
	}
	if inPrefix != "" {
		fmt.Fprintf(w, "Input prefix: '%s'\n", inPrefix)
		tokens(m.Tokenize(inPrefix, true, true))
	}
	if inSuffix != "" {
		fmt.Fprintf(w, "Input suffix: '%s'\n", inSuffix)
		tokens(m.Tokenize(inSuffix, false, true))
	}
}

// ignoreEOSBias returns bias with every end-of-generation token banned.
func ignoreEOSBias(bias map[int32]float32, eog []int32) map[int32]float32 {
	out := make(map[int32]float32, len(bias)+len(eog))
	for k, v := range bias {
		out[k] = v
	}
	for _, t := range eog {
		out[t] = float32(math.Inf(-1))
	}
	return out
}

// perf collects llama.cpp-style timings.
type perf struct {
	start      time.Time
	load       time.Duration
	promptEval time.Duration
	nPrompt    int
	eval       time.Duration
	nEval      int
	sampling   time.Duration
	nSample    int
	noSampler  bool // omit the sampler line (--perplexity)
}

// print writes the timings in the format of llama.cpp's
// llama_perf_sampler_print and llama_perf_context_print.
func (p *perf) print(w io.Writer) {
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
	per := func(d time.Duration, n int) (float64, float64) {
		if n == 0 || d <= 0 {
			return 0, 0
		}
		return ms(d) / float64(n), 1e3 / ms(d) * float64(n)
	}
	fmt.Fprintln(w)
	if !p.noSampler {
		a, b := per(p.sampling, p.nSample)
		fmt.Fprintf(w, "llama_perf_sampler_print:    sampling time = %10.2f ms / %5d runs   (%8.2f ms per token, %8.2f tokens per second)\n", ms(p.sampling), p.nSample, a, b)
	}
	fmt.Fprintf(w, "llama_perf_context_print:        load time = %10.2f ms\n", ms(p.load))
	a, b := per(p.promptEval, p.nPrompt)
	fmt.Fprintf(w, "llama_perf_context_print: prompt eval time = %10.2f ms / %5d tokens (%8.2f ms per token, %8.2f tokens per second)\n", ms(p.promptEval), p.nPrompt, a, b)
	a, b = per(p.eval, p.nEval)
	fmt.Fprintf(w, "llama_perf_context_print:        eval time = %10.2f ms / %5d runs   (%8.2f ms per token, %8.2f tokens per second)\n", ms(p.eval), p.nEval, a, b)
	fmt.Fprintf(w, "llama_perf_context_print:       total time = %10.2f ms / %5d tokens\n", ms(time.Since(p.start)), p.nPrompt+p.nEval)
}
