package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// testServer serves stories260k on loopback through a real Scheduler and
// returns its base URL and the engine.
func testServer(t *testing.T, cfg Config, so engine.ServeOptions) (string, *Engine) {
	t.Helper()
	m, err := engine.Open(testutil.SharedFile(t, "testdata/models/stories260k.gguf"), engine.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if so.Slots == 0 {
		so.Slots = 2
	}
	sched, err := m.NewScheduler(so)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Defaults.RepeatPenalty == 0 { // unset
		cfg.Defaults = sample.DefaultParams()
		cfg.Defaults.Temp = 0
	}
	if cfg.DefaultMaxTokens == 0 {
		cfg.DefaultMaxTokens = -1
	}
	cfg.CachePrompt = true
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	en := &Engine{Model: m, Scheduler: sched, Template: chat.Default(), TemplateSource: "chatml"}
	srv.SetBackend(en)
	base, stop := serveLoopback(t, srv)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
		sched.Close()
		m.Close()
	})
	return base, en
}

// serveLoopback serves srv on a free loopback port; stop shuts it down
// (as Ctrl-C would) and returns Serve's error.
func serveLoopback(t *testing.T, srv *Server) (base string, stop func() error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	return "http://" + l.Addr().String(), func() error {
		cancel()
		return <-done
	}
}

func sdk(base string, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{option.WithBaseURL(base + "/v1/"), option.WithAPIKey("sk-test"), option.WithMaxRetries(0)}, opts...)...)
}

