package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
)

// OpenAI's Responses API (POST /v1/responses), which newer SDKs and
// agents speak, as llama-server offers it: stateless (no stored
// responses), text in and out.

type responsesRequest struct {
	Model              string          `json:"model"`
	Input              json.RawMessage `json:"input"`
	Instructions       string          `json:"instructions"`
	MaxOutputTokens    *int            `json:"max_output_tokens"`
	Temperature        *float32        `json:"temperature"`
	TopP               *float32        `json:"top_p"`
	Stream             bool            `json:"stream"`
	PreviousResponseID string          `json:"previous_response_id"`
	Tools              json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage `json:"tool_choice"`
	Text               *struct {
		Format json.RawMessage `json:"format"`
	} `json:"text"`
}

// responsesMessages turns instructions and input into chat messages.
func responsesMessages(rr *responsesRequest) ([]chat.Message, error) {
	if rr.PreviousResponseID != "" {
		return nil, badField("previous_response_id", "this server stores no responses: send the whole conversation in \"input\"")
	}
	if err := noTools(rr.Tools, rr.ToolChoice); err != nil {
		return nil, err
	}
	var msgs []chat.Message
	if rr.Instructions != "" {
		msgs = append(msgs, chat.Message{Role: "system", Content: rr.Instructions})
	}
	if absent(rr.Input) {
		return nil, badField("input", "missing")
	}
	var text string
	if json.Unmarshal(rr.Input, &text) == nil {
		return append(msgs, chat.Message{Role: "user", Content: text}), nil
	}
	var items []struct {
		Type    string          `json:"type"`
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(rr.Input, &items); err != nil {
		return nil, badField("input", "expected a string or a list of input items")
	}
	for i, it := range items {
		field := fmt.Sprintf("input[%d]", i)
		if it.Type != "" && it.Type != "message" {
			return nil, badField(field+".type", "items of type %q are not supported by this server yet (only messages)", it.Type)
		}
		role := it.Role
		switch role {
		case "user", "assistant", "system":
		case "developer":
			role = "system"
		default:
			return nil, badField(field+".role", "%q: expected user, assistant, system or developer", it.Role)
		}
		t, err := textContent(field+".content", it.Content, "input_text", "output_text", "text")
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, chat.Message{Role: role, Content: t})
	}
	return msgs, nil
}

type responseText struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
}

type responseItem struct {
	Type    string         `json:"type"`
	ID      string         `json:"id"`
	Status  string         `json:"status"`
	Role    string         `json:"role"`
	Content []responseText `json:"content"`
}

type responseObject struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	CreatedAt         int64             `json:"created_at"`
	Status            string            `json:"status"`
	IncompleteDetails map[string]string `json:"incomplete_details"`
	Error             any               `json:"error"`
	Model             string            `json:"model"`
	Instructions      *string           `json:"instructions"`
	MaxOutputTokens   *int              `json:"max_output_tokens"`
	Temperature       *float32          `json:"temperature"`
	TopP              *float32          `json:"top_p"`
	Output            []responseItem    `json:"output"`
	ParallelToolCalls bool              `json:"parallel_tool_calls"`
	ToolChoice        string            `json:"tool_choice"`
	Tools             []any             `json:"tools"`
	Usage             *responseUsage    `json:"usage"`
}

