package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/llamafile-go/llamafile/pkg/engine"
)

// TestGrammarFields: "grammar" and "json_schema" constrain /completion
// and /v1/completions, response_format the chat completions (through
// OpenAI's client), text.format the Responses API.
func TestGrammarFields(t *testing.T) {
	base, _ := testServer(t, Config{}, engine.ServeOptions{})
	for _, tc := range []struct {
		name, path, body string
	}{
		{"completion grammar", "/completion", `{"prompt":"Once upon a time","grammar":"root ::= \"yes\" | \"no\"","temperature":1,"seed":3}`},
		{"v1 completions grammar", "/v1/completions", `{"prompt":"Once upon a time","grammar":"root ::= \"yes\" | \"no\"","temperature":1,"seed":4}`},
		{"completion json_schema", "/completion", `{"prompt":"Once upon a time","json_schema":{"enum":["yes","no"]},"temperature":1,"seed":5}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r struct {
				Content string `json:"content"`
				Choices []struct {
					Text string `json:"text"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(post(t, base+tc.path, tc.body, 200), &r); err != nil {
				t.Fatal(err)
			}
			text := r.Content
			if len(r.Choices) > 0 {
				text = r.Choices[0].Text
			}
			if text != "yes" && text != "no" && text != `"yes"` && text != `"no"` {
				t.Errorf("got %q, want yes or no", text)
			}
		})
	}

	c := sdk(base)
	schema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"name":  map[string]any{"type": "string", "maxLength": 10},
			"age":   map[string]any{"type": "integer", "minimum": 0, "maximum": 120},
			"happy": map[string]any{"type": "boolean"},
		},
		"required":             []string{"name", "age", "happy"},
		"additionalProperties": false,
	}
	for seed := range int64(3) {
		r, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model:       "anything",
			Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me about Lily.")},
			Temperature: openai.Float(1),
			Seed:        openai.Int(seed),
			MaxTokens:   openai.Int(200),
			ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{
				OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
					JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "person", Schema: schema, Strict: openai.Bool(true)},
				},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Name  *string `json:"name"`
			Age   *int    `json:"age"`
			Happy *bool   `json:"happy"`
		}
		text := r.Choices[0].Message.Content
		if err := json.Unmarshal([]byte(text), &v); err != nil || v.Name == nil || v.Age == nil || v.Happy == nil ||
			len([]rune(*v.Name)) > 10 || *v.Age < 0 || *v.Age > 120 {
			t.Errorf("seed %d: %q does not fit the schema (%v)", seed, text, err)
		}
	}

	r, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:          "anything",
		Messages:       []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me about Lily.")},
		MaxTokens:      openai.Int(200),
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if text := r.Choices[0].Message.Content; r.Choices[0].FinishReason == "stop" && !json.Valid([]byte(text)) || !strings.HasPrefix(text, "{") {
		t.Errorf("json_object: %q (finish %s)", text, r.Choices[0].FinishReason)
	}

	var resp struct {
		Output []struct {
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"output"`
	}
	body := `{"input":"hi","text":{"format":{"type":"json_schema","name":"answer","schema":{"enum":["yes","no"]}}}}`
	if err := json.Unmarshal(post(t, base+"/v1/responses", body, 200), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Output) == 0 || len(resp.Output[0].Content) == 0 || (resp.Output[0].Content[0].Text != `"yes"` && resp.Output[0].Content[0].Text != `"no"`) {
		t.Errorf("responses text.format: %+v", resp.Output)
	}
}

// TestGrammarErrors: a bad grammar or schema is a 400 naming the field.
func TestGrammarErrors(t *testing.T) {
	base, _ := testServer(t, Config{}, engine.ServeOptions{})
	for _, tc := range []struct {
		name, path, body, want string
	}{
		{"syntax", "/completion", `{"prompt":"a","grammar":"root ::= \"yes"}`, "grammar"},
		{"no root", "/completion", `{"prompt":"a","grammar":"answer ::= \"yes\""}`, "grammar"},
		{"both", "/completion", `{"prompt":"a","grammar":"root ::= \"a\"","json_schema":{}}`, "json_schema"},
		{"bad schema", "/v1/completions", `{"prompt":"a","json_schema":{"type":"object","properties":{"a":{"type":"integer","multipleOf":3}}}}`, "json_schema"},
		{"json_schema without schema", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema"}}`, "response_format"},
		{"responses", "/v1/responses", `{"input":"hi","text":{"format":{"type":"json_schema"}}}`, "text.format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := string(post(t, base+tc.path, tc.body, 400))
			if !strings.Contains(b, tc.want) {
				t.Errorf("%s: %s does not name %s", tc.name, b, tc.want)
			}
		})
	}
}
