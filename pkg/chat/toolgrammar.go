package chat

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/grammar"
	"github.com/llamafile-go/llamafile/pkg/jsonschema"
)

// ToolGrammar constrains a reply to the tool calls a template's format
// writes, so that a model made to call a tool writes a call ParseToolCalls
// reads, with arguments that fit the function's parameters.
type ToolGrammar struct {
	// GBNF is the grammar of the calls (its start rule is root).
	GBNF string
	// Triggers, when not nil, make the grammar lazy: the model may answer
	// in prose and is held to the grammar from the format's call marker on
	// (tool_choice auto).
	Triggers *grammar.Triggers
}

// toolFormat is how a family of templates writes tool calls.
type toolFormat struct {
	name string
	// open and close surround one call (Hermes) or every call (Mistral's
	// list); open is also the lazy grammar's trigger.
	open, close string
	list        bool   // the calls are one JSON list after open
	nameKey     string // "name", or Command R's "tool_name"
	argsKey     string // "arguments", or Llama 3's "parameters"
}

var (
	hermesTools   = toolFormat{name: "hermes", open: hermesOpen, close: hermesClose, nameKey: "name", argsKey: "arguments"}
	mistralTools  = toolFormat{name: "mistral", open: mistralCalls, list: true, nameKey: "name", argsKey: "arguments"}
	commandRTools = toolFormat{name: "command-r", open: actionStart, close: actionEnd, list: true, nameKey: "tool_name", argsKey: "parameters"}
	llama3Tools   = toolFormat{name: "llama3", nameKey: "name", argsKey: "parameters"}
	// The formats whose calls are not JSON objects (Functionary's,
	// DeepSeek's) are forced as generic calls, which are parsed as well.
	genericTools = toolFormat{name: "generic", nameKey: "name", argsKey: "arguments"}
)

// toolFormatOf tells a template's tool-call format by the markers it
// writes, as ParseToolCalls reads them.
func toolFormatOf(template string) toolFormat {
	switch {
	case strings.Contains(template, hermesOpen):
		return hermesTools
	case strings.Contains(template, mistralCalls):
		return mistralTools
	case strings.Contains(template, actionStart):
		return commandRTools
	case strings.Contains(template, "<|start_header_id|>") && strings.Contains(template, "parameters"):
		return llama3Tools
	}
	return genericTools
}

// ToolCallGrammar builds the grammar of the tool calls of a reply for a
// chat template (its source, to tell its format), the request's tools (an
// OpenAI tools array) and tool_choice: "required" (one call or more, or
// exactly one when !parallel), a function's name (a call of it), or "auto"
// (a lazy grammar from the call marker on; nil for formats without one,
// whose calls are bare JSON and are only parsed).
func ToolCallGrammar(template string, tools json.RawMessage, choice string, parallel bool) (*ToolGrammar, error) {
	var defs []struct {
		Type     string `json:"type"`
		Function struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	}
	if err := json.Unmarshal(tools, &defs); err != nil {
		return nil, fmt.Errorf("tools: %w", err)
	}
	f := toolFormatOf(template)
	if choice == "auto" && f.open == "" {
		return nil, nil
	}
	var alts []json.RawMessage
	for i, d := range defs {
		if d.Type != "function" {
			return nil, fmt.Errorf("tools[%d].type: %q (only \"function\")", i, d.Type)
		}
		if d.Function.Name == "" {
			return nil, fmt.Errorf("tools[%d].function.name: missing", i)
		}
		if choice != "auto" && choice != "required" && choice != d.Function.Name {
			continue
		}
		params := d.Function.Parameters
		if len(params) == 0 || string(params) == "null" {
			params = json.RawMessage(`{"type": "object"}`)
		}
		name, _ := json.Marshal(d.Function.Name)
		alts = append(alts, json.RawMessage(fmt.Sprintf(
			`{"type": "object", "properties": {%q: {"const": %s}, %q: %s}, "required": [%q, %q], "additionalProperties": false}`,
			f.nameKey, name, f.argsKey, params, f.nameKey, f.argsKey)))
	}
	if len(alts) == 0 {
		return nil, fmt.Errorf("tool_choice: no function named %q among the tools", choice)
	}
	call := json.RawMessage(alts[0])
	if len(alts) > 1 {
		call, _ = json.Marshal(map[string]any{"anyOf": alts})
	}
	schema := call
	if f.list {
		maxItems := ""
		if !parallel {
			maxItems = `, "maxItems": 1`
		}
		schema = json.RawMessage(fmt.Sprintf(`{"type": "array", "items": %s, "minItems": 1%s}`, call, maxItems))
	}
	// The schema's start rule is tool-call, under our own root.
	body, err := jsonschema.Convert(schema, jsonschema.Options{Loose: true, Root: "tool-call"})
	if err != nil {
		return nil, fmt.Errorf("tools: the parameters: %w", err)
	}
	var root string
	switch {
	case f.close != "":
		block := fmt.Sprintf(`%q space tool-call space %q`, f.open, f.close)
		root = block
		if parallel {
			root = fmt.Sprintf("(%s space)+", block)
		}
	case f.open != "":
		root = fmt.Sprintf(`%q space tool-call`, f.open)
	default:
		root = "tool-call"
		if parallel {
			root = `tool-call (space tool-call)*`
		}
	}
	tg := &ToolGrammar{GBNF: "root ::= " + root + "\n" + body}
	if choice == "auto" {
		tg.Triggers = &grammar.Triggers{Words: []string{f.open}}
	}
	return tg, nil
}
