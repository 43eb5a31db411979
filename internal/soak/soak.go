// Package soak runs mixed traffic against llamafile's HTTP server for a
// while and reports how it held up: requests served, errors by kind,
// latency percentiles, and the goroutines and resident memory over time.
//
// It serves a model in this process (package server over a Scheduler),
// or targets a server already running at a URL. Its workers send chat
// completions streamed and not, legacy and llama.cpp completions,
// tokenizations, embeddings when the server has them, streams the
// client hangs up midway, and bad requests that must be answered with a
// 4xx. A short run is a test (soak_test.go); a long one is
// internal/soak/cmd/soak.
package soak

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llamafile-go/llamafile/internal/procstat"
	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/sample"
	"github.com/llamafile-go/llamafile/pkg/server"
)

// Options configure a run.
type Options struct {
	// URL is the server to target ("http://host:port"); empty serves
	// Model in this process.
	URL string
	// Model is the GGUF file served in this process.
	Model string
	// Slots and Context are the in-process server's (0: 4 slots of 512).
	Slots, Context int
	// Threads for the in-process model (0: 2).
	Threads int
	// Embeddings sends embedding requests (the in-process server is
	// started with them).
	Embeddings bool
	// APIKey is sent as a bearer token (and required by the in-process
	// server when set).
	APIKey string
	// Workers send requests concurrently (0: 8).
	Workers int
	// Duration of the traffic (0: 10 s).
	Duration time.Duration
	// Every is the interval of the progress lines (0: 5 s).
	Every time.Duration
	// Seed makes the mix of requests reproducible (0: 1).
	Seed uint64
	// Log receives the progress lines and the summary; nil discards them.
	Log *slog.Logger
}

// Kinds of outcome.
const (
	OK        = "ok"       // the status expected
	Rejected  = "rejected" // a bad request answered with its 4xx, as it should
	HungUp    = "hung_up"  // a stream the client left midway, as planned
	Busy      = "503"      // every slot busy past the queue
	Client4xx = "unexpected_4xx"
	Server5xx = "5xx"
	Transport = "transport" // the connection failed
	Malformed = "malformed" // a 200 whose body is not what it should be
	Timeout   = "timeout"   // no answer within the client's timeout
)

// Result is what a run saw.
type Result struct {
	Duration time.Duration
	Requests int64            // answered, whatever the status
	Kinds    map[string]int64 // outcomes by kind
	Ops      map[string]int64 // requests by operation
	// Latency of the answered requests (until the end of the body, or
	// the hang-up).
	P50, P90, P99, Max time.Duration
	// Goroutines and resident memory (this process) after the warm-up
	// and after the run, once settled; RSSMax the most seen. RSS is 0
	// where unknown (not Linux).
	Goroutines0, Goroutines1 int
	RSS0, RSS1, RSSMax       int64
	// Samples are the progress lines' figures.
	Samples []Sample
	// Failures are the first few unexpected answers, for the report.
	Failures []string
}

// Sample is one progress line.
type Sample struct {
	At         time.Duration
	Requests   int64
	Errors     int64
	Goroutines int
	RSS        int64
}

// Errors is the number of unexpected outcomes.
func (r *Result) Errors() int64 {
	var n int64
	for k, v := range r.Kinds {
		if k != OK && k != Rejected && k != HungUp {
			n += v
		}
	}
	return n
}

// String is the summary.
func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests in %v (%.0f/s); outcomes %s; ops %s; latency p50 %v p90 %v p99 %v max %v; goroutines %d -> %d; RSS %d -> %d MiB (max %d)",
		r.Requests, r.Duration.Round(time.Millisecond), float64(r.Requests)/r.Duration.Seconds(), mapString(r.Kinds), mapString(r.Ops),
		r.P50.Round(time.Microsecond), r.P90.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond),
		r.Goroutines0, r.Goroutines1, r.RSS0>>20, r.RSS1>>20, r.RSSMax>>20)
	return b.String()
}

func mapString(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, m[k])
	}
	return b.String()
}

