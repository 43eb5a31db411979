package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
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

	"github.com/llamafile-go/llamafile/internal/synthvision"
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

// browser is a headless Chromium tab for the chat page tests, which
// records the requests it makes to hosts other than the server's.
type browser struct {
	t       *testing.T
	ctx     context.Context
	shots   string
	mu      sync.Mutex
	foreign []string
}

func newBrowser(t *testing.T, base string) *browser {
	exe := chromium(t)
	server, _ := url.Parse(base)
	b := &browser{t: t, shots: os.Getenv("LLAMAFILE_SCREENSHOTS")}
	if b.shots == "" {
		b.shots = t.TempDir()
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1100, 800), chromedp.DisableGPU,
		// Containers give /dev/shm little room.
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	b.ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel)
	err := chromedp.Listen(b.ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			u, err := url.Parse(e.Request.URL)
			if err != nil || (u.Host != server.Host && u.Scheme != "data" && u.Scheme != "blob") {
				b.mu.Lock()
				b.foreign = append(b.foreign, e.Request.URL)
				b.mu.Unlock()
			}
		}
	})
	if err != nil {
		t.Fatalf("chromium %s: %v", exe, err)
	}
	if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.foreign) > 0 {
			t.Errorf("requests to other hosts: %q", b.foreign)
		}
	})
	return b
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func evalIn[T any](b *browser, js string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}

func (b *browser) evalString(js string) string { b.t.Helper(); return evalIn[string](b, js) }
func (b *browser) evalInt(js string) int       { b.t.Helper(); return evalIn[int](b, js) }

// wait polls a JavaScript condition.
func (b *browser) wait(what, cond string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second))); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// screenshot writes the page in the light and the dark theme.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	for _, theme := range []string{"light", "dark"} {
		if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}}}); err != nil {
			b.t.Fatal(err)
		}
		b.do("settle", chromedp.Sleep(150*time.Millisecond))
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			b.t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(b.shots, name+"-"+theme+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
		b.t.Logf("screenshot %s (%d bytes)", path, len(png))
	}
}

