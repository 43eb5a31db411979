// Package chat turns a list of chat messages into a prompt string with one of
// the built-in chat formats of llama.cpp (its non-Jinja templates).
//
// A GGUF model names its chat format with a Jinja template stored under the
// metadata key tokenizer.chat_template ([MetadataKey]). This package does not
// run Jinja: like llama.cpp, [Detect] recognises the template by looking for
// tell-tale substrings and picks the built-in format it corresponds to, and
// [Template.Apply] renders the messages with that format's fixed rules. The
// output is byte for byte what llama.cpp's llama_chat_apply_template
// produces, including its whitespace, the BOS or EOS text some formats write
// inside the prompt, and how each format treats system messages (kept,
// merged into the first user turn, or dropped). The tests hold this to
// outputs recorded from llama.cpp itself (testdata/llamacpp.json, made by
// tools/chatref) for every built-in format and for real models' templates.
//
// llama.cpp uses chatml when it is given no template; for one it does not
// recognise, llama_chat_apply_template fails. Callers that would rather go
// on fall back to [Default]:
//
//	t, err := chat.Detect(src)
//	if err != nil {
//		slog.Warn("chat template not supported, using chatml", "err", err)
//		t = chat.Default()
//	}
//	prompt, err := t.Apply(msgs, true)
//
// [Lookup] accepts what llama.cpp's --chat-template flag accepts: a built-in
// name such as "chatml" or "llama3", or a whole Jinja template to detect.
package chat

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// MetadataKey is the GGUF metadata key holding a model's Jinja chat template.
const MetadataKey = "tokenizer.chat_template"

// ToolUseMetadataKey is the GGUF metadata key of a model's template for
// conversations with tools (Hugging Face's named template "tool_use"),
// which llama.cpp prefers to the default one when a request has tools.
const ToolUseMetadataKey = "tokenizer.chat_template.tool_use"

// Message is one chat turn. Role is "system", "user" or "assistant" ("tool"
// for the formats that have tool turns); Content is the turn's text.
type Message struct {
	Role, Content string
}

// Template is a built-in chat format. Templates are values obtained from
// [Lookup], [Detect] or [Default]; a Template holding only a Name is also
// usable, and is resolved by that name when applied.
type Template struct {
	// Name is the format's llama.cpp name, such as "chatml" or "llama3".
	Name string

	kind kind
}

// ErrNoTemplate is returned (wrapped) by [Detect] and [Lookup] for an empty
// template.
var ErrNoTemplate = errors.New("no chat template")

// ErrUnknownTemplate is returned (wrapped) by [Detect] and [Lookup] for a
// template that matches none of the built-in formats, and by
// [Template.Apply] for a Template that names none.
var ErrUnknownTemplate = errors.New("unsupported chat template")

// Default returns the chatml format, which llama_chat_apply_template uses
// when it is given no template.
func Default() Template {
	return Template{Name: "chatml", kind: kindChatML}
}

// Names returns the names of the built-in formats, sorted, as llama.cpp
// lists them (llama_chat_builtin_templates).
func Names() []string {
	var names []string
	for _, e := range builtins[kindNone+1:] {
		if !e.unlisted {
			names = append(names, e.name)
		}
	}
	sort.Strings(names)
	return names
}

// Lookup returns the built-in format named name. Like llama.cpp's
// --chat-template flag (llama_chat_apply_template), it also accepts a Jinja
// template, which it recognises as [Detect] does when it is not a name.
//
// Besides the names of [Names], Lookup accepts "dots1", the one format
// llama.cpp detects but does not list, and so does not accept by name.
func Lookup(name string) (Template, error) {
	if name == "" {
		return Template{}, fmt.Errorf("chat: template %q: %w", name, ErrNoTemplate)
	}
	if t, ok := byName(name); ok {
		return t, nil
	}
	if k := detect(name); k != kindNone {
		return k.template(), nil
	}
	return Template{}, fmt.Errorf("chat: template %q is neither a built-in template name (%s) nor a recognised Jinja template: %w",
		abbreviate(name), strings.Join(Names(), ", "), ErrUnknownTemplate)
}

// Detect returns the built-in format that the Jinja chat template src (a
// model's tokenizer.chat_template) corresponds to, using llama.cpp's
// heuristics (llm_chat_detect_template): a src that is exactly the name of
// one of [Names] is that format; otherwise Detect checks, in a fixed order,
// for substrings characteristic of each format. An empty src, or one in
// which no format is recognised, gives an error wrapping [ErrNoTemplate] or
// [ErrUnknownTemplate].
func Detect(src string) (Template, error) {
	if src == "" {
		return Template{}, fmt.Errorf("chat: detect: %w", ErrNoTemplate)
	}
	if t, ok := byName(src); ok && !builtins[t.kind].unlisted {
		return t, nil
	}
	k := detect(src)
	if k == kindNone {
		return Template{}, fmt.Errorf("chat: detect: template %q: %w", abbreviate(src), ErrUnknownTemplate)
	}
	return k.template(), nil
}

// Apply renders msgs with the format t. When addAssistant is true, the
// prompt ends with the opening of an assistant turn (the generation
// prompt), for the formats that have one. The formats whose user turn
// already ends where the assistant's begins (llama2 and its variants, the
// mistral ones, minicpm, orion, rwkv-world, hunyuan-moe, hunyuan-dense,
// hunyuan-vl) and deepseek-ocr, which only joins the contents, ignore
// addAssistant, as in llama.cpp. Roles other than those a format knows are
// handled as llama.cpp handles them: written as they are by the formats
// that print the role, otherwise treated as an assistant turn or skipped.
func (t Template) Apply(msgs []Message, addAssistant bool) (string, error) {
	k := t.kind
	if k == kindNone || k >= numKinds || builtins[k].name != t.Name {
		r, ok := byName(t.Name)
		if !ok {
			return "", fmt.Errorf("chat: apply: template %q: %w", t.Name, ErrUnknownTemplate)
		}
		k = r.kind
	}
	var b strings.Builder
	builtins[k].render(&b, msgs, addAssistant)
	return b.String(), nil
}

// byName finds a built-in format by its exact name.
func byName(name string) (Template, bool) {
	for k := kindNone + 1; k < numKinds; k++ {
		if builtins[k].name == name {
			return k.template(), true
		}
	}
	return Template{}, false
}

// abbreviate shortens a template for an error message.
func abbreviate(s string) string {
	const limit = 60
	if len(s) <= limit {
		return s
	}
	// Cut on a rune boundary.
	n := limit
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}
