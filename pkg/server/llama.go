package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/version"
)

// llama.cpp's own endpoints, in llama-server's shapes.

type completionRequest struct {
	genParams
	Prompt json.RawMessage `json:"prompt"`
}

type tokenProb struct {
	ID          int32       `json:"id"`
	Token       string      `json:"token"`
	Bytes       []int       `json:"bytes"`
	Logprob     float64     `json:"logprob"`
	TopLogprobs []tokenProb `json:"top_logprobs,omitempty"`
}

func tokenProbsOf(toks []engine.TokenInfo) []tokenProb {
	out := make([]tokenProb, 0, len(toks))
	for _, t := range toks {
		p := tokenProb{ID: t.ID, Token: t.Text, Bytes: textBytes(t.Text), Logprob: finiteLogprob(t.Logprob), TopLogprobs: []tokenProb{}}
		for _, c := range t.Top {
			p.TopLogprobs = append(p.TopLogprobs, tokenProb{ID: c.ID, Token: c.Text, Bytes: textBytes(c.Text), Logprob: finiteLogprob(c.Logprob)})
		}
		out = append(out, p)
	}
	return out
}

// completionResult is /completion's response, and its stream's chunks
// (Stop false, most fields empty).
type completionResult struct {
	Index              int            `json:"index"`
	Content            string         `json:"content"`
	Tokens             []int32        `json:"tokens"`
	IDSlot             int            `json:"id_slot"`
	Stop               bool           `json:"stop"`
	Model              string         `json:"model,omitempty"`
	TokensPredicted    int            `json:"tokens_predicted,omitempty"`
	TokensEvaluated    int            `json:"tokens_evaluated,omitempty"`
	GenerationSettings map[string]any `json:"generation_settings,omitempty"`
	Prompt             string         `json:"prompt,omitempty"`
	HasNewLine         bool           `json:"has_new_line,omitempty"`
	Truncated          bool           `json:"truncated,omitempty"`
	StopType           string         `json:"stop_type,omitempty"`
	StoppingWord       string         `json:"stopping_word,omitempty"`
	TokensCached       int            `json:"tokens_cached,omitempty"`
	Timings            *timings       `json:"timings,omitempty"`
	Probs              []tokenProb    `json:"completion_probabilities,omitempty"`
}

