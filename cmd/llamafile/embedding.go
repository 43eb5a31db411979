package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/model"
)

// embeddingOptions are llama-embedding's flags (--embedding with a prompt).
type embeddingOptions struct {
	prompts   []string // every -p, in order (the texts are split further)
	normalize int      // --embd-normalize
	format    string   // --embd-output-format: "", json, json+, array, raw
	separator string   // --embd-separator: splits the prompts into texts
	clsSep    string   // --cls-separator: query and document of a rank pair
}

// embedFormats are the values --embd-output-format takes.
var embedFormats = []string{"", "json", "json+", "array", "raw"}

// embedTexts returns the texts to embed: each -p (or the -f file) split at
// the separator, as llama-embedding splits its prompt.
func (o *options) embedTexts() []string {
	var texts []string
	sources := o.embed.prompts
	if o.promptFile != "" {
		sources = []string{o.prompt}
	}
	for _, p := range sources {
		texts = append(texts, strings.Split(p, o.embed.separator)...)
	}
	return texts
}

// runEmbedding prints the embeddings of the texts, as llama-embedding
// does: by default the first values of each (all of them for a single
// text) and the cosine similarity matrix; with --embd-output-format json,
// json+ or array the whole vectors. The model's pooling applies unless
// --pooling says otherwise: a generative model pools its last token, an
// encoder as its pooling_type says.
func runEmbedding(ctx context.Context, o *options, self *engine.Bundle, e env, logw io.Writer) error {
	texts := o.embedTexts()
	m, err := openModel(o.model, self, engineOptions(o, o.ctxSize), logw)
	if err != nil {
		return err
	}
	defer m.Close()
	enterSandbox(o, e, logw, cliPolicy(o))
	net := m.Network()
	// As llama-embedding: the model's pooling_type, else none (every
	// token's state), unless --pooling says otherwise.
	pooling := o.server.pooling
	if pooling == "" {
		pooling = cmp.Or(net.Params.Pooling, "none")
	}
	nCtx := o.ctxSize
	if nCtx == 0 {
		nCtx = net.Params.ContextLength
	}
	// llama-embedding evaluates a text in one batch: the batch is the
	// context.
	r, err := net.NewRunner(model.RunnerOptions{BatchSize: nCtx, Threads: m.Options().Threads, BatchThreads: m.Options().BatchThreads,
		CacheTypeK: o.cacheTypeK, CacheTypeV: o.cacheTypeV})
	if err != nil {
		return err
	}
	defer r.Close()
	seq, err := r.NewSeq(nCtx)
	if err != nil {
		return err
	}
	tok := m.Tokenizer()
	fmt.Fprintf(logw, "llamafile: model %s: %s, pooling %s, %d texts\n", m.Name(), m.Arch(), pooling, len(texts))

	var embs [][]float32 // one per text, or per token with pooling none
	for i, text := range texts {
		if pooling == "rank" && strings.Contains(text, o.embed.clsSep) {
			// A query and a document: joined by the model's EOS and SEP
			// texts where its tokenizer adds them.
			var sep string
			if tok.AddEOS() {
				sep += string(tok.TokenToPiece(tok.EOS(), true))
			}
			if tok.AddSEP() {
				sep += string(tok.TokenToPiece(tok.SEP(), true))
			}
			text = strings.Join(strings.Split(text, o.embed.clsSep), sep)
		}
		ids := m.Tokenize(text, true, true)
		if len(ids) > nCtx {
			return fmt.Errorf("text %d has %d tokens, more than the context of %d (use a larger -c)", i, len(ids), nCtx)
		}
		if len(ids) == 0 || (ids[len(ids)-1] != tok.SEP() && ids[len(ids)-1] != tok.EOS()) {
			fmt.Fprintf(logw, "warning: the last token of text %d is not SEP or EOS ('tokenizer.ggml.add_eos_token' should be set to 'true' in the GGUF header)\n", i)
		}
		if o.verbosePrompt {
			fmt.Fprintf(logw, "main: prompt %d: '%s'\nmain: number of tokens in prompt = %d\n", i, text, len(ids))
			for _, t := range ids {
				fmt.Fprintf(logw, "%6d -> '%s'\n", t, tok.TokenToPiece(t, true))
			}
			fmt.Fprintln(logw)
		}
		v, err := r.Embed(ctx, seq, ids, pooling)
		if err != nil {
			if ctx.Err() != nil {
				return errInterrupted
			}
			return fmt.Errorf("text %d: %w", i, err)
		}
		width := net.Params.Embd
		if pooling == "rank" {
			width = len(v)
		}
		for j := 0; j+width <= len(v); j += width {
			row := v[j : j+width]
			model.NormalizeEmbedding(row, row, o.embed.normalize)
			embs = append(embs, row)
		}
	}
	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	printEmbeddings(out, embs, texts, pooling, o.embed)
	return nil
}

