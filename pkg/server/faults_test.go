package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/internal/procstat"
	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// The server under faults: slow and vanishing clients, bodies past the
// limit, malformed and absurd requests, floods of short ones. Each fault
// must get a clear 4xx (or be cut off by a timeout), the server must go
// on serving the others, and afterwards its goroutines and memory must
// be back where they were.

// faultConfig is the server TestFaults runs: short timeouts, so that the
// slow clients are cut off within the test, and a small body limit.
func faultConfig() Config {
	return Config{HeaderTimeout: time.Second, Timeout: 3 * time.Second, MaxBodyBytes: 64 << 10}
}

func TestFaults(t *testing.T) {
	base, en := testServer(t, faultConfig(), engine.ServeOptions{Slots: 4, ContextSize: 256, ContextShift: true, Embeddings: true})
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	// alive checks that a normal request is still answered, after each fault.
	alive := func(t *testing.T) {
		t.Helper()
		b := doJSON(t, c, "POST", base+"/completion", `{"prompt":"Once upon a time","n_predict":4}`, 200)
		var r struct{ Content string }
		if err := json.Unmarshal(b, &r); err != nil || r.Content == "" {
			t.Fatalf("a normal request after the fault: %s (%v)", b, err)
		}
	}
	alive(t)
	g0, rss0 := procstat.Settle(tr, 0)

	t.Run("slow headers", func(t *testing.T) {
		// Ten clients trickle a request's headers, a byte a second: each
		// is cut off by the header timeout (1 s here) while the server
		// keeps answering.
		var wg sync.WaitGroup
		cut := make([]time.Duration, 10)
		for i := range cut {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cut[i] = trickle(t, base, "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("a", 20)+"\r\n\r\n", time.Second)
			}()
		}
		time.Sleep(200 * time.Millisecond)
		alive(t) // while they trickle
		wg.Wait()
		for i, d := range cut {
			if d > 4*time.Second {
				t.Errorf("slow client %d was cut off after %v; the header timeout is 1 s", i, d)
			}
		}
		alive(t)
	})

	t.Run("slow body", func(t *testing.T) {
		// Headers at once, then a body trickled: cut off by the read
		// timeout (3 s here), as a whole request.
		body := `{"content":"` + strings.Repeat("a", 20) + `"}`
		head := fmt.Sprintf("POST /tokenize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
		if d := trickleAfter(t, base, head, body, time.Second); d > 6*time.Second {
			t.Errorf("a client trickling its body was cut off after %v; the timeout is 3 s", d)
		}
		alive(t)
	})

	t.Run("body too large", func(t *testing.T) {
		big := `{"prompt":"` + strings.Repeat("x", 100<<10) + `"}`
		for _, path := range []string{"/completion", "/v1/chat/completions", "/v1/completions", "/tokenize", "/v1/embeddings", "/v1/responses"} {
			e := errorOf(t, doJSON(t, c, "POST", base+path, big, 413))
			if e.Code != 413 || !strings.Contains(e.Message, "limit") {
				t.Errorf("%s: %+v", path, e)
			}
		}
		// Anthropic's endpoint answers in Anthropic's shape.
		doJSON(t, c, "POST", base+"/v1/messages", big, 413)
		alive(t)
	})

	t.Run("invalid JSON", func(t *testing.T) {
		for _, path := range postRoutes(t, base) {
			for _, body := range []string{`{`, `{"messages": [}`, `nul`, "\xff\xfe", `{"a":1}{"b":2}`, `"a string"`, `[]`, `12`, ` `} {
				e := errorOf(t, doJSON(t, c, "POST", base+path, body, 400))
				if e.Message == "" {
					t.Errorf("%s %q: no message", path, body)
				}
			}
		}
		alive(t)
	})

	t.Run("wrong types", func(t *testing.T) { wrongTypes(t, c, base) })

	t.Run("absurd lengths", func(t *testing.T) {
		fields := []struct{ path, field, body string }{
			{"/completion", "n_predict", `{"prompt":"Once upon a time","n_predict":%s}`},
			{"/v1/completions", "max_tokens", `{"prompt":"Once upon a time","max_tokens":%s}`},
			{"/v1/chat/completions", "max_tokens", `{"messages":[{"role":"user","content":"hi"}],"max_tokens":%s}`},
			{"/v1/chat/completions", "max_completion_tokens", `{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":%s}`},
			{"/v1/responses", "max_output_tokens", `{"input":"hi","max_output_tokens":%s}`},
			{"/v1/messages", "max_tokens", `{"messages":[{"role":"user","content":"hi"}],"max_tokens":%s}`},
		}
		for _, f := range fields {
			for _, v := range []string{"1e18", "-5", "9223372036854775808", "-9223372036854775809", "1.5", "0", `"10"`} {
				b := doJSON(t, c, "POST", base+f.path, fmt.Sprintf(f.body, v), 400)
				if e := errorOf(t, b); !strings.Contains(e.Message, f.field) {
					t.Errorf("%s %s = %s: the error does not name the field: %s", f.path, f.field, v, e.Message)
				}
			}
			// A huge number of tokens that is an integer is bounded by
			// the context: the generation stops at its end.
			for _, v := range []string{"1000000000000000000", "9223372036854775807", "2147483648"} {
				doJSON(t, c, "POST", base+f.path, fmt.Sprintf(f.body, v), 200)
			}
		}
		alive(t)
	})

	t.Run("prompt too long", func(t *testing.T) {
		long := strings.Repeat("Once upon a time ", 200) // past the 256 positions
		for _, tt := range []struct{ path, body string }{
			{"/completion", `{"prompt":"` + long + `"}`},
			{"/completion", `{"prompt":"` + long + `","stream":true}`},
			{"/v1/completions", `{"prompt":"` + long + `"}`},
			{"/v1/chat/completions", `{"messages":[{"role":"user","content":"` + long + `"}]}`},
			{"/v1/chat/completions", `{"messages":[{"role":"user","content":"` + long + `"}],"stream":true}`},
			{"/v1/responses", `{"input":"` + long + `"}`},
			{"/v1/messages", `{"max_tokens":4,"messages":[{"role":"user","content":"` + long + `"}]}`},
			{"/v1/embeddings", `{"input":"` + long + `"}`},
			{"/embedding", `{"content":"` + long + `"}`},
		} {
			e := errorOf(t, doJSON(t, c, "POST", base+tt.path, tt.body, 400))
			if !strings.Contains(e.Message, "context") {
				t.Errorf("%s: %s", tt.path, e.Message)
			}
		}
		alive(t)
	})

	t.Run("many short requests", func(t *testing.T) {
		// 3000 /tokenize and /health requests, 32 at a time: all answered.
		var ok, failed atomic.Int64
		sem := make(chan struct{}, 32)
		var wg sync.WaitGroup
		for i := range 3000 {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				var resp *http.Response
				var err error
				if i%2 == 0 {
					resp, err = c.Post(base+"/tokenize", "application/json", strings.NewReader(`{"content":"Once upon a time `+strconv.Itoa(i)+`"}`))
				} else {
					resp, err = c.Get(base + "/health")
				}
				if err != nil {
					failed.Add(1)
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					return
				}
				ok.Add(1)
			}()
		}
		wg.Wait()
		t.Logf("3000 short requests: %d answered, %d failed", ok.Load(), failed.Load())
		if ok.Load() != 3000 {
			t.Errorf("%d of 3000 short requests failed", failed.Load())
		}
		alive(t)
	})

	t.Run("vanishing clients", func(t *testing.T) {
		// Streams without a token limit (context shift on) would run
		// forever: clients hang up after a few events, or before the
		// response, or midway through sending the body. Every
		// generation must end, freeing its slot.
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch i % 3 {
				case 0:
					hangUpStream(t, c, base, `{"messages":[{"role":"user","content":"Tell a story"}],"stream":true,"ignore_eos":true}`, "/v1/chat/completions", 1+i%5)
				case 1:
					hangUpStream(t, c, base, `{"prompt":"Once upon a time","stream":true,"ignore_eos":true}`, "/completion", 1+i%4)
				default:
					hangUpEarly(t, base, i%2 == 0)
				}
			}()
		}
		wg.Wait()
		waitIdle(t, en)
		alive(t)
	})

	t.Run("long stream", func(t *testing.T) {
		// A stream may outlast the timeout (3 s) as long as its events
		// keep coming: the timeout bounds each write, not the whole.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/completion", strings.NewReader(`{"prompt":"Once upon a time","stream":true,"ignore_eos":true}`))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		t0 := time.Now()
		sc := bufio.NewScanner(resp.Body)
		events := 0
		for time.Since(t0) < 4500*time.Millisecond && sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				events++
			}
		}
		if d := time.Since(t0); d < 4500*time.Millisecond {
			t.Fatalf("the stream ended after %v and %d events (%v), before the client hung up", d, events, sc.Err())
		}
		cancel()
		resp.Body.Close()
		waitIdle(t, en)
		alive(t)
	})

	// After it all: goroutines back to their baseline, memory about where
	// it began.
	g1, rss1 := procstat.Settle(tr, g0)
	t.Logf("goroutines %d before the faults, %d after; RSS %d MiB, %d MiB", g0, g1, rss0>>20, rss1>>20)
	if g1 > g0 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after the faults, %d before:\n%s", g1, g0, buf[:runtime.Stack(buf, true)])
	}
	if rss0 > 0 && rss1 > rss0+64<<20 {
		t.Errorf("resident memory grew from %d to %d MiB", rss0>>20, rss1>>20)
	}
}

