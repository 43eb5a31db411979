package server

import (
	_ "embed"
	"net/http"
)

// chatHTML is the built-in chat page: one self-contained file that talks
// to /v1/chat/completions. (The full chat UI is its own piece of work;
// --path serves another.)
//
//go:embed ui/index.html
var chatHTML []byte

func (s *Server) chatPage(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(chatHTML)
	return err
}
