package chat

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
)

// ToolCall is a call of a function the model asked for.
type ToolCall struct {
	Name      string
	Arguments string // a JSON object, as text
}

// ToolFormatter is a Formatter that can also render tool definitions and
// messages with any fields (tool_calls, tool_call_id, ...), given as JSON:
// a Jinja template.
type ToolFormatter interface {
	Formatter
	ApplyTools(messages, tools json.RawMessage, addAssistant bool) (string, error)
}

// ApplyTools renders messages and tools (JSON arrays) with the template.
func (f JinjaFormatter) ApplyTools(messages, tools json.RawMessage, addAssistant bool) (string, error) {
	return f.render(Input{RawMessages: messages, Tools: tools, AddGenerationPrompt: addAssistant})
}

// OffersTools reports whether a request's tools (a JSON value, or absent)
// offer any: anything but nothing, null and an empty list.
func OffersTools(tools json.RawMessage) bool {
	t := string(bytes.TrimSpace(tools))
	return t != "" && t != "null" && t != "[]"
}

// ParseToolCalls finds the tool calls in a model's reply, in the formats
// llama.cpp parses: Hermes 2 Pro / Qwen 2.5 / Qwen 3 (<tool_call>{...}
// </tool_call>, any number), Mistral Nemo / Small ([TOOL_CALLS] and a
// JSON list), Llama 3.x (<|python_tag|> or a reply that is one JSON object
// {"name", "parameters"}), Command R7B (<|START_ACTION|> and a JSON list
// of {"tool_name", "parameters"}), DeepSeek R1 and V3
// (<｜tool▁call▁begin｜> blocks), Functionary v3.1 (<function=NAME>{...}
// </function>) and v3.2 (>>>NAME and the arguments; see
// ParseToolCallsFor), and as a fallback a reply that is a JSON object or
// list of objects with "name" and "arguments". It returns the reply's
// text outside the calls, and the calls (none when the reply holds none in
// these formats).
func ParseToolCalls(reply string) (content string, calls []ToolCall) {
	for _, parse := range []func(string) (string, []ToolCall, bool){parseCommandR, parseDeepSeek, parseFunctionaryV31, parseFunctionaryV32} {
		if content, calls, ok := parse(reply); ok {
			return content, calls
		}
	}
	// Hermes: <tool_call> ... </tool_call>, anywhere, several.
	if before, bodies, between := splitBlocks(reply, hermesOpen, hermesClose); bodies != nil {
		for _, body := range bodies {
			c, ok := callsOf(body)
			if !ok {
				return reply, nil // not calls after all
			}
			calls = append(calls, c...)
		}
		return strings.TrimSpace(before + between), calls
	}
	for _, tag := range []string{mistralCalls, pythonTag} {
		if i := strings.Index(reply, tag); i >= 0 {
			if c, ok := callsOf(reply[i+len(tag):]); ok {
				return strings.TrimSpace(reply[:i]), c
			}
		}
	}
	if c, ok := callsOf(reply); ok {
		return "", c
	}
	return reply, nil
}

// splitBlocks cuts s into the bodies of its open ... close blocks (the
// last may lack its close) and the text around them: before the first
// block, and between and after the blocks. bodies is nil when s has no
// open.
func splitBlocks(s, open, close string) (before string, bodies []string, between string) {
	first := strings.Index(s, open)
	if first < 0 {
		return s, nil, ""
	}
	before, s = s[:first], s[first:]
	var rest strings.Builder
	for {
		i := strings.Index(s, open)
		if i < 0 {
			rest.WriteString(s)
			break
		}
		rest.WriteString(s[:i])
		body, next, closed := strings.Cut(s[i+len(open):], close)
		bodies = append(bodies, body)
		if !closed {
			break
		}
		s = next
	}
	return before, bodies, rest.String()
}

