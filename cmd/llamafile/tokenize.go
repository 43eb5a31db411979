package main

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/llamafile-go/llamafile/pkg/engine"
	"io"
	"strconv"

	"github.com/llamafile-go/llamafile/pkg/escape"
)

// runTokenize prints the tokens of a text as llama.cpp's llama-tokenize
// does: "[1, 15043, 3186]" with --ids, otherwise one "    ID -> 'PIECE'"
// line per token.
func runTokenize(o *options, self *engine.Bundle, e env) error {
	var text string
	switch {
	case o.useStdin:
		// --stdin takes precedence; read after the model opens.
	case o.promptFile != "":
		// Unlike generation, the file is used verbatim: a trailing
		// newline is a token too.
		text = string(o.fileText)
	case o.promptSet:
		text = o.prompt
	default:
		return usageError{errors.New("--tokenize: must specify one of: --stdin, --file or --prompt")}
	}

	// Only the vocabulary is loaded, as llama-tokenize does (vocab_only):
	// vocabulary-only GGUF files work, and the weights are not looked at.
	opts := engineOptions(o, 0)
	opts.VocabOnly = true
	m, err := self.OpenModel(o.model, opts)
	if err != nil {
		return err
	}
	defer m.Close()
	enterSandbox(o, e, io.Discard, cliPolicy(o)) // --tokenize prints no logs

	if o.useStdin {
		data, err := io.ReadAll(e.stdin)
		if err != nil {
			return fmt.Errorf("reading standard input: %w", err)
		}
		text = string(data)
	}
	if o.escape {
		text = escape.Process(text)
	}

	tok := m.Tokenizer()
	addBOS := tok.AddBOS() && !o.noBOS
	ids := tok.Encode(text, addBOS, o.parseSpecial)

	w := bufio.NewWriter(e.stdout)
	if o.ids {
		w.WriteByte('[')
		for i, id := range ids {
			if i > 0 {
				w.WriteString(", ")
			}
			w.WriteString(strconv.Itoa(int(id)))
		}
		w.WriteString("]\n")
	} else {
		for _, id := range ids {
			fmt.Fprintf(w, "%6d -> '", id)
			w.Write(tok.TokenToPiece(id, true))
			w.WriteString("'\n")
		}
	}
	if o.showCount {
		fmt.Fprintf(w, "Total number of tokens: %d\n", len(ids))
	}
	return w.Flush()
}
