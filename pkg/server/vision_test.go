package server

import (
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/synthvision"
	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// visionServer serves the synthetic llama with the synthetic projector
// (withProjector) or without.
func visionServer(t *testing.T, withProjector bool) string {
	t.Helper()
	m, err := engine.Open(testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf"), engine.Options{Threads: 2, ContextSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := m.NewScheduler(engine.ServeOptions{Slots: 1, ContextSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	en := &Engine{Model: m, Scheduler: sched, Template: chat.Default(), TemplateSource: "chatml"}
	if withProjector {
		path := filepath.Join(t.TempDir(), "mmproj.gguf")
		if err := synthvision.WriteFile(path, synthvision.Small(), 1); err != nil {
			t.Fatal(err)
		}
		if en.Projector, err = engine.OpenProjector(path, 2); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{Defaults: sample.DefaultParams(), DefaultMaxTokens: -1, CachePrompt: true}
	cfg.Defaults.Temp = 0
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetBackend(en)
	base, stop := serveLoopback(t, srv)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
		sched.Close()
		if en.Projector != nil {
			en.Projector.Close()
		}
		m.Close()
	})
	return base
}

func imageChat(url string) string {
	return `{"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"` + url + `"}}]}],"max_tokens":3}`
}

// TestVisionChat: an image_url data: part is read and a reply comes; /props
// says vision; remote URLs, bad images and images for a model without a
// projector are 400s that say why; a body past the limit is a 413 while a
// few-MB image fits.
func TestVisionChat(t *testing.T) {
	png, err := synthvision.PNG(synthvision.Image(97, 61, 1))
	if err != nil {
		t.Fatal(err)
	}
	dataURL := "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	base := visionServer(t, true)
	var props struct {
		Modalities map[string]bool `json:"modalities"`
	}
	if err := json.Unmarshal(get(t, base+"/props", 200), &props); err != nil || !props.Modalities["vision"] {
		t.Errorf("/props modalities %v (%v), want vision", props.Modalities, err)
	}
	var resp struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(post(t, base+"/v1/chat/completions", imageChat(dataURL), 200), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 1 || resp.Usage.PromptTokens < 64 {
		t.Errorf("reply %+v: want one choice and a prompt holding the image's 64 positions", resp)
	}
	for _, c := range []struct{ body, want string }{
		{imageChat("https://example.com/cat.png"), "only data: URLs"},
		{imageChat("data:image/png;base64,bm90IGFuIGltYWdl"), "bad image"},
		{imageChat("data:image/png,raw"), "base64"},
	} {
		if b := post(t, base+"/v1/chat/completions", c.body, 400); !strings.Contains(string(b), c.want) {
			t.Errorf("400 says %s, want %q", b, c.want)
		}
	}
	// A few-MB image body fits the default 32 MiB limit (it fails as an
	// image, not as a body); 40 MB is a 413.
	big := "data:image/png;base64," + strings.Repeat("A", 4<<20)
	post(t, base+"/v1/chat/completions", imageChat(big), 400)
	post(t, base+"/v1/chat/completions", imageChat("data:image/png;base64,"+strings.Repeat("A", 40<<20)), 413)

	plain := visionServer(t, false)
	if err := json.Unmarshal(get(t, plain+"/props", 200), &props); err != nil || props.Modalities["vision"] {
		t.Errorf("/props without a projector: modalities %v (%v)", props.Modalities, err)
	}
	if b := post(t, plain+"/v1/chat/completions", imageChat(dataURL), 400); !strings.Contains(string(b), "no vision projector") {
		t.Errorf("image to a model without a projector: %s", b)
	}
}