// trickle writes req a byte every interval and returns how long until
// the server closed the connection (it must not answer).
func trickle(t *testing.T, base, req string, interval time.Duration) time.Duration {
	return trickleAfter(t, base, "", req, interval)
}

// trickleAfter writes head at once, then body a byte every interval, and
// returns how long until the server closed the connection, reading
// whatever it sent (a 408 at most).
func trickleAfter(t *testing.T, base, head, body string, interval time.Duration) time.Duration {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Error(err)
		return 0
	}
	defer conn.Close()
	t0 := time.Now()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Error(err)
		return 0
	}
	closed := make(chan []byte, 1)
	go func() {
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		b, _ := io.ReadAll(conn)
		closed <- b
	}()
	for i := 0; i < len(body); i++ {
		select {
		case b := <-closed:
			checkCutOff(t, b)
			return time.Since(t0)
		case <-time.After(interval):
		}
		if _, err := conn.Write([]byte{body[i]}); err != nil {
			break // closed by the server
		}
	}
	b := <-closed
	checkCutOff(t, b)
	d := time.Since(t0)
	if d >= 20*time.Second {
		t.Errorf("the server never cut the slow client off")
	}
	return d
}

// checkCutOff: a cut-off slow client gets nothing, or a 408 or 400.
func checkCutOff(t *testing.T, b []byte) {
	t.Helper()
	if len(b) > 0 && !bytes.HasPrefix(b, []byte("HTTP/1.1 408")) && !bytes.HasPrefix(b, []byte("HTTP/1.1 400")) {
		t.Errorf("a slow client was answered: %.200s", b)
	}
}

