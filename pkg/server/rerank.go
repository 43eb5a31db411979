package server

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/llamafile-go/llamafile/pkg/engine"
)

// Reranking, as llama-server's /v1/rerank: a reranker (a model served
// with --reranking, that is --embeddings --pooling rank) scores each
// document against the query with its classifier head. The request is
// Jina's ({"query", "documents", "top_n"}) or, when it has "texts",
// Hugging Face TEI's ({"query", "texts", "return_text"}), whose answer is
// the bare list of results.

type rerankRequest struct {
	Model      string          `json:"model"`
	Query      json.RawMessage `json:"query"`
	Documents  json.RawMessage `json:"documents"`
	Texts      json.RawMessage `json:"texts"` // TEI
	TopN       *int            `json:"top_n"`
	ReturnText bool            `json:"return_text"`
}

// errNoRerank is llama-server's answer when the model does not pool rank,
// its type and message; a 400 rather than its 501, since the server
// answers what a client asks with a 4xx, keeping 5xx for its own faults.
var errNoRerank = &apiError{Status: http.StatusBadRequest, Type: "not_supported_error",
	Message: "This server does not support reranking. Start it with `--reranking` (or --embeddings --pooling rank) and a reranker model"}

func (s *Server) rerank(w http.ResponseWriter, r *http.Request) error {
	var rr rerankRequest
	if err := s.readRequest(r, &rr); err != nil {
		return err
	}
	// The fields are checked first, so that an error names the field
	// whatever the model.
	if absent(rr.Query) {
		return badField("query", "missing")
	}
	var query string
	if err := json.Unmarshal(rr.Query, &query); err != nil {
		return badField("query", "expected a string")
	}
	// As llama-server: "texts" asks for TEI's answer; the documents are
	// "documents", else "texts".
	tei := !absent(rr.Texts)
	var docs, texts []string
	if tei {
		if err := json.Unmarshal(rr.Texts, &texts); err != nil {
			return badField("texts", "expected a list of strings")
		}
	}
	field := "documents"
	switch {
	case !absent(rr.Documents):
		if err := json.Unmarshal(rr.Documents, &docs); err != nil {
			return badField("documents", "expected a list of strings")
		}
	case tei:
		field, docs = "texts", texts
	default:
		return badField("documents", "missing")
	}
	if len(docs) == 0 {
		return badField(field, "empty list: expected at least one document")
	}
	if err := checkPrompts(field, len(docs)); err != nil {
		return err
	}
	topN := len(docs)
	if rr.TopN != nil {
		if *rr.TopN < 0 {
			return badField("top_n", "%d is negative", *rr.TopN)
		}
		topN = min(topN, *rr.TopN)
	}
	b := s.backend()
	if b.Pooling() != "rank" {
		return errNoRerank
	}
	// Each input holds the query: one too long for the context is refused
	// at once, before the query is copied into the others.
	inputs := make([][]int32, len(docs))
	n := 0
	for i, d := range docs {
		inputs[i] = b.RerankTokens(query, d)
		n += len(inputs[i])
		if len(inputs[i]) > b.ContextSize() {
			return badField(fmt.Sprintf("%s[%d]", field, i), "the query and document: %d tokens, more than the context of %d",
				len(inputs[i]), b.ContextSize())
		}
	}
	scores, err := b.EmbedBatch(r.Context(), inputs)
	if err != nil {
		var ie *engine.InputError
		switch {
		case errors.As(err, &ie):
			return badField(fmt.Sprintf("%s[%d]", field, ie.Index), "the query and document: %v", ie.Err)
		case errors.Is(err, engine.ErrNoEmbeddings):
			return errNoRerank
		}
		return err
	}
	type result struct {
		Index    int       `json:"index"`
		Score    *float64  `json:"score,omitempty"`           // TEI
		Relevant *float64  `json:"relevance_score,omitempty"` // Jina
		Text     *string   `json:"text,omitempty"`            // TEI's return_text
		Document *document `json:"document,omitempty"`        // Jina's, with return_text
	}
	results := make([]result, len(docs))
	for i, v := range scores {
		sc := -1e6 // llama-server's score of a missing output
		if len(v) > 0 {
			sc = float64(v[0])
		}
		results[i] = result{Index: i}
		if tei {
			results[i].Score = &sc
		} else {
			results[i].Relevant = &sc
		}
		if rr.ReturnText {
			if tei {
				results[i].Text = &docs[i]
			} else {
				results[i].Document = &document{Text: docs[i]}
			}
		}
	}
	score := func(r result) float64 {
		if r.Score != nil {
			return *r.Score
		}
		return *r.Relevant
	}
	slices.SortStableFunc(results, func(a, b result) int { return cmp.Compare(score(b), score(a)) })
	results = results[:topN]
	if tei {
		return writeJSON(w, http.StatusOK, results)
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"model":   s.modelName(rr.Model),
		"object":  "list",
		"usage":   map[string]int{"prompt_tokens": n, "total_tokens": n},
		"results": results,
	})
}

type document struct {
	Text string `json:"text"`
}
