package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/internal/procstat"
	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/engine"
)

// inProcessServer runs runServer in this process with the command line
// args (plus a free port), and returns its base URL once /health says it
// is ready, and a function that stops it (as SIGTERM would) and returns
// runServer's error.
func inProcessServer(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	o, err := parseArgs(append(args, "--port", "0", "--nobrowser"), io.Discard, readFake)
	if err != nil || o == nil {
		t.Fatalf("parseArgs: %v", err)
	}
	if o.mode != modeServer {
		t.Fatalf("mode %v, want the server", o.mode)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runServer(ctx, o, &engine.Bundle{}, env{stdout: io.Discard, stderr: pw}, pw)
		pw.Close()
	}()
	urlc := watchURL(pr)
	var base string
	select {
	case base = <-urlc:
	case err := <-done:
		t.Fatalf("runServer: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no URL in 30 s")
	}
	waitHealthy(t, base)
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-done:
			case <-time.After(10 * time.Second):
				serveErr = fmt.Errorf("runServer did not return within 10 s of the cancel")
			}
		})
		return serveErr
	}
	t.Cleanup(func() { stop() })
	return base, stop
}

// streamChat sends a streaming chat request and reads its events; with
// hangUp > 0 it closes the connection after that many events. It returns
// the text and whether the stream ended with [DONE].
func streamChat(ctx context.Context, c *http.Client, base, content string, maxTokens, hangUp int) (string, bool, error) {
	body, _ := json.Marshal(map[string]any{
		"messages":   []map[string]string{{"role": "user", "content": content}},
		"stream":     true,
		"max_tokens": maxTokens,
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/chat/completions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return "", false, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var text strings.Builder
	sc := bufio.NewScanner(resp.Body)
	events := 0
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if line == "[DONE]" {
			return text.String(), true, nil
		}
		var ev struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			return "", false, fmt.Errorf("event %q: %v", line, err)
		}
		for _, ch := range ev.Choices {
			text.WriteString(ch.Delta.Content)
		}
		if events++; hangUp > 0 && events >= hangUp {
			return text.String(), false, nil // the client hangs up
		}
	}
	return text.String(), false, sc.Err()
}