// Run runs the traffic until opts.Duration has passed or ctx is done.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Duration <= 0 {
		opts.Duration = 10 * time.Second
	}
	if opts.Every <= 0 {
		opts.Every = 5 * time.Second
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimSuffix(opts.URL, "/")
	if base == "" {
		b, stop, err := serve(opts)
		if err != nil {
			return nil, err
		}
		defer stop()
		base = b
	}
	tr := &http.Transport{MaxIdleConnsPerHost: opts.Workers * 2}
	defer tr.CloseIdleConnections()
	r := &runner{base: base, opts: opts, c: &http.Client{Transport: tr, Timeout: 2 * time.Minute},
		kinds: map[string]int64{}, ops: map[string]int64{}}

	// Warm up (and check that the server is there), then take the baseline.
	for _, op := range []op{opHealth, opTokenize, opChat} {
		if k, _, msg := r.do(ctx, op, rand.New(rand.NewPCG(0, 0))); k != OK {
			return nil, fmt.Errorf("soak: warm-up %s at %s: %s: %s", op.name, base, k, msg)
		}
	}
	res := &Result{}
	res.Goroutines0, res.RSS0 = procstat.Settle(tr, 0)
	res.RSSMax = res.RSS0
	r.kinds, r.ops, r.lat = map[string]int64{}, map[string]int64{}, nil
	log.Info("soak: start", "url", base, "workers", opts.Workers, "duration", opts.Duration,
		"goroutines", res.Goroutines0, "rss_mib", res.RSS0>>20)

	runCtx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(opts.Seed, uint64(w)))
			for runCtx.Err() == nil {
				op := r.pick(rng)
				start := time.Now()
				kind, status, msg := r.do(runCtx, op, rng)
				if runCtx.Err() != nil && (kind == Transport || kind == Timeout) {
					return // cut off by the end of the run, not a fault
				}
				r.record(op.name, kind, status, msg, time.Since(start))
			}
		}()
	}
	tick := time.NewTicker(opts.Every)
	defer tick.Stop()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
loop:
	for {
		select {
		case <-done:
			break loop
		case <-tick.C:
			s := r.sample(time.Since(t0))
			res.Samples = append(res.Samples, s)
			res.RSSMax = max(res.RSSMax, s.RSS)
			log.Info("soak", "t", s.At.Round(time.Second), "requests", s.Requests, "rps", int(float64(s.Requests)/s.At.Seconds()),
				"errors", s.Errors, "goroutines", s.Goroutines, "rss_mib", s.RSS>>20)
		}
	}
	res.Duration = time.Since(t0)
	res.Goroutines1, res.RSS1 = procstat.Settle(tr, res.Goroutines0)
	res.RSSMax = max(res.RSSMax, res.RSS1)
	r.mu.Lock()
	res.Kinds, res.Ops, res.Failures = r.kinds, r.ops, r.failures
	for _, v := range r.kinds {
		res.Requests += v
	}
	slices.Sort(r.lat)
	if n := len(r.lat); n > 0 {
		res.P50, res.P90, res.P99, res.Max = r.lat[n*50/100], r.lat[n*90/100], r.lat[n*99/100], r.lat[n-1]
	}
	r.mu.Unlock()
	log.Info("soak: done", "summary", res.String())
	for _, f := range res.Failures {
		log.Warn("soak: unexpected answer", "what", f)
	}
	return res, ctx.Err()
}

// serve starts the in-process server on a loopback port.
func serve(opts Options) (string, func(), error) {
	if opts.Model == "" {
		return "", nil, errors.New("soak: no model to serve and no URL")
	}
	m, err := engine.Open(opts.Model, engine.Options{Threads: cmp(opts.Threads, 2)})
	if err != nil {
		return "", nil, err
	}
	sched, err := m.NewScheduler(engine.ServeOptions{Slots: cmp(opts.Slots, 4), ContextSize: cmp(opts.Context, 512), Embeddings: opts.Embeddings})
	if err != nil {
		m.Close()
		return "", nil, err
	}
	cfg := server.Config{Defaults: sample.DefaultParams(), DefaultMaxTokens: -1, CachePrompt: true, Embeddings: opts.Embeddings}
	if opts.APIKey != "" {
		cfg.APIKeys = []string{opts.APIKey}
	}
	srv, err := server.New(cfg)
	if err != nil {
		sched.Close()
		m.Close()
		return "", nil, err
	}
	srv.SetBackend(&server.Engine{Model: m, Scheduler: sched, Template: chat.Default(), TemplateSource: "chatml"})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sched.Close()
		m.Close()
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	return "http://" + l.Addr().String(), func() {
		cancel()
		<-done
		sched.Close()
		m.Close()
	}, nil
}

