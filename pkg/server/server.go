// Package server is llamafile's HTTP server: the OpenAI-compatible API
// (/v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models),
// llama.cpp's own endpoints (/completion, /tokenize, /detokenize,
// /embedding, /v1/rerank, /apply-template, /health, /props, /slots,
// /metrics) and the chat page, over a [Backend] (in llamafile, an
// engine.Scheduler serving many sequences at once).
//
// Requests and responses follow llama-server's shapes and defaults, so
// that clients written for llama.cpp or OpenAI work unchanged. Errors are
// OpenAI's JSON shape, {"error": {"code", "message", "type"}}, with the
// HTTP status that says what went wrong: 400 for a bad request, 401
// without the API key, 404, 413 for a body past the limit, 503 while the
// model loads or when every slot is busy past the queue.
package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/grammar"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// Backend is the model the server serves. Its methods are called
// concurrently.
type Backend interface {
	// ModelName is the name /v1/models reports (the --alias, else the
	// model file's name).
	ModelName() string
	ContextSize() int      // positions of one slot
	TrainContextSize() int // the model's trained context
	VocabSize() int
	Slots() int
	Tokenize(text string, addSpecial, parseSpecial bool) []int32
	// Piece is a token's text, special tokens rendered ("" for an id out
	// of the vocabulary).
	Piece(id int32) string
	Detokenize(ids []int32) string
	// ApplyTemplate renders chat messages as a prompt with the model's
	// chat template, ending with the opening of the assistant's turn
	// when addAssistant.
	ApplyTemplate(msgs []chat.Message, addAssistant bool) (string, error)
	// ApplyTemplateTools renders messages with any fields and tool
	// definitions (JSON arrays), for tool calling; an error for templates
	// that cannot (llama.cpp's built-in formats).
	ApplyTemplateTools(messages, tools json.RawMessage, addAssistant bool) (string, error)
	// ChatTemplate is the template's source, for /props.
	ChatTemplate() string
	// ToolChatTemplate is the source of the template that renders
	// requests with tools: a model's tool_use template, else the chat
	// template.
	ToolChatTemplate() string
	// ParseGrammar parses a GBNF grammar for the model (its <token>
	// references name the model's tokens).
	ParseGrammar(src string) (*grammar.Grammar, error)
	Generate(ctx context.Context, req *engine.Request, emit func(engine.Chunk) error) (*engine.Result, error)
	Embed(ctx context.Context, tokens []int32) ([]float32, error)
	// EmbedBatch embeds several inputs, on as many slots as are free:
	// each as Embed would.
	EmbedBatch(ctx context.Context, inputs [][]int32) ([][]float32, error)
	// Pooling is how embeddings are pooled: none, mean, cls, last or
	// rank (a reranker's scores, for /v1/rerank).
	Pooling() string
	// RerankTokens is the input that scores doc against query, as
	// llama.cpp's format_prompt_rerank: the model's rerank template
	// (tokenizer.chat_template.rerank) filled in, else BOS query EOS SEP
	// doc EOS, each special token where the vocabulary adds it.
	RerankTokens(query, doc string) []int32
	SlotsInfo() []engine.SlotInfo
	Stats() engine.Stats
}

// Config configures a Server. The zero value serves every endpoint but
// /metrics without authentication.
type Config struct {
	// APIKeys, when not empty, are the keys a request must bear
	// ("Authorization: Bearer KEY" or "X-Api-Key: KEY") on every endpoint
	// but /health and the chat page.
	APIKeys []string
	// Timeout bounds reading a request and writing its response (--timeout);
	// 0 means 600 s, as llama-server's default. A stream is bounded
	// between its events rather than in all: each event has Timeout to be
	// written, so that a long generation is not cut off midway.
	Timeout time.Duration
	// HeaderTimeout bounds reading a request's headers, against clients
	// that trickle them to hold connections open; 0 means 30 s, or
	// Timeout when that is shorter.
	HeaderTimeout time.Duration
	// URLPrefix is a path prefix every endpoint is served under (--url-prefix).
	URLPrefix string
	// StaticDir serves the files of that directory at / instead of the
	// built-in chat page (--path).
	StaticDir string
	// NoUI serves no page at / (--no-ui).
	NoUI bool
	// Alias is the model name reported when set (--alias).
	Alias string
	// Defaults are the sampling parameters of requests that do not set them
	// (the command line's --temp, --top-k, --seed, ...).
	Defaults sample.Params
	// DefaultMaxTokens is the n_predict of requests that do not set one
	// (-n); -1 means until end of generation or the end of the context.
	DefaultMaxTokens int
	// CachePrompt is the default of requests' cache_prompt.
	CachePrompt bool
	// Metrics serves /metrics (--metrics).
	Metrics bool
	// SlotsEndpoint serves /slots (--slots).
	SlotsEndpoint bool
	// Embeddings says the backend was started with embeddings (--embeddings).
	Embeddings bool
	// MaxBodyBytes bounds request bodies; 0 means 32 MiB.
	MaxBodyBytes int64
	// ShutdownGrace is how long in-flight requests have to finish once the
	// server is asked to stop, before their generations are ended; 0
	// means 5 s.
	ShutdownGrace time.Duration
	// ReasoningFormat is llama-server's --reasoning-format: "deepseek"
	// (or "auto", or empty) puts a reasoning model's thinking
	// (<think>...</think>) in the chat replies' reasoning_content, "none"
	// leaves it in the content.
	ReasoningFormat string
	// Logger receives a line per request; nil discards them.
	Logger *slog.Logger
}

