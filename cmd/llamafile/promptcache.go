package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/llamafile-go/llamafile/pkg/engine"
)

// checkPromptCache checks the --prompt-cache flags once the mode is known.
func (o *options) checkPromptCache() error {
	if o.promptCache == "" {
		if o.promptCacheAll || o.promptCacheRO {
			return usageError{errors.New("--prompt-cache-all and --prompt-cache-ro need --prompt-cache FILE")}
		}
		return nil
	}
	if o.mode != modeGenerate {
		return usageError{errors.New("--prompt-cache works when generating from a prompt (-p or -f), not with --server, --chat, --tokenize or --perplexity")}
	}
	if o.promptCacheAll && (o.interactive || o.interactiveFirst) {
		return usageError{errors.New("--prompt-cache-all cannot be combined with -i or --interactive-first")}
	}
	return nil
}

// promptCache is --prompt-cache FILE in one run, as llama.cpp's
// completion tool has it: the file holds the tokens of an earlier
// prompt and their keys and values; a new prompt that starts with the
// same tokens evaluates only the rest. The file is written after the
// prompt is evaluated when it did not hold the prompt yet, and with
// --prompt-cache-all at the end, generated tokens included; never with
// --prompt-cache-ro.
type promptCache struct {
	path     string
	all, ro  bool
	save     bool // the prompt is not in the file yet
	disabled bool // a context shift made the cache's tokens stale
	logw     io.Writer
}

// load fills c from the file and returns how many tokens of input it
// holds already (at most all but the last, whose logits are needed). A
// missing or empty file is a new session; a file that is not a session,
// or one of another model, is an error: it is never overwritten.
func (p *promptCache) load(c *engine.Context, input []int32) (int, error) {
	fmt.Fprintf(p.logw, "main: attempting to load saved session from '%s'\n", p.path)
	st, err := os.Stat(p.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(p.logw, "main: session file does not exist, will create.\n")
		p.save = !p.ro
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("--prompt-cache %s: %w", p.path, err)
	case st.Size() == 0:
		fmt.Fprintf(p.logw, "main: the session file is empty. A new session will be initialized.\n")
		p.save = !p.ro
		return 0, nil
	}
	saved, err := c.LoadSession(p.path)
	if err != nil {
		return 0, fmt.Errorf("--prompt-cache %s: %w (remove the file, or name another, to start a new one)", p.path, err)
	}
	fmt.Fprintf(p.logw, "main: loaded a session with prompt size of %d tokens\n", len(saved))
	match := 0
	for match < len(saved) && match < len(input) && saved[match] == input[match] {
		match++
	}
	switch {
	case match == len(input):
		fmt.Fprintf(p.logw, "main: session file has exact match for prompt!\n")
	case match < len(input)/2:
		fmt.Fprintf(p.logw, "main: warning: session file has low similarity to prompt (%d / %d tokens); will mostly be reevaluated\n", match, len(input))
	default:
		fmt.Fprintf(p.logw, "main: session file matches %d / %d tokens of prompt\n", match, len(input))
	}
	p.save = match < len(input) && !p.ro
	return c.Rewind(min(match, len(input)-1))
}

// promptDone saves the evaluated prompt when the file did not hold it.
func (p *promptCache) promptDone(c *engine.Context) error {
	if !p.save {
		return nil
	}
	p.save = false
	return p.write(c)
}

// shifted records a context shift: the cache no longer holds the tokens
// from the start, and is not saved again.
func (p *promptCache) shifted() { p.disabled = true }

// finish saves the whole run with --prompt-cache-all.
func (p *promptCache) finish(c *engine.Context) error {
	if !p.all || p.ro || p.disabled {
		return nil
	}
	fmt.Fprintf(p.logw, "\nmain: saving final output to session file '%s'\n", p.path)
	return p.write(c)
}

func (p *promptCache) write(c *engine.Context) error {
	if p.disabled {
		return nil
	}
	if err := c.SaveSession(p.path); err != nil {
		return fmt.Errorf("--prompt-cache: %w", err)
	}
	return nil
}
