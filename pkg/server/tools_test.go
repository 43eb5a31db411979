package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
)

// hermesTemplate is a small Hermes-style template: tools in the system
// turn, assistant tool calls and tool results as the model saw them.
const hermesTemplate = `{% if tools %}<tools>{{ tools | tojson }}</tools>
{% endif %}{% for m in messages %}<|{{ m.role }}|>{% if m.tool_calls %}{% for c in m.tool_calls %}<tool_call>{{ c.function | tojson }}</tool_call>{% endfor %}{% else %}{{ m.content }}{% endif %}{% if m.tool_call_id %}[{{ m.tool_call_id }}]{% endif %}
{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}`

// hermesEngine is the test server's engine rendering with hermesTemplate.
func hermesEngine(t *testing.T) *Engine {
	t.Helper()
	_, en := testServer(t, Config{}, engine.ServeOptions{})
	j, err := chat.ParseJinja(hermesTemplate)
	if err != nil {
		t.Fatal(err)
	}
	e := *en
	e.Template, e.TemplateSource = chat.JinjaFormatter{Jinja: j}, hermesTemplate
	return &e
}

// streamed is the reply to params streamed, as the SDK accumulates it.
func streamed(t *testing.T, c openai.Client, params openai.ChatCompletionNewParams) openai.ChatCompletionAccumulator {
	t.Helper()
	st := c.Chat.Completions.NewStreaming(context.Background(), params)
	acc := openai.ChatCompletionAccumulator{}
	for st.Next() {
		acc.AddChunk(st.Current())
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	return acc
}

// recording is scripted, recording the prompt it was given.
type recording struct {
	scripted
	prompt *string
}

func (b recording) Generate(ctx context.Context, req *engine.Request, emit func(engine.Chunk) error) (*engine.Result, error) {
	*b.prompt = b.Detokenize(req.Prompt)
	return b.scripted.Generate(ctx, req, emit)
}

func TestToolCalls(t *testing.T) {
	tools := *hermesEngine(t)
	var prompt string
	reply := []string{"<tool_", "call>{\"name\": \"get_weather\", ", "\"arguments\": {\"city\": \"Paris\"}}</tool_call>"}
	base := serveBackend(t, recording{scripted{Engine: &tools, chunks: reply}, &prompt})
	c := sdk(base)
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model:    "m",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris?")},
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
			Name:       "get_weather",
			Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
		})},
	}
	r, err := c.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Choices[0].Message
	if r.Choices[0].FinishReason != "tool_calls" || len(m.ToolCalls) != 1 || m.ToolCalls[0].Function.Name != "get_weather" ||
		m.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` || !strings.HasPrefix(m.ToolCalls[0].ID, "call_") || m.Content != "" {
		t.Errorf("reply %+v, finish %q", m, r.Choices[0].FinishReason)
	}
	if !strings.Contains(prompt, `"name": "get_weather"`) || !strings.Contains(prompt, "<tools>") {
		t.Errorf("the tools were not rendered: %q", prompt)
	}

	acc := streamed(t, c, params)
	if len(acc.Choices) != 1 || len(acc.Choices[0].Message.ToolCalls) != 1 || acc.Choices[0].Message.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` ||
		acc.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("streamed %+v", acc.Choices)
	}

	// The round trip: the call and its result go back through the template.
	params.Messages = append(params.Messages, m.ToParam(), openai.ToolMessage(`{"temp": 21}`, m.ToolCalls[0].ID))
	if _, err := c.Chat.Completions.New(ctx, params); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(prompt, `<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>`) ||
		!strings.Contains(prompt, `<|tool|>{"temp": 21}[`+m.ToolCalls[0].ID+`]`) {
		t.Errorf("the round trip rendered %q", prompt)
	}

	// A plain answer with tools offered stays content.
	plain := serveBackend(t, scripted{Engine: &tools, chunks: []string{"It is ", "sunny."}})
	c = sdk(plain)
	if r, err := c.Chat.Completions.New(ctx, params); err != nil || r.Choices[0].Message.Content != "It is sunny." || r.Choices[0].FinishReason != "stop" {
		t.Errorf("plain answer: %v %+v", err, r)
	}

	// A forced call of a function the tools lack, a bad tool_choice;
	// built-in formats cannot render tools.
	for _, body := range []string{
		`{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}`,
		`{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"always"}`,
		`{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"strin","pattern":"^(?=x)"}}}}}],"tool_choice":"required"}`,
	} {
		post(t, base+"/v1/chat/completions", body, 400)
	}
	_, chatml := testServer(t, Config{}, engine.ServeOptions{})
	builtin := serveBackend(t, scripted{Engine: chatml, chunks: reply})
	post(t, builtin+"/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]}`, 400)
	post(t, builtin+"/v1/chat/completions", `{"messages":[{"role":"assistant","content":"","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`, 400)
}

