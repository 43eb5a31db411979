package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// chromium finds Debian's chromium (or another Chrome); without one the
// browser tests skip, and fail in CI, whose .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH: .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH (apt-get install chromium)")
	return ""
}

// TestChatPage drives the chat page in headless Chromium against the
// real server on SmolLM2: a streamed reply, Stop, the conversation kept
// across a reload, markdown with a code block and a table, screenshots in
// light and dark, and no request to any other host.
func TestChatPage(t *testing.T) {
	exe := chromium(t)
	model := testutil.SmolLM2(t)
	base, _ := inProcessServer(t, "-m", model, "-t", "2", "-c", "2048")
	server, _ := url.Parse(base)
	shots := os.Getenv("LLAMAFILE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1100, 800), chromedp.DisableGPU,
		// Containers give /dev/shm little room.
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	var mu sync.Mutex
	var foreign []string
	listen := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			u, err := url.Parse(e.Request.URL)
			if err != nil || (u.Host != server.Host && u.Scheme != "data" && u.Scheme != "blob") {
				mu.Lock()
				foreign = append(foreign, e.Request.URL)
				mu.Unlock()
			}
		}
	})
	if listen != nil {
		t.Fatalf("chromium %s: %v", exe, listen)
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	evalString := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	evalInt := func(js string) int {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	// wait polls a JavaScript condition.
	wait := func(what, cond string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second))); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	screenshot := func(name string) {
		t.Helper()
		for _, theme := range []string{"light", "dark"} {
			if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}}}); err != nil {
				t.Fatal(err)
			}
			do("settle", chromedp.Sleep(150*time.Millisecond))
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot %s: %v", name, err)
			}
			path := filepath.Join(shots, name+"-"+theme+".png")
			if err := os.WriteFile(path, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot %s (%d bytes)", path, len(png))
		}
	}
	input := chromedp.ID("input")
	setSettings := func(js string) {
		t.Helper()
		do("settings", chromedp.Evaluate[chromedp.Void](`localStorage.setItem('llamafile.settings', JSON.stringify(`+js+`))`),
			chromedp.Reload(), chromedp.WaitVisible(input))
	}

	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	do("load", chromedp.Navigate(base), chromedp.WaitVisible(input))
	wait("the model name", `document.getElementById('model').textContent.includes('SmolLM2')`)
	screenshot("empty")

	// Greedy and short.
	setSettings(`{system: '', temperature: 0, top_p: 0.95, top_k: 40, min_p: 0.05, max_tokens: 48, seed: 1, extra: ''}`)
	do("send", chromedp.SendKeys(input, "What is the capital of France?"), chromedp.KeyEvent("\r"))
	wait("a streamed reply", `(() => { const m = document.querySelectorAll('.msg.assistant .body'); return m.length === 1 && m[0].textContent.length > 0; })()`)
	wait("the reply to end", `!document.getElementById('send').hidden`)
	meta := evalString(`document.querySelector('.msg.assistant .meta').textContent`)
	reply := evalString(`JSON.parse(localStorage.getItem('llamafile.conversations'))[0].messages[1].content`)
	// The same request from Go: the page streamed the server's reply.
	var api struct {
		Choices []struct{ Message struct{ Content string } }
	}
	body := `{"messages":[{"role":"user","content":"What is the capital of France?"}],"temperature":0,"top_p":0.95,"top_k":40,"min_p":0.05,"max_tokens":48,"seed":1}`
	if err := json.Unmarshal(postJSON(t, base+"/v1/chat/completions", body), &api); err != nil || len(api.Choices) != 1 {
		t.Fatalf("the API: %v", err)
	}
	if reply == "" || reply != api.Choices[0].Message.Content || !strings.Contains(meta, "tokens/s") || !strings.Contains(meta, "context") {
		t.Errorf("reply %q (the API: %q), meta %q", reply, api.Choices[0].Message.Content, meta)
	}

	// Stop a long reply (ignore_eos: the model would end early).
	setSettings(`{system: '', temperature: 0, top_p: 0.95, top_k: 40, min_p: 0.05, max_tokens: 1500, seed: 1, extra: '{"ignore_eos": true}'}`)
	do("send a long one", chromedp.SendKeys(input, "Tell me a very long story."), chromedp.KeyEvent("\r"))
	wait("the long reply to start", `(() => { const m = document.querySelectorAll('.msg.assistant .body'); return m.length === 2 && m[1].textContent.length > 20; })()`)
	do("stop", chromedp.Click(chromedp.ID("stop")))
	wait("stopped", `!document.getElementById('send').hidden`)
	if meta := evalString(`document.querySelectorAll('.msg.assistant .meta')[1].textContent`); !strings.Contains(meta, "stopped") {
		t.Errorf("after Stop the meta is %q", meta)
	}

	// Kept across a reload.
	do("reload", chromedp.Reload(), chromedp.WaitVisible(input))
	n := evalInt(`document.querySelectorAll('.msg').length`)
	titles := evalString(`document.getElementById('conversations').textContent`)
	if n != 4 || !strings.Contains(titles, "What is the capital") {
		t.Errorf("after a reload: %d messages (want 4), conversations %q", n, titles)
	}

	// Markdown: a stored reply with a code block, a table and markup that
	// must stay text.
	const md = "Here:\n\n```go\nfmt.Println(\"hi\")\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\n<img src=x onerror=alert(1)> **bold**"
	do("a markdown reply", chromedp.Evaluate[chromedp.Void](`(() => {
		const cs = JSON.parse(localStorage.getItem('llamafile.conversations'));
		cs.unshift({id: 'md', title: 'Markdown', updated: Date.now(), messages: [{role: 'user', content: 'Show me markdown.'}, {role: 'assistant', content: `+jsString(md)+`}]});
		localStorage.setItem('llamafile.conversations', JSON.stringify(cs));
		localStorage.setItem('llamafile.current', JSON.stringify('md'));
	})()`), chromedp.Reload(), chromedp.WaitVisible(input))
	code := evalString(`document.querySelector('.msg.assistant pre code').textContent`)
	cells := evalString(`[...document.querySelectorAll('.msg.assistant td')].map(td => td.textContent).join(',')`)
	imgs := evalInt(`document.querySelectorAll('.msg.assistant img').length`)
	if code != `fmt.Println("hi")` || cells != "1,2,3,4" || imgs != 0 {
		t.Errorf("markdown: code %q, cells %q, %d img elements", code, cells, imgs)
	}
	screenshot("conversation")

	mu.Lock()
	defer mu.Unlock()
	if len(foreign) > 0 {
		t.Errorf("requests to other hosts: %q", foreign)
	}
}

// jsString writes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`", "$", `\$`)
	return "`" + r.Replace(s) + "`"
}
