package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
)

// events splits a stream of named server-sent events.
func events(t *testing.T, body []byte) (names []string, data []map[string]any) {
	t.Helper()
	for _, ev := range strings.Split(strings.TrimSpace(string(body)), "\n\n") {
		name, rest, ok := strings.Cut(ev, "\n")
		if !ok || !strings.HasPrefix(name, "event: ") || !strings.HasPrefix(rest, "data: ") {
			t.Fatalf("not a named event: %q", ev)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(strings.TrimPrefix(rest, "data: ")), &m); err != nil {
			t.Fatalf("event %q: %v", ev, err)
		}
		names = append(names, strings.TrimPrefix(name, "event: "))
		data = append(data, m)
	}
	return names, data
}

func TestAnthropicMessages(t *testing.T) {
	base, en := testServer(t, Config{}, engine.ServeOptions{})
	prompt, _ := en.ApplyTemplate([]chat.Message{{Role: "system", Content: "Tell stories."}, {Role: "user", Content: "Once upon a time"}}, true)
	want := greedy(t, en, prompt, 12)
	body := `{"model":"m","max_tokens":12,"temperature":0,"system":[{"type":"text","text":"Tell stories."}],` +
		`"messages":[{"role":"user","content":[{"type":"text","text":"Once upon a time"}]}]`

	var r anthropicResponse
	if err := json.Unmarshal(post(t, base+"/v1/messages", body+`}`, 200), &r); err != nil {
		t.Fatal(err)
	}
	if r.Type != "message" || r.Role != "assistant" || !strings.HasPrefix(r.ID, "msg_") || len(r.Content) != 1 ||
		r.Content[0].Type != "text" || r.Content[0].Text != want || r.StopReason == nil || *r.StopReason != "max_tokens" ||
		r.Usage.OutputTokens != 12 || r.Usage.InputTokens != len(en.Tokenize(prompt, true, true)) {
		t.Errorf("response %+v, want text %q", r, want)
	}

	names, data := events(t, post(t, base+"/v1/messages", body+`,"stream":true}`, 200))
	var text strings.Builder
	for i, d := range data {
		if d["type"] != names[i] {
			t.Errorf("event %q carries type %v", names[i], d["type"])
		}
		if names[i] == "content_block_delta" {
			text.WriteString(d["delta"].(map[string]any)["text"].(string))
		}
	}
	wantOrder := []string{"message_start", "content_block_start", "ping"}
	if len(names) < 6 || strings.Join(names[:3], ",") != strings.Join(wantOrder, ",") ||
		strings.Join(names[len(names)-3:], ",") != "content_block_stop,message_delta,message_stop" {
		t.Errorf("event order %v", names)
	}
	if text.String() != want {
		t.Errorf("streamed %q, want %q", text.String(), want)
	}
	md := data[len(data)-2]
	if md["delta"].(map[string]any)["stop_reason"] != "max_tokens" || md["usage"].(map[string]any)["output_tokens"] != 12.0 {
		t.Errorf("message_delta %v", md)
	}

	// A stop sequence: the text up to it, and which one it was.
	stopAt := strings.Fields(want)[1]
	if err := json.Unmarshal(post(t, base+"/v1/messages", body+`,"stop_sequences":["`+stopAt+`"]}`, 200), &r); err != nil {
		t.Fatal(err)
	}
	if *r.StopReason != "stop_sequence" || r.StopSequence == nil || *r.StopSequence != stopAt || strings.Contains(r.Content[0].Text, stopAt) {
		t.Errorf("stopped %+v at %v (%q), want at %q", r, r.StopReason, r.Content[0].Text, stopAt)
	}

	var ct struct {
		InputTokens int `json:"input_tokens"`
	}
	if err := json.Unmarshal(post(t, base+"/v1/messages/count_tokens", body+`}`, 200), &ct); err != nil || ct.InputTokens != len(en.Tokenize(prompt, true, true)) {
		t.Errorf("count_tokens = %+v (%v)", ct, err)
	}

	for _, tt := range []struct{ body, msg string }{
		{`{"messages":[{"role":"user","content":"hi"}]}`, "max_tokens"},
		{`{"max_tokens":5,"messages":[{"role":"system","content":"hi"}]}`, "messages[0].role"},
		{`{"max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":{}}]}`, "tools"},
		{`{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{}}]}]}`, "image"},
	} {
		var e struct {
			Type  string
			Error struct{ Type, Message string }
		}
		if err := json.Unmarshal(post(t, base+"/v1/messages", tt.body, 400), &e); err != nil || e.Type != "error" ||
			e.Error.Type != "invalid_request_error" || !strings.Contains(e.Error.Message, tt.msg) {
			t.Errorf("%s: error %+v (%v), want one about %q", tt.body, e, err, tt.msg)
		}
	}
}

func TestResponsesSDK(t *testing.T) {
	base, en := testServer(t, Config{}, engine.ServeOptions{})
	c := sdk(base)
	ctx := context.Background()
	prompt, _ := en.ApplyTemplate([]chat.Message{{Role: "system", Content: "Tell stories."}, {Role: "user", Content: "Once upon a time"}}, true)
	want := greedy(t, en, prompt, 12)
	params := responses.ResponseNewParams{
		Model:           "m",
		Instructions:    openai.String("Tell stories."),
		Input:           responses.ResponseNewParamsInputUnion{OfString: openai.String("Once upon a time")},
		MaxOutputTokens: openai.Int(12),
		Temperature:     openai.Float(0),
	}
	r, err := c.Responses.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if r.OutputText() != want || r.Object != "response" || r.Status != "incomplete" || r.IncompleteDetails.Reason != "max_output_tokens" || r.Usage.OutputTokens != 12 {
		t.Errorf("response %q status %q (%v) usage %+v, want %q", r.OutputText(), r.Status, r.IncompleteDetails, r.Usage, want)
	}

	st := c.Responses.NewStreaming(ctx, params)
	var text strings.Builder
	var types []string
	var last int64 = -1
	var final responses.Response
	for st.Next() {
		ev := st.Current()
		types = append(types, ev.Type)
		if ev.SequenceNumber != last+1 {
			t.Errorf("event %q: sequence number %d after %d", ev.Type, ev.SequenceNumber, last)
		}
		last = ev.SequenceNumber
		switch ev.Type {
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		case "response.incomplete", "response.completed":
			final = ev.Response
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != want || final.OutputText() != want {
		t.Errorf("streamed %q, final %q, want %q", text.String(), final.OutputText(), want)
	}
	if len(types) < 8 || types[0] != "response.created" || types[len(types)-1] != "response.incomplete" {
		t.Errorf("event types %v", types)
	}

	// A list of messages, as a conversation.
	r, err = c.Responses.New(ctx, responses.ResponseNewParams{
		Model: "m",
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("Tell stories.", responses.EasyInputMessageRoleDeveloper),
			responses.ResponseInputItemParamOfMessage("Once upon a time", responses.EasyInputMessageRoleUser),
		}},
		MaxOutputTokens: openai.Int(12),
		Temperature:     openai.Float(0),
	})
	if err != nil || r.OutputText() != want {
		t.Errorf("input items: %v, %q, want %q", err, r.OutputText(), want)
	}

	post(t, base+"/v1/responses", `{"input":"hi","previous_response_id":"resp_1"}`, 400)
	post(t, base+"/v1/responses", `{"input":[{"type":"function_call_output","call_id":"x","output":"y"}]}`, 400)
}
