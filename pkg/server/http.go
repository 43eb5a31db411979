package server

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// Route is an entry of the server's route table: a ServeMux pattern
// ("METHOD /path", the URL prefix included) and whether it asks for the
// API key.
type Route struct {
	Pattern string
	Auth    bool
}

// Routes is every pattern the server's mux has, in the order they were
// registered: the API, the page's files and the catch-all 404. Tests walk
// it, so that no route escapes the API key or the error checks.
func (s *Server) Routes() []Route { return append([]Route(nil), s.table...) }

// routes builds the handler: the endpoints under the URL prefix, wrapped
// in recovery, logging, CORS, authentication and the body limit. Every
// route goes through register, which records it in s.table.
func (s *Server) routes() (http.Handler, error) {
	mux := http.NewServeMux()
	p := s.cfg.URLPrefix
	register := func(pattern string, auth bool, h func(w http.ResponseWriter, r *http.Request) error) {
		mux.Handle(pattern, s.endpoint(auth, h))
		s.table = append(s.table, Route{Pattern: pattern, Auth: auth})
	}
	handle := func(pattern string, auth bool, h func(w http.ResponseWriter, r *http.Request) error) {
		method, path, _ := strings.Cut(pattern, " ")
		register(method+" "+p+path, auth, h)
	}
	for _, v1 := range []string{"", "/v1"} {
		handle("POST "+v1+"/chat/completions", true, s.chatCompletions)
		handle("POST "+v1+"/completions", true, s.completions)
		handle("POST "+v1+"/embeddings", true, s.embeddings)
		handle("GET "+v1+"/models", true, s.models)
	}
	handle("POST /v1/messages", true, s.anthropicErrors(s.messages))
	handle("POST /v1/messages/count_tokens", true, s.anthropicErrors(s.countTokens))
	handle("POST /v1/responses", true, s.responses)
	handle("POST /completion", true, s.completion)
	handle("POST /tokenize", true, s.tokenize)
	handle("POST /detokenize", true, s.detokenize)
	handle("POST /embedding", true, s.embedding)
	// llama-server's four names of the reranking endpoint.
	for _, path := range []string{"/rerank", "/reranking", "/v1/rerank", "/v1/reranking"} {
		handle("POST "+path, true, s.rerank)
	}
	handle("POST /apply-template", true, s.applyTemplate)
	handle("GET /health", false, s.health)
	handle("GET /v1/health", false, s.health)
	handle("GET /props", true, s.props)
	handle("GET /slots", true, s.slots)
	handle("GET /metrics", true, s.serveMetrics)
	switch {
	case s.cfg.NoUI:
	case s.cfg.StaticDir != "":
		fi, err := os.Stat(s.cfg.StaticDir)
		if err != nil {
			return nil, fmt.Errorf("server: static files: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("server: static files: %s is not a directory", s.cfg.StaticDir)
		}
		register("GET "+p+"/", false, s.static(http.StripPrefix(p, http.FileServer(http.Dir(s.cfg.StaticDir)))))
	default:
		if err := s.handlePage(register, p); err != nil {
			return nil, fmt.Errorf("server: the chat page: %w", err)
		}
	}
	// Everything else: a 404 (or 405) in the API's error shape.
	register("/", false, func(w http.ResponseWriter, r *http.Request) error {
		return errNotFound(r)
	})
	return mux, nil
}

// static adapts an http.Handler to an endpoint function.
func (s *Server) static(h http.Handler) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}
}

// statusWriter records what a handler wrote, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status  int
	written int64
	timeout time.Duration // Config.Timeout, for streams to extend their deadlines
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (to flush).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// reqLog collects what a handler tells the request log.
type reqLog struct {
	promptTokens, cachedTokens, genTokens int
	slot                                  int
}

type reqLogKey struct{}