// greedy is the engine's own greedy continuation of prompt, the reference
// the server's answers must equal.
func greedy(t *testing.T, en *Engine, prompt string, n int) string {
	t.Helper()
	req := &engine.Request{Prompt: en.Tokenize(prompt, true, true), MaxTokens: n, Sampling: sample.DefaultParams(), Slot: -1}
	req.Sampling.Temp = 0
	res, err := en.Generate(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Text
}

func TestOpenAISDK(t *testing.T) {
	base, en := testServer(t, Config{}, engine.ServeOptions{Embeddings: true})
	c := sdk(base)
	ctx := context.Background()

	t.Run("models", func(t *testing.T) {
		page, err := c.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Data) != 1 || page.Data[0].ID != "stories260k.gguf" || page.Data[0].Object != "model" {
			t.Errorf("models = %+v", page.Data)
		}
	})

	msgs := []chat.Message{{Role: "system", Content: "You tell stories."}, {Role: "user", Content: "Once upon a time"}}
	prompt, err := en.ApplyTemplate(msgs, true)
	if err != nil {
		t.Fatal(err)
	}
	want := greedy(t, en, prompt, 24)
	params := openai.ChatCompletionNewParams{
		Model:       "anything",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(msgs[0].Content), openai.UserMessage(msgs[1].Content)},
		MaxTokens:   openai.Int(24),
		Temperature: openai.Float(0),
	}

	t.Run("chat", func(t *testing.T) {
		r, err := c.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Choices) != 1 || r.Choices[0].Message.Content != want {
			t.Fatalf("choices = %+v, want content %q", r.Choices, want)
		}
		if r.Choices[0].FinishReason != "length" || r.Usage.CompletionTokens != 24 || r.Usage.PromptTokens != int64(len(en.Tokenize(prompt, true, true))) {
			t.Errorf("finish %q, usage %+v", r.Choices[0].FinishReason, r.Usage)
		}
		if r.Object != "chat.completion" || r.Model != "stories260k.gguf" || !strings.HasPrefix(r.ID, "chatcmpl-") {
			t.Errorf("object %q model %q id %q", r.Object, r.Model, r.ID)
		}
	})

	t.Run("chat stream with usage", func(t *testing.T) {
		p := params
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		st := c.Chat.Completions.NewStreaming(ctx, p)
		var text strings.Builder
		var role, finish string
		var u openai.CompletionUsage
		n := 0
		for st.Next() {
			ch := st.Current()
			n++
			if len(ch.Choices) > 0 {
				if ch.Choices[0].Delta.Role != "" {
					if n != 1 {
						t.Errorf("role in chunk %d, want the first", n)
					}
					role = ch.Choices[0].Delta.Role
				}
				text.WriteString(ch.Choices[0].Delta.Content)
				if ch.Choices[0].FinishReason != "" {
					finish = ch.Choices[0].FinishReason
				}
			}
			if ch.Usage.TotalTokens > 0 {
				u = ch.Usage
			}
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		if text.String() != want || role != "assistant" || finish != "length" {
			t.Errorf("streamed %q (role %q, finish %q), want %q", text.String(), role, finish, want)
		}
		if u.CompletionTokens != 24 || u.TotalTokens != u.PromptTokens+24 {
			t.Errorf("usage %+v", u)
		}
		if u.PromptTokensDetails.CachedTokens == 0 {
			t.Errorf("the repeated chat reused no cached tokens: %+v", u)
		}
	})

	t.Run("chat logprobs", func(t *testing.T) {
		p := params
		p.MaxTokens = openai.Int(4)
		p.Logprobs = openai.Bool(true)
		p.TopLogprobs = openai.Int(3)
		r, err := c.Chat.Completions.New(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		lp := r.Choices[0].Logprobs.Content
		if len(lp) != 4 {
			t.Fatalf("%d logprobs, want 4", len(lp))
		}
		var joined strings.Builder
		for _, l := range lp {
			joined.WriteString(l.Token)
			if len(l.TopLogprobs) != 3 || l.TopLogprobs[0].Token != l.Token || l.Logprob > 0 || math.Abs(l.TopLogprobs[0].Logprob-l.Logprob) > 1e-9 {
				t.Errorf("greedy token %q (logprob %v): top %+v", l.Token, l.Logprob, l.TopLogprobs)
			}
		}
		if joined.String() != r.Choices[0].Message.Content {
			t.Errorf("logprob tokens %q, content %q", joined.String(), r.Choices[0].Message.Content)
		}
	})

	t.Run("completions", func(t *testing.T) {
		want := greedy(t, en, "Once upon a time", 16)
		r, err := c.Completions.New(ctx, openai.CompletionNewParams{
			Model:       "x",
			Prompt:      openai.CompletionNewParamsPromptUnion{OfString: openai.String("Once upon a time")},
			MaxTokens:   openai.Int(16),
			Temperature: openai.Float(0),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Choices) != 1 || r.Choices[0].Text != want || r.Usage.CompletionTokens != 16 {
			t.Errorf("completion %+v, want %q", r.Choices, want)
		}
		st := c.Completions.NewStreaming(ctx, openai.CompletionNewParams{
			Model:     "x",
			Prompt:    openai.CompletionNewParamsPromptUnion{OfArrayOfTokens: int64s(en.Tokenize("Once upon a time", true, true))},
			MaxTokens: openai.Int(16),
		})
		var text strings.Builder
		for st.Next() {
			for _, ch := range st.Current().Choices {
				text.WriteString(ch.Text)
			}
		}
		if err := st.Err(); err != nil || text.String() != want {
			t.Errorf("streamed completion from token ids %q (%v), want %q", text.String(), err, want)
		}
	})

	t.Run("embeddings", func(t *testing.T) {
		in := []string{"a cat", "a dog sat"}
		r, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model: "x",
			Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: in},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Data) != 2 {
			t.Fatalf("%d embeddings, want 2", len(r.Data))
		}
		for i, d := range r.Data {
			ref, err := en.Embed(ctx, en.Tokenize(in[i], true, true))
			if err != nil {
				t.Fatal(err)
			}
			if d.Index != int64(i) || len(d.Embedding) != len(ref) {
				t.Fatalf("embedding %d: index %d, %d values, want %d", i, d.Index, len(d.Embedding), len(ref))
			}
			for k := range ref {
				if float32(d.Embedding[k]) != ref[k] {
					t.Fatalf("embedding %d[%d] = %v, want %v", i, k, d.Embedding[k], ref[k])
				}
			}
		}
		// base64: the same float32s, little-endian.
		raw := post(t, base+"/v1/embeddings", `{"input":"a cat","encoding_format":"base64"}`, http.StatusOK)
		var b64 struct {
			Data []struct{ Embedding string }
		}
		if err := json.Unmarshal(raw, &b64); err != nil {
			t.Fatal(err)
		}
		bs, err := base64.StdEncoding.DecodeString(b64.Data[0].Embedding)
		if err != nil || len(bs) != 4*len(r.Data[0].Embedding) {
			t.Fatalf("base64 embedding: %d bytes, %v", len(bs), err)
		}
		if got := math.Float32frombits(uint32(bs[0]) | uint32(bs[1])<<8 | uint32(bs[2])<<16 | uint32(bs[3])<<24); got != float32(r.Data[0].Embedding[0]) {
			t.Errorf("base64 [0] = %v, want %v", got, r.Data[0].Embedding[0])
		}
	})

	t.Run("error", func(t *testing.T) {
		p := params
		p.TopP = openai.Float(1.5)
		_, err := c.Chat.Completions.New(ctx, p)
		var ae *openai.Error
		if !errors.As(err, &ae) {
			t.Fatalf("err = %v, want an *openai.Error", err)
		}
		if ae.StatusCode != http.StatusBadRequest || ae.Type != "invalid_request_error" || !strings.Contains(ae.Message, "top_p") || ae.Param != "top_p" {
			t.Errorf("error %d %q %q param %q", ae.StatusCode, ae.Type, ae.Message, ae.Param)
		}
	})
}

