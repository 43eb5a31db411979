package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"net/http/httptest"

	"github.com/openai/openai-go/v3"

	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// scripted is the engine answering every request with fixed chunks, for
// a reasoning model's output that stories260k does not write.
type scripted struct {
	*Engine
	chunks []string
}

func (b scripted) Generate(ctx context.Context, req *engine.Request, emit func(engine.Chunk) error) (*engine.Result, error) {
	res := &engine.Result{FinishReason: engine.FinishStop, StoppedEOS: true, PromptTokens: len(req.Prompt), Slot: 0}
	for _, c := range b.chunks {
		res.Text += c
		res.GeneratedTokens++
		if emit != nil {
			if err := emit(engine.Chunk{Text: c, Tokens: []engine.TokenInfo{{TokenProb: engine.TokenProb{Text: c}}}}); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

func TestReasoningContent(t *testing.T) {
	_, en := testServer(t, Config{}, engine.ServeOptions{})
	reply := []string{"<thi", "nk>\nThe user wants", " the capital.</th", "ink>\n\n", "Paris", "."}
	base := serveBackend(t, scripted{Engine: en, chunks: reply})
	c := sdk(base)
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{Model: "m", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Capital of France?")}}

	r, err := c.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Choices []struct {
			Message struct {
				Content          string `json:"content"`
				ReasoningContent string `json:"reasoning_content"`
			}
		}
	}
	if err := json.Unmarshal([]byte(r.RawJSON()), &raw); err != nil {
		t.Fatal(err)
	}
	if m := raw.Choices[0].Message; m.Content != "Paris." || m.ReasoningContent != "The user wants the capital." {
		t.Errorf("message %+v", m)
	}

	st := c.Chat.Completions.NewStreaming(ctx, params)
	var content, reasoning strings.Builder
	for st.Next() {
		ch := st.Current()
		if len(ch.Choices) == 0 {
			continue
		}
		content.WriteString(ch.Choices[0].Delta.Content)
		var d struct {
			ReasoningContent string `json:"reasoning_content"`
		}
		if f, ok := ch.Choices[0].Delta.JSON.ExtraFields["reasoning_content"]; ok {
			_ = json.Unmarshal([]byte(f.Raw()), &d.ReasoningContent)
		}
		reasoning.WriteString(d.ReasoningContent)
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if content.String() != "Paris." || strings.TrimSpace(reasoning.String()) != "The user wants the capital." {
		t.Errorf("streamed content %q, reasoning %q", content.String(), reasoning.String())
	}

	// --reasoning-format none: the thinking stays in the content.
	srv, err := New(Config{ReasoningFormat: "none", Defaults: sample.DefaultParams(), DefaultMaxTokens: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetBackend(scripted{Engine: en, chunks: reply})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	c = sdk(ts.URL)
	if r, err := c.Chat.Completions.New(ctx, params); err != nil || r.Choices[0].Message.Content != strings.Join(reply, "") {
		t.Errorf("with none: %v %q", err, r.Choices[0].Message.Content)
	}
	if _, err := New(Config{ReasoningFormat: "r1"}); err == nil {
		t.Error("reasoning format r1 accepted")
	}
}
