package server

import (
	"io/fs"
	"net/http"
	"path"

	"github.com/llamafile-go/llamafile/pkg/webui"
)

// handlePage routes the chat page's files (package webui) under prefix:
// index.html at prefix/, each other file at its name.
func (s *Server) handlePage(register func(string, bool, func(http.ResponseWriter, *http.Request) error), prefix string) error {
	page := webui.FS()
	entries, err := fs.ReadDir(page, ".")
	if err != nil {
		return err
	}
	serve := func(name string) func(http.ResponseWriter, *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error {
			data, err := fs.ReadFile(page, name)
			if err != nil {
				return err
			}
			h := w.Header()
			h.Set("Content-Type", contentType(name))
			h.Set("Cache-Control", "no-cache")
			h.Set("Content-Security-Policy", webui.ContentSecurityPolicy)
			h.Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusOK)
			_, err = w.Write(data)
			return err
		}
	}
	register("GET "+prefix+"/{$}", false, serve("index.html"))
	if prefix != "" {
		// The page's URLs are relative to its directory: prefix/.
		register("GET "+prefix, false, func(w http.ResponseWriter, r *http.Request) error {
			http.Redirect(w, r, prefix+"/", http.StatusMovedPermanently)
			return nil
		})
	}
	for _, e := range entries {
		if !e.IsDir() && e.Name() != "index.html" {
			register("GET "+prefix+"/"+e.Name(), false, serve(e.Name()))
		}
	}
	return nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}
