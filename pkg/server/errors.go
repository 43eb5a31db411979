package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/llamafile-go/llamafile/pkg/engine"
)

// apiError is an error response: OpenAI's shape, with llama-server's
// types and its integer code (the HTTP status).
type apiError struct {
	Status  int
	Message string
	Type    string // invalid_request_error, authentication_error, not_found_error, unavailable_error, server_error
	Param   string // the request field at fault, when there is one
}

func (e *apiError) Error() string { return e.Message }

// fieldError is a request field with a value we cannot accept.
type fieldError struct {
	Field string
	Msg   string
}

func (e *fieldError) Error() string { return fmt.Sprintf("field %q: %s", e.Field, e.Msg) }

func badRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: fmt.Sprintf(format, args...)}
}

// badField is a 400 naming the field.
func badField(field, format string, args ...any) *apiError {
	e := badRequest("field %q: %s", field, fmt.Sprintf(format, args...))
	e.Param = field
	return e
}

func errNotFound(r *http.Request) *apiError {
	return &apiError{Status: http.StatusNotFound, Type: "not_found_error",
		Message: fmt.Sprintf("%s %s: no such endpoint", r.Method, r.URL.Path)}
}

var errLoading = &apiError{Status: http.StatusServiceUnavailable, Type: "unavailable_error", Message: "Loading model"}

// toAPIError maps an error from a handler or the engine to its response.
// Engine errors the client caused keep their message; anything else is
// logged and answered with a generic 500, never a Go error string.
func (s *Server) toAPIError(err error) *apiError {
	var ae *apiError
	var fe *fieldError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &fe):
		e := badRequest("%v", fe)
		e.Param = fe.Field
		return e
	case errors.Is(err, engine.ErrPromptTooLong):
		return badRequest("%v", err)
	case errors.Is(err, engine.ErrQueueFull):
		return &apiError{Status: http.StatusServiceUnavailable, Type: "unavailable_error", Message: err.Error()}
	case errors.Is(err, engine.ErrNoEmbeddings):
		return &apiError{Status: http.StatusNotImplemented, Type: "not_supported_error",
			Message: "this server does not serve embeddings: start it with --embeddings"}
	case errors.Is(err, engine.ErrClosed), s.stopping.Load():
		return &apiError{Status: http.StatusServiceUnavailable, Type: "unavailable_error", Message: "the server is shutting down"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The client went away; nobody reads this.
		return &apiError{Status: 499, Type: "invalid_request_error", Message: "request cancelled"}
	}
	s.log.Error("internal error", "err", err)
	return &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: "internal server error"}
}

// errorBody is the JSON of an error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    int     `json:"code"`
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	d := errorDetail{Code: e.Status, Message: e.Message, Type: e.Type}
	if e.Param != "" {
		d.Param = &e.Param
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="llamafile"`)
	}
	_ = writeJSON(w, e.Status, errorBody{Error: d})
}

func contextWithLog(ctx context.Context, l *reqLog) context.Context {
	return context.WithValue(ctx, reqLogKey{}, l)
}

// noteResult records a generation in the request log.
func noteResult(ctx context.Context, res *engine.Result) {
	l, _ := ctx.Value(reqLogKey{}).(*reqLog)
	if l == nil || res == nil {
		return
	}
	l.slot = res.Slot
	l.promptTokens += res.PromptTokens
	l.cachedTokens += res.CachedTokens
	l.genTokens += res.GeneratedTokens
}