// TestServerManyClients runs 32 concurrent streaming chat clients against
// SmolLM2 on 8 slots, every third hanging up midway: every other stream
// finishes with [DONE], /health answers within 1 s throughout, and the
// goroutines return to their baseline afterwards.
func TestServerManyClients(t *testing.T) {
	model := testutil.SmolLM2(t)
	base, stop := inProcessServer(t, "-m", model, "-np", "8", "-c", "4096", "-t", "2", "--temp", "0")
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	// Warm up, then count goroutines at rest.
	if _, done, err := streamChat(context.Background(), client, base, "Hi", 4, 0); err != nil || !done {
		t.Fatalf("warm-up: done %v, %v", done, err)
	}
	tr.CloseIdleConnections()
	runtime.GC()
	time.Sleep(100 * time.Millisecond)
	baseline := runtime.NumGoroutine()

	stopHealth := make(chan struct{})
	var worstHealth atomic.Int64
	var healthFails atomic.Int32
	var hw sync.WaitGroup
	hw.Add(1)
	go func() {
		defer hw.Done()
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
		defer hc.Transport.(*http.Transport).CloseIdleConnections()
		for {
			select {
			case <-stopHealth:
				return
			case <-time.After(50 * time.Millisecond):
			}
			t0 := time.Now()
			resp, err := hc.Get(base + "/health")
			d := time.Since(t0)
			if err != nil || resp.StatusCode != 200 {
				healthFails.Add(1)
			}
			if err == nil {
				resp.Body.Close()
			}
			if int64(d) > worstHealth.Load() {
				worstHealth.Store(int64(d))
			}
		}
	}()

	questions := []string{"What is the capital of France?", "Name a color.", "Say hello.", "What is 2+2?"}
	var wg sync.WaitGroup
	errs := make([]error, 32)
	finished := make([]bool, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hangUp := 0
			if i%3 == 2 {
				hangUp = 3
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			_, done, err := streamChat(ctx, client, base, questions[i%len(questions)], 24, hangUp)
			errs[i], finished[i] = err, done
		}()
	}
	wg.Wait()
	close(stopHealth)
	hw.Wait()
	for i := range errs {
		switch {
		case errs[i] != nil:
			t.Errorf("client %d: %v", i, errs[i])
		case i%3 != 2 && !finished[i]:
			t.Errorf("client %d: the stream did not end with [DONE]", i)
		}
	}
	t.Logf("/health: worst %v, %d failures", time.Duration(worstHealth.Load()), healthFails.Load())
	if time.Duration(worstHealth.Load()) > time.Second || healthFails.Load() > 0 {
		t.Errorf("/health took up to %v (%d failures) while serving", time.Duration(worstHealth.Load()), healthFails.Load())
	}
	tr.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after the clients, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// TestServerNoLeak sends a few thousand short requests (some cancelled
// midway) and checks that goroutines and the heap return to where they
// were, and that resident memory stays within 64 MiB of where it began
// (on Linux).
func TestServerNoLeak(t *testing.T) {
	base, stop := inProcessServer(t, "-m", stories(t), "-np", "4", "-c", "1024", "-t", "2", "--temp", "0")
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	client := &http.Client{Transport: tr}
	one := func(i int) error {
		body := fmt.Sprintf(`{"prompt": "Once upon a time %d", "n_predict": 3, "stream": %v}`, i, i%2 == 0)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/completion", strings.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if i%7 == 0 {
			cancel() // hang up without reading
			return nil
		}
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	round := func(n int) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i := 0; i < n; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := one(i); err != nil && !strings.Contains(err.Error(), "canceled") {
					t.Errorf("request %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		tr.CloseIdleConnections()
	}
	settle := func() (int, uint64) {
		var ms runtime.MemStats
		for i := 0; i < 3; i++ {
			runtime.GC()
			time.Sleep(50 * time.Millisecond)
		}
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapAlloc
	}
	round(200)
	g0, h0 := settle()
	rss0 := procstat.RSS()
	round(2000)
	var g1 int
	var h1 uint64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if g1, h1 = settle(); g1 <= g0 || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("after 200 requests: %d goroutines, heap %d KiB; after 2000 more: %d, %d KiB", g0, h0>>10, g1, h1>>10)
	if g1 > g0 {
		t.Errorf("goroutines grew from %d to %d over 2000 requests", g0, g1)
	}
	if h1 > h0+8<<20 {
		t.Errorf("heap grew from %d to %d KiB over 2000 requests", h0>>10, h1>>10)
	}
	if rss1 := procstat.RSS(); rss0 > 0 {
		t.Logf("resident memory %d MiB, then %d MiB", rss0>>20, rss1>>20)
		if rss1 > rss0+64<<20 {
			t.Errorf("resident memory grew from %d to %d MiB over 2000 requests", rss0>>20, rss1>>20)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// TestServerSmolLM2Template: the server renders SmolLM2's own Jinja
// template (which adds its default system prompt), or with --no-jinja
// the built-in chatml; a temperature-0 chat reply is the continuation of
// exactly that prompt.
func TestServerSmolLM2Template(t *testing.T) {
	model := testutil.SmolLM2(t)
	const user = "What is the capital of France?"
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n" +
			"<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n"},
		{[]string{"--no-jinja"}, "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n"},
	} {
		base, stop := inProcessServer(t, append([]string{"-m", model, "-t", "2", "--temp", "0"}, tt.args...)...)
		msgs := `{"messages":[{"role":"user","content":"` + user + `"}]`
		var at struct{ Prompt string }
		if err := json.Unmarshal(postJSON(t, base+"/apply-template", msgs+`}`), &at); err != nil || at.Prompt != tt.want {
			t.Errorf("%v: /apply-template = %q (%v), want %q", tt.args, at.Prompt, err, tt.want)
		}
		var chat struct {
			Choices []struct{ Message struct{ Content string } }
		}
		if err := json.Unmarshal(postJSON(t, base+"/v1/chat/completions", msgs+`,"max_tokens":24,"temperature":0}`), &chat); err != nil || len(chat.Choices) != 1 {
			t.Fatalf("chat: %v", err)
		}
		prompt, _ := json.Marshal(tt.want)
		var comp struct{ Content string }
		if err := json.Unmarshal(postJSON(t, base+"/completion", `{"prompt":`+string(prompt)+`,"n_predict":24,"temperature":0}`), &comp); err != nil {
			t.Fatal(err)
		}
		if chat.Choices[0].Message.Content != comp.Content || comp.Content == "" {
			t.Errorf("%v: chat reply %q, the rendered prompt's continuation %q", tt.args, chat.Choices[0].Message.Content, comp.Content)
		}
		if err := stop(); err != nil {
			t.Error(err)
		}
	}
}

func postJSON(t *testing.T, url, body string) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %s: %s", url, resp.Status, b)
	}
	return b
}