// printEmbeddings writes embs as llama-embedding does for its output
// format.
func printEmbeddings(w io.Writer, embs [][]float32, texts []string, pooling string, eo embeddingOptions) {
	num := func(v float32, wide bool) string {
		switch {
		case eo.normalize == 0 && wide:
			return fmt.Sprintf("%6.0f ", v)
		case eo.normalize == 0:
			return fmt.Sprintf("%1.0f", v)
		case wide:
			return fmt.Sprintf("%9.6f ", v)
		}
		return fmt.Sprintf("%1.7f", v)
	}
	switch eo.format {
	case "":
		fmt.Fprintln(w)
		switch pooling {
		case "none":
			for j, e := range embs {
				fmt.Fprintf(w, "embedding %d: ", j)
				for i := 0; i < min(3, len(e)); i++ {
					fmt.Fprint(w, num(e[i], true))
				}
				fmt.Fprint(w, " ... ")
				for i := max(0, len(e)-3); i < len(e); i++ {
					fmt.Fprint(w, num(e[i], true))
				}
				fmt.Fprintln(w)
			}
		case "rank":
			for j, e := range embs {
				for i, v := range e {
					if len(e) == 1 {
						fmt.Fprintf(w, "rerank score %d: %8.3f\n", j, v)
					} else {
						fmt.Fprintf(w, "rerank score %d: %8.3f [%d]\n", j, v, i)
					}
				}
			}
		default:
			for j, e := range embs {
				fmt.Fprintf(w, "embedding %d: ", j)
				n := len(e)
				if len(embs) > 1 {
					n = min(16, n)
				}
				for _, v := range e[:n] {
					fmt.Fprint(w, num(v, true))
				}
				fmt.Fprintln(w)
			}
			if len(embs) > 1 {
				fmt.Fprint(w, "\ncosine similarity matrix:\n\n")
				for _, t := range texts {
					fmt.Fprintf(w, "%6.6s ", t)
				}
				fmt.Fprintln(w)
				for i := range embs {
					for j := range embs {
						fmt.Fprintf(w, "%6.2f ", model.CosineSimilarity(embs[i], embs[j]))
					}
					fmt.Fprintf(w, "%1.10s\n", texts[i])
				}
			}
		}
	case "json", "json+", "array":
		object := eo.format != "array"
		if object {
			fmt.Fprint(w, "{\n  \"object\": \"list\",\n  \"data\": [\n")
		} else {
			fmt.Fprint(w, "[")
		}
		for j, e := range embs {
			if object {
				fmt.Fprintf(w, "    {\n      \"object\": \"embedding\",\n      \"index\": %d,\n      \"embedding\": ", j)
			}
			fmt.Fprint(w, "[")
			for i, v := range e {
				if i > 0 {
					fmt.Fprint(w, ",")
				}
				fmt.Fprint(w, num(v, false))
			}
			if object {
				fmt.Fprint(w, "]\n    }")
			} else {
				fmt.Fprint(w, "]")
			}
			if j+1 < len(embs) {
				fmt.Fprint(w, map[bool]string{true: ",\n", false: ","}[object])
			}
		}
		if object {
			fmt.Fprint(w, "\n  ]")
		} else {
			fmt.Fprint(w, "]\n")
		}
		if eo.format == "json+" && len(texts) > 1 {
			fmt.Fprint(w, ",\n  \"cosineSimilarity\": [\n")
			for i := range embs {
				fmt.Fprint(w, "    [")
				for j := range embs {
					if j > 0 {
						fmt.Fprint(w, ", ")
					}
					fmt.Fprintf(w, "%6.2f", model.CosineSimilarity(embs[i], embs[j]))
				}
				fmt.Fprint(w, " ]")
				if i+1 < len(embs) {
					fmt.Fprint(w, ",\n")
				}
			}
			fmt.Fprint(w, "\n  ]")
		}
		if object {
			fmt.Fprint(w, "\n}\n")
		}
	case "raw":
		for _, e := range embs {
			for i, v := range e {
				if i > 0 {
					fmt.Fprint(w, " ")
				}
				fmt.Fprint(w, num(v, false))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
}

// checkEmbedding checks the embedding flags.
func (o *options) checkEmbedding() error {
	valid := false
	for _, f := range embedFormats {
		valid = valid || f == o.embed.format
	}
	if !valid {
		return usageError{fmt.Errorf("--embd-output-format %q: must be json, json+, array, raw or empty", o.embed.format)}
	}
	if o.embed.separator == "" {
		return usageError{errors.New("--embd-separator: must not be empty")}
	}
	return nil
}
