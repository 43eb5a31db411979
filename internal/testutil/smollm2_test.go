package testutil

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestModelCacheDir(t *testing.T) {
	for _, tc := range []struct {
		cache, xdg, home string
		want             string
	}{
		{"/c", "/x", "/h", "/c/models"},
		{"", "/x", "/h", "/x/llamafile/models"},
		{"", "", "/h", "/h/.cache/llamafile/models"},
		{"", "", "", ""},
	} {
		t.Setenv("LLAMAFILE_CACHE", tc.cache)
		t.Setenv("XDG_CACHE_HOME", tc.xdg)
		t.Setenv("HOME", tc.home)
		got, err := ModelCacheDir()
		if tc.want == "" {
			if err == nil {
				t.Errorf("%+v: got %q, want an error", tc, got)
			}
			continue
		}
		if err != nil || got != filepath.FromSlash(tc.want) {
			t.Errorf("%+v: got %q, %v, want %q", tc, got, err, tc.want)
		}
	}
}

// recorder is a testing.TB that records the first Skip or Fatal and then
// stops its goroutine, as testing.T does.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// callSmolLM2 runs SmolLM2 with a recorder in its own goroutine.
func callSmolLM2(t *testing.T) (*recorder, string) {
	r := &recorder{TB: t}
	var path string
	done := make(chan struct{})
	go func() {
		defer close(done)
		path = SmolLM2(r)
	}()
	<-done
	return r, path
}

func TestSmolLM2Cache(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("LLAMAFILE_CACHE", cache)
	want := filepath.Join(cache, "models", SmolLM2Name)

	t.Setenv("CI", "")
	r, _ := callSmolLM2(t)
	if !r.skipped || r.failed || !strings.Contains(r.msg, "make smollm2") || !strings.Contains(r.msg, want) {
		t.Errorf("absent, CI unset: skipped %v, failed %v, %q; want a skip naming %s and make smollm2", r.skipped, r.failed, r.msg, want)
	}
	t.Setenv("CI", "true")
	r, _ = callSmolLM2(t)
	if !r.failed || r.skipped || !strings.Contains(r.msg, "CI=true") {
		t.Errorf("absent, CI=true: skipped %v, failed %v, %q; want a failure", r.skipped, r.failed, r.msg)
	}

	if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, []byte("GGUF"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CI", "")
	r, _ = callSmolLM2(t)
	if !r.failed || !strings.Contains(r.msg, "make smollm2") {
		t.Errorf("truncated file: skipped %v, failed %v, %q; want a failure", r.skipped, r.failed, r.msg)
	}

	// A sparse file of the right size stands in for the model.
	if err := os.Truncate(want, smolLM2Size); err != nil {
		t.Fatal(err)
	}
	r, got := callSmolLM2(t)
	if r.failed || r.skipped || got != want {
		t.Errorf("present: %q (skipped %v, failed %v, %q), want %q", got, r.skipped, r.failed, r.msg, want)
	}
}

// TestSmolLM2 checks the real cached model (make smollm2) where it is.
func TestSmolLM2(t *testing.T) {
	p := SmolLM2(t)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := f.Read(magic); err != nil || !bytes.Equal(magic, []byte("GGUF")) {
		t.Errorf("%s starts with %q (%v), want GGUF", p, magic, err)
	}
}