// callsOf reads s (trimmed) as JSON call objects or lists of them, one
// or several in a row (as a grammar for parallel bare calls writes them).
func callsOf(s string) ([]ToolCall, bool) {
	s = strings.TrimSpace(s)
	if s == "" || (s[0] != '{' && s[0] != '[') {
		return nil, false
	}
	var list []json.RawMessage
	dec := json.NewDecoder(strings.NewReader(s))
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil || (raw[0] != '{' && raw[0] != '[') {
			return nil, false
		}
		if raw[0] == '[' {
			var items []json.RawMessage
			if json.Unmarshal(raw, &items) != nil || len(items) == 0 {
				return nil, false
			}
			list = append(list, items...)
		} else {
			list = append(list, raw)
		}
	}
	var calls []ToolCall
	for _, item := range list {
		var c struct {
			Name       string          `json:"name"`
			ToolName   string          `json:"tool_name"` // Command R
			Arguments  json.RawMessage `json:"arguments"`
			Parameters json.RawMessage `json:"parameters"`
			Function   *struct {
				Name      string          `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
			} `json:"function"`
		}
		if json.Unmarshal(item, &c) != nil {
			return nil, false
		}
		if c.Name == "" {
			c.Name = c.ToolName
		}
		if c.Function != nil && c.Name == "" {
			c.Name, c.Arguments = c.Function.Name, c.Function.Arguments
		}
		args := c.Arguments
		if len(args) == 0 {
			args = c.Parameters
		}
		if c.Name == "" || len(args) == 0 {
			return nil, false
		}
		call, ok := callOf(c.Name, args)
		if !ok {
			return nil, false
		}
		calls = append(calls, call)
	}
	return calls, true
}

// callOf is a call of name with args, a JSON object (or a JSON string
// holding one), compacted.
func callOf(name string, args json.RawMessage) (ToolCall, bool) {
	var str string
	if json.Unmarshal(args, &str) == nil {
		args = json.RawMessage(str)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(args, &obj) != nil {
		return ToolCall{}, false
	}
	var compact bytes.Buffer
	if json.Compact(&compact, args) != nil {
		return ToolCall{}, false
	}
	return ToolCall{Name: name, Arguments: compact.String()}, true
}

// jsonArgs reads s (trimmed, and out of a ```json fence) as a call's
// arguments.
func jsonArgs(name, s string) (ToolCall, bool) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "```"); ok {
		rest = strings.TrimPrefix(rest, "json")
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "```"))
	}
	dec := json.NewDecoder(strings.NewReader(s))
	var raw json.RawMessage
	if name == "" || dec.Decode(&raw) != nil || dec.More() {
		return ToolCall{}, false
	}
	return callOf(name, raw)
}

// The markers of the tool-call formats: the parsers read them, the call
// grammars write them and ToolCallStream holds text from them on.
const (
	hermesOpen, hermesClose     = "<tool_call>", "</tool_call>"
	mistralCalls                = "[TOOL_CALLS]"
	pythonTag                   = "<|python_tag|>"            // Llama 3.x
	functionOpen, functionClose = "<function=", "</function>" // Functionary v3.1
	recipient                   = ">>>"                       // Functionary v3.2
)

// isFunctionaryV32 tells a Functionary v3.2 template, whose prompt ends
// with ">>>" so that the reply opens with its first recipient.
func isFunctionaryV32(template string) bool { return strings.Contains(template, recipient+"all") }

// Command R7B's markers.
const (
	actionStart   = "<|START_ACTION|>"
	actionEnd     = "<|END_ACTION|>"
	responseStart = "<|START_RESPONSE|>"
	responseEnd   = "<|END_RESPONSE|>"
)

// parseCommandR reads <|START_ACTION|>[{"tool_call_id", "tool_name",
// "parameters"}, ...]<|END_ACTION|>; the text is what is in or around
// <|START_RESPONSE|> ... <|END_RESPONSE|>.
func parseCommandR(reply string) (string, []ToolCall, bool) {
	i := strings.Index(reply, actionStart)
	if i < 0 {
		return "", nil, false
	}
	body, _, _ := strings.Cut(reply[i+len(actionStart):], actionEnd)
	calls, ok := callsOf(body)
	if !ok {
		return "", nil, false
	}
	content := strings.NewReplacer(responseStart, "", responseEnd, "").Replace(reply[:i])
	return strings.TrimSpace(content), calls, true
}