// endpoint wraps a handler: panics become 500s (logged, never shown), errors
// become OpenAI-shaped error responses, bodies are bounded, and every
// request is logged.
func (s *Server) endpoint(auth bool, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		w := &statusWriter{ResponseWriter: rw, timeout: s.cfg.Timeout}
		info := &reqLog{slot: -1}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				if w.status == 0 {
					writeError(w, &apiError{Status: http.StatusInternalServerError, Message: "internal server error", Type: "server_error"})
				}
			}
			s.metrics.request(r.URL.Path, w.status)
			attrs := []any{"method", r.Method, "path", r.URL.Path, "status", w.status, "bytes", w.written,
				"duration", time.Since(t0).Round(time.Microsecond), "remote", r.RemoteAddr}
			if info.slot >= 0 {
				attrs = append(attrs, "slot", info.slot, "prompt_tokens", info.promptTokens,
					"cached_tokens", info.cachedTokens, "completion_tokens", info.genTokens)
			}
			s.log.Info("request", attrs...)
		}()
		corsHeaders(w, r)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if auth && !s.authorized(r) {
			writeError(w, &apiError{Status: http.StatusUnauthorized, Message: "invalid API key", Type: "authentication_error"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		r = r.WithContext(contextWithLog(r.Context(), info))
		if err := h(w, r); err != nil {
			if w.status != 0 {
				// The response has begun (a stream): it cannot become an
				// error response any more; the handler ended it as it could.
				s.log.Warn("request failed after the response began", "path", r.URL.Path, "err", err)
				return
			}
			writeError(w, s.toAPIError(err))
		}
	})
}

// corsHeaders lets pages of other origins call the API, as llama-server
// does (the API key, not the origin, is the protection).
func corsHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "*")
	}
}

// authorized checks the request's API key in constant time: the key and
// each configured one are hashed first, so that neither their contents
// nor their lengths (subtle.ConstantTimeCompare returns at once on
// unequal lengths) show in the time taken, and every key is compared.
func (s *Server) authorized(r *http.Request) bool {
	if len(s.keyHashes) == 0 {
		return true
	}
	key := r.Header.Get("X-Api-Key")
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, rest, ok := strings.Cut(a, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return false
		}
		key = strings.TrimSpace(rest)
	}
	h := sha256.Sum256([]byte(key))
	ok := 0
	for _, k := range s.keyHashes {
		ok |= subtle.ConstantTimeCompare(k[:], h[:])
	}
	return ok == 1
}

// decodeBody reads a JSON request body into v. Unknown fields are
// allowed (clients send fields of newer API versions); a malformed body
// or a field of the wrong type is a 400 naming it, a body past the limit
// a 413.
func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return &apiError{Status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error",
				Message: fmt.Sprintf("the request body is larger than the limit of %d bytes", mb.Limit)}
		}
		return badRequest("reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("the request body is empty; expected a JSON object")
	}
	if err := checkJSONSize(body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field != "":
			// The path names the embedded genParams; the client knows no such field.
			field := strings.ReplaceAll(te.Field, "genParams.", "")
			return badField(field, "expected %s, got a JSON %s", jsonKind(te.Type.String()), te.Value)
		case errors.As(err, &te):
			return badRequest("the request body must be a JSON object, not a JSON %s", te.Value)
		case errors.As(err, &se):
			return badRequest("the request body is not valid JSON: %v (at byte %d)", err, se.Offset)
		default:
			var fe *fieldError
			if errors.As(err, &fe) {
				return badRequest("%v", fe)
			}
			return badRequest("the request body is not valid JSON: %v", err)
		}
	}
	return nil
}

// jsonKind names a Go type the way a JSON user thinks of it.
func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "*"):
		return jsonKind(goType[1:])
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "."):
		return "an object"
	}
	return goType
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("server: encoding the response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

// readRequest decodes the body of a request for the model: a 503 while
// it loads, else as decodeBody.
func (s *Server) readRequest(r *http.Request, v any) error {
	if s.backend() == nil {
		return errLoading
	}
	return decodeBody(r, v)
}

// Bounds on what a request body may hold, whatever its size: decoding
// costs memory by the value, not by the byte. An empty object decoded into
// a message struct costs some 500 bytes (with the slice's growth) for its
// three bytes, "0," into a list of raw prompts some 160 for two: a body at
// the default limit of 32 MiB would cost gigabytes.
const (
	// maxBodyContainers bounds the JSON objects and arrays of a body.
	maxBodyContainers = 1 << 16
	// maxBodyValues bounds its values (every element and member).
	maxBodyValues = 1 << 20
)

// checkJSONSize counts the objects, arrays and values of a JSON body in
// one pass that allocates nothing, and refuses a body with more than
// maxBodyContainers or maxBodyValues (a 413, as for a body too large).
// Malformed JSON is left to the decoder to report.
func checkJSONSize(body []byte) error {
	containers, values := 0, 1
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			containers++
		case ',':
			values++
		}
	}
	tooLarge := func(format string, args ...any) error {
		return &apiError{Status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error", Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case containers > maxBodyContainers:
		return tooLarge("the request body holds %d JSON objects and arrays, more than the %d allowed", containers, maxBodyContainers)
	case values > maxBodyValues:
		return tooLarge("the request body holds more than %d JSON values (%d)", maxBodyValues, values)
	}
	return nil
}