// Server serves a Backend over HTTP. Make one with New.
type Server struct {
	b       atomic.Pointer[Backend] // nil while the model loads
	cfg     Config
	log     *slog.Logger
	handler http.Handler
	table   []Route // what routes registered, for Routes
	// keyHashes are the SHA-256 sums of cfg.APIKeys, compared in
	// constant time.
	keyHashes [][sha256.Size]byte
	metrics   *metrics
	start     time.Time

	// base is the parent of every request's context; cancelled when the
	// shutdown grace is over, it ends the generations still running.
	base       context.Context
	cancelBase context.CancelFunc
	stopping   atomic.Bool
}

// New returns a Server. Until SetBackend gives it the model, it answers
// every request but the chat page with 503 "Loading model" (so that
// /health can tell a load balancer it is not ready yet).
func New(cfg Config) (*Server, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 600 * time.Second
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("server: timeout %v is negative", cfg.Timeout)
	}
	if cfg.HeaderTimeout == 0 {
		cfg.HeaderTimeout = min(cfg.Timeout, 30*time.Second)
	}
	if cfg.HeaderTimeout < 0 {
		return nil, fmt.Errorf("server: header timeout %v is negative", cfg.HeaderTimeout)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	switch cfg.ReasoningFormat {
	case "", "auto", "deepseek", "none":
	default:
		return nil, fmt.Errorf("server: reasoning format %q: expected auto, deepseek or none", cfg.ReasoningFormat)
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 5 * time.Second
	}
	cfg.URLPrefix = strings.TrimSuffix(cfg.URLPrefix, "/")
	if cfg.URLPrefix != "" && !strings.HasPrefix(cfg.URLPrefix, "/") {
		return nil, fmt.Errorf("server: URL prefix %q must start with /", cfg.URLPrefix)
	}
	for _, k := range cfg.APIKeys {
		if k == "" {
			return nil, errors.New("server: an API key is empty")
		}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, start: time.Now()}
	for _, k := range cfg.APIKeys {
		s.keyHashes = append(s.keyHashes, sha256.Sum256([]byte(k)))
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.base, s.cancelBase = context.WithCancel(context.Background())
	s.metrics = newMetrics(s)
	h, err := s.routes()
	if err != nil {
		return nil, err
	}
	s.handler = h
	return s, nil
}

// SetBackend gives the server its model, once loaded; from then on it
// serves requests.
func (s *Server) SetBackend(b Backend) { s.b.Store(&b) }

// backend is the model, or nil while it loads.
func (s *Server) backend() Backend {
	if p := s.b.Load(); p != nil {
		return *p
	}
	return nil
}

// Handler is the server's HTTP handler, for tests and for embedding in
// another server.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves HTTP on l until ctx is done, then shuts down: it stops
// accepting connections, gives the requests in flight ShutdownGrace to
// finish (ending the generations still running a little before it, so
// that streams get their final chunk), and returns nil once they have.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.HeaderTimeout,
		ReadTimeout:       s.cfg.Timeout,
		WriteTimeout:      s.cfg.Timeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		BaseContext:       func(net.Listener) context.Context { return s.base },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		s.cancelBase()
		return err
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	grace := s.cfg.ShutdownGrace
	// End the generations still running at 80% of the grace, so that
	// their handlers write a final chunk before the deadline.
	endGen := time.AfterFunc(grace*4/5, s.cancelBase)
	defer endGen.Stop()
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	s.cancelBase()
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("shutdown: closing connections still open after the grace period", "grace", grace)
		err = hs.Close()
	}
	<-errc // http.ErrServerClosed
	return err
}
