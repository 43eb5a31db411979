package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
)

// conversation is the file --apply-template reads: what a chat template
// is rendered with.
type conversation struct {
	Messages            json.RawMessage `json:"messages"`
	Tools               json.RawMessage `json:"tools"`
	AddGenerationPrompt *bool           `json:"add_generation_prompt"`
	BOSToken            *string         `json:"bos_token"`
	EOSToken            *string         `json:"eos_token"`
	Kwargs              json.RawMessage `json:"chat_template_kwargs"`
}

// runApplyTemplate prints the prompt that a chat template renders for
// the conversation of --apply-template FILE ("-": standard input), and
// nothing else. The template is --chat-template(-file), else the model's
// (-m); without a template given no model is needed.
func runApplyTemplate(o *options, self *engine.Bundle, e env) error {
	name := o.applyTemplate
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(e.stdin)
	} else {
		data, err = e.readFile(name)
	}
	if err != nil {
		return fmt.Errorf("--apply-template %s: %w", name, err)
	}
	var conv conversation
	if err := json.Unmarshal(data, &conv); err != nil {
		return fmt.Errorf("--apply-template %s: %w", name, err)
	}
	if len(conv.Messages) == 0 {
		return fmt.Errorf("--apply-template %s: no \"messages\"", name)
	}
	now, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	var src, where, bos, eos string
	if o.server.chatTemplate == "" {
		m, err := self.OpenModel(o.model, engine.Options{VocabOnly: true})
		if err != nil {
			return err
		}
		defer m.Close()
		src, _ = m.File().GetString(chat.MetadataKey)
		where = m.Name() + ": " + chat.MetadataKey
		bos, eos = specialTexts(m)
		// With tools, the model's tool_use template if it has one, as
		// the server renders such requests.
		if tool, _ := m.File().GetString(chat.ToolUseMetadataKey); tool != "" && chat.OffersTools(conv.Tools) && !o.server.noJinja {
			src, where = tool, m.Name()+": "+chat.ToolUseMetadataKey
		}
	}
	p, err := pickTemplate(&o.server, src, where, nil)
	if err != nil {
		return err
	}
	if conv.BOSToken != nil {
		bos = *conv.BOSToken
	}
	if conv.EOSToken != nil {
		eos = *conv.EOSToken
	}
	agp := conv.AddGenerationPrompt == nil || *conv.AddGenerationPrompt

	var out string
	if p.jinja == nil {
		var msgs []chat.Message
		if err := json.Unmarshal(conv.Messages, &msgs); err != nil {
			return fmt.Errorf("--apply-template %s: messages: a built-in format takes messages with string contents: %w", name, err)
		}
		out, err = p.builtin.Apply(msgs, agp)
	} else {
		out, err = p.jinja.Render(chat.Input{RawMessages: conv.Messages, Tools: conv.Tools, AddGenerationPrompt: agp,
			BOSToken: bos, EOSToken: eos, Kwargs: conv.Kwargs, Now: now})
	}
	if err != nil {
		return fmt.Errorf("%s: %w", p.where, err)
	}
	_, err = io.WriteString(e.stdout, out)
	return err
}

// specialTexts are a model's BOS and EOS tokens' texts.
func specialTexts(m *engine.Model) (bos, eos string) {
	tok := m.Tokenizer()
	if id := tok.BOS(); id >= 0 && int(id) < m.NumVocab() {
		bos = string(tok.TokenToPiece(id, true))
	}
	if id := tok.EOS(); id >= 0 && int(id) < m.NumVocab() {
		eos = string(tok.TokenToPiece(id, true))
	}
	return bos, eos
}

// sourceDateEpoch is the time SOURCE_DATE_EPOCH fixes (seconds since
// 1970, for reproducible output), or zero for the present.
func sourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: expected seconds since 1970", v)
	}
	return time.Unix(n, 0).UTC(), nil
}
