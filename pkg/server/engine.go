package server

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/grammar"
	"github.com/llamafile-go/llamafile/pkg/tokenizer"
)

// Engine is a Backend over the engine: a model, the Scheduler serving its
// sequences, and its chat template.
type Engine struct {
	Model     *engine.Model
	Scheduler *engine.Scheduler
	// Template formats chat messages: the model's Jinja template or a
	// built-in format.
	Template chat.Formatter
	// TemplateSource is the template as /props reports it: the Jinja
	// source, or a built-in format's name.
	TemplateSource string
	// ToolTemplate, when not nil, renders the requests that offer
	// tools: the model's tokenizer.chat_template.tool_use, which
	// llama.cpp prefers for them. ToolTemplateSource is its text.
	ToolTemplate       chat.Formatter
	ToolTemplateSource string
	// Alias is the model's name in the API; empty means its file name.
	Alias string
	// Projector, when not nil, reads the images of requests (--mmproj).
	Projector *engine.Projector
}

// ModelName is the alias, else the model file's base name (the entry's,
// for a model inside a llamafile).
func (e *Engine) ModelName() string {
	if e.Alias != "" {
		return e.Alias
	}
	// "dir/x.llamafile:model.gguf" names an entry of a llamafile's zip.
	name := filepath.Base(e.Model.Name())
	if i := strings.LastIndex(name, ":"); i >= 0 {
		name = name[i+1:]
	}
	return name
}

func (e *Engine) ContextSize() int      { return e.Scheduler.SlotContextSize() }
func (e *Engine) TrainContextSize() int { return e.Model.Params().ContextLength }
func (e *Engine) VocabSize() int        { return e.Model.NumVocab() }
func (e *Engine) Slots() int            { return e.Scheduler.NumSlots() }

func (e *Engine) Tokenize(text string, addSpecial, parseSpecial bool) []int32 {
	return e.Model.Tokenize(text, addSpecial, parseSpecial)
}

func (e *Engine) Piece(id int32) string {
	if id < 0 || int(id) >= e.Model.NumVocab() {
		return ""
	}
	return string(e.Model.Tokenizer().TokenToPiece(id, true))
}

func (e *Engine) Detokenize(ids []int32) string { return e.Model.Detokenize(ids) }

func (e *Engine) ApplyTemplate(msgs []chat.Message, addAssistant bool) (string, error) {
	return e.Template.Apply(msgs, addAssistant)
}

func (e *Engine) ApplyTemplateTools(messages, tools json.RawMessage, addAssistant bool) (string, error) {
	t := e.Template
	if e.ToolTemplate != nil && chat.OffersTools(tools) {
		t = e.ToolTemplate
	}
	tf, ok := t.(chat.ToolFormatter)
	if !ok {
		return "", errors.New("a built-in chat format cannot render tools: serve the model's Jinja template (without --no-jinja)")
	}
	return tf.ApplyTools(messages, tools, addAssistant)
}

func (e *Engine) ChatTemplate() string { return e.TemplateSource }

func (e *Engine) ToolChatTemplate() string {
	if e.ToolTemplate != nil {
		return e.ToolTemplateSource
	}
	return e.TemplateSource
}

func (e *Engine) ParseGrammar(src string) (*grammar.Grammar, error) { return e.Model.ParseGrammar(src) }

func (e *Engine) Generate(ctx context.Context, req *engine.Request, emit func(engine.Chunk) error) (*engine.Result, error) {
	return e.Scheduler.Generate(ctx, req, emit)
}

func (e *Engine) Embed(ctx context.Context, tokens []int32) ([]float32, error) {
	return e.Scheduler.Embed(ctx, tokens)
}

func (e *Engine) EmbedBatch(ctx context.Context, inputs [][]int32) ([][]float32, error) {
	return e.Scheduler.EmbedBatch(ctx, inputs)
}

func (e *Engine) Pooling() string { return e.Scheduler.Pooling() }

func (e *Engine) RerankTokens(query, doc string) []int32 {
	if f := e.Model.File(); f != nil {
		if tmpl, err := f.GetString("tokenizer.chat_template.rerank"); err == nil {
			// As llama.cpp's string_replace_all, one after the other.
			p := strings.ReplaceAll(tmpl, "{query}", query)
			p = strings.ReplaceAll(p, "{document}", doc)
			return e.Model.Tokenize(p, false, true)
		}
	}
	tok := e.Model.Tokenizer()
	eos := tok.EOS()
	if eos == tokenizer.Null {
		eos = tok.SEP()
	}
	var out []int32
	if tok.AddBOS() {
		out = append(out, tok.BOS())
	}
	out = append(out, e.Model.Tokenize(query, false, false)...)
	if tok.AddEOS() {
		out = append(out, eos)
	}
	if tok.AddSEP() {
		out = append(out, tok.SEP())
	}
	out = append(out, e.Model.Tokenize(doc, false, false)...)
	if tok.AddEOS() {
		out = append(out, eos)
	}
	return out
}

func (e *Engine) SlotsInfo() []engine.SlotInfo { return e.Scheduler.SlotInfos() }
func (e *Engine) Stats() engine.Stats          { return e.Scheduler.Stats() }
