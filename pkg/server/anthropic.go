package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
)

// Anthropic's Messages API (POST /v1/messages, /v1/messages/count_tokens),
// which coding agents and Anthropic's SDKs speak, as llama-server offers it.

type anthropicRequest struct {
	Model         string             `json:"model"`
	MaxTokens     *int               `json:"max_tokens"`
	Messages      []anthropicMessage `json:"messages"`
	System        json.RawMessage    `json:"system"`
	StopSequences []string           `json:"stop_sequences"`
	Temperature   *float32           `json:"temperature"`
	TopP          *float32           `json:"top_p"`
	TopK          *int               `json:"top_k"`
	Stream        bool               `json:"stream"`
	Tools         json.RawMessage    `json:"tools"`
	ToolChoice    json.RawMessage    `json:"tool_choice"`
	Thinking      json.RawMessage    `json:"thinking"`
}

type anthropicMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// anthropicChat checks a request and renders its prompt.
func (s *Server) anthropicChat(ar *anthropicRequest) ([]chat.Message, error) {
	if len(ar.Messages) == 0 {
		return nil, badField("messages", "at least one message is required")
	}
	if chat.OffersTools(ar.Tools) {
		return nil, badField("tools", "tool use is not supported by this server yet")
	}
	if err := checkKind("tool_choice", ar.ToolChoice, "object"); err != nil {
		return nil, err
	}
	if err := checkKind("thinking", ar.Thinking, "object"); err != nil {
		return nil, err
	}
	var msgs []chat.Message
	sys, err := anthropicSystem(ar.System)
	if err != nil {
		return nil, err
	}
	if sys != "" {
		msgs = append(msgs, chat.Message{Role: "system", Content: sys})
	}
	for i, m := range ar.Messages {
		field := fmt.Sprintf("messages[%d]", i)
		if m.Role != "user" && m.Role != "assistant" {
			return nil, badField(field+".role", "%q: expected user or assistant (the system prompt goes in \"system\")", m.Role)
		}
		text, err := textContent(field+".content", m.Content, "text")
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, chat.Message{Role: m.Role, Content: text})
	}
	return msgs, nil
}

// anthropicSystem reads "system": a string or a list of text blocks,
// which llama-server joins with nothing between them (unlike a
// message's blocks, which the chat template sees joined by newlines).
func anthropicSystem(raw json.RawMessage) (string, error) {
	if absent(raw) {
		return "", nil
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return normalizeBillingHeader(text), nil
	}
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return "", badField("system", "expected a string or a list of text blocks")
	}
	var b strings.Builder
	for i, blk := range blocks {
		if blk.Type != "text" {
			return "", badField(fmt.Sprintf("system[%d].type", i), "%q: the system prompt takes text blocks only", blk.Type)
		}
		b.WriteString(normalizeBillingHeader(blk.Text))
	}
	return b.String(), nil
}

// normalizeBillingHeader blanks the per-request stamp of the billing
// header Claude Code puts at the start of its system prompt
// ("x-anthropic-billing-header: ...; cch=a5145;..."), as llama-server
// does: the stamp changes with every request, and a prompt that differs
// that early could never reuse the slot's cache.
func normalizeBillingHeader(s string) string {
	const header, key, n = "x-anthropic-billing-header:", "cch=", 5
	if !strings.HasPrefix(s, header) {
		return s
	}
	i := strings.Index(s[len(header):], key)
	if i < 0 {
		return s
	}
	at := len(header) + i + len(key)
	if at+n >= len(s) || s[at+n] != ';' {
		return s
	}
	return s[:at] + strings.Repeat("f", n) + s[at+n:]
}

func (s *Server) anthropicPrompt(ar *anthropicRequest) ([]int32, error) {
	msgs, err := s.anthropicChat(ar)
	if err != nil {
		return nil, err
	}
	prompt, err := s.backend().ApplyTemplate(msgs, true)
	if err != nil {
		return nil, badField("messages", "the chat template cannot render them: %v", err)
	}
	return s.backend().Tokenize(prompt, true, true), nil
}

// anthropicUsage is Anthropic's token accounting, where input_tokens
// are the prompt tokens evaluated and cache_read_input_tokens those
// reused from the cache (their sum is the prompt).
type anthropicUsage struct {
	InputTokens          int `json:"input_tokens"`
	CacheReadInputTokens int `json:"cache_read_input_tokens"`
	OutputTokens         int `json:"output_tokens"`
}

type anthropicBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type anthropicResponse struct {
	ID           string           `json:"id"`
	Type         string           `json:"type"`
	Role         string           `json:"role"`
	Model        string           `json:"model"`
	Content      []anthropicBlock `json:"content"`
	StopReason   *string          `json:"stop_reason"`
	StopSequence *string          `json:"stop_sequence"`
	Usage        anthropicUsage   `json:"usage"`
}

