package server

import (
	"bytes"
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

// TestVisionApplyTemplate: /apply-template renders image_url parts as
// llama-server does: each is the media marker in the prompt, joined to
// the text around it without a newline (text parts get one between
// them); the image is not decoded, but only base64 data: URLs are taken;
// without a projector an image is a 400 that says so. Chat completions
// read the messages the same way.
func TestVisionApplyTemplate(t *testing.T) {
	png, err := synthvision.PNG(synthvision.Image(97, 61, 1))
	if err != nil {
		t.Fatal(err)
	}
	dataURL := "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	msgs := func(url string) string {
		return `{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[` +
			`{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"` + url + `"}},` +
			`{"type":"text","text":"And this?"},{"type":"text","text":"Say."},{"type":"image_url","image_url":{"url":"` + url + `"}}]}]}`
	}
	const want = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is this?<__media__>And this?\nSay.<__media__><|im_end|>\n<|im_start|>assistant\n"
	base := visionServer(t, true)
	var at struct{ Prompt string }
	for _, url := range []string{dataURL, "data:image/png;base64,bm90IGFuIGltYWdl"} {
		if err := json.Unmarshal(post(t, base+"/apply-template", msgs(url), 200), &at); err != nil || at.Prompt != want {
			t.Errorf("/apply-template with images (%.30s): %q (%v)\nwant %q", url, at.Prompt, err, want)
		}
	}
	for _, c := range []struct{ body, want string }{
		{msgs("https://example.com/cat.png"), "only data: URLs"},
		{msgs("data:image/png,raw"), "base64"},
		{`{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, "messages[0].content[0].image_url"},
	} {
		if b := post(t, base+"/apply-template", c.body, 400); !strings.Contains(string(b), c.want) {
			t.Errorf("/apply-template 400 says %s, want %q", b, c.want)
		}
	}
	// Chat completions read the messages the same way (the text the
	// template renders, the images in order).
	var req struct{ Messages []chatMessage }
	if err := json.Unmarshal([]byte(msgs(dataURL)), &req); err != nil {
		t.Fatal(err)
	}
	cm, imgs, err := chatMessagesImages(req.Messages)
	if err != nil || len(cm) != 2 || cm[1].Content != "What is this?<__media__>And this?\nSay.<__media__>" || len(imgs) != 2 ||
		imgs[1].field != "messages[1].content[4].image_url.url" || !bytes.Equal(imgs[0].data, png) {
		t.Errorf("chatMessagesImages: %+v, %d images (%v)", cm, len(imgs), err)
	}

	plain := visionServer(t, false)
	if b := post(t, plain+"/apply-template", msgs(dataURL), 400); !strings.Contains(string(b), "no vision projector") || !strings.Contains(string(b), "--mmproj") {
		t.Errorf("/apply-template of an image without a projector: %s", b)
	}
	if err := json.Unmarshal(post(t, plain+"/apply-template", `{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`, 200), &at); err != nil ||
		at.Prompt != "<|im_start|>user\na\nb<|im_end|>\n<|im_start|>assistant\n" {
		t.Errorf("/apply-template of text parts: %q (%v)", at.Prompt, err)
	}
}

// goldenFirst is the arg max of llama.cpp's logits at the last position of
// pkg/vision's golden image prompt ("Once upon a time <__media__> there
// was a cat" with the 97×61 image).
func goldenFirst(t *testing.T) int32 {
	t.Helper()
	m, err := engine.Open(testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf"), engine.Options{Threads: 1, ContextSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	nVocab := m.NumVocab()
	m.Close()
	first, err := synthvision.GoldenNext(testutil.RepoRoot(t), nVocab)
	if err != nil {
		t.Fatal(err)
	}
	return first
}

// TestVisionCompletion: /completion takes llama.cpp's multimodal prompt
// {"prompt_string", "multimodal_data"}, alone or in a list of prompts; the
// golden's image prompt gives llama.cpp's first greedy token; the 400s are
// chat's (no projector, a bad image) and a marker count that is not the
// images'; /v1/completions takes it too.
func TestVisionCompletion(t *testing.T) {
	png, err := synthvision.PNG(synthvision.Image(97, 61, 1))
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(png)
	mm := func(prompt string, data ...string) string {
		d, _ := json.Marshal(data)
		p, _ := json.Marshal(prompt)
		return `{"prompt_string":` + string(p) + `,"multimodal_data":` + string(d) + `}`
	}
	const golden = "Once upon a time <__media__> there was a cat"
	base := visionServer(t, true)
	type result struct {
		Content         string `json:"content"`
		Prompt          string `json:"prompt"`
		TokensEvaluated int    `json:"tokens_evaluated"`
		Probs           []struct {
			ID int32 `json:"id"`
		} `json:"completion_probabilities"`
	}
	var one result
	if err := json.Unmarshal(post(t, base+"/completion", `{"prompt":`+mm(golden, b64)+`,"n_predict":3,"n_probs":1}`, 200), &one); err != nil {
		t.Fatal(err)
	}
	first := goldenFirst(t)
	if len(one.Probs) == 0 || one.Probs[0].ID != first || one.TokensEvaluated < 64 || !strings.Contains(one.Prompt, "<__media__> there was a cat") {
		t.Errorf("/completion: %+v; want the first token %d (llama.cpp's), 64 image positions, the prompt with its marker", one, first)
	}
	// A data: URL works as well as bare base64; a list mixes prompts.
	var list []result
	body := `{"prompt":[` + mm(golden, "data:image/png;base64,"+b64) + `,"Once upon a time"],"n_predict":2,"n_probs":1}`
	if err := json.Unmarshal(post(t, base+"/completion", body, 200), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || len(list[0].Probs) == 0 || list[0].Probs[0].ID != first || list[1].TokensEvaluated >= 64 {
		t.Errorf("a list of prompts: %+v", list)
	}
	var oai struct {
		Choices []struct{ Text string } `json:"choices"`
	}
	if err := json.Unmarshal(post(t, base+"/v1/completions", `{"prompt":`+mm(golden, b64)+`,"max_tokens":2,"echo":true}`, 200), &oai); err != nil || len(oai.Choices) != 1 || !strings.Contains(oai.Choices[0].Text, golden) {
		t.Errorf("/v1/completions with echo: %+v (%v)", oai, err)
	}

	for _, c := range []struct{ prompt, want string }{
		{mm("two <__media__> <__media__>", b64), "1 image, but the prompt_string has 2 <__media__> markers"},
		{mm("none", b64), "1 image, but the prompt_string has 0 <__media__> markers"},
		{mm("<__media__>"), "0 images, but the prompt_string has 1 <__media__> marker:"},
		{mm("<__media__>", "bm90IGFuIGltYWdl"), "bad image"},
		{mm("<__media__>", "!!!"), "bad base64"},
		{`{"multimodal_data":["` + b64 + `"]}`, "prompt.prompt_string"},
		{`{"prompt_string":"<__media__>","multimodal_data":"` + b64 + `"}`, "a list of base64 strings"},
		{`["text",` + mm("x <__media__> <__media__>", b64) + `]`, "prompt[1].multimodal_data"},
	} {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		b := post(t, base+"/completion", `{"prompt":`+c.prompt+`,"n_predict":1}`, 400)
		if json.Unmarshal(b, &e); !strings.Contains(e.Error.Message, c.want) {
			t.Errorf("%.60s: 400 says %s, want %q", c.prompt, b, c.want)
		}
	}
	plain := visionServer(t, false)
	if b := post(t, plain+"/completion", `{"prompt":`+mm(golden, b64)+`,"n_predict":1}`, 400); !strings.Contains(string(b), "no vision projector") {
		t.Errorf("an image to a model without a projector: %s", b)
	}
	// Text prompts are as before.
	post(t, plain+"/completion", `{"prompt":"Once upon a time","n_predict":1}`, 200)
}