// hangUpStream starts a stream and hangs up after n events.
func hangUpStream(t *testing.T, c *http.Client, base, body, path string, n int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+path, strings.NewReader(body))
	resp, err := c.Do(req)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("%s: status %d", path, resp.StatusCode)
		return
	}
	sc := bufio.NewScanner(resp.Body)
	for events := 0; events < n && sc.Scan(); {
		if strings.HasPrefix(sc.Text(), "data: ") {
			events++
		}
	}
	// Returning cancels the context: the connection closes.
}

// hangUpEarly sends a streaming request on a raw connection and closes it
// before reading the response, or midway through the body.
func hangUpEarly(t *testing.T, base string, midBody bool) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Error(err)
		return
	}
	body := `{"prompt":"Once upon a time","stream":true,"ignore_eos":true}`
	fmt.Fprintf(conn, "POST /completion HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	if midBody {
		io.WriteString(conn, body[:len(body)/2])
	} else {
		io.WriteString(conn, body)
		time.Sleep(50 * time.Millisecond) // the generation has begun
	}
	conn.Close()
}

// waitIdle waits (up to 5 s) until no slot is busy and none is queued.
func waitIdle(t *testing.T, en *Engine) {
	t.Helper()
	var st engine.Stats
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st = en.Stats(); st.Busy == 0 && st.Queued == 0 {
			return
		}
	}
	t.Errorf("generations go on after their clients left: %d slots busy, %d queued", st.Busy, st.Queued)
}