// settings is a request's generation settings as llama-server reports them.
func settings(req *engine.Request, nCtx int) map[string]any {
	p := req.Sampling
	return map[string]any{
		"n_ctx": nCtx, "n_predict": req.MaxTokens, "seed": p.Seed, "temperature": p.Temp,
		"dynatemp_range": p.DynatempRange, "dynatemp_exponent": p.DynatempExponent,
		"top_k": p.TopK, "top_p": p.TopP, "min_p": p.MinP, "typical_p": p.TypicalP, "top_n_sigma": p.TopNSigma,
		"xtc_probability": p.XTCProbability, "xtc_threshold": p.XTCThreshold, "min_keep": p.MinKeep,
		"repeat_last_n": p.RepeatLastN, "repeat_penalty": p.RepeatPenalty,
		"presence_penalty": p.PresencePenalty, "frequency_penalty": p.FrequencyPenalty,
		"mirostat": p.Mirostat, "mirostat_tau": p.MirostatTau, "mirostat_eta": p.MirostatEta,
		"stop": nonNil(req.Stop), "n_keep": req.Keep, "n_probs": req.NProbs, "ignore_eos": req.IgnoreEOS,
		"cache_prompt": req.CachePrompt, "id_slot": req.Slot,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func stopType(res *engine.Result) string {
	switch {
	case res.StoppedEOS:
		return "eos"
	case res.StopWord != "":
		return "word"
	case res.FinishReason == engine.FinishLength:
		return "limit"
	}
	return "none"
}

func (s *Server) finalResult(i int, req *engine.Request, res *engine.Result, probs []engine.TokenInfo) completionResult {
	t := timingsOf(res)
	out := completionResult{
		Index: i, Content: res.Text, Tokens: []int32{}, IDSlot: res.Slot, Stop: true, Model: s.backend().ModelName(),
		TokensPredicted: res.GeneratedTokens, TokensEvaluated: res.PromptTokens,
		GenerationSettings: settings(req, s.backend().ContextSize()), Prompt: s.promptText(req),
		Truncated: res.Truncated, StopType: stopType(res), StoppingWord: res.StopWord,
		TokensCached: res.CachedTokens, Timings: &t,
	}
	for _, c := range res.Text {
		if c == '\n' {
			out.HasNewLine = true
			break
		}
	}
	if req.NProbs > 0 {
		out.Probs = tokenProbsOf(probs)
	}
	return out
}

func (s *Server) completion(w http.ResponseWriter, r *http.Request) error {
	var cr completionRequest
	if err := s.readRequest(r, &cr); err != nil {
		return err
	}
	ctx := r.Context()
	reqs, err := s.completionRequests(ctx, &cr.genParams, cr.Prompt)
	if err != nil {
		return err
	}
	if !cr.Stream {
		var out []completionResult
		for i, req := range reqs {
			var infos []engine.TokenInfo
			res, err := s.backend().Generate(ctx, req, collectTokens(&infos))
			noteResult(ctx, res)
			if err != nil {
				return err
			}
			out = append(out, s.finalResult(i, req, res, infos))
		}
		if len(out) == 1 {
			return writeJSON(w, http.StatusOK, out[0])
		}
		return writeJSON(w, http.StatusOK, out)
	}
	es := newEventStream(w)
	for i, req := range reqs {
		res, err := s.backend().Generate(ctx, req, func(c engine.Chunk) error {
			ch := completionResult{Index: i, Content: c.Text, Tokens: make([]int32, len(c.Tokens)), IDSlot: -1}
			for k, t := range c.Tokens {
				ch.Tokens[k] = t.ID
			}
			if req.NProbs > 0 {
				ch.Probs = tokenProbsOf(c.Tokens)
			}
			return es.send(ch)
		})
		noteResult(ctx, res)
		if _, err := s.streamEnd(es, res, err); err != nil {
			return err
		}
		final := s.finalResult(i, req, res, nil)
		final.Content = "" // already streamed
		if err := es.send(final); err != nil {
			return err
		}
	}
	return nil
}

type tokenizeRequest struct {
	Content      *string `json:"content"`
	AddSpecial   bool    `json:"add_special"`
	ParseSpecial *bool   `json:"parse_special"`
	WithPieces   bool    `json:"with_pieces"`
}

type detokenizeRequest struct {
	Tokens []int64 `json:"tokens"`
}

type applyTemplateRequest struct {
	Messages []chatMessage `json:"messages"`
}

func (s *Server) tokenize(w http.ResponseWriter, r *http.Request) error {
	if s.backend() == nil {
		return errLoading
	}
	var tr tokenizeRequest
	if err := decodeBody(r, &tr); err != nil {
		return err
	}
	if tr.Content == nil {
		return badField("content", "missing")
	}
	parse := tr.ParseSpecial == nil || *tr.ParseSpecial
	toks := s.backend().Tokenize(*tr.Content, tr.AddSpecial, parse)
	if !tr.WithPieces {
		return writeJSON(w, http.StatusOK, map[string]any{"tokens": nonNilTokens(toks)})
	}
	type piece struct {
		ID    int32 `json:"id"`
		Piece any   `json:"piece"` // the text, or its bytes when it is not valid UTF-8
	}
	out := make([]piece, len(toks))
	for i, t := range toks {
		p := s.backend().Piece(t)
		out[i] = piece{ID: t, Piece: p}
		if !utf8.ValidString(p) {
			out[i].Piece = textBytes(p)
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

func nonNilTokens(t []int32) []int32 {
	if t == nil {
		return []int32{}
	}
	return t
}

func (s *Server) detokenize(w http.ResponseWriter, r *http.Request) error {
	if s.backend() == nil {
		return errLoading
	}
	var dr detokenizeRequest
	if err := decodeBody(r, &dr); err != nil {
		return err
	}
	ids := make([]int32, len(dr.Tokens))
	for i, t := range dr.Tokens {
		if t < 0 || t >= int64(s.backend().VocabSize()) {
			return badField("tokens", "token %d at index %d is out of the vocabulary (%d tokens)", t, i, s.backend().VocabSize())
		}
		ids[i] = int32(t)
	}
	return writeJSON(w, http.StatusOK, map[string]string{"content": s.backend().Detokenize(ids)})
}

func (s *Server) embedding(w http.ResponseWriter, r *http.Request) error {
	var er embeddingsRequest
	if err := s.readRequest(r, &er); err != nil {
		return err
	}
	vecs, lens, err := s.embedAll(r, &er)
	if err != nil {
		return err
	}
	type item struct {
		Index     int         `json:"index"`
		Embedding [][]float32 `json:"embedding"`
	}
	none := s.backend().Pooling() == "none"
	out := make([]item, len(vecs))
	for i, v := range vecs {
		out[i] = item{Index: i, Embedding: [][]float32{v}}
		if none {
			// Every token's vector, as llama-server's send_embedding.
			d := len(v) / lens[i]
			rows := make([][]float32, lens[i])
			for k := range rows {
				rows[k] = v[k*d : (k+1)*d : (k+1)*d]
			}
			out[i].Embedding = rows
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) applyTemplate(w http.ResponseWriter, r *http.Request) error {
	if s.backend() == nil {
		return errLoading
	}
	var ar applyTemplateRequest
	if err := decodeBody(r, &ar); err != nil {
		return err
	}
	// As llama-server: image_url parts render as the media marker (the
	// image is not decoded; a data: URL must still be base64), and are
	// a 400 for a model without a projector.
	msgs, imgs, err := chatMessagesImages(ar.Messages)
	if err != nil {
		return err
	}
	if len(imgs) > 0 && !s.hasVision() {
		return errNoProjector(imgs[0])
	}
	prompt, err := s.backend().ApplyTemplate(msgs, true)
	if err != nil {
		return badField("messages", "the chat template cannot render them: %v", err)
	}
	return writeJSON(w, http.StatusOK, map[string]string{"prompt": prompt})
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	if s.backend() == nil {
		return errLoading
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) props(w http.ResponseWriter, r *http.Request) error {
	if s.backend() == nil {
		return errLoading
	}
	def := &engine.Request{MaxTokens: s.cfg.DefaultMaxTokens, Sampling: s.cfg.Defaults, CachePrompt: s.cfg.CachePrompt, Slot: -1}
	props := map[string]any{
		"default_generation_settings": map[string]any{"n_ctx": s.backend().ContextSize(), "params": settings(def, s.backend().ContextSize())},
		"total_slots":                 s.backend().Slots(),
		"model_alias":                 s.backend().ModelName(),
		"model_path":                  s.backend().ModelName(),
		"chat_template":               s.backend().ChatTemplate(),
		"modalities":                  map[string]bool{"vision": s.hasVision(), "audio": false},
		"build_info":                  "llamafile-go " + version.Version,
		"endpoint_slots":              s.cfg.SlotsEndpoint,
		"endpoint_metrics":            s.cfg.Metrics,
	}
	// As llama-server: present only for a model with a tool_use template.
	if tool := s.backend().ToolChatTemplate(); tool != s.backend().ChatTemplate() {
		props["chat_template_tool_use"] = tool
	}
	return writeJSON(w, http.StatusOK, props)
}

func (s *Server) slots(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.SlotsEndpoint {
		return &apiError{Status: http.StatusNotImplemented, Type: "not_supported_error",
			Message: "this server does not serve /slots: start it with --slots"}
	}
	if s.backend() == nil {
		return errLoading
	}
	type slot struct {
		ID           int    `json:"id"`
		NCtx         int    `json:"n_ctx"`
		IsProcessing bool   `json:"is_processing"`
		CachedTokens int    `json:"n_cached_tokens"`
		Prompt       string `json:"prompt"`
	}
	var out []slot
	for _, si := range s.backend().SlotsInfo() {
		out = append(out, slot{ID: si.ID, NCtx: si.NCtx, IsProcessing: si.Busy, CachedTokens: si.CachedTokens, Prompt: si.Prompt})
	}
	if out == nil {
		return fmt.Errorf("server: the backend reports no slots")
	}
	return writeJSON(w, http.StatusOK, out)
}
