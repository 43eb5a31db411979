// Package webui is the chat page every llamafile serves at /: plain HTML,
// CSS and JavaScript modules embedded in the binary, with no build step
// and nothing fetched from another host. The page talks to the server's
// OpenAI-compatible API (/v1/chat/completions, streamed) and /props, and
// keeps its conversations and settings in the browser's localStorage.
package webui

import (
	"embed"
	"io/fs"
)

//go:embed page
var files embed.FS

// FS is the page's files, index.html at its root.
func FS() fs.FS {
	sub, err := fs.Sub(files, "page")
	if err != nil {
		panic(err) // the embedded tree always has page/
	}
	return sub
}

// ContentSecurityPolicy is the policy the page is served with: its own
// scripts and styles only, requests to its own server only, so that model
// output rendered in it can neither run script nor reach another host.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
