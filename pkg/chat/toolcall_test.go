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
	}
	for _, tt := range tests {
		content, calls := ParseToolCalls(tt.reply)
		if content != tt.content || !reflect.DeepEqual(calls, tt.calls) {
			t.Errorf("%s: content %q, calls %+v; want %q, %+v", tt.name, content, calls, tt.content, tt.calls)
		}
	}
}