func cmp(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

type runner struct {
	base string
	opts Options
	c    *http.Client

	mu       sync.Mutex
	kinds    map[string]int64
	ops      map[string]int64
	lat      []time.Duration
	failures []string
	requests atomic.Int64
	errors   atomic.Int64
}

func (r *runner) record(op, kind string, status int, msg string, d time.Duration) {
	r.requests.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kinds[kind]++
	r.ops[op]++
	r.lat = append(r.lat, d)
	if kind != OK && kind != Rejected && kind != HungUp {
		r.errors.Add(1)
		if len(r.failures) < 10 {
			r.failures = append(r.failures, fmt.Sprintf("%s: %s (status %d): %.300s", op, kind, status, msg))
		}
	}
}

func (r *runner) sample(at time.Duration) Sample {
	return Sample{At: at, Requests: r.requests.Load(), Errors: r.errors.Load(), Goroutines: runtime.NumGoroutine(), RSS: procstat.RSS()}
}

// An op is a kind of request: its method, path, body (made with the
// worker's random source), the status it must get, and whether it is a
// stream to read (or to hang up).
type op struct {
	name   string
	weight int
	method string
	path   string
	body   func(rng *rand.Rand) string
	status int
	stream bool
	hangUp bool // leave the stream after a few events
	embed  bool // only when the server has embeddings
}

var prompts = []string{"Once upon a time", "The little dog", "Lily and Ben went to the park", "One day, a girl named Sue", "The sun was"}

func prompt(rng *rand.Rand) string { return prompts[rng.IntN(len(prompts))] }

func chatBody(rng *rand.Rand, stream bool) string {
	return fmt.Sprintf(`{"messages":[{"role":"user","content":%q}],"max_tokens":%d,"stream":%v,"temperature":%.2f}`,
		prompt(rng), 4+rng.IntN(28), stream, rng.Float64())
}

var (
	opHealth   = op{name: "health", weight: 5, method: "GET", path: "/health", status: 200}
	opTokenize = op{name: "tokenize", weight: 15, method: "POST", path: "/tokenize", status: 200,
		body: func(rng *rand.Rand) string {
			return fmt.Sprintf(`{"content":%q,"with_pieces":%v}`, prompt(rng), rng.IntN(2) == 0)
		}}
	opChat = op{name: "chat", weight: 15, method: "POST", path: "/v1/chat/completions", status: 200,
		body: func(rng *rand.Rand) string { return chatBody(rng, false) }}
	ops = []op{
		opHealth, opTokenize, opChat,
		{name: "chat_stream", weight: 15, method: "POST", path: "/v1/chat/completions", status: 200, stream: true,
			body: func(rng *rand.Rand) string { return chatBody(rng, true) }},
		{name: "completions", weight: 10, method: "POST", path: "/v1/completions", status: 200,
			body: func(rng *rand.Rand) string {
				return fmt.Sprintf(`{"prompt":%q,"max_tokens":%d}`, prompt(rng), 4+rng.IntN(28))
			}},
		{name: "completion_stream", weight: 10, method: "POST", path: "/completion", status: 200, stream: true,
			body: func(rng *rand.Rand) string {
				return fmt.Sprintf(`{"prompt":%q,"n_predict":%d,"stream":true}`, prompt(rng), 4+rng.IntN(28))
			}},
		{name: "hang_up", weight: 10, method: "POST", path: "/v1/chat/completions", status: 200, stream: true, hangUp: true,
			body: func(rng *rand.Rand) string {
				return fmt.Sprintf(`{"messages":[{"role":"user","content":%q}],"max_tokens":200,"stream":true,"ignore_eos":true}`, prompt(rng))
			}},
		{name: "embeddings", weight: 5, method: "POST", path: "/v1/embeddings", status: 200, embed: true,
			body: func(rng *rand.Rand) string { return fmt.Sprintf(`{"input":%q}`, prompt(rng)) }},
		{name: "bad_json", weight: 3, method: "POST", path: "/v1/chat/completions", status: 400,
			body: func(rng *rand.Rand) string { return `{"messages": [` }},
		{name: "bad_type", weight: 3, method: "POST", path: "/completion", status: 400,
			body: func(rng *rand.Rand) string { return `{"prompt":"hi","n_predict":"many"}` }},
		{name: "bad_length", weight: 2, method: "POST", path: "/completion", status: 400,
			body: func(rng *rand.Rand) string { return `{"prompt":"hi","n_predict":1e18}` }},
		{name: "too_long", weight: 2, method: "POST", path: "/completion", status: 400,
			body: func(rng *rand.Rand) string {
				return `{"prompt":"` + strings.Repeat("Once upon a time ", 4000) + `"}`
			}},
		{name: "not_found", weight: 1, method: "GET", path: "/v2/nothing", status: 404},
	}
)

func (r *runner) pick(rng *rand.Rand) op {
	total := 0
	for _, o := range ops {
		if !o.embed || r.opts.Embeddings {
			total += o.weight
		}
	}
	n := rng.IntN(total)
	for _, o := range ops {
		if o.embed && !r.opts.Embeddings {
			continue
		}
		if n -= o.weight; n < 0 {
			return o
		}
	}
	return ops[0]
}

// do sends one request and classifies its outcome.
func (r *runner) do(ctx context.Context, o op, rng *rand.Rand) (kind string, status int, msg string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var body io.Reader
	if o.body != nil {
		body = strings.NewReader(o.body(rng))
	}
	req, err := http.NewRequestWithContext(ctx, o.method, r.base+o.path, body)
	if err != nil {
		return Transport, 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	if r.opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.opts.APIKey)
	}
	resp, err := r.c.Do(req)
	if err != nil {
		return errKind(err), 0, err.Error()
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == o.status:
	case resp.StatusCode == http.StatusServiceUnavailable:
		b, _ := io.ReadAll(resp.Body)
		return Busy, resp.StatusCode, string(b)
	case resp.StatusCode >= 500:
		b, _ := io.ReadAll(resp.Body)
		return Server5xx, resp.StatusCode, string(b)
	default:
		b, _ := io.ReadAll(resp.Body)
		return Client4xx, resp.StatusCode, string(b)
	}
	if o.status != 200 {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return errKind(err), resp.StatusCode, err.Error()
		}
		if !bytes.Contains(b, []byte(`"error"`)) {
			return Malformed, resp.StatusCode, string(b)
		}
		return Rejected, resp.StatusCode, ""
	}
	if !o.stream {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return errKind(err), resp.StatusCode, err.Error()
		}
		if len(b) == 0 || b[0] != '{' {
			return Malformed, resp.StatusCode, string(b)
		}
		return OK, resp.StatusCode, ""
	}
	// A stream: to its end ([DONE], or /completion's "stop": true), or
	// a few events then hang up.
	leave := 1 + rng.IntN(5)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	events := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error:") {
			return Malformed, resp.StatusCode, line
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		events++
		if o.hangUp && events >= leave {
			return HungUp, resp.StatusCode, ""
		}
		if data == "[DONE]" || strings.Contains(data, `"stop":true`) {
			return OK, resp.StatusCode, ""
		}
	}
	if err := sc.Err(); err != nil {
		return errKind(err), resp.StatusCode, err.Error()
	}
	if o.hangUp {
		return HungUp, resp.StatusCode, "" // it ended first
	}
	return Malformed, resp.StatusCode, fmt.Sprintf("the stream ended after %d events without its end", events)
}

func errKind(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return Timeout
	}
	return Transport
}
