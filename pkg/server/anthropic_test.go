package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// events splits a stream of named server-sent events, checking that each
// event's data names its type as its "event:" line does.
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
		name = strings.TrimPrefix(name, "event: ")
		if m["type"] != name {
			t.Errorf("event %q carries type %v", name, m["type"])
		}
		names = append(names, name)
		data = append(data, m)
	}
	return names, data
}

// tweaked is the engine with its requests changed or failing after some
// chunks, for the endings a small model does not reach by itself.
type tweaked struct {
	*Engine
	edit      func(*engine.Request)
	failAfter int // chunks; 0: never
}

var errMidStream = errors.New("the generation failed")

func (b tweaked) Generate(ctx context.Context, req *engine.Request, emit func(engine.Chunk) error) (*engine.Result, error) {
	if b.edit != nil {
		b.edit(req)
	}
	n := 0
	return b.Engine.Generate(ctx, req, func(c engine.Chunk) error {
		if emit != nil {
			if err := emit(c); err != nil {
				return err
			}
		}
		if n++; n == b.failAfter {
			return errMidStream
		}
		return nil
	})
}

// serveBackend serves b (over the engine of testServer) on an httptest server.
func serveBackend(t *testing.T, b Backend) string {
	t.Helper()
	cfg := Config{Defaults: sample.DefaultParams(), DefaultMaxTokens: -1, CachePrompt: true}
	cfg.Defaults.Temp = 0
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetBackend(b)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

type anthropicErrorBody struct {
	Type  string
	Error struct{ Type, Message string }
}

func TestAnthropicMessages(t *testing.T) {
	base, en := testServer(t, Config{}, engine.ServeOptions{})
	prompt, _ := en.ApplyTemplate([]chat.Message{{Role: "system", Content: "Tell stories."}, {Role: "user", Content: "Once upon a time"}}, true)
	nPrompt := len(en.Tokenize(prompt, true, true))
	want := greedy(t, en, prompt, 12)
	// The system prompt in two blocks, which llama-server joins with nothing between.
	body := `{"model":"m","max_tokens":12,"temperature":0,"metadata":{"user_id":"u"},"system":[{"type":"text","text":"Tell "},{"type":"text","text":"stories."}],` +
		`"messages":[{"role":"user","content":[{"type":"text","text":"Once upon a time"}]}]`

	message := func(body string) anthropicResponse {
		t.Helper()
		var r anthropicResponse
		if err := json.Unmarshal(post(t, base+"/v1/messages", body, 200), &r); err != nil {
			t.Fatal(err)
		}
		if r.Type != "message" || r.Role != "assistant" || !strings.HasPrefix(r.ID, "msg_") || r.Model != "stories260k.gguf" ||
			len(r.Content) != 1 || r.Content[0].Type != "text" || r.StopReason == nil {
			t.Fatalf("response %+v", r)
		}
		return r
	}

	t.Run("plain", func(t *testing.T) {
		for i := range 2 {
			r := message(body + `}`)
			if r.Content[0].Text != want || *r.StopReason != "max_tokens" || r.StopSequence != nil || r.Usage.OutputTokens != 12 {
				t.Errorf("response %+v, want text %q ending at max_tokens", r, want)
			}
			// Anthropic's input_tokens are those not read from the cache.
			if u := r.Usage; u.InputTokens+u.CacheReadInputTokens != nPrompt || u.InputTokens < 1 {
				t.Errorf("usage %+v, want input + cache read = %d", u, nPrompt)
			}
			if i == 1 && r.Usage.CacheReadInputTokens == 0 {
				t.Errorf("the repeated request read nothing from the cache: %+v", r.Usage)
			}
		}
	})

	t.Run("stream", func(t *testing.T) {
		names, data := events(t, post(t, base+"/v1/messages", body+`,"stream":true}`, 200))
		if len(names) < 7 {
			t.Fatalf("events %v", names)
		}
		order := []string{"message_start", "content_block_start", "ping"}
		for range names[3 : len(names)-3] {
			order = append(order, "content_block_delta")
		}
		order = append(order, "content_block_stop", "message_delta", "message_stop")
		if !slices.Equal(names, order) {
			t.Errorf("events %v, want %v", names, order)
		}
		var text strings.Builder
		for i, d := range data {
			if names[i] == "content_block_delta" {
				delta := d["delta"].(map[string]any)
				if d["index"] != 0.0 || delta["type"] != "text_delta" {
					t.Errorf("delta %v", d)
				}
				text.WriteString(delta["text"].(string))
			}
		}
		if text.String() != want {
			t.Errorf("streamed %q, want %q", text.String(), want)
		}
		start := data[0]["message"].(map[string]any)
		if !strings.HasPrefix(start["id"].(string), "msg_") || start["role"] != "assistant" || len(start["content"].([]any)) != 0 || start["stop_reason"] != nil {
			t.Errorf("message_start %v", start)
		}
		if cb := data[1]["content_block"].(map[string]any); cb["type"] != "text" || cb["text"] != "" || data[1]["index"] != 0.0 {
			t.Errorf("content_block_start %v", data[1])
		}
		md := data[len(data)-2]
		u := md["usage"].(map[string]any)
		if md["delta"].(map[string]any)["stop_reason"] != "max_tokens" || u["output_tokens"] != 12.0 ||
			u["input_tokens"].(float64)+u["cache_read_input_tokens"].(float64) != float64(nPrompt) {
			t.Errorf("message_delta %v", md)
		}
	})

	// A stop sequence: the text up to it, and which one it was, plain and streamed.
	stopAt := strings.Fields(want)[1]
	t.Run("stop sequence", func(t *testing.T) {
		r := message(body + `,"stop_sequences":["zzz","` + stopAt + `"]}`)
		if *r.StopReason != "stop_sequence" || r.StopSequence == nil || *r.StopSequence != stopAt || !strings.HasPrefix(want, r.Content[0].Text+stopAt) {
			t.Errorf("stopped at %v %v with %q, want at %q of %q", *r.StopReason, r.StopSequence, r.Content[0].Text, stopAt, want)
		}
		names, data := events(t, post(t, base+"/v1/messages", body+`,"stream":true,"stop_sequences":["`+stopAt+`"]}`, 200))
		d := data[len(data)-2]["delta"].(map[string]any)
		if names[len(names)-2] != "message_delta" || d["stop_reason"] != "stop_sequence" || d["stop_sequence"] != stopAt {
			t.Errorf("streamed stop: %v", data[len(data)-2])
		}
	})

	t.Run("count_tokens", func(t *testing.T) {
		var ct map[string]int
		// No max_tokens: count_tokens takes none.
		b := `{"model":"m","system":"Tell stories.","messages":[{"role":"user","content":"Once upon a time"}]}`
		if err := json.Unmarshal(post(t, base+"/v1/messages/count_tokens", b, 200), &ct); err != nil || len(ct) != 1 || ct["input_tokens"] != nPrompt {
			t.Errorf("count_tokens = %v (%v), want {input_tokens: %d}", ct, err, nPrompt)
		}
		// The blocks of "system" count as their concatenation.
		if err := json.Unmarshal(post(t, base+"/v1/messages/count_tokens", body+`}`, 200), &ct); err != nil || ct["input_tokens"] != nPrompt {
			t.Errorf("count_tokens of system blocks = %v (%v), want %d", ct, err, nPrompt)
		}
	})

	t.Run("errors", func(t *testing.T) {
		small, _ := testServer(t, Config{}, engine.ServeOptions{ContextSize: 128})
		long := strings.Repeat("Once upon a time ", 100)
		for _, tt := range []struct {
			name, path, body string
			status           int
			typ, msg         string
		}{
			{"no max_tokens", "/v1/messages", `{"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error", `"max_tokens"`},
			{"system role", "/v1/messages", `{"max_tokens":5,"messages":[{"role":"system","content":"hi"}]}`, 400, "invalid_request_error", "messages[0].role"},
			{"no role", "/v1/messages", `{"max_tokens":5,"messages":[{"content":"hi"}]}`, 400, "invalid_request_error", "messages[0].role"},
			{"no messages", "/v1/messages/count_tokens", `{"messages":[]}`, 400, "invalid_request_error", "messages"},
			{"tools", "/v1/messages", `{"max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":{}}]}`, 400, "invalid_request_error", "tool"},
			{"tool_use block", "/v1/messages", `{"max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]}]}`, 400, "invalid_request_error", "tool_use"},
			{"image", "/v1/messages", `{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{}}]}]}`, 400, "invalid_request_error", "image"},
			{"system image", "/v1/messages", `{"max_tokens":5,"system":[{"type":"image"}],"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error", "system[0].type"},
			{"bad max_tokens", "/v1/messages", `{"max_tokens":0,"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error", "max_tokens"},
			{"wrong type", "/v1/messages", `{"max_tokens":"ten","messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error", `"max_tokens"`},
			{"malformed", "/v1/messages", `{"max_tokens":`, 400, "invalid_request_error", "JSON"},
			{"prompt too long", "/v1/messages", `{"max_tokens":5,"messages":[{"role":"user","content":"` + long + `"}]}`, 400, "invalid_request_error", "context"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var e anthropicErrorBody
				if err := json.Unmarshal(post(t, small+tt.path, tt.body, tt.status), &e); err != nil || e.Type != "error" ||
					e.Error.Type != tt.typ || !strings.Contains(e.Error.Message, tt.msg) {
					t.Errorf("error %+v (%v), want %s about %q", e, err, tt.typ, tt.msg)
				}
			})
		}
	})

	t.Run("error mid-stream", func(t *testing.T) {
		url := serveBackend(t, tweaked{Engine: en, failAfter: 3})
		names, data := events(t, post(t, url+"/v1/messages", body+`,"stream":true}`, 200))
		want := []string{"message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "content_block_delta", "error"}
		if !slices.Equal(names, want) {
			t.Fatalf("events %v, want %v", names, want)
		}
		if e := data[len(data)-1]["error"].(map[string]any); e["type"] != "api_error" || e["message"] != "internal server error" {
			t.Errorf("error event %v", data[len(data)-1])
		}
	})
}

func TestAnthropicStop(t *testing.T) {
	for _, tt := range []struct {
		res        engine.Result
		reason     string
		stopString string
	}{
		{engine.Result{FinishReason: engine.FinishStop, StoppedEOS: true}, "end_turn", ""},
		{engine.Result{FinishReason: engine.FinishStop, StopWord: "\n\n"}, "stop_sequence", "\n\n"},
		{engine.Result{FinishReason: engine.FinishLength}, "max_tokens", ""},
	} {
		reason, seq := anthropicStop(&tt.res)
		if *reason != tt.reason || (seq == nil) != (tt.stopString == "") || (seq != nil && *seq != tt.stopString) {
			t.Errorf("%+v: stop_reason %q, stop_sequence %v; want %q, %q", tt.res, *reason, seq, tt.reason, tt.stopString)
		}
	}
}

func TestNormalizeBillingHeader(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"x-anthropic-billing-header: cc_version=2.1.101.e51; cc_entrypoint=cli; cch=a5145;You are Claude Code.",
			"x-anthropic-billing-header: cc_version=2.1.101.e51; cc_entrypoint=cli; cch=fffff;You are Claude Code."},
		{"x-anthropic-billing-header: cch=12345;", "x-anthropic-billing-header: cch=fffff;"},
		{"x-anthropic-billing-header: cch=123;rest", "x-anthropic-billing-header: cch=123;rest"},
		{"x-anthropic-billing-header: cc_version=1", "x-anthropic-billing-header: cc_version=1"},
		{"You are helpful. cch=a5145;x", "You are helpful. cch=a5145;x"},
		{"", ""},
	} {
		if got := normalizeBillingHeader(tt.in); got != tt.want {
			t.Errorf("normalizeBillingHeader(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
