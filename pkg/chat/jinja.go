package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// MaxJinjaSource bounds the size of a Jinja template's source.
const MaxJinjaSource = 1 << 20

// Jinja is a model's own chat template (its tokenizer.chat_template, a
// Jinja template), rendered as Hugging Face's apply_chat_template renders
// it: Python jinja2 semantics with trim_blocks and lstrip_blocks, loop
// controls, raise_exception, strftime_now and tojson. Rendering is
// bounded (time, output, nesting, ranges; see [jinja.DefaultLimits]) so
// that a hostile template fails with an error, and a template cannot
// reach files or the network: it sees only the variables it is given.
//
// A Jinja is safe for concurrent use.
type Jinja struct {
	src string
	t   *jinja.Template
}

// ParseJinja compiles a Jinja chat template.
func ParseJinja(src string) (*Jinja, error) {
	if src == "" {
		return nil, fmt.Errorf("chat: jinja: %w", ErrNoTemplate)
	}
	if len(src) > MaxJinjaSource {
		return nil, fmt.Errorf("chat: jinja: the template is %d bytes, more than the limit of %d", len(src), MaxJinjaSource)
	}
	t, err := jinja.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	return &Jinja{src: src, t: t}, nil
}

// Source is the template's text.
func (j *Jinja) Source() string { return j.src }

// Input is what a template renders: the variables apply_chat_template
// gives it.
type Input struct {
	// Messages are the conversation, as {"role", "content"} objects.
	// RawMessages, when set, are used instead: a JSON array of message
	// objects with any fields (tool_calls, tool_call_id, name,
	// reasoning_content, content parts, ...), whose key order is kept.
	Messages    []Message
	RawMessages json.RawMessage
	// Tools is a JSON array of tool definitions, or empty for none.
	Tools json.RawMessage
	// AddGenerationPrompt ends the prompt with the opening of the
	// assistant's turn.
	AddGenerationPrompt bool
	// BOSToken and EOSToken are the model's special tokens' texts.
	BOSToken, EOSToken string
	// Kwargs is a JSON object of extra variables (chat_template_kwargs,
	// such as {"enable_thinking": false}).
	Kwargs json.RawMessage
	// Now is the time strftime_now reads; zero means the present.
	Now time.Time
}

// Render renders the template for in.
func (j *Jinja) Render(in Input) (string, error) {
	vars := map[string]jinja.Value{}
	msgs, err := in.messages()
	if err != nil {
		return "", err
	}
	vars["messages"] = msgs
	vars["tools"] = jinja.None()
	if len(bytes.TrimSpace(in.Tools)) > 0 {
		if vars["tools"], err = valueOf("tools", in.Tools); err != nil {
			return "", err
		}
	}
	vars["documents"] = jinja.None()
	vars["add_generation_prompt"] = jinja.NewBool(in.AddGenerationPrompt)
	vars["bos_token"] = jinja.NewString(in.BOSToken)
	vars["eos_token"] = jinja.NewString(in.EOSToken)
	if len(bytes.TrimSpace(in.Kwargs)) > 0 {
		kw, err := valueOf("chat_template_kwargs", in.Kwargs)
		if err != nil {
			return "", err
		}
		if !kw.IsDict() {
			return "", errors.New("chat: chat_template_kwargs: expected a JSON object")
		}
		d := kw.AsDict()
		for _, k := range d.OrderedKeys() {
			vars[k], _ = d.Get(k)
		}
	}
	lim := jinja.DefaultLimits
	lim.Now, lim.Python = in.Now, true
	if lim.Now.IsZero() {
		lim.Now = time.Now()
	}
	out, err := j.t.RenderValuesLimited(vars, lim)
	if err != nil {
		return "", fmt.Errorf("chat: rendering the chat template: %w", err)
	}
	return out, nil
}

func (in *Input) messages() (jinja.Value, error) {
	if len(bytes.TrimSpace(in.RawMessages)) > 0 {
		v, err := valueOf("messages", in.RawMessages)
		if err != nil {
			return v, err
		}
		if !v.IsList() {
			return v, errors.New("chat: messages: expected a JSON array")
		}
		return v, nil
	}
	items := make([]jinja.Value, len(in.Messages))
	for i, m := range in.Messages {
		d := jinja.NewDict()
		d.AsDict().Set("role", jinja.NewString(m.Role))
		d.AsDict().Set("content", jinja.NewString(m.Content))
		items[i] = d
	}
	return jinja.NewList(items), nil
}

// valueOf decodes JSON into template values, keeping the key order of
// objects (tojson writes them back in it, as Python's dicts do).
func valueOf(field string, raw json.RawMessage) (jinja.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return jinja.Undefined(), fmt.Errorf("chat: %s: %w", field, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return jinja.Undefined(), fmt.Errorf("chat: %s: trailing data after the JSON value", field)
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (jinja.Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return jinja.Undefined(), err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			var items []jinja.Value
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return v, err
				}
				items = append(items, v)
			}
			_, err := dec.Token() // ]
			return jinja.NewList(items), err
		case '{':
			d := jinja.NewDict()
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return d, err
				}
				v, err := decodeValue(dec)
				if err != nil {
					return v, err
				}
				d.AsDict().Set(k.(string), v)
			}
			_, err := dec.Token() // }
			return d, err
		}
		return jinja.Undefined(), fmt.Errorf("unexpected %v", t)
	case string:
		return jinja.NewString(t), nil
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return jinja.NewInt(i), nil
		}
		f, err := t.Float64()
		return jinja.NewFloat(f), err
	case bool:
		return jinja.NewBool(t), nil
	case nil:
		return jinja.None(), nil
	}
	return jinja.Undefined(), fmt.Errorf("unexpected token %v", tok)
}

// Formatter renders chat messages as a prompt: a built-in [Template], or
// a [JinjaFormatter].
type Formatter interface {
	Apply(msgs []Message, addAssistant bool) (string, error)
}

// JinjaFormatter is a Jinja template with the model's special tokens, as
// a Formatter.
type JinjaFormatter struct {
	*Jinja
	BOSToken, EOSToken string
	// StripBOS removes a BOSToken the template writes at the start, for
	// models whose tokenizer adds the BOS token itself (as llama.cpp does,
	// so that the prompt does not begin with two).
	StripBOS bool
}

// Apply renders msgs, ending with the generation prompt when addAssistant.
func (f JinjaFormatter) Apply(msgs []Message, addAssistant bool) (string, error) {
	return f.render(Input{Messages: msgs, AddGenerationPrompt: addAssistant})
}

// render renders in with the formatter's special tokens, dropping a
// leading BOS when StripBOS.
func (f JinjaFormatter) render(in Input) (string, error) {
	in.BOSToken, in.EOSToken = f.BOSToken, f.EOSToken
	out, err := f.Render(in)
	if err == nil && f.StripBOS && f.BOSToken != "" {
		out = strings.TrimPrefix(out, f.BOSToken)
	}
	return out, err
}