// TestToolChoiceForced runs the model with tool_choice required and with a
// named function: the grammar of the template's calls makes even a tiny
// story model write a call of an offered function with arguments that fit
// its parameters, which comes back as tool_calls.
func TestToolChoiceForced(t *testing.T) {
	c := sdk(serveBackend(t, hermesEngine(t)))
	weather := openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name: "get_weather",
		Parameters: openai.FunctionParameters{"type": "object", "required": []string{"city"},
			"properties": map[string]any{"city": map[string]any{"enum": []string{"Paris", "Rome"}}}},
	})
	clock := openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name: "get_time",
		Parameters: openai.FunctionParameters{"type": "object", "required": []string{"hour"},
			"properties": map[string]any{"hour": map[string]any{"type": "integer", "minimum": 0, "maximum": 23}}},
	})
	for _, tc := range []struct {
		name   string
		choice openai.ChatCompletionToolChoiceOptionUnionParam
		want   string // the function called, "" for either
	}{
		{"required", openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}, ""},
		{"named", openai.ToolChoiceOptionFunctionToolChoice(openai.ChatCompletionNamedToolChoiceFunctionParam{Name: "get_time"}), "get_time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
				Model:             "m",
				Messages:          []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris?")},
				Tools:             []openai.ChatCompletionToolUnionParam{weather, clock},
				ToolChoice:        tc.choice,
				ParallelToolCalls: openai.Bool(false),
				MaxTokens:         openai.Int(120),
			})
			if err != nil {
				t.Fatal(err)
			}
			m := r.Choices[0].Message
			if r.Choices[0].FinishReason != "tool_calls" || len(m.ToolCalls) != 1 {
				t.Fatalf("no single tool call: %+v (finish %s)", m, r.Choices[0].FinishReason)
			}
			call := m.ToolCalls[0].Function
			if tc.want != "" && call.Name != tc.want {
				t.Errorf("called %s, want %s", call.Name, tc.want)
			}
			var args map[string]any
			if err := json.Unmarshal([]byte(call.Arguments), &args); err != nil {
				t.Fatalf("arguments %q: %v", call.Arguments, err)
			}
			switch call.Name {
			case "get_weather":
				if city := args["city"]; city != "Paris" && city != "Rome" || len(args) != 1 {
					t.Errorf("get_weather(%s)", call.Arguments)
				}
			case "get_time":
				if h, ok := args["hour"].(float64); !ok || h < 0 || h > 23 || h != float64(int(h)) || len(args) != 1 {
					t.Errorf("get_time(%s)", call.Arguments)
				}
			default:
				t.Errorf("called %q, not an offered tool", call.Name)
			}
		})
	}
}

