package chat

import (
	"bytes"
	"encoding/json"
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

// ParseToolCalls finds the tool calls in a model's reply, in the formats
// llama.cpp parses: Hermes 2 Pro / Qwen 2.5 / Qwen 3 (<tool_call>{...}
// </tool_call>, any number), Mistral Nemo / Small ([TOOL_CALLS] and a
// JSON list), Llama 3.x (<|python_tag|> or a reply that is one JSON object
// {"name", "parameters"}), and as a fallback a reply that is a JSON
// object or list of objects with "name" and "arguments". It returns the
// reply's text outside the calls, and the calls (none when the reply
// holds none in these formats).
func ParseToolCalls(reply string) (content string, calls []ToolCall) {
	// Hermes: <tool_call> ... </tool_call>, anywhere, several.
	if strings.Contains(reply, "<tool_call>") {
		var rest strings.Builder
		s := reply
		for {
			i := strings.Index(s, "<tool_call>")
			if i < 0 {
				rest.WriteString(s)
				break
			}
			j := strings.Index(s[i:], "</tool_call>")
			body := s[i+len("<tool_call>"):]
			next := ""
			if j >= 0 {
				body = s[i+len("<tool_call>") : i+j]
				next = s[i+j+len("</tool_call>"):]
			}
			c, ok := callsOf(body)
			if !ok {
				return reply, nil // not calls after all
			}
			rest.WriteString(s[:i])
			calls = append(calls, c...)
			if j < 0 {
				break
			}
			s = next
		}
		return strings.TrimSpace(rest.String()), calls
	}
	for _, tag := range []string{"[TOOL_CALLS]", "<|python_tag|>"} {
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

// callsOf reads s (trimmed) as one JSON call object, or a list of them.
func callsOf(s string) ([]ToolCall, bool) {
	s = strings.TrimSpace(s)
	if s == "" || (s[0] != '{' && s[0] != '[') {
		return nil, false
	}
	var raw json.RawMessage
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&raw); err != nil || dec.More() {
		return nil, false
	}
	var list []json.RawMessage
	if raw[0] == '[' {
		if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
			return nil, false
		}
	} else {
		list = []json.RawMessage{raw}
	}
	var calls []ToolCall
	for _, item := range list {
		var c struct {
			Name       string          `json:"name"`
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
		// Arguments given as a JSON string holding the object.
		var str string
		if json.Unmarshal(args, &str) == nil {
			args = json.RawMessage(str)
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(args, &obj) != nil {
			return nil, false
		}
		var compact bytes.Buffer
		if json.Compact(&compact, args) != nil {
			return nil, false
		}
		calls = append(calls, ToolCall{Name: c.Name, Arguments: compact.String()})
	}
	return calls, true
}
