package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// fuzzBodies are request bodies of every endpoint's shape, valid and not.
var fuzzBodies = []string{
	`{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}`,
	`{"messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_tokens":2,"stream":true,"stream_options":{"include_usage":true},"logprobs":true,"top_logprobs":2}`,
	`{"messages":[{"role":"user","content":"hi"}],"max_tokens":3,"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object","properties":{"a":{"type":"integer"}}}}}}`,
	`{"messages":[{"role":"user","content":"hi"}],"max_tokens":3,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"required"}`,
	`{"prompt":"Once","n_predict":2,"grammar":"root ::= [a-z]+","n_probs":2,"logit_bias":[[1,-1]],"stop":["x"],"seed":1}`,
	`{"prompt":[1,2,3],"max_tokens":2,"echo":true,"logprobs":1,"stream":true}`,
	`{"prompt":["a","b"],"max_tokens":1}`,
	`{"input":["hi",[1,2]],"encoding_format":"base64"}`, `{"content":"hi"}`,
	`{"content":"hi <s>","add_special":true,"with_pieces":true}`, `{"tokens":[1,2,99999,-1]}`,
	`{"input":"hi","max_output_tokens":2,"instructions":"be brief"}`,
	`{"query":"hi","documents":["a","b"],"top_n":1,"return_text":true}`, `{"query":"hi","texts":["a"],"top_n":-1}`,
	`{"input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}],"max_output_tokens":2,"stream":true}`,
	`{"model":"m","max_tokens":2,"system":"s","messages":[{"role":"user","content":"hi"}]}`,
	`{"model":"m","max_tokens":2,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true,"tools":[{"name":"f","input_schema":{"type":"object"}}]}`,
	`{"messages":[{"role":"user","content":"hi"}],"max_tokens":-1,"n_predict":1e308,"temperature":-1,"top_p":"x"}`,
	``, `null`, `[]`, `{`, `"x"`, `{"messages":null}`, `{"prompt":{"a":1}}`, "\xff\xfe",
}

// FuzzEndpoints posts arbitrary bodies to every POST route of a server
// with a real (tiny) model, taken from the server's own table
// (Server.Routes), so that aliases and routes added later are fuzzed too:
// each answer is a 2xx or a 4xx in the API's error shape, never a 5xx
// (which a panic, recovered, becomes).
func FuzzEndpoints(f *testing.F) {
	for _, b := range fuzzBodies {
		f.Add([]byte(b))
	}
	// A small context bounds every generation (no context shift), whatever
	// n_predict a body asks for.
	srv := storiesServer(f, 48, 64<<10)
	h := srv.Handler()
	paths := postPaths(srv)
	for _, want := range []string{"/v1/chat/completions", "/completions", "/embeddings", "/rerank", "/reranking", "/v1/reranking", "/v1/messages"} {
		if !slices.Contains(paths, want) {
			f.Fatalf("POST %s is not among the routes %q", want, paths)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range paths {
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			checkAnswer(t, path, body, w)
		}
	})
}

// checkAnswer fails on a 5xx and on a 4xx that is not an error object.
func checkAnswer(t *testing.T, path string, body []byte, w *httptest.ResponseRecorder) {
	t.Helper()
	status := w.Code
	if status >= 200 && status < 300 {
		return
	}
	if status < 400 || status >= 500 {
		t.Fatalf("POST %s %q: status %d: %s", path, body, status, w.Body.Bytes())
	}
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Message *string `json:"message"`
			Type    string  `json:"type"`
			Code    *int    `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Message == nil || e.Error.Type == "" {
		t.Fatalf("POST %s %q: status %d with a body not in the error shape: %s", path, body, status, w.Body.Bytes())
	}
	anthropic := strings.HasPrefix(path, "/v1/messages")
	if anthropic && e.Type != "error" || !anthropic && (e.Error.Code == nil || *e.Error.Code != status) {
		t.Fatalf("POST %s %q: status %d, error body %s", path, body, status, w.Body.Bytes())
	}
}