// DeepSeek's markers (with U+FF5C and U+2581, as its tokens spell them).
const (
	deepseekCallsBegin = "<｜tool▁calls▁begin｜>"
	deepseekCallBegin  = "<｜tool▁call▁begin｜>"
	deepseekCallEnd    = "<｜tool▁call▁end｜>"
	deepseekSep        = "<｜tool▁sep｜>"
)

// parseDeepSeek reads DeepSeek R1's calls,
// <｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{...}\n```<｜tool▁call▁end｜>,
// and V3.1's, <｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>,
// inside <｜tool▁calls▁begin｜> ... <｜tool▁calls▁end｜> or not.
func parseDeepSeek(reply string) (string, []ToolCall, bool) {
	before, blocks, _ := splitBlocks(reply, deepseekCallBegin, deepseekCallEnd)
	if blocks == nil {
		return "", nil, false
	}
	if i := strings.Index(before, deepseekCallsBegin); i >= 0 {
		before = before[:i]
	}
	var calls []ToolCall
	for _, block := range blocks {
		head, args, ok := strings.Cut(block, deepseekSep)
		if !ok {
			return "", nil, false
		}
		name := strings.TrimSpace(head)
		if name == "function" {
			// R1: the type, then the name on the line after the separator.
			name, args, _ = strings.Cut(args, "\n")
			name = strings.TrimSpace(name)
		}
		call, ok := jsonArgs(name, args)
		if !ok {
			return "", nil, false
		}
		calls = append(calls, call)
	}
	return strings.TrimSpace(before), calls, true
}

// parseFunctionaryV31 reads <function=NAME>{...}</function>, any number.
func parseFunctionaryV31(reply string) (string, []ToolCall, bool) {
	before, blocks, _ := splitBlocks(reply, functionOpen, functionClose)
	if blocks == nil {
		return "", nil, false
	}
	var calls []ToolCall
	for _, block := range blocks {
		name, args, ok := strings.Cut(block, ">")
		if !ok {
			return "", nil, false
		}
		call, ok := jsonArgs(strings.TrimSpace(name), args)
		if !ok {
			return "", nil, false
		}
		calls = append(calls, call)
	}
	return strings.TrimSpace(before), calls, true
}

// parseFunctionaryV32 reads Functionary v3.2's messages, each >>> and a
// recipient line: "all" for text, else a function whose arguments follow
// (python's may be bare code, given as {"code": ...}).
func parseFunctionaryV32(reply string) (string, []ToolCall, bool) {
	if !strings.Contains(reply, recipient) {
		return "", nil, false
	}
	parts := strings.Split(reply, recipient)
	var content strings.Builder
	content.WriteString(parts[0])
	var calls []ToolCall
	sawText := false
	for _, part := range parts[1:] {
		recipient, body, ok := strings.Cut(part, "\n")
		recipient = strings.TrimSpace(recipient)
		if !ok || recipient == "" || strings.ContainsAny(recipient, " \t{") {
			return "", nil, false
		}
		if recipient == "all" {
			content.WriteString(body)
			sawText = true
			continue
		}
		call, ok := jsonArgs(recipient, body)
		if !ok && recipient == "python" {
			code, _ := json.Marshal(map[string]string{"code": strings.TrimSpace(body)})
			call, ok = ToolCall{Name: "python", Arguments: string(code)}, true
		}
		if !ok {
			return "", nil, false
		}
		calls = append(calls, call)
	}
	if len(calls) == 0 && !sawText {
		return "", nil, false
	}
	return strings.TrimSpace(content.String()), calls, true
}

// ParseToolCallsFor is ParseToolCalls for a reply to a prompt rendered
// by template (its source): a Functionary v3.2 template's prompt ends
// with ">>>", so the reply starts with the first recipient.
func ParseToolCallsFor(template, reply string) (content string, calls []ToolCall) {
	if isFunctionaryV32(template) && !strings.HasPrefix(reply, recipient) {
		if content, calls, ok := parseFunctionaryV32(recipient + reply); ok {
			return content, calls
		}
	}
	return ParseToolCalls(reply)
}
