package server

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
)

// streamTypes runs a streamed response, returning its events' types, the
// text of its deltas and its final response.
func streamTypes(t *testing.T, c openai.Client, params responses.ResponseNewParams) (types []string, text string, final responses.Response) {
	t.Helper()
	st := c.Responses.NewStreaming(context.Background(), params)
	var b strings.Builder
	var last int64 = -1
	for st.Next() {
		ev := st.Current()
		types = append(types, ev.Type)
		if ev.SequenceNumber != last+1 {
			t.Errorf("event %q: sequence number %d after %d", ev.Type, ev.SequenceNumber, last)
		}
		last = ev.SequenceNumber
		switch ev.Type {
		case "response.output_text.delta":
			b.WriteString(ev.Delta)
		case "response.completed", "response.incomplete", "response.failed":
			final = ev.Response
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	return types, b.String(), final
}

// wantTypes is the events of a streamed response with n deltas.
func wantTypes(n int, final string) []string {
	out := []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"}
	for range n {
		out = append(out, "response.output_text.delta")
	}
	return append(out, "response.output_text.done", "response.content_part.done", "response.output_item.done", final)
}

func TestResponsesSDK(t *testing.T) {
	base, en := testServer(t, Config{}, engine.ServeOptions{})
	c := sdk(base)
	ctx := context.Background()
	prompt, _ := en.ApplyTemplate([]chat.Message{{Role: "system", Content: "Tell stories."}, {Role: "user", Content: "Once upon a time"}}, true)
	nPrompt := int64(len(en.Tokenize(prompt, true, true)))
	want := greedy(t, en, prompt, 12)
	params := responses.ResponseNewParams{
		Model:           "m",
		Instructions:    openai.String("Tell stories."),
		Input:           responses.ResponseNewParamsInputUnion{OfString: openai.String("Once upon a time")},
		MaxOutputTokens: openai.Int(12),
		Temperature:     openai.Float(0),
	}

	t.Run("plain", func(t *testing.T) {
		r, err := c.Responses.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if r.OutputText() != want || r.Object != "response" || !strings.HasPrefix(r.ID, "resp_") || r.Model != "stories260k.gguf" ||
			r.Status != "incomplete" || r.IncompleteDetails.Reason != "max_output_tokens" {
			t.Errorf("response %q status %q (%+v), want %q", r.OutputText(), r.Status, r.IncompleteDetails, want)
		}
		if len(r.Output) != 1 || r.Output[0].Type != "message" || r.Output[0].Role != "assistant" || r.Output[0].Status != "completed" ||
			len(r.Output[0].Content) != 1 || r.Output[0].Content[0].Type != "output_text" {
			t.Errorf("output %+v", r.Output)
		}
		u := r.Usage
		if u.OutputTokens != 12 || u.InputTokens != nPrompt || u.TotalTokens != nPrompt+12 || u.InputTokensDetails.CachedTokens == 0 {
			t.Errorf("usage %+v, want %d in (some cached), 12 out", u, nPrompt)
		}
	})

	t.Run("stream", func(t *testing.T) {
		types, text, final := streamTypes(t, c, params)
		if text != want || final.OutputText() != want || final.Status != "incomplete" || final.Usage.OutputTokens != 12 {
			t.Errorf("streamed %q, final %q (%s, %+v), want %q", text, final.OutputText(), final.Status, final.Usage, want)
		}
		if n := strings.Count(strings.Join(types, ","), "delta"); !slices.Equal(types, wantTypes(n, "response.incomplete")) {
			t.Errorf("events %v", types)
		}
	})

	t.Run("completed", func(t *testing.T) {
		// Stopped before the limit (by a stop string, as stories260k never ends by itself).
		stopAt := strings.Fields(want)[1]
		c := sdk(serveBackend(t, tweaked{Engine: en, edit: func(r *engine.Request) { r.Stop = []string{stopAt} }}))
		r, err := c.Responses.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != "completed" || r.IncompleteDetails.Reason != "" || !strings.HasPrefix(want, r.OutputText()+stopAt) {
			t.Errorf("response %q status %q (%+v), want the text before %q", r.OutputText(), r.Status, r.IncompleteDetails, stopAt)
		}
		types, text, final := streamTypes(t, c, params)
		if text != r.OutputText() || final.Status != "completed" {
			t.Errorf("streamed %q, final status %q", text, final.Status)
		}
		if n := strings.Count(strings.Join(types, ","), "delta"); !slices.Equal(types, wantTypes(n, "response.completed")) {
			t.Errorf("events %v", types)
		}
	})

	t.Run("input items", func(t *testing.T) {
		r, err := c.Responses.New(ctx, responses.ResponseNewParams{
			Model: "m",
			Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
				responses.ResponseInputItemParamOfMessage("Tell stories.", responses.EasyInputMessageRoleDeveloper),
				responses.ResponseInputItemParamOfMessage(responses.ResponseInputMessageContentListParam{
					responses.ResponseInputContentParamOfInputText("Once upon a time"),
				}, responses.EasyInputMessageRoleUser),
			}},
			MaxOutputTokens: openai.Int(12),
			Temperature:     openai.Float(0),
		})
		if err != nil || r.OutputText() != want {
			t.Errorf("input items: %v, %+v, want %q", err, r, want)
		}
	})

	t.Run("error mid-stream", func(t *testing.T) {
		c := sdk(serveBackend(t, tweaked{Engine: en, failAfter: 2}))
		types, _, final := streamTypes(t, c, params)
		want := []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
			"response.output_text.delta", "response.output_text.delta", "error", "response.failed"}
		if !slices.Equal(types, want) || final.Status != "failed" || final.Error.Message != "internal server error" {
			t.Errorf("events %v, final %s %+v", types, final.Status, final.Error)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tt := range []struct{ name, body, msg string }{
			{"previous_response_id", `{"input":"hi","previous_response_id":"resp_1"}`, "previous_response_id"},
			{"no input", `{"instructions":"hi"}`, `"input"`},
			{"function output", `{"input":[{"type":"function_call_output","call_id":"x","output":"y"}]}`, "function_call_output"},
			{"bad role", `{"input":[{"role":"robot","content":"hi"}]}`, "input[0].role"},
			{"image", `{"input":[{"role":"user","content":[{"type":"input_image","image_url":"x"}]}]}`, "input_image"},
			{"tools", `{"input":"hi","tools":[{"type":"function","name":"f"}]}`, "tool"},
			{"json", `{"input":"hi","text":{"format":{"type":"json_schema"}}}`, "text.format"},
			{"max_output_tokens", `{"input":"hi","max_output_tokens":0}`, "max_output_tokens"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var e errorBody
				if err := json.Unmarshal(post(t, base+"/v1/responses", tt.body, 400), &e); err != nil || e.Error.Code != 400 || !strings.Contains(e.Error.Message, tt.msg) {
					t.Errorf("error %+v (%v), want one about %q", e, err, tt.msg)
				}
			})
		}
		// Through the SDK: its error, with the status.
		_, err := c.Responses.New(ctx, responses.ResponseNewParams{Model: "m", PreviousResponseID: openai.String("resp_1"),
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}})
		var ae *openai.Error
		if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(ae.Message, "previous_response_id") {
			t.Errorf("SDK error %v", err)
		}
	})
}
