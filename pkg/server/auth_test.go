package server

import (
	"net/http"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/pkg/engine"
)

// TestAPIKeyEveryRoute walks every route the server registers (its own
// table, so that a new route cannot be forgotten): with an API key set,
// none answers without the key but /health, and the public rest is the
// chat page's static files and the 404 of unknown paths.
func TestAPIKeyEveryRoute(t *testing.T) {
	const key = "sk-0123456789abcdef"
	for _, cfg := range []Config{
		{APIKeys: []string{key, "k2"}},
		{APIKeys: []string{key}, URLPrefix: "/api"},
		{APIKeys: []string{key}, StaticDir: t.TempDir()},
		{APIKeys: []string{key}, NoUI: true, Metrics: true, SlotsEndpoint: true},
	} {
		base, _ := testServer(t, cfg, engine.ServeOptions{Embeddings: true})
		srv, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		send := func(method, p string, hdr ...string) *http.Response {
			t.Helper()
			var body *strings.Reader
			if method == "POST" {
				body = strings.NewReader(`{"prompt":"hi","content":"hi","input":"hi","messages":[{"role":"user","content":"hi"}],"max_tokens":1,"n_predict":1}`)
			} else {
				body = strings.NewReader("")
			}
			req, _ := http.NewRequest(method, base+p, body)
			req.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, p, err)
			}
			resp.Body.Close()
			return resp
		}
		routes := srv.Routes()
		if len(routes) < 20 {
			t.Fatalf("only %d routes: %v", len(routes), routes)
		}
		pre := cfg.URLPrefix
		counts := map[string]int{}
		for _, r := range routes {
			method, p, ok := strings.Cut(r.Pattern, " ")
			if !ok { // the catch-all: any method
				method, p = "GET", r.Pattern
			}
			p = strings.TrimSuffix(p, "{$}")
			if p == "/" && !ok {
				p = "/no/such/endpoint"
			}
			name := cfg.URLPrefix + " " + r.Pattern
			health := p == pre+"/health" || p == pre+"/v1/health"
			resp := send(method, p)
			counts[map[bool]string{true: "need the key", false: "public"}[r.Auth]]++
			switch {
			case health:
				if resp.StatusCode != 200 || r.Auth {
					t.Errorf("%s: status %d without the key (auth %v), want 200", name, resp.StatusCode, r.Auth)
				}
			case r.Auth:
				if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: status %d without the key, want 401", name, resp.StatusCode)
				}
				for _, bad := range [][]string{
					{"Authorization", "Bearer wrong"},
					{"Authorization", "Bearer " + key[:len(key)-1]}, // a prefix
					{"Authorization", "Bearer " + key + "x"},
					{"Authorization", "Bearer "},
					{"Authorization", "Basic " + key},
					{"Authorization", key},
					{"X-Api-Key", "k3"},
					{"X-Api-Key", ""},
					{"X-Api-Key", key, "Authorization", "Bearer wrong"}, // Authorization wins
				} {
					if resp := send(method, p, bad...); resp.StatusCode != 401 {
						t.Errorf("%s with %q: status %d, want 401", name, bad, resp.StatusCode)
					}
				}
				for _, good := range [][]string{{"Authorization", "Bearer " + key}, {"Authorization", "bearer " + key}, {"X-Api-Key", key}} {
					if resp := send(method, p, good...); resp.StatusCode == 401 {
						t.Errorf("%s with %q: 401", name, good)
					}
				}
			default:
				// Public, without the key: only the chat page's files (or
				// --path's), static, and the 404 of unknown paths.
				page := method == "GET" && (p == pre || p == pre+"/" || path.Ext(p) != "" && path.Dir(p) == pre+"/" ||
					path.Ext(p) != "" && path.Dir(p) == pre)
				switch {
				case !ok:
					if resp.StatusCode != 404 {
						t.Errorf("%s (%s): status %d without the key, want 404", name, p, resp.StatusCode)
					}
				case page:
					if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
						t.Errorf("%s: a public route answers JSON (%s)", name, ct)
					}
				default:
					t.Errorf("%s: a public route that is neither /health nor the page", name)
				}
			}
		}
		t.Logf("prefix %q: %v routes", pre, counts)
	}
}