// doJSON sends a request and checks its status.
func doJSON(t *testing.T, c *http.Client, method, url, body string, status int) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Errorf("%s %s %.200s: status %d, want %d: %.300s", method, url, body, resp.StatusCode, status, b)
	}
	return b
}

// errorOf decodes an error response, OpenAI's shape or Anthropic's.
func errorOf(t *testing.T, b []byte) errorDetail {
	t.Helper()
	var e struct {
		Error struct {
			errorDetail
			AnthropicType string `json:"type"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" {
		t.Errorf("not an error response: %.300s", b)
	}
	e.Error.Type = e.Error.AnthropicType
	return e.Error.errorDetail
}

// requestTypes are the request bodies of the POST routes, for
// wrongTypes; a route missing here fails the test.
var requestTypes = map[string]any{
	"/chat/completions":         chatRequest{},
	"/v1/chat/completions":      chatRequest{},
	"/completions":              completionsRequest{},
	"/v1/completions":           completionsRequest{},
	"/embeddings":               embeddingsRequest{},
	"/v1/embeddings":            embeddingsRequest{},
	"/embedding":                embeddingsRequest{},
	"/completion":               completionRequest{},
	"/tokenize":                 tokenizeRequest{},
	"/detokenize":               detokenizeRequest{},
	"/apply-template":           applyTemplateRequest{},
	"/v1/messages":              anthropicRequest{},
	"/v1/messages/count_tokens": anthropicRequest{},
	"/v1/responses":             responsesRequest{},
	"/rerank":                   rerankRequest{},
	"/reranking":                rerankRequest{},
	"/v1/rerank":                rerankRequest{},
	"/v1/reranking":             rerankRequest{},
}

// validBodies are minimal valid requests, which wrongTypes spoils one
// field at a time.
var validBodies = map[string]string{
	"chatRequest":          `{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}`,
	"completionsRequest":   `{"prompt":"hi","max_tokens":2}`,
	"completionRequest":    `{"prompt":"hi","n_predict":2}`,
	"embeddingsRequest":    `{"input":"hi"}`,
	"tokenizeRequest":      `{"content":"hi"}`,
	"detokenizeRequest":    `{"tokens":[1,2]}`,
	"applyTemplateRequest": `{"messages":[{"role":"user","content":"hi"}]}`,
	"anthropicRequest":     `{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}`,
	"responsesRequest":     `{"input":"hi","max_output_tokens":2}`,
	"rerankRequest":        `{"query":"hi","documents":["a cat"]}`,
}

// postRoutes are the paths of the server's POST routes, from its table.
func postRoutes(t *testing.T, base string) []string {
	t.Helper()
	srv, err := New(faultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return postPaths(srv)
}

// postPaths returns the paths of srv's POST routes (Server.Routes), so
// that the tests walking every route also reach aliases and routes added
// later.
func postPaths(srv *Server) []string {
	var paths []string
	for _, r := range srv.Routes() {
		if path, ok := strings.CutPrefix(r.Pattern, "POST "); ok {
			paths = append(paths, path)
		}
	}
	return paths
}

// storiesServer returns a server on stories260k with one slot of
// contextSize cells, embeddings on, at most 4 tokens per reply unless a
// request asks for more, and bodies up to maxBody bytes; the model and
// scheduler close when tb ends.
func storiesServer(tb testing.TB, contextSize int, maxBody int64) *Server {
	tb.Helper()
	m, err := engine.Open(testutil.SharedFile(tb, "testdata/models/stories260k.gguf"), engine.Options{Threads: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	sched, err := m.NewScheduler(engine.ServeOptions{Slots: 1, ContextSize: contextSize, Embeddings: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sched.Close() })
	srv, err := New(Config{Defaults: sample.DefaultParams(), DefaultMaxTokens: 4, Embeddings: true, MaxBodyBytes: maxBody})
	if err != nil {
		tb.Fatal(err)
	}
	srv.SetBackend(&Engine{Model: m, Scheduler: sched, Template: chat.Default(), TemplateSource: "chatml"})
	return srv
}

// wrongTypes sends, for every POST route and every field of its request
// type (found by reflection, so that a new field is not forgotten), a
// value of the wrong JSON type: each must be a 400 naming the field.
func wrongTypes(t *testing.T, c *http.Client, base string) {
	for _, path := range postRoutes(t, base) {
		typ, ok := requestTypes[path]
		if !ok {
			t.Errorf("POST %s: no request type in requestTypes; add it", path)
			continue
		}
		rt := reflect.TypeOf(typ)
		valid := validBodies[rt.Name()]
		for _, f := range jsonFields(rt) {
			for _, bad := range wrongValues(f) {
				var m map[string]json.RawMessage
				if err := json.Unmarshal([]byte(valid), &m); err != nil {
					t.Fatal(err)
				}
				m[f.name] = json.RawMessage(bad)
				if f.name == "content" && rt.Name() == "embeddingsRequest" {
					delete(m, "input") // "content" is read without "input" only
				}
				body, _ := json.Marshal(m)
				b := doJSON(t, c, "POST", base+path, string(body), 400)
				e := errorOf(t, b)
				if !strings.Contains(e.Message, f.name) {
					t.Errorf("POST %s with %q = %s: the error does not name the field: %s", path, f.name, bad, e.Message)
				}
			}
		}
	}
}

type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields are the JSON fields of a struct type, those of embedded
// structs included.
func jsonFields(rt reflect.Type) []jsonField {
	var out []jsonField
	for i := range rt.NumField() {
		f := rt.Field(i)
		if f.Anonymous {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out = append(out, jsonField{name, f.Type})
	}
	return out
}

var rawMessage = reflect.TypeOf(json.RawMessage(nil))

// wrongValues are JSON values a field cannot take.
func wrongValues(f jsonField) []string {
	ft := f.typ
	if ft == rawMessage {
		// Fields of several shapes (a string or an array, an object...):
		// none of them a boolean, but a JSON schema (true: anything).
		if f.name == "json_schema" {
			return []string{`12`, `"x"`}
		}
		return []string{`true`, `12`}
	}
	if ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	switch ft.Kind() {
	case reflect.String:
		return []string{`12`, `{}`}
	case reflect.Bool:
		return []string{`"yes"`, `1`}
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint32, reflect.Float32, reflect.Float64:
		return []string{`"ten"`, `[1]`, `true`}
	case reflect.Slice:
		return []string{`"x"`, `{}`}
	case reflect.Struct, reflect.Map:
		return []string{`"x"`, `[1]`}
	}
	panic("wrongValues: no wrong value for " + ft.String())
}
