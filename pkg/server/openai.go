package server

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
)

// The OpenAI-compatible endpoints.

type chatRequest struct {
	genParams
	Messages    []chatMessage   `json:"messages"`
	Logprobs    bool            `json:"logprobs"`
	TopLogprobs *int            `json:"top_logprobs"`
	Tools       json.RawMessage `json:"tools"`
	ToolChoice  json.RawMessage `json:"tool_choice"`
	// ParallelToolCalls: may the reply hold several calls (default true).
	ParallelToolCalls *bool `json:"parallel_tool_calls"`
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name"`
	ToolCalls  json.RawMessage `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
}

// chatMessagesImages checks the messages and flattens their content to
// text; each image_url part is an engine.MediaMarker in its message's
// text, its image in the list.
func chatMessagesImages(msgs []chatMessage) ([]chat.Message, []imageInput, error) {
	var imgs []imageInput
	if len(msgs) == 0 {
		return nil, nil, badField("messages", "at least one message is required")
	}
	out := make([]chat.Message, 0, len(msgs))
	for i, m := range msgs {
		field := fmt.Sprintf("messages[%d]", i)
		role := m.Role
		switch role {
		case "system", "user", "assistant", "tool":
		case "developer":
			role = "system" // OpenAI's newer name for it
		case "":
			return nil, nil, badField(field+".role", "missing")
		default:
			return nil, nil, badField(field+".role", "%q: expected system, developer, user, assistant or tool", m.Role)
		}
		text, err := chatContent(field+".content", m.Content, &imgs)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, chat.Message{Role: role, Content: text})
	}
	return out, imgs, nil
}

// textContent reads a content field: a string, null, or a list of
// parts, those of the types textTypes holding text (joined with
// newlines); other parts (images, audio, tool blocks) are a 400, since
// the server takes text only.
func textContent(field string, raw json.RawMessage, textTypes ...string) (string, error) {
	if absent(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", badField(field, "expected a string or a list of content parts")
	}
	var b strings.Builder
	for i, p := range parts {
		if !slices.Contains(textTypes, p.Type) {
			return "", badField(fmt.Sprintf("%s[%d].type", field, i), "content of type %q is not supported: this server takes text only (%s)", p.Type, strings.Join(textTypes, ", "))
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// newID is a random identifier for a response.
func newID(prefix string) string { return prefix + strings.ToLower(rand.Text()) }

// usage is OpenAI's token accounting.
type usage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

func usageOf(results ...*engine.Result) usage {
	var u usage
	for _, r := range results {
		if r == nil {
			continue
		}
		u.PromptTokens += r.PromptTokens
		u.CompletionTokens += r.GeneratedTokens
		u.PromptTokensDetails.CachedTokens += r.CachedTokens
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// timings is llama-server's timing report.
type timings struct {
	CacheN              int     `json:"cache_n"`
	PromptN             int     `json:"prompt_n"`
	PromptMS            float64 `json:"prompt_ms"`
	PromptPerTokenMS    float64 `json:"prompt_per_token_ms"`
	PromptPerSecond     float64 `json:"prompt_per_second"`
	PredictedN          int     `json:"predicted_n"`
	PredictedMS         float64 `json:"predicted_ms"`
	PredictedPerTokenMS float64 `json:"predicted_per_token_ms"`
	PredictedPerSecond  float64 `json:"predicted_per_second"`
}

func timingsOf(r *engine.Result) timings {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	per := func(n int, d time.Duration) (float64, float64) {
		if n == 0 || d <= 0 {
			return 0, 0
		}
		return ms(d) / float64(n), float64(n) / d.Seconds()
	}
	t := timings{CacheN: r.CachedTokens, PromptN: r.PromptTokens - r.CachedTokens, PromptMS: ms(r.PromptTime),
		PredictedN: r.GeneratedTokens, PredictedMS: ms(r.GenerateTime)}
	t.PromptPerTokenMS, t.PromptPerSecond = per(t.PromptN, r.PromptTime)
	t.PredictedPerTokenMS, t.PredictedPerSecond = per(t.PredictedN, r.GenerateTime)
	return t
}

// chat logprobs, OpenAI's shape.
type chatLogprob struct {
	Token       string        `json:"token"`
	Logprob     float64       `json:"logprob"`
	Bytes       []int         `json:"bytes"`
	TopLogprobs []chatLogprob `json:"top_logprobs"`
}

type chatLogprobs struct {
	Content []chatLogprob `json:"content"`
}

func textBytes(s string) []int {
	b := make([]int, len(s))
	for i := range len(s) {
		b[i] = int(s[i])
	}
	return b
}

// finiteLogprob keeps JSON valid: a probability of 0 is -9999, as
// OpenAI reports it.
func finiteLogprob(lp float64) float64 {
	if math.IsInf(lp, -1) || math.IsNaN(lp) {
		return -9999
	}
	return lp
}

func chatLogprobsOf(toks []engine.TokenInfo, top int) []chatLogprob {
	out := make([]chatLogprob, 0, len(toks))
	for _, t := range toks {
		lp := chatLogprob{Token: t.Text, Logprob: finiteLogprob(t.Logprob), Bytes: textBytes(t.Text), TopLogprobs: []chatLogprob{}}
		for _, c := range t.Top[:min(top, len(t.Top))] {
			lp.TopLogprobs = append(lp.TopLogprobs, chatLogprob{Token: c.Text, Logprob: finiteLogprob(c.Logprob), Bytes: textBytes(c.Text), TopLogprobs: nil})
		}
		out = append(out, lp)
	}
	return out
}

type chatDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
	// ReasoningContent is a reasoning model's thinking, apart from its
	// answer (llama.cpp's --reasoning-format deepseek).
	ReasoningContent *string        `json:"reasoning_content,omitempty"`
	ToolCalls        []chatToolCall `json:"tool_calls,omitempty"`
}

// reasoningDelta is a delta of thinking and answer text; nil fields for
// the empty ones.
func reasoningDelta(reasoning, content string) chatDelta {
	var d chatDelta
	if reasoning != "" {
		d.ReasoningContent = &reasoning
	}
	if content != "" {
		d.Content = &content
	}
	return d
}

type chatChoice struct {
	Index        int           `json:"index"`
	Message      *chatDelta    `json:"message,omitempty"`
	Delta        *chatDelta    `json:"delta,omitempty"`
	Logprobs     *chatLogprobs `json:"logprobs"`
	FinishReason *string       `json:"finish_reason"`
}

type chatResponse struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           []chatChoice `json:"choices"`
	Usage             *usage       `json:"usage,omitempty"`
	Timings           *timings     `json:"timings,omitempty"`
}

const fingerprint = "llamafile-go"

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) error {
	var cr chatRequest
	if err := s.readRequest(r, &cr); err != nil {
		return err
	}
	msgs, imgs, err := chatMessagesImages(cr.Messages)
	if err != nil {
		return err
	}
	if len(imgs) > 0 && !s.hasVision() {
		return badField(imgs[0].field, "the request has an image, but this model has no vision projector: start the server with --mmproj FILE")
	}
	choice, err := toolChoice(cr.Tools, cr.ToolChoice)
	if err != nil {
		return err
	}
	parseTools := choice != ""
	var prompt string
	if chat.OffersTools(cr.Tools) {
		tmsgs, err := templateMessages(cr.Messages, msgs)
		if err != nil {
			return err
		}
		prompt, err = s.backend().ApplyTemplateTools(tmsgs, cr.Tools, true)
		if err != nil {
			return badField("tools", "the chat template cannot render them: %v", err)
		}
	} else {
		for i, m := range cr.Messages {
			if !absent(m.ToolCalls) && string(m.ToolCalls) != "[]" {
				return badField(fmt.Sprintf("messages[%d].tool_calls", i), "tool calls need the request's \"tools\"")
			}
		}
		if prompt, err = s.backend().ApplyTemplate(msgs, true); err != nil {
			return badField("messages", "the chat template cannot render them: %v", err)
		}
	}
	var pr engine.Prompt
	if len(imgs) > 0 {
		if pr, err = s.mediaPrompt(r.Context(), prompt, imgs); err != nil {
			return err
		}
	} else {
		pr.Tokens = s.backend().Tokenize(prompt, true, true)
	}
	req, err := s.request(&cr.genParams, pr.Tokens)
	if err != nil {
		return err
	}
	req.Media = pr.Media
	if parseTools {
		if err := s.toolGrammar(req, &cr, choice); err != nil {
			return err
		}
	}
	top := 0
	if cr.TopLogprobs != nil {
		if *cr.TopLogprobs < 0 || *cr.TopLogprobs > 20 {
			return badField("top_logprobs", "%d: must be between 0 and 20", *cr.TopLogprobs)
		}
		if !cr.Logprobs {
			return badField("top_logprobs", "needs \"logprobs\": true")
		}
		top = *cr.TopLogprobs
	}
	if cr.Logprobs {
		req.NProbs = max(req.NProbs, top, 1)
	}
	resp := chatResponse{ID: newID("chatcmpl-"), Object: "chat.completion", Created: time.Now().Unix(),
		Model: s.modelName(cr.Model), SystemFingerprint: fingerprint}
	ctx := r.Context()
	if !cr.Stream {
		var infos []engine.TokenInfo
		res, err := s.backend().Generate(ctx, req, collectTokens(&infos))
		noteResult(ctx, res)
		if err != nil {
			return err
		}
		msg := chatDelta{Role: "assistant"}
		text := res.Text
		if s.splitsReasoning() {
			var reasoning string
			reasoning, text = chat.SplitReasoning(prompt, res.Text)
			if reasoning != "" {
				msg.ReasoningContent = &reasoning
			}
		}
		finish := res.FinishReason
		if parseTools {
			content, calls := chat.ParseToolCallsFor(s.backend().ToolChatTemplate(), text)
			text = content // without calls the reply, less any format's markers
			if len(calls) > 0 {
				msg.ToolCalls, finish = toolCallsOf(calls, false), "tool_calls"
			}
		}
		msg.Content = &text
		c := chatChoice{Message: &msg, FinishReason: &finish}
		if cr.Logprobs {
			c.Logprobs = &chatLogprobs{Content: chatLogprobsOf(infos, top)}
		}
		u, t := usageOf(res), timingsOf(res)
		resp.Choices, resp.Usage, resp.Timings = []chatChoice{c}, &u, &t
		return writeJSON(w, http.StatusOK, resp)
	}

	resp.Object = "chat.completion.chunk"
	es := newEventStream(w)
	chunk := func(d chatDelta, lp []engine.TokenInfo, finish *string) error {
		c := chatChoice{Delta: &d, FinishReason: finish}
		if cr.Logprobs && len(lp) > 0 {
			c.Logprobs = &chatLogprobs{Content: chatLogprobsOf(lp, top)}
		}
		out := resp
		out.Choices = []chatChoice{c}
		return es.send(out)
	}
	opened := false
	open := func() error {
		if opened {
			return nil
		}
		opened = true
		empty := ""
		return chunk(chatDelta{Role: "assistant", Content: &empty}, nil, nil)
	}
	var split *chat.ReasoningSplitter
	if s.splitsReasoning() {
		split = chat.NewReasoningSplitter(prompt)
	}
	var tools *chat.ToolCallStream // with tools: the answer's calls, parsed at the end
	if parseTools {
		tools = chat.NewToolCallStream(s.backend().ToolChatTemplate())
	}
	// withheld passes on the content that cannot be part of a call.
	withheld := func(d chatDelta) chatDelta {
		if tools != nil && d.Content != nil {
			if t := tools.Add(*d.Content); t != "" {
				d.Content = &t
			} else {
				d.Content = nil
			}
		}
		return d
	}
	res, err := s.backend().Generate(ctx, req, func(c engine.Chunk) error {
		if err := open(); err != nil {
			return err
		}
		d := reasoningDelta("", c.Text)
		if split != nil {
			d = reasoningDelta(split.Add(c.Text))
		}
		d = withheld(d)
		if d.Content == nil && d.ReasoningContent == nil && !cr.Logprobs {
			return nil
		}
		return chunk(d, c.Tokens, nil)
	})
	noteResult(ctx, res)
	finish, err := s.streamEnd(es, res, err)
	if err != nil {
		return err
	}
	if err := open(); err != nil {
		return err
	}
	if split != nil {
		d := withheld(reasoningDelta(split.Flush()))
		if d.Content != nil || d.ReasoningContent != nil {
			if err := chunk(d, nil, nil); err != nil {
				return err
			}
		}
	}
	if content, calls := finishTools(tools); content != "" || len(calls) > 0 {
		d := reasoningDelta("", content)
		if len(calls) > 0 {
			d.ToolCalls, finish = toolCallsOf(calls, true), "tool_calls"
		}
		if err := chunk(d, nil, nil); err != nil {
			return err
		}
	}
	if err := chunk(chatDelta{}, nil, &finish); err != nil {
		return err
	}
	if cr.StreamOptions != nil && cr.StreamOptions.IncludeUsage {
		out := resp
		u, t := usageOf(res), timingsOf(res)
		out.Choices, out.Usage, out.Timings = []chatChoice{}, &u, &t
		if err := es.send(out); err != nil {
			return err
		}
	}
	return es.done()
}

// streamEnd decides how a stream ends after its generation returned err:
// the finish reason of a final chunk, or an error to give up with.
// When the server is shutting down, the stream still gets its final
// chunk; when the client went away, nothing more is written.
func (s *Server) streamEnd(es *eventStream, res *engine.Result, err error) (string, error) {
	switch {
	case err == nil:
		return res.FinishReason, nil
	case s.base.Err() != nil && es.started:
		return engine.FinishStop, nil
	case es.started && !errors.Is(err, context.Canceled):
		_ = es.sendError(s.toAPIError(err))
		return "", err
	}
	return "", err
}

// collectTokens is an emit function gathering the tokens' information,
// for responses that are not streamed.
func collectTokens(infos *[]engine.TokenInfo) func(engine.Chunk) error {
	return func(c engine.Chunk) error {
		*infos = append(*infos, c.Tokens...)
		return nil
	}
}

// noTools rejects tools where an endpoint does not take them yet,
// unless tool_choice is "none".
func noTools(tools, choice json.RawMessage) error {
	if err := checkKind("tool_choice", choice, "string", "object"); err != nil {
		return err
	}
	if !chat.OffersTools(tools) {
		return nil
	}
	var c string
	if json.Unmarshal(choice, &c) == nil && c == "none" {
		return nil
	}
	return badField("tools", "tool calling is not supported on this endpoint yet (send tool_choice \"none\" or no tools)")
}

// finishTools is what a tool-call stream (nil: none) held.
func finishTools(ts *chat.ToolCallStream) (string, []chat.ToolCall) {
	if ts == nil {
		return "", nil
	}
	return ts.Finish()
}

// toolChoice reads tool_choice: "" when the reply is not parsed for tool
// calls (no tools, or "none"), else "auto" (the default with tools),
// "required", or the name of the function to call.
func toolChoice(tools, choice json.RawMessage) (string, error) {
	// Checked even without tools, so that a malformed choice is not
	// silently ignored.
	c, err := parseToolChoice(choice)
	if err != nil || !chat.OffersTools(tools) || c == "none" {
		return "", err
	}
	return c, nil
}

// parseToolChoice reads tool_choice: "auto" when absent, "auto", "none",
// "required" or the name of the function of {"type": "function",
// "function": {"name": ...}}.
func parseToolChoice(choice json.RawMessage) (string, error) {
	if absent(choice) {
		return "auto", nil
	}
	var c string
	if json.Unmarshal(choice, &c) != nil {
		var named struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if json.Unmarshal(choice, &named) != nil || named.Type != "function" || named.Function.Name == "" {
			return "", badField("tool_choice", "expected \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}")
		}
		return named.Function.Name, nil
	}
	switch c {
	case "auto", "required", "none":
		return c, nil
	}
	return "", badField("tool_choice", "%q: expected auto, none or required", c)
}

// toolGrammar constrains req to the tool calls of the model's format:
// from the start for tool_choice required or a named function, from the
// format's call marker on for auto.
func (s *Server) toolGrammar(req *engine.Request, cr *chatRequest, choice string) error {
	parallel := cr.ParallelToolCalls == nil || *cr.ParallelToolCalls
	tg, err := chat.ToolCallGrammar(s.backend().ToolChatTemplate(), cr.Tools, choice, parallel)
	if err != nil {
		return badField("tools", "%v", err)
	}
	if tg == nil {
		return nil
	}
	if req.Grammar != nil {
		if choice == "auto" {
			return nil // the response format constrains the reply; calls are parsed
		}
		return badField("tool_choice", "%q cannot be combined with a response_format or grammar", choice)
	}
	g, err := s.backend().ParseGrammar(tg.GBNF)
	if err != nil {
		return badField("tools", "the grammar of their calls: %v", err)
	}
	req.Grammar, req.GrammarTriggers = g, tg.Triggers
	return nil
}

// templateMessages is the conversation as the chat template sees it
// with tools: role, content (text), tool_calls (their arguments as
// objects, as templates write them with tojson), tool_call_id, name.
func templateMessages(msgs []chatMessage, flat []chat.Message) (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, m := range msgs {
		if i > 0 {
			b.WriteByte(',')
		}
		role, _ := json.Marshal(flat[i].Role)
		content, _ := json.Marshal(flat[i].Content)
		fmt.Fprintf(&b, `{"role":%s,"content":%s`, role, content)
		if !absent(m.ToolCalls) {
			var calls []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string          `json:"name"`
					Arguments json.RawMessage `json:"arguments"`
				} `json:"function"`
			}
			if err := json.Unmarshal(m.ToolCalls, &calls); err != nil {
				return nil, badField(fmt.Sprintf("messages[%d].tool_calls", i), "expected a list of tool calls with a function's name and arguments")
			}
			b.WriteString(`,"tool_calls":[`)
			for k, c := range calls {
				if k > 0 {
					b.WriteByte(',')
				}
				args := c.Function.Arguments
				var text string
				if json.Unmarshal(args, &text) == nil && json.Valid([]byte(text)) {
					args = json.RawMessage(text) // templates write the object
				}
				if len(args) == 0 {
					args = json.RawMessage("{}")
				}
				id, _ := json.Marshal(c.ID)
				typ, _ := json.Marshal(cmp.Or(c.Type, "function"))
				name, _ := json.Marshal(c.Function.Name)
				fmt.Fprintf(&b, `{"id":%s,"type":%s,"function":{"name":%s,"arguments":%s}}`, id, typ, name, args)
			}
			b.WriteByte(']')
		}
		if m.ToolCallID != "" {
			id, _ := json.Marshal(m.ToolCallID)
			fmt.Fprintf(&b, `,"tool_call_id":%s`, id)
		}
		if m.Name != "" {
			name, _ := json.Marshal(m.Name)
			fmt.Fprintf(&b, `,"name":%s`, name)
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// chatToolCall is OpenAI's tool call in a message or a delta.
type chatToolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

func toolCallsOf(calls []chat.ToolCall, stream bool) []chatToolCall {
	out := make([]chatToolCall, len(calls))
	for i, c := range calls {
		out[i] = chatToolCall{ID: newID("call_"), Type: "function"}
		out[i].Function.Name, out[i].Function.Arguments = c.Name, c.Arguments
		if stream {
			out[i].Index = &i
		}
	}
	return out
}

// splitsReasoning reports whether chat replies have their thinking
// (<think>...</think>) apart, in reasoning_content.
func (s *Server) splitsReasoning() bool { return s.cfg.ReasoningFormat != "none" }

func (s *Server) modelName(asked string) string {
	if n := s.backend().ModelName(); n != "" {
		return n
	}
	return asked
}

// Legacy completions.

type completionsRequest struct {
	genParams
	Prompt   json.RawMessage `json:"prompt"`
	Echo     bool            `json:"echo"`
	Logprobs *int            `json:"logprobs"`
	Suffix   string          `json:"suffix"`
}

type legacyLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

type completionChoice struct {
	Text         string          `json:"text"`
	Index        int             `json:"index"`
	Logprobs     *legacyLogprobs `json:"logprobs"`
	FinishReason *string         `json:"finish_reason"`
}

type completionsResponse struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint"`
	Choices           []completionChoice `json:"choices"`
	Usage             *usage             `json:"usage,omitempty"`
	Timings           *timings           `json:"timings,omitempty"`
}

func legacyLogprobsOf(toks []engine.TokenInfo, offset int) *legacyLogprobs {
	lp := &legacyLogprobs{Tokens: []string{}, TokenLogprobs: []float64{}, TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	for _, t := range toks {
		lp.Tokens = append(lp.Tokens, t.Text)
		lp.TokenLogprobs = append(lp.TokenLogprobs, finiteLogprob(t.Logprob))
		top := map[string]float64{}
		for _, c := range t.Top {
			top[c.Text] = finiteLogprob(c.Logprob)
		}
		lp.TopLogprobs = append(lp.TopLogprobs, top)
		lp.TextOffset = append(lp.TextOffset, offset)
		offset += len(t.Text)
	}
	return lp
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) error {
	var cr completionsRequest
	if err := s.readRequest(r, &cr); err != nil {
		return err
	}
	if cr.Suffix != "" {
		return badField("suffix", "fill-in-the-middle is not supported by this server")
	}
	reqs, err := s.completionRequests(r.Context(), &cr.genParams, cr.Prompt)
	if err != nil {
		return err
	}
	for i := range reqs {
		if cr.Logprobs != nil {
			if *cr.Logprobs < 0 || *cr.Logprobs > 5 {
				return badField("logprobs", "%d: must be between 0 and 5", *cr.Logprobs)
			}
			reqs[i].NProbs = max(reqs[i].NProbs, *cr.Logprobs, 1)
		}
	}
	resp := completionsResponse{ID: newID("cmpl-"), Object: "text_completion", Created: time.Now().Unix(),
		Model: s.modelName(cr.Model), SystemFingerprint: fingerprint}
	echo := func(req *engine.Request) string {
		if cr.Echo {
			return s.promptText(req)
		}
		return ""
	}
	top := 0
	if cr.Logprobs != nil {
		top = *cr.Logprobs
	}
	trimTop := func(toks []engine.TokenInfo) []engine.TokenInfo {
		out := make([]engine.TokenInfo, len(toks))
		for i, t := range toks {
			out[i] = t
			out[i].Top = t.Top[:min(top, len(t.Top))]
		}
		return out
	}
	ctx := r.Context()
	var results []*engine.Result
	if !cr.Stream {
		for i, req := range reqs {
			var infos []engine.TokenInfo
			res, err := s.backend().Generate(ctx, req, collectTokens(&infos))
			noteResult(ctx, res)
			if err != nil {
				return err
			}
			results = append(results, res)
			prefix := echo(req)
			c := completionChoice{Text: prefix + res.Text, Index: i, FinishReason: &res.FinishReason}
			if cr.Logprobs != nil {
				c.Logprobs = legacyLogprobsOf(trimTop(infos), len(prefix))
			}
			resp.Choices = append(resp.Choices, c)
		}
		u := usageOf(results...)
		resp.Usage = &u
		if len(results) == 1 {
			t := timingsOf(results[0])
			resp.Timings = &t
		}
		return writeJSON(w, http.StatusOK, resp)
	}
	es := newEventStream(w)
	send := func(c completionChoice) error {
		out := resp
		out.Choices = []completionChoice{c}
		return es.send(out)
	}
	for i, req := range reqs {
		offset := 0
		if p := echo(req); p != "" {
			if err := send(completionChoice{Text: p, Index: i}); err != nil {
				return err
			}
			offset = len(p)
		}
		res, err := s.backend().Generate(ctx, req, func(c engine.Chunk) error {
			ch := completionChoice{Text: c.Text, Index: i}
			if cr.Logprobs != nil {
				ch.Logprobs = legacyLogprobsOf(trimTop(c.Tokens), offset)
			}
			offset += len(c.Text)
			return send(ch)
		})
		noteResult(ctx, res)
		finish, err := s.streamEnd(es, res, err)
		if err != nil {
			return err
		}
		results = append(results, res)
		if err := send(completionChoice{Index: i, FinishReason: &finish}); err != nil {
			return err
		}
	}
	if cr.StreamOptions != nil && cr.StreamOptions.IncludeUsage {
		out := resp
		u := usageOf(results...)
		out.Choices, out.Usage = []completionChoice{}, &u
		if err := es.send(out); err != nil {
			return err
		}
	}
	return es.done()
}

// Embeddings.

type embeddingsRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	Content        json.RawMessage `json:"content"` // llama.cpp's /embedding
	EncodingFormat string          `json:"encoding_format"`
}

// errPoolingNone is llama-server's answer to an OpenAI embeddings request
// when the tokens are not pooled: OpenAI's shape holds one vector per
// input.
var errPoolingNone = badRequest("Pooling type 'none' is not OAI compatible. Please use a different pooling type (--pooling mean, cls or last), or ask /embedding for every token's vector")

// embedAll embeds every input of the request, on as many slots as are
// free; lens are the inputs' token counts.
func (s *Server) embedAll(r *http.Request, er *embeddingsRequest) (vecs [][]float32, lens []int, err error) {
	field, raw := "input", er.Input
	if absent(raw) {
		field, raw = "content", er.Content
	}
	if absent(raw) {
		return nil, nil, badField("input", "missing")
	}
	inputs, err := s.promptList(field, raw, true)
	if err != nil {
		return nil, nil, err
	}
	lens = make([]int, len(inputs))
	for i, toks := range inputs {
		if len(toks) == 0 {
			return nil, nil, badField(fmt.Sprintf("%s[%d]", field, i), "empty input")
		}
		lens[i] = len(toks)
	}
	vecs, err = s.backend().EmbedBatch(r.Context(), inputs)
	if err != nil {
		var ie *engine.InputError
		if errors.As(err, &ie) {
			// Name the input at fault.
			return nil, nil, badField(fmt.Sprintf("%s[%d]", field, ie.Index), "%v", ie.Err)
		}
		return nil, nil, err
	}
	return vecs, lens, nil
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) error {
	var er embeddingsRequest
	if err := s.readRequest(r, &er); err != nil {
		return err
	}
	switch er.EncodingFormat {
	case "", "float", "base64":
	default:
		return badField("encoding_format", "%q: expected \"float\" or \"base64\"", er.EncodingFormat)
	}
	if s.backend().Pooling() == "none" {
		return errPoolingNone
	}
	vecs, lens, err := s.embedAll(r, &er)
	if err != nil {
		return err
	}
	n := 0
	for _, l := range lens {
		n += l
	}
	type item struct {
		Object    string `json:"object"`
		Index     int    `json:"index"`
		Embedding any    `json:"embedding"`
	}
	data := make([]item, len(vecs))
	for i, v := range vecs {
		data[i] = item{Object: "embedding", Index: i, Embedding: v}
		if er.EncodingFormat == "base64" {
			b := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(f))
			}
			data[i].Embedding = base64.StdEncoding.EncodeToString(b)
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data":   data,
		"model":  s.modelName(er.Model),
		"usage":  map[string]int{"prompt_tokens": n, "total_tokens": n},
	})
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) error {
	type model struct {
		ID      string         `json:"id"`
		Object  string         `json:"object"`
		Created int64          `json:"created"`
		OwnedBy string         `json:"owned_by"`
		Meta    map[string]any `json:"meta,omitempty"`
	}
	var data []model
	if s.backend() != nil {
		data = append(data, model{ID: s.backend().ModelName(), Object: "model", Created: s.start.Unix(), OwnedBy: "llamafile",
			Meta: map[string]any{"n_ctx_train": s.backend().TrainContextSize(), "n_vocab": s.backend().VocabSize(), "n_ctx": s.backend().ContextSize()}})
	} else {
		return errLoading
	}
	return writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}
