package chat

import (
	"reflect"
	"testing"
)

func TestParseToolCalls(t *testing.T) {
	weather := ToolCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}
	time := ToolCall{Name: "get_time", Arguments: `{"tz":"CET"}`}
	tests := []struct {
		name, reply, content string
		calls                []ToolCall
	}{
		{"hermes", "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", "", []ToolCall{weather}},
		{"hermes two, with text", "Let me check.\n<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}</tool_call>\n<tool_call>{\"name\":\"get_time\",\"arguments\":{\"tz\":\"CET\"}}</tool_call>", "Let me check.", []ToolCall{weather, time}},
		{"hermes unclosed", "<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}", "", []ToolCall{weather}},
		{"hermes not json", "<tool_call>oops</tool_call>", "<tool_call>oops</tool_call>", nil},
		{"mistral", "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, {\"name\": \"get_time\", \"arguments\": {\"tz\": \"CET\"}}]", "", []ToolCall{weather, time}},
		{"llama 3 python tag", "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", "", []ToolCall{weather}},
		{"llama 3 json", "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", "", []ToolCall{weather}},
		{"arguments as a string", `{"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}`, "", []ToolCall{weather}},
		{"openai shape", `[{"type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}]`, "", []ToolCall{weather}},
		{"plain text", "The weather in Paris is sunny.", "The weather in Paris is sunny.", nil},
		{"json that is not a call", `{"temp": 21}`, `{"temp": 21}`, nil},
		{"json and more", `{"name":"get_weather","arguments":{}} and more`, `{"name":"get_weather","arguments":{}} and more`, nil},
		{"command r7b", `<|START_THINKING|>I should look.<|END_THINKING|><|START_ACTION|>[
    {"tool_call_id": "0", "tool_name": "get_weather", "parameters": {"city": "Paris"}},
    {"tool_call_id": "1", "tool_name": "get_time", "parameters": {"tz": "CET"}}
]<|END_ACTION|>`, "<|START_THINKING|>I should look.<|END_THINKING|>", []ToolCall{weather, time}},
		{"command r7b response", "<|START_RESPONSE|>Hello<|END_RESPONSE|>", "<|START_RESPONSE|>Hello<|END_RESPONSE|>", nil},
		{"deepseek r1", "Checking.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{\"tz\": \"CET\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>", "Checking.", []ToolCall{weather, time}},
		{"deepseek v3.1", "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>", "", []ToolCall{weather}},
		{"deepseek not json", "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\nParis<｜tool▁call▁end｜>", "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\nParis<｜tool▁call▁end｜>", nil},
		{"functionary v3.1", "Sure.<function=get_weather>{\"city\": \"Paris\"}</function><function=get_time>{\"tz\": \"CET\"}</function>", "Sure.", []ToolCall{weather, time}},
		{"functionary v3.2", ">>>all\nLet me see.\n>>>get_weather\n{\"city\": \"Paris\"}>>>get_time\n{\"tz\": \"CET\"}", "Let me see.", []ToolCall{weather, time}},
		{"functionary v3.2 python", ">>>python\nprint(2 + 2)", "", []ToolCall{{Name: "python", Arguments: `{"code":"print(2 + 2)"}`}}},
		{"a python prompt is not functionary", "Type >>> print(1) in the REPL.", "Type >>> print(1) in the REPL.", nil},
	}
	for _, tt := range tests {
		content, calls := ParseToolCalls(tt.reply)
		if content != tt.content || !reflect.DeepEqual(calls, tt.calls) {
			t.Errorf("%s: content %q, calls %+v; want %q, %+v", tt.name, content, calls, tt.content, tt.calls)
		}
	}
}

// TestParseToolCallsFor: after a Functionary v3.2 prompt (ending in >>>)
// the reply starts with the recipient.
func TestParseToolCallsFor(t *testing.T) {
	const functionary = `{{ '>>>all' }}{{ '>>>' + recipient }}`
	tests := []struct {
		template, reply, content string
		calls                    []ToolCall
	}{
		{functionary, "get_weather\n{\"city\": \"Paris\"}", "", []ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
		{functionary, "all\nIt is sunny.", "It is sunny.", nil},
		{functionary, "It is sunny.", "It is sunny.", nil},
		{"{{ messages }}", "get_weather\n{\"city\": \"Paris\"}", "get_weather\n{\"city\": \"Paris\"}", nil},
	}
	for _, tt := range tests {
		content, calls := ParseToolCallsFor(tt.template, tt.reply)
		if content != tt.content || !reflect.DeepEqual(calls, tt.calls) {
			t.Errorf("%q: content %q, calls %+v; want %q, %+v", tt.reply, content, calls, tt.content, tt.calls)
		}
	}
}

func TestOffersTools(t *testing.T) {
	for tools, want := range map[string]bool{"": false, "null": false, " null ": false, "[]": false, `[{"type": "function"}]`: true, `{}`: true} {
		if got := OffersTools([]byte(tools)); got != want {
			t.Errorf("OffersTools(%q) = %v, want %v", tools, got, want)
		}
	}
}
