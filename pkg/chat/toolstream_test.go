package chat

import (
	"reflect"
	"testing"
)

func TestToolCallStream(t *testing.T) {
	weather := []ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}
	const hermes = "{{ '<tool_call>' }}"
	tests := []struct {
		name, template string
		chunks         []string
		sent           []string // what each Add returns
		content        string   // what Finish returns
		calls          []ToolCall
	}{
		{"prose streams", hermes, []string{"It is ", "sunny."}, []string{"It is ", "sunny."}, "", nil},
		{"a marker prefix is held, then released", hermes, []string{"a <tool", "box> b"}, []string{"a ", "<toolbox> b"}, "", nil},
		{"text then a call", hermes, []string{"Let me check.\n<tool_", "call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}</tool_call>"},
			[]string{"Let me check.\n", ""}, "", weather},
		{"a call at once", hermes, []string{"<tool_call>{\"name\": \"get_weather\", ", "\"arguments\": {\"city\": \"Paris\"}}</tool_call> done"},
			[]string{"", ""}, "done", weather},
		{"leading JSON is held", "{{ messages }}", []string{"  ", "{\"name\": \"get_weather\",", " \"arguments\": {\"city\": \"Paris\"}}"},
			[]string{"", "", ""}, "", weather},
		{"JSON that is no call comes at the end", "{{ messages }}", []string{"[1, ", "2]"}, []string{"", ""}, "[1, 2]", nil},
		{"functionary holds all", "{{ '>>>all' }}", []string{"all\nHi", " there"}, []string{"", ""}, "Hi there", nil},
		{"deepseek after text", "", []string{"Checking.", "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\"}<｜tool▁call▁end｜>"},
			[]string{"Checking.", ""}, "", weather},
	}
	for _, tt := range tests {
		s := NewToolCallStream(tt.template)
		var sent []string
		for _, c := range tt.chunks {
			sent = append(sent, s.Add(c))
		}
		content, calls := s.Finish()
		if !reflect.DeepEqual(sent, tt.sent) || content != tt.content || !reflect.DeepEqual(calls, tt.calls) {
			t.Errorf("%s: sent %q, finish %q %+v; want %q, %q %+v", tt.name, sent, content, calls, tt.sent, tt.content, tt.calls)
		}
	}
}