func int64s(t []int32) []int64 {
	out := make([]int64, len(t))
	for i, v := range t {
		out[i] = int64(v)
	}
	return out
}

// post sends body and checks the status; it returns the response body.
// header holds name, value pairs.
func post(t *testing.T, url, body string, status int, header ...string) []byte {
	t.Helper()
	return do(t, http.MethodPost, url, body, status, header)
}

func get(t *testing.T, url string, status int, header ...string) []byte {
	t.Helper()
	return do(t, http.MethodGet, url, "", status, header)
}

func do(t *testing.T, method, url, body string, status int, header []string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s %s: status %d, want %d: %s", method, url, body, resp.StatusCode, status, b)
	}
	return b
}

// TestErrors checks the status and the OpenAI shape of every kind of
// error response.
func TestErrors(t *testing.T) {
	base, _ := testServer(t, Config{MaxBodyBytes: 4096}, engine.ServeOptions{ContextSize: 128})
	long := strings.Repeat("Once upon a time ", 100)
	tests := []struct {
		name, path, body string
		status           int
		msg              string // in the message
	}{
		{"malformed", "/v1/chat/completions", `{"messages": [`, 400, "not valid JSON"},
		{"not an object", "/v1/chat/completions", `[1]`, 400, "JSON object"},
		{"empty body", "/completion", ``, 400, "empty"},
		{"wrong type", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}`, 400, `"max_tokens"`},
		{"no messages", "/v1/chat/completions", `{"messages":[]}`, 400, "messages"},
		{"bad role", "/v1/chat/completions", `{"messages":[{"role":"robot","content":"hi"}]}`, 400, "messages[0].role"},
		{"image", "/v1/chat/completions", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`, 400, "image_url"},
		{"n", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"n":2}`, 400, `"n"`},
		{"unknown format", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"yaml"}}`, 400, "response_format"},
		{"tools", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}`, 400, "tool"},
		{"prompt too long", "/completion", `{"prompt":"` + long + `"}`, 400, "context"},
		{"token out of range", "/completion", `{"prompt":[1, 99999]}`, 400, "vocabulary"},
		{"logit bias token", "/completion", `{"prompt":"hi","logit_bias":{"99999":1}}`, 400, "logit_bias"},
		{"slot", "/completion", `{"prompt":"hi","id_slot":7}`, 400, "id_slot"},
		{"seed", "/completion", `{"prompt":"hi","seed":-5}`, 400, "seed"},
		{"embeddings off", "/v1/embeddings", `{"input":"hi"}`, 501, "--embeddings"},
		{"too large", "/completion", `{"prompt":"` + strings.Repeat("x", 5000) + `"}`, 413, "limit"},
		{"not found", "/v2/nothing", `{}`, 404, "no such endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := post(t, base+tt.path, tt.body, tt.status)
			var e errorBody
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("%s: not an error body: %v", b, err)
			}
			if e.Error.Code != tt.status || e.Error.Type == "" || !strings.Contains(e.Error.Message, tt.msg) {
				t.Errorf("error %+v, want code %d and a message with %q", e.Error, tt.status, tt.msg)
			}
		})
	}
	get(t, base+"/slots", 501)
	get(t, base+"/metrics", 501)
}

func TestAuth(t *testing.T) {
	base, _ := testServer(t, Config{APIKeys: []string{"k1", "k2"}}, engine.ServeOptions{})
	get(t, base+"/health", 200) // open to load balancers
	get(t, base+"/v1/models", 401)
	get(t, base+"/v1/models", 401, "Authorization", "Bearer wrong")
	get(t, base+"/v1/models", 200, "Authorization", "Bearer k2")
	get(t, base+"/v1/models", 200, "X-Api-Key", "k1")
	post(t, base+"/completion", `{"prompt":"hi","n_predict":1}`, 401)
	c := sdk(base)
	_, err := c.Models.List(context.Background())
	var ae *openai.Error
	if !errors.As(err, &ae) || ae.StatusCode != 401 {
		t.Errorf("SDK with the wrong key: %v", err)
	}
	c = sdk(base, option.WithAPIKey("k1"))
	if _, err := c.Models.List(context.Background()); err != nil {
		t.Errorf("SDK with the key: %v", err)
	}
}

// TestLoading: before SetBackend, /health and the API answer 503.
func TestLoading(t *testing.T) {
	srv, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	base, stop := serveLoopback(t, srv)
	b := get(t, base+"/health", 503)
	if !strings.Contains(string(b), "Loading model") {
		t.Errorf("/health while loading: %s", b)
	}
	post(t, base+"/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, 503)
	get(t, base+"/", 200) // the page loads, and waits
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestLlamaEndpoints checks llama.cpp's own endpoints against the engine.
func TestLlamaEndpoints(t *testing.T) {
	base, en := testServer(t, Config{Metrics: true, SlotsEndpoint: true, Alias: "storyteller"}, engine.ServeOptions{})
	en.Alias = "storyteller"
	want := greedy(t, en, "Once upon a time", 12)

	var cr struct {
		Content         string  `json:"content"`
		Stop            bool    `json:"stop"`
		StopType        string  `json:"stop_type"`
		TokensPredicted int     `json:"tokens_predicted"`
		Model           string  `json:"model"`
		Timings         timings `json:"timings"`
		Probs           []struct {
			Token       string
			TopLogprobs []struct{ Token string } `json:"top_logprobs"`
		} `json:"completion_probabilities"`
	}
	b := post(t, base+"/completion", `{"prompt":"Once upon a time","n_predict":12,"n_probs":2,"temperature":0}`, 200)
	if err := json.Unmarshal(b, &cr); err != nil {
		t.Fatal(err)
	}
	if cr.Content != want || !cr.Stop || cr.StopType != "limit" || cr.TokensPredicted != 12 || cr.Model != "storyteller" || len(cr.Probs) != 12 || len(cr.Probs[0].TopLogprobs) != 2 {
		t.Errorf("/completion = %s, want content %q", b, want)
	}
	if cr.Timings.PredictedN != 12 {
		t.Errorf("timings %+v", cr.Timings)
	}

	// The stream: data events, the last with stop true; no [DONE].
	b = post(t, base+"/completion", `{"prompt":"Once upon a time","n_predict":12,"stream":true}`, 200)
	var text strings.Builder
	events := strings.Split(strings.TrimSpace(string(b)), "\n\n")
	for i, ev := range events {
		var c struct {
			Content string
			Stop    bool
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(ev, "data: ")), &c); err != nil {
			t.Fatalf("event %q: %v", ev, err)
		}
		text.WriteString(c.Content)
		if c.Stop != (i == len(events)-1) {
			t.Errorf("event %d of %d: stop %v", i, len(events), c.Stop)
		}
	}
	if text.String() != want {
		t.Errorf("streamed %q, want %q", text.String(), want)
	}

	var tr struct {
		Tokens []struct {
			ID    int32
			Piece any
		}
	}
	if err := json.Unmarshal(post(t, base+"/tokenize", `{"content":"Once upon","with_pieces":true}`, 200), &tr); err != nil {
		t.Fatal(err)
	}
	ids := en.Tokenize("Once upon", false, true)
	if len(tr.Tokens) != len(ids) {
		t.Fatalf("/tokenize: %+v, want %v", tr.Tokens, ids)
	}
	var joined strings.Builder
	for i, tk := range tr.Tokens {
		if tk.ID != ids[i] {
			t.Errorf("token %d = %d, want %d", i, tk.ID, ids[i])
		}
		joined.WriteString(tk.Piece.(string))
	}
	if joined.String() != " Once upon" {
		t.Errorf("pieces %q", joined.String())
	}
	idsJSON, _ := json.Marshal(ids)
	var dr struct{ Content string }
	if err := json.Unmarshal(post(t, base+"/detokenize", `{"tokens":`+string(idsJSON)+`}`, 200), &dr); err != nil || strings.TrimSpace(dr.Content) != "Once upon" {
		t.Errorf("/detokenize: %q %v", dr.Content, err)
	}
	var at struct{ Prompt string }
	if err := json.Unmarshal(post(t, base+"/apply-template", `{"messages":[{"role":"user","content":"hi"}]}`, 200), &at); err != nil ||
		at.Prompt != "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n" {
		t.Errorf("/apply-template: %q %v", at.Prompt, err)
	}
	var props struct {
		TotalSlots   int    `json:"total_slots"`
		ChatTemplate string `json:"chat_template"`
		Default      struct {
			NCtx int `json:"n_ctx"`
		} `json:"default_generation_settings"`
	}
	if err := json.Unmarshal(get(t, base+"/props", 200), &props); err != nil || props.TotalSlots != 2 || props.ChatTemplate != "chatml" || props.Default.NCtx != en.ContextSize() {
		t.Errorf("/props: %+v %v", props, err)
	}
	var slots []struct {
		ID           int  `json:"id"`
		NCtx         int  `json:"n_ctx"`
		IsProcessing bool `json:"is_processing"`
	}
	if err := json.Unmarshal(get(t, base+"/slots", 200), &slots); err != nil || len(slots) != 2 || slots[1].ID != 1 || slots[0].NCtx != en.ContextSize() {
		t.Errorf("/slots: %+v %v", slots, err)
	}
	m := string(get(t, base+"/metrics", 200))
	for _, s := range []string{"llamacpp:prompt_tokens_total", "llamacpp:tokens_predicted_total 36", "llamacpp:requests_processing 0",
		`llamafile_http_requests_total{code="200",path="/completion"} 2`} {
		if !strings.Contains(m, s) {
			t.Errorf("/metrics lacks %q:\n%s", s, m)
		}
	}
	page := string(get(t, base+"/", 200))
	if !strings.Contains(page, `src="app.js"`) {
		t.Errorf("the chat page does not load app.js: %.200s", page)
	}
	if app := string(get(t, base+"/app.js", 200)); !strings.Contains(app, "v1/chat/completions") {
		t.Errorf("the chat page does not talk to the API")
	}
}

// TestShutdownEndsStreams: a stream still generating when the server is
// asked to stop gets its final chunk and [DONE] within the grace period.
func TestShutdownEndsStreams(t *testing.T) {
	m, err := engine.Open(testutil.SharedFile(t, "testdata/models/stories260k.gguf"), engine.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sched, err := m.NewScheduler(engine.ServeOptions{Slots: 1, ContextShift: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sched.Close()
	srv, err := New(Config{Defaults: sample.DefaultParams(), DefaultMaxTokens: -1, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetBackend(&Engine{Model: m, Scheduler: sched, Template: chat.Default(), TemplateSource: "chatml"})
	base, stop := serveLoopback(t, srv)
	// No token limit and context shift on: it would never end by itself.
	resp, err := http.Post(base+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"messages":[{"role":"user","content":"Tell a story"}],"stream":true,"ignore_eos":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 1)
	if _, err := resp.Body.Read(buf); err != nil { // the stream has begun
		t.Fatal(err)
	}
	t0 := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	s := string(rest)
	if !strings.HasSuffix(s, "data: [DONE]\n\n") || !strings.Contains(s, `"finish_reason":"stop"`) {
		t.Errorf("the stream did not end with a final chunk and [DONE]: ...%s", s[max(0, len(s)-300):])
	}
}