// TestToolUseTemplateChosen: an engine with a tool_use template renders
// requests with tools by it and the others by the chat template.
func TestToolUseTemplateChosen(t *testing.T) {
	main, err := chat.ParseJinja(`{% for m in messages %}main:{{ m.content }}{% endfor %}`)
	if err != nil {
		t.Fatal(err)
	}
	e := *hermesEngine(t)
	e.ToolTemplate, e.ToolTemplateSource = e.Template, e.TemplateSource
	e.Template, e.TemplateSource = chat.JinjaFormatter{Jinja: main}, "main"
	if e.ToolChatTemplate() != hermesTemplate || e.ChatTemplate() != "main" {
		t.Errorf("ToolChatTemplate %q, ChatTemplate %q", e.ToolChatTemplate(), e.ChatTemplate())
	}
	var prompt string
	base := serveBackend(t, recording{scripted{Engine: &e, chunks: []string{"ok"}}, &prompt})
	post(t, base+"/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]}`, 200)
	if !strings.Contains(prompt, "<tools>") || strings.Contains(prompt, "main:") {
		t.Errorf("with tools: %q, want the tool_use template's", prompt)
	}
	post(t, base+"/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`, 200)
	if !strings.Contains(prompt, "main:x") || strings.Contains(prompt, "<tools>") {
		t.Errorf("without tools: %q, want the chat template's", prompt)
	}
	resp, err := http.Get(base + "/props")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var props map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&props); err != nil {
		t.Fatal(err)
	}
	if props["chat_template_tool_use"] != hermesTemplate {
		t.Errorf("/props chat_template_tool_use %q", props["chat_template_tool_use"])
	}
}

// TestToolCallFormats feeds a reply in each format llama.cpp parses, cut
// into chunks mid-marker, and checks the calls, streamed and not.
func TestToolCallFormats(t *testing.T) {
	en := hermesEngine(t)
	const args = `{"city": "Paris"}`
	tests := []struct {
		name, template, reply, content string
	}{
		{"hermes", hermesTemplate, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": " + args + "}\n</tool_call>", ""},
		{"llama 3.x", "<|start_header_id|>parameters", "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": " + args + "}", ""},
		{"mistral", "[TOOL_CALLS]", "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": " + args + "}]", ""},
		{"functionary v3.1", "<function=", "<function=get_weather>" + args + "</function>", ""},
		{"functionary v3.2", ">>>all", "all\nOne moment.\n>>>get_weather\n" + args, "One moment."},
		{"deepseek r1", "tool▁calls▁begin", "Checking.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n" + args + "\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>", "Checking."},
		{"command r7b", "<|START_ACTION|>", "<|START_ACTION|>[{\"tool_call_id\": \"0\", \"tool_name\": \"get_weather\", \"parameters\": " + args + "}]<|END_ACTION|>", ""},
		{"generic", "{{ messages }}", "{\"name\": \"get_weather\", \"arguments\": " + args + "}", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := *en
			e.TemplateSource = tc.template
			// Chunks of 5 bytes cut markers and multi-byte characters.
			var chunks []string
			for r := tc.reply; r != ""; {
				n := min(5, len(r))
				chunks, r = append(chunks, r[:n]), r[n:]
			}
			c := sdk(serveBackend(t, scripted{Engine: &e, chunks: chunks}))
			params := openai.ChatCompletionNewParams{
				Model:    "m",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris?")},
				Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
					Name: "get_weather", Parameters: openai.FunctionParameters{"type": "object"},
				})},
			}
			ctx := context.Background()
			r, err := c.Chat.Completions.New(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			m := r.Choices[0].Message
			if len(m.ToolCalls) != 1 || m.ToolCalls[0].Function.Name != "get_weather" || m.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` ||
				m.Content != tc.content || r.Choices[0].FinishReason != "tool_calls" {
				t.Errorf("reply %+v, finish %q", m, r.Choices[0].FinishReason)
			}
			acc := streamed(t, c, params)
			if len(acc.Choices) != 1 || len(acc.Choices[0].Message.ToolCalls) != 1 ||
				acc.Choices[0].Message.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` ||
				acc.Choices[0].Message.Content != tc.content || acc.Choices[0].FinishReason != "tool_calls" {
				t.Errorf("streamed %+v", acc.Choices)
			}
		})
	}
}

// TestToolStreamContent: with tools offered, prose streams as it comes,
// not all at the end; text before a call streams too.
func TestToolStreamContent(t *testing.T) {
	e := hermesEngine(t)
	for _, tc := range []struct {
		chunks      []string
		contentBits int // content deltas before the last chunk
		content     string
		calls       int
	}{
		{[]string{"It is ", "sunny", " today."}, 3, "It is sunny today.", 0},
		{[]string{"Let me look. ", "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>"}, 1, "Let me look. ", 1},
	} {
		c := sdk(serveBackend(t, scripted{Engine: e, chunks: tc.chunks}))
		st := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
			Model:    "m",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")},
			Tools:    []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "f"})},
		})
		acc := openai.ChatCompletionAccumulator{}
		bits := 0
		for st.Next() {
			ch := st.Current()
			acc.AddChunk(ch)
			if len(ch.Choices) > 0 && ch.Choices[0].Delta.Content != "" && ch.Choices[0].FinishReason == "" && len(ch.Choices[0].Delta.ToolCalls) == 0 {
				bits++
			}
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		if bits < tc.contentBits || acc.Choices[0].Message.Content != tc.content || len(acc.Choices[0].Message.ToolCalls) != tc.calls {
			t.Errorf("%q: %d content deltas (want %d), content %q, %d calls", tc.chunks, bits, tc.contentBits, acc.Choices[0].Message.Content, len(acc.Choices[0].Message.ToolCalls))
		}
	}
}