type responseUsage struct {
	InputTokens        int `json:"input_tokens"`
	OutputTokens       int `json:"output_tokens"`
	TotalTokens        int `json:"total_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

// finishResponse fills in what a finished generation tells.
func finishResponse(o *responseObject, item *responseItem, res *engine.Result) {
	item.Status = "completed"
	item.Content = []responseText{{Type: "output_text", Text: res.Text, Annotations: []any{}}}
	o.Output = []responseItem{*item}
	o.Status = "completed"
	if res.FinishReason == engine.FinishLength {
		o.Status = "incomplete"
		o.IncompleteDetails = map[string]string{"reason": "max_output_tokens"}
	}
	u := &responseUsage{InputTokens: res.PromptTokens, OutputTokens: res.GeneratedTokens, TotalTokens: res.PromptTokens + res.GeneratedTokens}
	u.InputTokensDetails.CachedTokens = res.CachedTokens
	o.Usage = u
}

func (s *Server) responses(w http.ResponseWriter, r *http.Request) error {
	var rr responsesRequest
	if err := s.readRequest(r, &rr); err != nil {
		return err
	}
	msgs, err := responsesMessages(&rr)
	if err != nil {
		return err
	}
	prompt, err := s.backend().ApplyTemplate(msgs, true)
	if err != nil {
		return badField("input", "the chat template cannot render it: %v", err)
	}
	g := genParams{MaxTokens: rr.MaxOutputTokens, Temperature: rr.Temperature, TopP: rr.TopP}
	if rr.Text != nil {
		// Its format is response_format's, the schema inline.
		g.ResponseFormat, g.formatField = rr.Text.Format, "text.format"
	}
	if rr.MaxOutputTokens != nil && *rr.MaxOutputTokens < 1 {
		return badField("max_output_tokens", "%d: must be a positive number of tokens", *rr.MaxOutputTokens)
	}
	req, err := s.request(&g, s.backend().Tokenize(prompt, true, true))
	if err != nil {
		return err
	}
	o := responseObject{ID: newID("resp_"), Object: "response", CreatedAt: time.Now().Unix(), Status: "in_progress",
		Model: s.modelName(rr.Model), MaxOutputTokens: rr.MaxOutputTokens, Temperature: rr.Temperature, TopP: rr.TopP,
		Output: []responseItem{}, ToolChoice: "auto", Tools: []any{}}
	if rr.Instructions != "" {
		o.Instructions = &rr.Instructions
	}
	item := responseItem{Type: "message", ID: newID("msg_"), Status: "in_progress", Role: "assistant", Content: []responseText{}}
	ctx := r.Context()
	if !rr.Stream {
		res, err := s.backend().Generate(ctx, req, nil)
		noteResult(ctx, res)
		if err != nil {
			return err
		}
		finishResponse(&o, &item, res)
		return writeJSON(w, http.StatusOK, o)
	}

	es := newEventStream(w)
	seq := 0
	send := func(typ string, fields map[string]any) error {
		fields["type"] = typ
		fields["sequence_number"] = seq
		seq++
		return es.sendEvent(typ, fields)
	}
	part := func(text string) responseText {
		return responseText{Type: "output_text", Text: text, Annotations: []any{}}
	}
	where := func(m map[string]any) map[string]any {
		m["item_id"], m["output_index"], m["content_index"] = item.ID, 0, 0
		return m
	}
	opened := false
	open := func() error {
		if opened {
			return nil
		}
		opened = true
		for _, typ := range []string{"response.created", "response.in_progress"} {
			if err := send(typ, map[string]any{"response": o}); err != nil {
				return err
			}
		}
		if err := send("response.output_item.added", map[string]any{"output_index": 0, "item": item}); err != nil {
			return err
		}
		return send("response.content_part.added", where(map[string]any{"part": part("")}))
	}
	res, err := s.backend().Generate(ctx, req, func(c engine.Chunk) error {
		if err := open(); err != nil {
			return err
		}
		if c.Text == "" {
			return nil
		}
		return send("response.output_text.delta", where(map[string]any{"delta": c.Text}))
	})
	noteResult(ctx, res)
	if err != nil && es.started && s.base.Err() == nil && !errors.Is(err, context.Canceled) {
		// OpenAI's stream ends with an "error" event and response.failed.
		ae := s.toAPIError(err)
		_ = send("error", map[string]any{"code": ae.Type, "message": ae.Message, "param": nil})
		o.Status = "failed"
		o.Error = map[string]string{"code": "server_error", "message": ae.Message}
		_ = send("response.failed", map[string]any{"response": o})
		return err
	}
	finish, err := s.streamEnd(es, res, err)
	if err != nil {
		return err
	}
	if res == nil { // ended by the shutdown
		res = &engine.Result{FinishReason: finish}
	}
	if err := open(); err != nil {
		return err
	}
	finishResponse(&o, &item, res)
	if err := send("response.output_text.done", where(map[string]any{"text": res.Text})); err != nil {
		return err
	}
	if err := send("response.content_part.done", where(map[string]any{"part": part(res.Text)})); err != nil {
		return err
	}
	if err := send("response.output_item.done", map[string]any{"output_index": 0, "item": item}); err != nil {
		return err
	}
	final := "response.completed"
	if o.Status == "incomplete" {
		final = "response.incomplete"
	}
	return send(final, map[string]any{"response": o})
}