// anthropicStop is a result's stop_reason and stop_sequence.
func anthropicStop(res *engine.Result) (*string, *string) {
	reason := "end_turn"
	var seq *string
	switch {
	case res.StopWord != "":
		reason, seq = "stop_sequence", &res.StopWord
	case res.FinishReason == engine.FinishLength:
		reason = "max_tokens"
	}
	return &reason, seq
}

func anthropicUsageOf(res *engine.Result) anthropicUsage {
	return anthropicUsage{InputTokens: res.PromptTokens - res.CachedTokens, CacheReadInputTokens: res.CachedTokens, OutputTokens: res.GeneratedTokens}
}

// anthropicErrors answers errors in Anthropic's shape,
// {"type": "error", "error": {"type", "message"}}, which its SDKs read.
// (llama-server answers this endpoint's errors in OpenAI's shape; both
// have the message at error.message, so clients of either still read it.)
// The key check, before the handler, keeps OpenAI's shape.
func (s *Server) anthropicErrors(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		if sw, ok := w.(*statusWriter); err == nil || !ok || sw.status != 0 {
			return err
		}
		ae := s.toAPIError(err)
		return writeJSON(w, ae.Status, anthropicError(ae))
	}
}

// anthropicError is an error as Anthropic's API writes it, in a response
// body or as a stream's "error" event.
func anthropicError(ae *apiError) map[string]any {
	typ := "api_error"
	switch ae.Status {
	case http.StatusBadRequest, http.StatusNotImplemented:
		typ = "invalid_request_error"
	case http.StatusUnauthorized:
		typ = "authentication_error"
	case http.StatusNotFound:
		typ = "not_found_error"
	case http.StatusRequestEntityTooLarge:
		typ = "request_too_large"
	case http.StatusServiceUnavailable:
		typ = "overloaded_error"
	}
	return map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": ae.Message}}
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request) error {
	var ar anthropicRequest
	if err := s.readRequest(r, &ar); err != nil {
		return err
	}
	if ar.MaxTokens == nil {
		return badField("max_tokens", "required")
	}
	prompt, err := s.anthropicPrompt(&ar)
	if err != nil {
		return err
	}
	stop, _ := json.Marshal(ar.StopSequences)
	req, err := s.request(&genParams{MaxTokens: ar.MaxTokens, Temperature: ar.Temperature, TopP: ar.TopP, TopK: ar.TopK, Stop: stop}, prompt)
	if err != nil {
		return err
	}
	resp := anthropicResponse{ID: newID("msg_"), Type: "message", Role: "assistant", Model: s.modelName(ar.Model), Content: []anthropicBlock{}}
	ctx := r.Context()
	if !ar.Stream {
		res, err := s.backend().Generate(ctx, req, nil)
		noteResult(ctx, res)
		if err != nil {
			return err
		}
		resp.Content = append(resp.Content, anthropicBlock{Type: "text", Text: res.Text})
		resp.StopReason, resp.StopSequence = anthropicStop(res)
		resp.Usage = anthropicUsageOf(res)
		return writeJSON(w, http.StatusOK, resp)
	}
	es := newEventStream(w)
	opened := false
	open := func() error {
		if opened {
			return nil
		}
		opened = true
		start := resp
		start.Usage = anthropicUsage{InputTokens: len(prompt)}
		if err := es.sendEvent("message_start", map[string]any{"type": "message_start", "message": start}); err != nil {
			return err
		}
		if err := es.sendEvent("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": anthropicBlock{Type: "text"}}); err != nil {
			return err
		}
		return es.sendEvent("ping", map[string]string{"type": "ping"})
	}
	res, err := s.backend().Generate(ctx, req, func(c engine.Chunk) error {
		if err := open(); err != nil {
			return err
		}
		if c.Text == "" {
			return nil
		}
		return es.sendEvent("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]string{"type": "text_delta", "text": c.Text}})
	})
	noteResult(ctx, res)
	if err != nil && es.started && s.base.Err() == nil && !errors.Is(err, context.Canceled) {
		// Anthropic's stream ends with an "error" event.
		_ = es.sendEvent("error", anthropicError(s.toAPIError(err)))
		return err
	}
	finish, err := s.streamEnd(es, res, err)
	if err != nil {
		return err
	}
	if res == nil { // ended by the shutdown
		res = &engine.Result{FinishReason: finish, PromptTokens: len(prompt)}
	}
	if err := open(); err != nil {
		return err
	}
	if err := es.sendEvent("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0}); err != nil {
		return err
	}
	reason, seq := anthropicStop(res)
	if err := es.sendEvent("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": reason, "stop_sequence": seq},
		"usage": anthropicUsageOf(res)}); err != nil {
		return err
	}
	return es.sendEvent("message_stop", map[string]string{"type": "message_stop"})
}

func (s *Server) countTokens(w http.ResponseWriter, r *http.Request) error {
	var ar anthropicRequest
	if err := s.readRequest(r, &ar); err != nil {
		return err
	}
	prompt, err := s.anthropicPrompt(&ar)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]int{"input_tokens": len(prompt)})
}
