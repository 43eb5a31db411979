package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// eventStream writes server-sent events, flushing each one so the client
// sees tokens as they are made. Headers go out with the first event, so
// that an error found before any output is still an ordinary error
// response.
//
// The server's timeout bounds a stream between events, not in all: the
// read deadline (the body has been read) is lifted when the stream
// starts, and each event gets the timeout to be written. A client that
// hangs up still ends the generation (its request's context is
// cancelled); one that stops reading is cut off after the timeout.
type eventStream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	started bool
}

func newEventStream(w http.ResponseWriter) *eventStream {
	e := &eventStream{w: w, rc: http.NewResponseController(w)}
	if sw, ok := w.(*statusWriter); ok {
		e.timeout = sw.timeout
	}
	return e
}

func (e *eventStream) start() {
	if e.started {
		return
	}
	e.started = true
	if e.timeout > 0 {
		// Errors mean a writer without deadlines (a test's recorder).
		_ = e.rc.SetReadDeadline(time.Time{})
	}
	h := e.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	e.w.WriteHeader(http.StatusOK)
}

// send writes v as one "data:" event.
func (e *eventStream) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("server: encoding an event: %w", err)
	}
	return e.raw("data: " + string(b) + "\n\n")
}

// sendEvent writes v as a named event ("event: name"), as Anthropic's
// and OpenAI's Responses streams do.
func (e *eventStream) sendEvent(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("server: encoding an event: %w", err)
	}
	return e.raw("event: " + name + "\ndata: " + string(b) + "\n\n")
}

// sendError writes an error event, as llama-server does once a stream has begun.
func (e *eventStream) sendError(ae *apiError) error {
	b, _ := json.Marshal(errorBody{Error: errorDetail{Code: ae.Status, Message: ae.Message, Type: ae.Type}})
	return e.raw("error: " + string(b) + "\n\n")
}

// done ends an OpenAI stream.
func (e *eventStream) done() error { return e.raw("data: [DONE]\n\n") }

func (e *eventStream) raw(s string) error {
	e.start()
	if e.timeout > 0 {
		_ = e.rc.SetWriteDeadline(time.Now().Add(e.timeout))
	}
	if _, err := e.w.Write([]byte(s)); err != nil {
		return err
	}
	return e.rc.Flush()
}
