package server

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// allocBodyLimit is the body limit of TestAdversarialAllocations' server.
const allocBodyLimit = 1 << 20

// hostileBodies are bodies under allocBodyLimit that a naive server would
// pay for far beyond their size: nesting, huge arrays, and parameters
// (a grammar, a logit bias) that a list of prompts multiplies. Each maps
// to the status it must get (0: any but a 5xx) and what its answer says.
func hostileBodies() []hostileBody {
	prompts := func(n int) string { return `[` + strings.TrimSuffix(strings.Repeat(`"a",`, n), ",") + `]` }
	var g strings.Builder
	g.WriteString(`root ::= "x0"`)
	for i := 1; g.Len() < 32<<10; i++ {
		fmt.Fprintf(&g, ` | "x%d"`, i)
	}
	grammar := strings.ReplaceAll(g.String(), `"`, `\"`)
	bias := `[` + strings.TrimSuffix(strings.Repeat(`[1,-1],`, 6000), ",") + `]`
	zeros := `[` + strings.TrimSuffix(strings.Repeat(`0,`, 400<<10), ",") + `]`
	return []hostileBody{
		// The parameters are read once, not once per prompt; logprobs 6
		// fails only after every prompt's request is made.
		{"a grammar for each of 500 prompts", "/v1/completions", `{"prompt":` + prompts(500) + `,"grammar":"` + grammar + `","logprobs":6}`, 400, "logprobs"},
		{"a logit bias for each of 500 prompts", "/v1/completions", `{"prompt":` + prompts(500) + `,"logit_bias":` + bias + `,"logprobs":6}`, 400, "logprobs"},
		// Each prompt costs its result whatever its size: at most maxPrompts.
		{"200000 prompts", "/v1/completions", `{"prompt":` + prompts(200000) + `}`, 400, "200000 elements: at most 2048"},
		{"200000 inputs", "/v1/embeddings", `{"input":` + prompts(200000) + `}`, 400, "200000 elements: at most 2048"},
		{"200000 documents", "/v1/rerank", `{"query":"q","documents":` + prompts(200000) + `}`, 400, "200000 elements: at most 2048"},
		// Decoding costs by the value: at most maxBodyContainers objects
		// and arrays, maxBodyValues values.
		{"200000 empty messages", "/v1/chat/completions", `{"messages":[` + strings.TrimSuffix(strings.Repeat(`{},`, 200000), ",") + `]}`, 413, "JSON objects and arrays"},
		{"60000 empty messages", "/v1/chat/completions", `{"messages":[` + strings.TrimSuffix(strings.Repeat(`{},`, 60000), ",") + `]}`, 400, "role"},
		{"400000 tokens", "/detokenize", `{"tokens":` + zeros + `}`, 200, ""},
		{"200000 stop strings", "/completion", `{"prompt":"a","n_predict":1,"stop":` + prompts(200000) + `}`, 200, ""},
	}
}

type hostileBody struct {
	name, path, body string
	status           int
	says             string
}

// TestAdversarialAllocations posts, to every POST route of the server (from
// its table, so that none is forgotten), bodies of 200000 objects and
// arrays nested, of 60000 arrays nested (past encoding/json's depth) and
// of an array of 400000 numbers, and to some routes the bodies of hostileBodies:
// each gets its answer with allocations bounded by a fixed allowance and a
// modest factor of the body, never by a product of its parts.
func TestAdversarialAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("a model and megabyte bodies")
	}
	srv := storiesServer(t, 64, allocBodyLimit)
	h := srv.Handler()
	post := func(t *testing.T, path, body string, status int, says string) {
		t.Helper()
		if len(body) > allocBodyLimit {
			t.Fatalf("a %d-byte body is over the limit", len(body))
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		h.ServeHTTP(w, req)
		runtime.ReadMemStats(&b)
		grew := b.TotalAlloc - a.TotalAlloc
		msg, _, _ := bytes.Cut(w.Body.Bytes(), []byte("\n"))
		t.Logf("POST %s, %d bytes: %d, %d KiB allocated: %.200s", path, len(body), w.Code, grew>>10, msg)
		switch {
		case status == 0 && w.Code >= 500, status != 0 && w.Code != status:
			t.Errorf("POST %s: status %d, want %d: %.300s", path, w.Code, status, w.Body.Bytes())
		case !bytes.Contains(msg, []byte(says)):
			t.Errorf("POST %s: the answer does not say %q: %.300s", path, says, msg)
		}
		if ceiling := uint64(48<<20 + 64*len(body)); grew > ceiling {
			t.Errorf("POST %s: allocated %d bytes for a %d-byte body (ceiling %d)", path, grew, len(body), ceiling)
		}
	}
	deep := strings.Repeat(`{"a":[`, 100000)
	nested := strings.Repeat(`[`, 60000)
	numbers := `{"a":[` + strings.TrimSuffix(strings.Repeat(`0,`, 400<<10), ",") + `]}`
	for _, path := range postPaths(srv) {
		t.Run(path, func(t *testing.T) {
			post(t, path, deep, 413, "JSON objects and arrays")
			post(t, path, nested, 400, "exceeded max depth")
			post(t, path, numbers, 0, "")
		})
	}
	for _, tc := range hostileBodies() {
		t.Run(tc.name, func(t *testing.T) { post(t, tc.path, tc.body, tc.status, tc.says) })
	}
}