// TestChatPage drives the chat page in headless Chromium against the
// real server on SmolLM2: a streamed reply, Stop, the conversation kept
// across a reload, markdown with a code block and a table, reasoning,
// screenshots in light and dark (and phone-sized), and no request to any
// other host.
func TestChatPage(t *testing.T) {
	model := testutil.SmolLM2(t)
	base, _ := inProcessServer(t, "-m", model, "-t", "2", "-c", "2048")
	b := newBrowser(t, base)
	do, evalString, evalInt, wait, screenshot := b.do, b.evalString, b.evalInt, b.wait, b.screenshot
	input := chromedp.ID("input")
	// storeConversation puts a conversation (messages: a JavaScript
	// array) first in the browser's store, makes it the current one and
	// reloads the page.
	storeConversation := func(id, title, messages string) {
		t.Helper()
		do("a conversation "+id, chromedp.Evaluate[chromedp.Void](`(() => {
		const cs = JSON.parse(localStorage.getItem('llamafile.conversations'));
		cs.unshift({id: '`+id+`', title: '`+title+`', updated: Date.now(), messages: `+messages+`});
		localStorage.setItem('llamafile.conversations', JSON.stringify(cs));
		localStorage.setItem('llamafile.current', JSON.stringify('`+id+`'));
	})()`), chromedp.Reload(), chromedp.WaitVisible(input))
	}
	setSettings := func(js string) {
		t.Helper()
		do("settings", chromedp.Evaluate[chromedp.Void](`localStorage.setItem('llamafile.settings', JSON.stringify(`+js+`))`),
			chromedp.Reload(), chromedp.WaitVisible(input))
	}

	do("load", chromedp.Navigate(base), chromedp.WaitVisible(input))
	wait("the model name", `document.getElementById('model').textContent.includes('SmolLM2')`)
	// No --mmproj: no attach control.
	if vis := evalString(`String(document.getElementById('attach').hidden)`); vis != "true" {
		t.Errorf("without a vision projector the attach control's hidden is %s", vis)
	}
	screenshot("empty")
	if ms := evalInt(`Math.round(performance.getEntriesByType('navigation')[0].loadEventEnd)`); ms > 0 {
		t.Logf("the page loaded in %d ms", ms)
	}

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
	const md = "Here:\n\n```go\nfunc main() { fmt.Println(\"hi\", 42) } // <b>x</b>\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\n<img src=x onerror=alert(1)> **bold**"
	storeConversation("md", "Markdown", `[{role: 'user', content: 'Show me markdown.'}, {role: 'assistant', content: `+jsString(md)+`}]`)
	code := evalString(`document.querySelector('.msg.assistant pre code').textContent`)
	cells := evalString(`[...document.querySelectorAll('.msg.assistant td')].map(td => td.textContent).join(',')`)
	imgs := evalInt(`document.querySelectorAll('.msg.assistant img').length`)
	tokens := evalString(`[...document.querySelectorAll('.msg.assistant pre code span')].map(s => s.className + '=' + s.textContent).join(' ')`)
	if code != `func main() { fmt.Println("hi", 42) } // <b>x</b>` || cells != "1,2,3,4" || imgs != 0 ||
		tokens != `tok-keyword=func tok-string="hi" tok-number=42 tok-comment=// <b>x</b>` {
		t.Errorf("markdown: code %q (tokens %s), cells %q, %d img elements", code, tokens, cells, imgs)
	}
	screenshot("conversation")

	// Math, as MathML: inline, displayed over lines, and prices that are
	// not math.
	const mathMD = "Euler: $e^{i\\pi} + 1 = 0$ and \\(\\alpha_1\\).\n\n$$\n\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}\n$$\n\nIt costs $5 and $10.\n\n\\[\\sqrt{x^2} = \\mathbb{R}\\]"
	storeConversation("math", "Math", `[{role: 'user', content: 'Math?'}, {role: 'assistant', content: `+jsString(mathMD)+`}]`)
	mathInfo := evalString(`JSON.stringify([...document.querySelectorAll('.msg.assistant math')].map(m => [m.getAttribute('display') || 'inline', m.querySelector('semantics > :first-child').textContent, [...m.querySelectorAll('msup, msub, mfrac, munderover, msqrt')].map(e => e.localName).join(' ')]))`)
	wantMath := `[["inline","eiπ+1=0","msup"],["inline","α1","msub"],["block","∑k=1nk=n(n+1)2","munderover mfrac"],["block","x2=ℝ","msqrt msup"]]`
	if mathInfo != wantMath || !strings.Contains(evalString(`document.querySelector('.msg.assistant .body').textContent`), "It costs $5 and $10.") {
		t.Errorf("math: %s\nwant %s", mathInfo, wantMath)
	}
	if h := evalInt(`Math.round(document.querySelector('.msg.assistant mfrac').getBoundingClientRect().height)`); h < 20 {
		t.Errorf("the fraction is %d px tall: MathML not laid out", h)
	}
	screenshot("math")

	// Export every conversation as JSON, then import a file of another.
	exported := evalIn[string](b, `new Promise(resolve => {
		const orig = URL.createObjectURL;
		URL.createObjectURL = blob => { URL.createObjectURL = orig; blob.text().then(resolve); return orig(blob); };
		document.getElementById('export').click();
	})`, chromedp.EvalAwaitPromise)
	var dump struct {
		Conversations []struct {
			ID       string
			Messages []struct{ Role, Content string }
		}
	}
	if err := json.Unmarshal([]byte(exported), &dump); err != nil || len(dump.Conversations) < 3 || dump.Conversations[0].ID != "math" || dump.Conversations[0].Messages[1].Content != mathMD {
		t.Errorf("export: %v, %.300s", err, exported)
	}
	importFile := filepath.Join(t.TempDir(), "import.json")
	os.WriteFile(importFile, []byte(`{"conversations": [{"id": "imported", "title": "From a file", "messages": [{"role": "user", "content": "Hello from a file"}, {"role": "assistant", "content": "Hi *there*"}]}]}`), 0o644)
	do("import", chromedp.SetUploadFiles(chromedp.ID("import"), []string{importFile}))
	wait("the imported conversation", `document.getElementById('conversations').textContent.includes('From a file')`)
	if n := evalInt(`JSON.parse(localStorage.getItem('llamafile.conversations')).length`); n != len(dump.Conversations)+1 {
		t.Errorf("after the import: %d conversations, want %d", n, len(dump.Conversations)+1)
	}

	// Reasoning, in a closed block above the answer.
	storeConversation("think", "Thinking", `[{role: 'user', content: '2+2?'}, {role: 'assistant', content: '4', reasoning: 'Two and two make four.'}]`)
	if r := evalString(`(() => { const d = document.querySelector('.msg.assistant details.reasoning'); return d && !d.open ? d.textContent : ''; })()`); !strings.Contains(r, "Two and two") {
		t.Errorf("reasoning block: %q", r)
	}

	// Regenerate the stored reply, then edit the question: the model
	// answers again, the conversation continues from the edit.
	setSettings(`{system: '', temperature: 0, top_p: 0.95, top_k: 40, min_p: 0.05, max_tokens: 16, seed: 1, extra: ''}`)
	do("regenerate", chromedp.Click(chromedp.CSS(`.msg.assistant button[aria-label="Regenerate the reply"]`)))
	wait("the regenerated reply", `!document.getElementById('send').hidden && document.querySelector('.msg.assistant .meta') !== null`)
	stored := func() string {
		return evalString(`JSON.stringify(JSON.parse(localStorage.getItem('llamafile.conversations')).find(c => c.id === 'think').messages.map(m => m.role + ':' + (m.content !== '' ? 'text' : 'empty') + (m.role === 'user' ? ':' + m.content : '')))`)
	}
	if got := stored(); got != `["user:text:2+2?","assistant:text"]` || evalString(`document.querySelector('.msg.assistant .body').textContent`) == "4" {
		t.Errorf("after Regenerate: %s", got)
	}
	do("edit", chromedp.Click(chromedp.CSS(`.msg.user button[aria-label="Edit the message"]`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.msg.user .edit textarea').value = '3+3?'`),
		chromedp.Click(chromedp.CSS(`.msg.user .edit button[aria-label="Send the edited message"]`)))
	wait("the reply to the edit", `!document.getElementById('send').hidden && document.querySelectorAll('.msg').length === 2 && document.querySelector('.msg.assistant .meta') !== null`)
	if got := stored(); got != `["user:text:3+3?","assistant:text"]` {
		t.Errorf("after Edit: %s", got)
	}

	// A phone-sized screen: the list folds away behind a button.
	if _, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 390, Height: 760, DeviceScaleFactor: 1, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	do("settle", chromedp.Sleep(300*time.Millisecond))
	if w := evalInt(`Math.round(document.getElementById('sidebar').getBoundingClientRect().right)`); w > 0 {
		t.Errorf("on a phone the conversation list covers the page (right edge %d)", w)
	}
	screenshot("phone")
}

// TestChatPageVision: with --mmproj the page offers an attach control; an
// attached PNG is previewed, sent as an image_url part and kept in the
// conversation, shown in the message; Edit and Regenerate keep it; a large
// image is scaled down to 1024 px before it is kept; a full storage is
// said.
func TestChatPageVision(t *testing.T) {
	modelPath := testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf")
	dir := t.TempDir()
	mmproj, png := visionFiles(t, dir)
	bigPNG, err := synthvision.PNG(synthvision.Image(2000, 1200, 2))
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.png")
	if err := os.WriteFile(big, bigPNG, 0o644); err != nil {
		t.Fatal(err)
	}
	base, _ := inProcessServer(t, "-m", modelPath, "--mmproj", mmproj, "-t", "2", "-c", "512")
	b := newBrowser(t, base)
	do, evalString, evalInt, wait := b.do, b.evalString, b.evalInt, b.wait
	input := chromedp.ID("input")

	do("load", chromedp.Navigate(base), chromedp.WaitVisible(input))
	do("settings", chromedp.Evaluate[chromedp.Void](`localStorage.setItem('llamafile.settings', JSON.stringify({system: '', temperature: 0, top_p: 0.95, top_k: 40, min_p: 0.05, max_tokens: 6, seed: 1, extra: '{"ignore_eos": true}'}))`),
		chromedp.Reload(), chromedp.WaitVisible(input))
	do("the attach control", chromedp.WaitVisible(chromedp.ID("attach")))
	if label := evalString(`document.getElementById('attach').getAttribute('aria-label')`); label == "" {
		t.Error("the attach control has no accessible label")
	}
	// Record the chat requests' bodies.
	record := func() {
		t.Helper()
		do("record requests", chromedp.Evaluate[chromedp.Void](`(() => {
		window.bodies = [];
		const f = window.pageFetch ??= window.fetch;
		window.fetch = (u, o) => { if (String(u).endsWith('/v1/chat/completions')) window.bodies.push(JSON.parse(o.body)); return f(u, o); };
	})()`))
	}
	record()
	do("attach", chromedp.SetUploadFiles(chromedp.ID("image-file"), []string{png}))
	wait("the preview", `(() => { const i = document.querySelector('#attachments img'); return !!i && i.complete && i.naturalWidth === 97; })()`)
	b.screenshot("vision-attached")
	do("send", chromedp.SendKeys(input, "What is this?"), chromedp.KeyEvent("\r"))
	wait("a streamed reply", `(() => { const m = document.querySelector('.msg.assistant'); return !!m && (m.querySelector('.body').textContent.length > 0 || !!m.querySelector('.error')); })()`)
	wait("the reply to end", `!document.getElementById('send').hidden`)
	if e := evalString(`document.querySelector('.msg.assistant .error')?.textContent ?? ''`); e != "" {
		t.Fatalf("the reply is an error: %s", e)
	}
	wantURL := "data:image/png;base64," + base64.StdEncoding.EncodeToString(mustRead(t, png))
	type part struct {
		Type     string
		Text     string
		ImageURL struct{ URL string } `json:"image_url"`
	}
	requests := func() [][]part {
		t.Helper()
		var bodies []struct {
			Messages []struct {
				Role    string
				Content json.RawMessage
			}
		}
		if err := json.Unmarshal([]byte(evalString(`JSON.stringify(window.bodies)`)), &bodies); err != nil {
			t.Fatal(err)
		}
		var out [][]part
		for _, b := range bodies {
			var parts []part
			if len(b.Messages) == 0 || json.Unmarshal(b.Messages[0].Content, &parts) != nil {
				t.Fatalf("the request's first message: %+v", b.Messages)
			}
			out = append(out, parts)
		}
		return out
	}
	checkRequest := func(what, text string) {
		t.Helper()
		rs := requests()
		if len(rs) != 1 || len(rs[0]) != 2 || rs[0][0].Type != "text" || rs[0][0].Text != text ||
			rs[0][1].Type != "image_url" || rs[0][1].ImageURL.URL != wantURL {
			t.Errorf("%s: the request's parts %.300v", what, rs)
		}
	}
	checkRequest("send", "What is this?")
	stored := func() string {
		return evalString(`JSON.stringify(JSON.parse(localStorage.getItem('llamafile.conversations'))[0].messages.map(m => m.role + ':' + m.content.length + ':' + (m.images || []).map(u => u.length).join(',')))`)
	}
	want := fmt.Sprintf(`"user:13:%d"`, len(wantURL))
	if got := stored(); !strings.HasPrefix(got, "["+want+`,"assistant:`) || strings.HasSuffix(got, `:0:"]`) {
		t.Errorf("stored %s, want the image in the user message and a reply", got)
	}
	if src := evalString(`document.querySelector('.msg.user img')?.src ?? ''`); src != wantURL {
		t.Errorf("the sent message shows %.60q", src)
	}
	if n := evalInt(`document.querySelectorAll('#attachments img').length`); n != 0 {
		t.Errorf("%d images still attached after the send", n)
	}
	b.screenshot("vision-reply")

	// Kept across a reload, then Regenerate and Edit keep the image.
	do("reload", chromedp.Reload(), chromedp.WaitVisible(input))
	wait("the image after a reload", `(() => { const i = document.querySelector('.msg.user img'); return !!i && i.complete && i.naturalWidth === 97; })()`)
	record()
	do("regenerate", chromedp.Click(chromedp.CSS(`.msg.assistant button[aria-label="Regenerate the reply"]`)))
	wait("the regenerated reply", `!document.getElementById('send').hidden && document.querySelector('.msg.assistant .meta') !== null`)
	checkRequest("regenerate", "What is this?")
	record()
	do("edit", chromedp.Click(chromedp.CSS(`.msg.user button[aria-label="Edit the message"]`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.msg.user .edit textarea').value = 'And now?'`),
		chromedp.Click(chromedp.CSS(`.msg.user .edit button[aria-label="Send the edited message"]`)))
	wait("the reply to the edit", `!document.getElementById('send').hidden && document.querySelectorAll('.msg').length === 2 && document.querySelector('.msg.assistant .meta') !== null`)
	checkRequest("edit", "And now?")
	if got := stored(); !strings.HasPrefix(got, fmt.Sprintf(`["user:8:%d","assistant:`, len(wantURL))) {
		t.Errorf("after Edit: stored %s", got)
	}

	// A large image is kept at most 1024 px a side.
	do("attach a large one", chromedp.SetUploadFiles(chromedp.ID("image-file"), []string{big}))
	wait("its preview", `(() => { const i = document.querySelector('#attachments img'); return !!i && i.complete && i.naturalWidth > 0; })()`)
	if wh := evalString(`(() => { const i = document.querySelector('#attachments img'); return i.naturalWidth + 'x' + i.naturalHeight + ' ' + i.src.slice(0, 22); })()`); wh != "1024x614 data:image/jpeg;base64" {
		t.Errorf("the large image is kept as %s, want 1024x614 data:image/jpeg;base64", wh)
	}
	do("remove it", chromedp.Click(chromedp.CSS(`#attachments button[aria-label="Remove image 1"]`)))
	if h := evalString(`String(document.getElementById('attachments').hidden)`); h != "true" {
		t.Errorf("after the remove the attachments' hidden is %s", h)
	}

	// A full storage is said, the reply still comes.
	do("full storage", chromedp.Evaluate[chromedp.Void](`(() => {
		const set = Storage.prototype.setItem;
		Storage.prototype.setItem = function (k, v) { if (k === 'llamafile.conversations') throw new DOMException('full', 'QuotaExceededError'); return set.call(this, k, v); };
	})()`))
	do("send with a full storage", chromedp.SendKeys(input, "Two?"), chromedp.KeyEvent("\r"))
	wait("the reply", `!document.getElementById('send').hidden && document.querySelectorAll('.msg.assistant .meta').length === 2`)
	if n := evalString(`(() => { const n = document.getElementById('notice'); return n.hidden ? '' : n.textContent; })()`); !strings.Contains(n, "could not be saved") || !strings.Contains(n, "storage is full") {
		t.Errorf("with a full storage the notice is %q", n)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChatPageAPIKey: under --url-prefix, with --api-key, the page asks
// for the key, then works with it.
func TestChatPageAPIKey(t *testing.T) {
	base, _ := inProcessServer(t, "-m", stories(t), "-t", "1", "-c", "256", "--api-key", "s3cret", "--url-prefix", "/llama")
	if !strings.HasSuffix(strings.TrimSuffix(base, "/"), "/llama") {
		t.Fatalf("the server's URL %q lacks the prefix", base)
	}
	base = strings.TrimSuffix(base, "/") // the server redirects to the page's directory
	b := newBrowser(t, base)
	b.do("load", chromedp.Navigate(base))
	b.wait("the key dialog", `document.getElementById('apikey').open`)
	b.do("enter the key", chromedp.SendKeys(chromedp.CSS("#apikey input"), "s3cret"), chromedp.Click(chromedp.CSS("#apikey button")))
	b.wait("the model name", `document.getElementById('model').textContent.includes('stories260k')`)
	// (Keys typed right after the modal dialog closes can land in it.)
	b.do("send", chromedp.Evaluate[chromedp.Void](`document.getElementById('input').value = 'Once upon a time'; document.getElementById('form').requestSubmit()`))
	b.wait("a reply", `(() => { const m = document.querySelector('.msg.assistant'); return !!m && !!m.querySelector('.meta, .error'); })()`)
	if m := b.evalString(`document.querySelector('.msg.assistant').textContent`); !strings.Contains(m, "tokens/s") || strings.Contains(m, "API key") {
		t.Errorf("the reply: %q", m)
	}
}

// jsString writes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`", "$", `\$`)
	return "`" + r.Replace(s) + "`"
}
