// Command llamafile runs a GGUF language model from the command line, with
// llama.cpp's flags: it generates text from a prompt (like llama-completion),
// prints the tokens of a text (--tokenize, like llama-tokenize) or measures
// perplexity over a file (--perplexity, like llama-perplexity).
//
// When the executable carries a zip archive at its end (a llamafile), the
// arguments of the archive's .args file come first, and the model can be a
// .gguf entry of the archive, memory-mapped in place. See llamafile(1).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/llamafile-go/llamafile/pkg/ape"
	"github.com/llamafile-go/llamafile/pkg/bench"
	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/sandbox"
	"github.com/llamafile-go/llamafile/pkg/version"
)

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2   // no arguments at all
	exitInterrupted = 130 // SIGINT during generation, as llama.cpp
)

// errInterrupted reports that generation was stopped by SIGINT.
var errInterrupted = errors.New("interrupted by user")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first Ctrl-C, a second one kills the process.
		<-ctx.Done()
		stop()
	}()
	e := env{
		stdin:    os.Stdin,
		stdout:   os.Stdout,
		stderr:   os.Stderr,
		readFile: os.ReadFile,
		restrict: sandbox.Restrict,
	}
	e.self, e.selfErr = ape.SelfPath()
	code := run(ctx, os.Args[1:], e)
	stop()
	os.Exit(code)
}

// env is what run works with: streams, file reading and the path of the
// file that may carry a zip archive.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	readFile       readFileFunc
	self           string
	selfErr        error
	// restrict sandboxes the process (sandbox.Restrict); nil in tests
	// that run the command inside the test process.
	restrict func(sandbox.Policy) (sandbox.Result, error)
}

// run runs the command with the user's arguments and returns the exit
// status.
func run(ctx context.Context, userArgs []string, e env) int {
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "llamafile: %v\n", err)
		return exitError
	}
	// --check verifies a zip archive (this executable's or a FILE's)
	// before anything, .args included, is read from it.
	if len(userArgs) > 0 && userArgs[0] == "--check" {
		return runCheck(userArgs[1:], e)
	}
	var self *engine.Bundle
	if e.selfErr == nil {
		var err error
		self, err = engine.OpenBundle(e.self)
		if err != nil {
			return fail(err)
		}
	} else {
		self = &engine.Bundle{}
	}
	defer self.Close()

	// --bench is llama-bench: its own flags, applied to model files, so
	// the embedded .args (generation defaults) do not apply to it.
	if len(userArgs) > 0 && userArgs[0] == "--bench" {
		return bench.MainContext(ctx, userArgs[1:], e.stdout, e.stderr)
	}
	// --batched-bench is llama-batched-bench, likewise.
	if len(userArgs) > 0 && userArgs[0] == "--batched-bench" {
		return bench.BatchedMain(ctx, userArgs[1:], e.stdout, e.stderr)
	}
	argv, err := self.ExpandArgs(userArgs)
	if err != nil {
		return fail(err)
	}
	if len(argv) == 0 {
		writeUsageHint(e.stderr)
		return exitUsage
	}
	o, err := parseArgs(argv, e.stdout, e.readFile)
	if err != nil {
		return fail(err)
	}
	if o == nil {
		return exitOK // --help
	}
	if o.version {
		fmt.Fprintf(e.stdout, "llamafile %s\n", version.Version)
		return exitOK
	}

	logw := e.stderr
	if o.logDisable {
		logw = io.Discard
	}
	if o.gpuWanted {
		gpuNotice(logw)
	}
	switch o.mode {
	case modeTokenize:
		err = runTokenize(o, self, e)
	case modePerplexity:
		err = runPerplexity(ctx, o, self, e, logw)
	case modeServer:
		err = runServer(ctx, o, self, e, logw)
	case modeApplyTemplate:
		err = runApplyTemplate(o, self, e)
	case modeChat:
		err = runChat(ctx, o, self, e, logw)
	case modeEmbedding:
		err = runEmbedding(ctx, o, self, e, logw)
	default:
		err = runGenerate(ctx, o, self, e, logw)
	}
	switch {
	case errors.Is(err, errInterrupted):
		fmt.Fprintln(e.stderr, "Interrupted by user")
		return exitInterrupted
	case err != nil:
		return fail(err)
	}
	return exitOK
}

// engineOptions makes the engine options of the command line, for a
// context of ctxSize tokens.
func engineOptions(o *options, ctxSize int) engine.Options {
	opts := engine.Options{ContextSize: ctxSize, CacheTypeK: o.cacheTypeK, CacheTypeV: o.cacheTypeV, NoMmap: o.noMmap, Mlock: o.mlock, SWAFull: o.swaFull, NoRepack: o.noRepack}
	if o.batchSize > 0 {
		// -b is llama.cpp's logical batch (default 2048); a forward pass
		// holds at most 512 tokens, its default physical batch (-ub).
		opts.BatchSize = min(o.batchSize, 512)
	}
	if o.threads > 0 {
		opts.Threads = o.threads
	}
	if o.threadsBatch > 0 {
		opts.BatchThreads = o.threadsBatch
	}
	return opts
}
