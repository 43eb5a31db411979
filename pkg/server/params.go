package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/grammar"
	"github.com/llamafile-go/llamafile/pkg/jsonschema"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// genParams are the generation fields the completion endpoints share:
// OpenAI's and llama.cpp's extensions, as llama-server reads them. A nil
// pointer is a field the request left out.
type genParams struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`

	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	NPredict            *int `json:"n_predict"`
	N                   *int `json:"n"`

	Temperature      *float32 `json:"temperature"`
	DynatempRange    *float32 `json:"dynatemp_range"`
	DynatempExponent *float32 `json:"dynatemp_exponent"`
	TopK             *int     `json:"top_k"`
	TopP             *float32 `json:"top_p"`
	MinP             *float32 `json:"min_p"`
	TypicalP         *float32 `json:"typical_p"`
	TopNSigma        *float32 `json:"top_n_sigma"`
	XTCProbability   *float32 `json:"xtc_probability"`
	XTCThreshold     *float32 `json:"xtc_threshold"`
	MinKeep          *int     `json:"min_keep"`
	RepeatPenalty    *float32 `json:"repeat_penalty"`
	RepeatLastN      *int     `json:"repeat_last_n"`
	PresencePenalty  *float32 `json:"presence_penalty"`
	FrequencyPenalty *float32 `json:"frequency_penalty"`
	Mirostat         *int     `json:"mirostat"`
	MirostatTau      *float32 `json:"mirostat_tau"`
	MirostatEta      *float32 `json:"mirostat_eta"`
	Seed             *int64   `json:"seed"`

	Stop      json.RawMessage `json:"stop"`
	LogitBias json.RawMessage `json:"logit_bias"`
	IgnoreEOS bool            `json:"ignore_eos"`

	NProbs      *int  `json:"n_probs"`
	CachePrompt *bool `json:"cache_prompt"`
	IDSlot      *int  `json:"id_slot"`
	NKeep       *int  `json:"n_keep"`

	Grammar        string          `json:"grammar"`
	JSONSchema     json.RawMessage `json:"json_schema"`
	ResponseFormat json.RawMessage `json:"response_format"`
	User           string          `json:"user"`

	// formatField names ResponseFormat in messages: "response_format",
	// or the Responses API's "text.format".
	formatField string
	// made is the request that request made for the first prompt,
	// before its caller changed it: the others copy it.
	made *engine.Request
}

// maxPrompts bounds the prompts of one request (completions' prompt
// lists, embeddings' inputs, reranking's documents), as OpenAI bounds an
// embeddings request's inputs: each costs its result (an embedding
// vector, a completion) whatever its size in the body.
const maxPrompts = 2048

// checkPrompts refuses a list of n prompts longer than maxPrompts.
func checkPrompts(field string, n int) error {
	if n > maxPrompts {
		return badField(field, "%d elements: at most %d in one request", n, maxPrompts)
	}
	return nil
}

// request turns the fields into an engine request for prompt. maxField
// names the length field the endpoint documents, for messages. The fields
// are read for a body's first prompt only (its logit bias merged, its
// stop strings checked, its grammar compiled), the requests of the others
// copy that one's: a list of prompts would otherwise multiply them (500
// prompts and a 32 KiB grammar compiled it 500 times, 400 MB).
func (s *Server) request(g *genParams, prompt []int32) (*engine.Request, error) {
	if g.made != nil {
		req := *g.made
		req.Prompt = prompt
		return &req, nil
	}
	req, err := s.newRequest(g, prompt)
	if err != nil {
		return nil, err
	}
	made := *req
	g.made = &made
	return req, nil
}

func (s *Server) newRequest(g *genParams, prompt []int32) (*engine.Request, error) {
	req := &engine.Request{
		Prompt:      prompt,
		MaxTokens:   s.cfg.DefaultMaxTokens,
		Sampling:    s.cfg.Defaults,
		CachePrompt: s.cfg.CachePrompt,
		Slot:        -1,
		Keep:        0,
		IgnoreEOS:   g.IgnoreEOS,
	}
	if req.MaxTokens == 0 {
		req.MaxTokens = -1
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"n_predict", g.NPredict}, {"max_tokens", g.MaxTokens}, {"max_completion_tokens", g.MaxCompletionTokens}} {
		if f.v == nil {
			continue
		}
		switch n := *f.v; {
		case n >= 1 || n == -1:
			req.MaxTokens = n
		case n == -2 && f.name == "n_predict":
			req.MaxTokens = n
		default:
			return nil, badField(f.name, "%d: must be a positive number of tokens (or -1 for no limit)", n)
		}
	}
	if g.N != nil && *g.N != 1 {
		return nil, badField("n", "%d: only one choice per request is supported (n = 1)", *g.N)
	}
	p := &req.Sampling
	setF := func(dst *float32, v *float32) {
		if v != nil {
			*dst = *v
		}
	}
	setI := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setF(&p.Temp, g.Temperature)
	setF(&p.DynatempRange, g.DynatempRange)
	setF(&p.DynatempExponent, g.DynatempExponent)
	setI(&p.TopK, g.TopK)
	setF(&p.TopP, g.TopP)
	setF(&p.MinP, g.MinP)
	setF(&p.TypicalP, g.TypicalP)
	setF(&p.TopNSigma, g.TopNSigma)
	setF(&p.XTCProbability, g.XTCProbability)
	setF(&p.XTCThreshold, g.XTCThreshold)
	setI(&p.MinKeep, g.MinKeep)
	setF(&p.RepeatPenalty, g.RepeatPenalty)
	setI(&p.RepeatLastN, g.RepeatLastN)
	setF(&p.PresencePenalty, g.PresencePenalty)
	setF(&p.FrequencyPenalty, g.FrequencyPenalty)
	setI(&p.Mirostat, g.Mirostat)
	setF(&p.MirostatTau, g.MirostatTau)
	setF(&p.MirostatEta, g.MirostatEta)
	if g.Seed != nil {
		if *g.Seed < -1 || *g.Seed > math.MaxUint32 {
			return nil, badField("seed", "%d: must be -1 (random) or between 0 and %d", *g.Seed, uint32(math.MaxUint32))
		}
		p.Seed = uint32(*g.Seed) // -1 is sample.RandomSeed, as in llama.cpp
	}
	if err := checkSampling(p); err != nil {
		return nil, err
	}
	bias, err := s.logitBias(g.LogitBias)
	if err != nil {
		return nil, err
	}
	if len(bias) > 0 {
		merged := make(map[int32]float32, len(p.LogitBias)+len(bias))
		for k, v := range p.LogitBias {
			merged[k] = v
		}
		for k, v := range bias {
			merged[k] = v
		}
		p.LogitBias = merged
	}
	if req.Stop, err = stopStrings(g.Stop); err != nil {
		return nil, err
	}
	if g.NProbs != nil {
		if *g.NProbs < 0 {
			return nil, badField("n_probs", "%d: must not be negative", *g.NProbs)
		}
		req.NProbs = *g.NProbs
	}
	if g.CachePrompt != nil {
		req.CachePrompt = *g.CachePrompt
	}
	if g.IDSlot != nil {
		if *g.IDSlot < -1 || *g.IDSlot >= s.backend().Slots() {
			return nil, badField("id_slot", "%d: the server has slots 0 to %d (-1: any)", *g.IDSlot, s.backend().Slots()-1)
		}
		req.Slot = *g.IDSlot
	}
	if g.NKeep != nil {
		if *g.NKeep < -1 {
			return nil, badField("n_keep", "%d: must be -1 (the whole prompt) or a number of tokens", *g.NKeep)
		}
		req.Keep = *g.NKeep
	}
	gr, err := s.constraint(g)
	if err != nil {
		return nil, err
	}
	req.Grammar = gr
	return req, nil
}

// promptRequests is a request for each prompt of the "prompt" field.
func (s *Server) promptRequests(g *genParams, raw json.RawMessage) ([]*engine.Request, error) {
	prompts, err := s.promptList("prompt", raw, true)
	if err != nil {
		return nil, err
	}
	reqs := make([]*engine.Request, len(prompts))
	for i, p := range prompts {
		if reqs[i], err = s.request(g, p); err != nil {
			return nil, err
		}
	}
	return reqs, nil
}

// checkSampling checks the sampling fields, naming them as the API does.
func checkSampling(p *sample.Params) error {
	for _, f := range []struct {
		name string
		v    float32
	}{{"top_p", p.TopP}, {"min_p", p.MinP}, {"typical_p", p.TypicalP}, {"xtc_probability", p.XTCProbability}} {
		if !(f.v >= 0 && f.v <= 1) {
			return badField(f.name, "%v: must be between 0 and 1", f.v)
		}
	}
	if !(p.RepeatPenalty > 0) {
		return badField("repeat_penalty", "%v: must be greater than 0", p.RepeatPenalty)
	}
	if p.PresencePenalty < -2 || p.PresencePenalty > 2 {
		return badField("presence_penalty", "%v: must be between -2 and 2", p.PresencePenalty)
	}
	if p.FrequencyPenalty < -2 || p.FrequencyPenalty > 2 {
		return badField("frequency_penalty", "%v: must be between -2 and 2", p.FrequencyPenalty)
	}
	if p.MinKeep < 0 {
		return badField("min_keep", "%d: must not be negative", p.MinKeep)
	}
	if p.RepeatLastN < -1 {
		return badField("repeat_last_n", "%d: must be -1 (the context), 0 (off) or positive", p.RepeatLastN)
	}
	if p.Mirostat < 0 || p.Mirostat > 2 {
		return badField("mirostat", "%d: must be 0, 1 or 2", p.Mirostat)
	}
	return nil
}

// constraint reads the fields that constrain the output, as llama-server
// does: "grammar" (GBNF), "json_schema", or OpenAI's "response_format"
// (json_object, optionally with llama.cpp's "schema", or json_schema). It
// returns the grammar, nil when the output is free.
func (s *Server) constraint(g *genParams) (*grammar.Grammar, error) {
	field, src := "", ""
	schema := func(name string, raw json.RawMessage) error {
		text, err := jsonschema.ToGrammar(raw)
		if err != nil {
			return badField(name, "%v", err)
		}
		field, src = name, text
		return nil
	}
	if g.Grammar != "" {
		field, src = "grammar", g.Grammar
	}
	if !absent(g.JSONSchema) {
		if field != "" {
			return nil, badField("json_schema", "give either json_schema or grammar, not both")
		}
		if err := schema("json_schema", g.JSONSchema); err != nil {
			return nil, err
		}
	}
	if !absent(g.ResponseFormat) {
		var rf struct {
			Type       string          `json:"type"`
			Schema     json.RawMessage `json:"schema"`
			JSONSchema *struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"json_schema"`
		}
		rfName := g.formatField
		if rfName == "" {
			rfName = "response_format"
		}
		if err := json.Unmarshal(g.ResponseFormat, &rf); err != nil {
			return nil, badField(rfName, "expected an object with a \"type\"")
		}
		raw, name := json.RawMessage(nil), rfName
		switch rf.Type {
		case "", "text":
		case "json_object":
			// OpenAI's JSON mode is an object; llama.cpp's extension
			// lets a "schema" say which.
			raw = json.RawMessage(`{"type": "object"}`)
			if !absent(rf.Schema) {
				raw, name = rf.Schema, rfName+".schema"
			}
		case "json_schema":
			switch {
			case rf.JSONSchema != nil && !absent(rf.JSONSchema.Schema):
				raw, name = rf.JSONSchema.Schema, rfName+".json_schema.schema"
			case !absent(rf.Schema):
				raw, name = rf.Schema, rfName+".schema"
			default:
				return nil, badField(rfName, "type \"json_schema\" needs json_schema.schema")
			}
		default:
			return nil, badField(rfName, "unknown type %q (expected \"text\", \"json_object\" or \"json_schema\")", rf.Type)
		}
		if raw != nil {
			if field != "" {
				return nil, badField(rfName, "cannot be combined with %s", field)
			}
			if err := schema(name, raw); err != nil {
				return nil, err
			}
		}
	}
	if field == "" {
		return nil, nil
	}
	gr, err := s.backend().ParseGrammar(src)
	if err != nil {
		return nil, badField(field, "%v", err)
	}
	return gr, nil
}

func isJSONNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// absent reports whether an optional JSON field was left out or null.
func absent(raw json.RawMessage) bool { return len(raw) == 0 || isJSONNull(raw) }

// stopStrings reads "stop": a string or a list of strings (up to 16).
func stopStrings(raw json.RawMessage) ([]string, error) {
	if absent(raw) {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one == "" {
			return nil, nil
		}
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badField("stop", "expected a string or a list of strings")
	}
	out := list[:0]
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// logitBias reads "logit_bias" in the forms llama-server takes: OpenAI's
// object of token id (as a string) to bias, or llama.cpp's list of
// [token, bias] pairs where token is an id or a string (every token of
// it is biased) and bias a number or false (never the token).
func (s *Server) logitBias(raw json.RawMessage) (map[int32]float32, error) {
	if absent(raw) {
		return nil, nil
	}
	out := map[int32]float32{}
	nv := s.backend().VocabSize()
	put := func(id int64, b float32) error {
		if id < 0 || id >= int64(nv) {
			return badField("logit_bias", "token %d is out of the vocabulary (%d tokens)", id, nv)
		}
		out[int32(id)] = b
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err == nil {
		for k, v := range m {
			id, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				return nil, badField("logit_bias", "key %q: expected a token id", k)
			}
			b, err := biasValue(v)
			if err != nil {
				return nil, err
			}
			if err := put(id, b); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	var pairs [][2]json.RawMessage
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, badField("logit_bias", "expected an object of token ids to biases, or a list of [token, bias] pairs")
	}
	for _, pr := range pairs {
		b, err := biasValue(pr[1])
		if err != nil {
			return nil, err
		}
		var id int64
		var text string
		switch {
		case json.Unmarshal(pr[0], &id) == nil:
			if err := put(id, b); err != nil {
				return nil, err
			}
		case json.Unmarshal(pr[0], &text) == nil:
			for _, t := range s.backend().Tokenize(text, false, false) {
				out[t] = b
			}
		default:
			return nil, badField("logit_bias", "a pair's token must be an id or a string, not %s", pr[0])
		}
	}
	return out, nil
}

// biasValue is a bias: a number, or false for minus infinity.
func biasValue(raw json.RawMessage) (float32, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		return float32(f), nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil && !b {
		return float32(math.Inf(-1)), nil
	}
	return 0, badField("logit_bias", "bias %s: expected a number or false", raw)
}

// tokensOrText reads a prompt given as a string, a list of token ids, or
// a mixed list of strings and ids (llama.cpp's multimodal-free form).
func (s *Server) tokensOrText(field string, raw json.RawMessage, addSpecial bool) ([]int32, error) {
	var text string
	if err := json.Unmarshal(raw, &text); err == nil {
		return s.backend().Tokenize(text, addSpecial, true), nil
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, badField(field, "expected a string, or a list of token ids and strings")
	}
	var out []int32
	for i, p := range parts {
		var id int64
		if err := json.Unmarshal(p, &id); err == nil {
			if id < 0 || id >= int64(s.backend().VocabSize()) {
				return nil, badField(field, "token %d at index %d is out of the vocabulary (%d tokens)", id, i, s.backend().VocabSize())
			}
			out = append(out, int32(id))
			continue
		}
		if err := json.Unmarshal(p, &text); err != nil {
			return nil, badField(field, "element %d: expected a token id or a string", i)
		}
		out = append(out, s.backend().Tokenize(text, addSpecial && i == 0, true)...)
	}
	return out, nil
}

// promptList reads a prompt field that may hold several prompts: a
// string, a list of strings, a list of token ids, or a list of lists of
// ids. Each becomes one token sequence.
func (s *Server) promptList(field string, raw json.RawMessage, addSpecial bool) ([][]int32, error) {
	if absent(raw) {
		return nil, badField(field, "missing")
	}
	var text string
	if err := json.Unmarshal(raw, &text); err == nil {
		return [][]int32{s.backend().Tokenize(text, addSpecial, true)}, nil
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, badField(field, "expected a string, a list of strings, a list of token ids, or a list of such lists")
	}
	if len(parts) == 0 {
		return nil, badField(field, "empty list")
	}
	var id int64
	if json.Unmarshal(parts[0], &id) != nil {
		if err := checkPrompts(field, len(parts)); err != nil {
			return nil, err
		}
	}
	if json.Unmarshal(parts[0], &id) == nil {
		// One prompt as token ids (possibly mixed with strings).
		t, err := s.tokensOrText(field, raw, addSpecial)
		if err != nil {
			return nil, err
		}
		return [][]int32{t}, nil
	}
	var out [][]int32
	for i, p := range parts {
		t, err := s.tokensOrText(fmt.Sprintf("%s[%d]", field, i), p, addSpecial)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// checkKind checks that an optional field of several shapes is one of
// the JSON kinds ("string", "object", "array", "number", "boolean") it
// takes, so that a value of another type is a 400 naming the field
// rather than silently ignored.
func checkKind(field string, raw json.RawMessage, kinds ...string) error {
	if absent(raw) {
		return nil
	}
	got := "number"
	switch raw[0] {
	case '"':
		got = "string"
	case '{':
		got = "object"
	case '[':
		got = "array"
	case 't', 'f':
		got = "boolean"
	}
	for _, k := range kinds {
		if k == got {
			return nil
		}
	}
	return badField(field, "expected %s, got a JSON %s", joinOr(kinds), got)
}

// joinOr is "a string or an object".
func joinOr(kinds []string) string {
	var b bytes.Buffer
	for i, k := range kinds {
		switch {
		case i == 0:
		case i == len(kinds)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		if k == "object" || k == "array" {
			b.WriteString("an ")
		} else {
			b.WriteString("a ")
		}
		b.WriteString(k)
	}
	return b.String()
}
