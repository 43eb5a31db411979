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
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

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

// record makes the page keep the bodies of its chat requests, from now
// on, for requests.
func (b *browser) record() {
	b.t.Helper()
	b.do("record requests", chromedp.Evaluate[chromedp.Void](`(() => {
		window.bodies = [];
		const f = window.pageFetch ??= window.fetch;
		window.fetch = (u, o) => { if (String(u).endsWith('/v1/chat/completions')) window.bodies.push(JSON.parse(o.body)); return f(u, o); };
	})()`))
}

// requests decodes the bodies of the chat requests since record into v
// (a pointer to a slice).
func (b *browser) requests(v any) {
	b.t.Helper()
	if err := json.Unmarshal([]byte(b.evalString(`JSON.stringify(window.bodies)`)), v); err != nil {
		b.t.Fatal(err)
	}
}

// dialog runs action, which opens a JavaScript dialog (prompt, confirm),
// answers the dialog (accept, with text for a prompt) and returns it.
func (b *browser) dialog(what string, accept bool, text string, action chromedp.Action[chromedp.Void]) page.EventJavascriptDialogOpening {
	b.t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	// The dialog blocks the page, and so the click that opened it.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(b.ctx, action) }()
	var opened page.EventJavascriptDialogOpening
	for ev, err := range dialogs {
		if err != nil {
			b.t.Fatalf("%s: no dialog: %v", what, err)
		}
		opened = ev
		break
	}
	if _, err := chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept, PromptText: text}); err != nil {
		b.t.Fatalf("%s: answering the dialog: %v", what, err)
	}
	if err := <-done; err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return opened
}

// screenshot writes the page in the light and the dark theme, and checks
// that the themes differ: the dark one's background is darker.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	var bg [2]string
	var lum [2]int
	for i, theme := range []string{"light", "dark"} {
		if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}}}); err != nil {
			b.t.Fatal(err)
		}
		b.do("settle", chromedp.Sleep(150*time.Millisecond))
		bg[i] = b.evalString(`getComputedStyle(document.body).backgroundColor`)
		lum[i] = b.evalInt(`(() => { const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number); return r + g + b; })()`)
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
	if bg[0] == bg[1] || lum[1] >= lum[0] {
		b.t.Errorf("%s: the background is %s in the light theme, %s in the dark one", name, bg[0], bg[1])
	}
}

// TestChatPage drives the chat page in headless Chromium against the
// real server on SmolLM2: a streamed reply, Shift+Enter, Stop by Escape
// and by the button, the conversation kept across a reload, markdown with
// a code block, a table and links, Copy, rename and delete, reasoning, the
// Settings dialog, screenshots in light and dark (and phone-sized), and no
// request to any other host.
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

	// Shift+Enter adds a line and sends nothing; Escape stops a long
	// reply (ignore_eos: the model would end early), as the Stop button
	// does.
	setSettings(`{system: '', temperature: 0, top_p: 0.95, top_k: 40, min_p: 0.05, max_tokens: 1500, seed: 1, extra: '{"ignore_eos": true}'}`)
	const twoLines = "Tell me a very long story.\nAbout a dragon."
	do("two lines", chromedp.SendKeys(input, "Tell me a very long story."), chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierShift)),
		chromedp.KeyEvent("About a dragon."))
	if v, n := evalString(`document.getElementById('input').value`), evalInt(`document.querySelectorAll('.msg').length`); v != twoLines || n != 2 {
		t.Errorf("after Shift+Enter: the input holds %q (want %q), %d messages (want 2)", v, twoLines, n)
	}
	stopLong := func(how string, stop chromedp.Action[chromedp.Void]) {
		t.Helper()
		wait("the long reply to start", `(() => { const m = document.querySelectorAll('.msg.assistant .body'); return m.length >= 2 && m[m.length - 1].textContent.length > 20 && !document.getElementById('stop').hidden; })()`)
		do("stop by "+how, stop)
		wait("stopped by "+how, `!document.getElementById('send').hidden`)
		if meta := evalString(`[...document.querySelectorAll('.msg.assistant .meta')].at(-1).textContent`); !strings.Contains(meta, "stopped") {
			t.Errorf("after a stop by %s the meta is %q", how, meta)
		}
	}
	do("send the two lines", chromedp.KeyEvent("\r"))
	stopLong("Escape", chromedp.KeyEvent(kb.Escape))
	if got := evalString(`JSON.parse(localStorage.getItem('llamafile.conversations'))[0].messages[2].content`); got != twoLines {
		t.Errorf("the message sent after Shift+Enter: %q, want %q", got, twoLines)
	}
	do("send a long one", chromedp.SendKeys(input, "Tell me a very long story."), chromedp.KeyEvent("\r"))
	stopLong("the button", chromedp.Click(chromedp.ID("stop")))

	// Kept across a reload.
	do("reload", chromedp.Reload(), chromedp.WaitVisible(input))
	n := evalInt(`document.querySelectorAll('.msg').length`)
	titles := evalString(`document.getElementById('conversations').textContent`)
	if n != 6 || !strings.Contains(titles, "What is the capital") {
		t.Errorf("after a reload: %d messages (want 6), conversations %q", n, titles)
	}

	// Markdown: a stored reply with a code block, a table, and markup and
	// links to script that must stay text.
	const md = "Here:\n\n```go\nfunc main() { fmt.Println(\"hi\", 42) } // <b>x</b>\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\n<img src=x onerror=alert(1)> **bold**\n\n" +
		"See [the docs](https://example.com/docs), [click me](javascript:alert(1)) and [this](JavaScript:alert%281%29)."
	storeConversation("md", "Markdown", `[{role: 'user', content: 'Show me markdown.'}, {role: 'assistant', content: `+jsString(md)+`}]`)
	code := evalString(`document.querySelector('.msg.assistant pre code').textContent`)
	cells := evalString(`[...document.querySelectorAll('.msg.assistant td')].map(td => td.textContent).join(',')`)
	imgs := evalInt(`document.querySelectorAll('.msg.assistant img').length`)
	tokens := evalString(`[...document.querySelectorAll('.msg.assistant pre code span')].map(s => s.className + '=' + s.textContent).join(' ')`)
	if code != `func main() { fmt.Println("hi", 42) } // <b>x</b>` || cells != "1,2,3,4" || imgs != 0 ||
		tokens != `tok-keyword=func tok-string="hi" tok-number=42 tok-comment=// <b>x</b>` {
		t.Errorf("markdown: code %q (tokens %s), cells %q, %d img elements", code, tokens, cells, imgs)
	}
	links := evalString(`JSON.stringify([...document.querySelectorAll('.msg.assistant a')].map(a => a.getAttribute('href') + ' ' + a.textContent))`)
	text := evalString(`document.querySelector('.msg.assistant .body').textContent`)
	if links != `["https://example.com/docs the docs"]` || !strings.Contains(text, "[click me](javascript:alert(1))") || !strings.Contains(text, "[this](JavaScript:alert%281%29)") {
		t.Errorf("links: %s; the text %q", links, text)
	}
	screenshot("conversation")

	// Copy, on the message and on its code block: what lands on the
	// clipboard is the message's markdown, the block's code.
	do("a clipboard", chromedp.Evaluate[chromedp.Void](`window.copied = []; Object.defineProperty(navigator, 'clipboard', {configurable: true, value: {writeText: t => { window.copied.push(t); return Promise.resolve(); }}})`))
	do("copy the message", chromedp.Click(chromedp.CSS(`.msg.assistant button[aria-label="Copy the message"]`)))
	wait("the message copied", `window.copied.length === 1`)
	do("copy the code", chromedp.Click(chromedp.CSS(`.msg.assistant .code button[aria-label="Copy the code"]`)))
	wait("the code copied", `window.copied.length === 2`)
	var copied []string
	if err := json.Unmarshal([]byte(evalString(`JSON.stringify(window.copied)`)), &copied); err != nil || copied[0] != md || copied[1] != code {
		t.Errorf("copied %q (%v), want the message %q and the code %q", copied, err, md, code)
	}
	if s := evalString(`document.querySelector('.msg.assistant .code button').textContent`); s != "Copied" {
		t.Errorf("the code's Copy button says %q after the copy", s)
	}

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

	// Rename and delete, through the page's prompt and confirm dialogs.
	// kept is the stored conversations' ids and titles, the current one
	// and the list's titles.
	kept := func() string {
		return evalString(`JSON.stringify([JSON.parse(localStorage.getItem('llamafile.conversations')).map(c => c.id + ':' + c.title).join(','), JSON.parse(localStorage.getItem('llamafile.current')), [...document.querySelectorAll('#conversations li')].map(li => (li.className === 'current' ? '*' : '') + li.querySelector('.title').textContent).join(',')])`)
	}
	before := kept()
	d := b.dialog("rename", true, "Sums <b>and</b> fractions", chromedp.Click(chromedp.CSS(`#conversations button[aria-label="Rename Math"]`)))
	after := kept()
	if d.Type != page.DialogTypePrompt || d.DefaultPrompt != "Math" ||
		after != strings.NewReplacer("math:Math", "math:Sums <b>and</b> fractions", "*Math", "*Sums <b>and</b> fractions").Replace(before) {
		t.Errorf("rename: a %s dialog %q (default %q); before %s, after %s", d.Type, d.Message, d.DefaultPrompt, before, after)
	}
	if n := evalInt(`document.querySelectorAll('#conversations b').length`); n != 0 {
		t.Errorf("the new title's markup became %d elements", n)
	}
	before = after
	d = b.dialog("keep", false, "", chromedp.Click(chromedp.CSS(`#conversations button[aria-label="Delete From a file"]`)))
	if after := kept(); d.Type != page.DialogTypeConfirm || !strings.Contains(d.Message, `"From a file"`) || after != before {
		t.Errorf("a dismissed delete: a %s dialog %q; before %s, after %s", d.Type, d.Message, before, after)
	}
	b.dialog("delete", true, "", chromedp.Click(chromedp.CSS(`#conversations button[aria-label="Delete From a file"]`)))
	if after := kept(); after != strings.NewReplacer(",imported:From a file", "", ",From a file", "").Replace(before) || strings.Contains(after, "From a file") {
		t.Errorf("delete: before %s, after %s", before, after)
	}
	// The current one: the first of the rest becomes current.
	b.dialog("delete the current one", true, "", chromedp.Click(chromedp.CSS(`#conversations li.current button[aria-label^="Delete"]`)))
	if after := kept(); strings.Contains(after, "math") || strings.Contains(after, "Sums") || !strings.Contains(after, `","md","*Markdown,`) {
		t.Errorf("delete the current one: %s", after)
	}

	// Reasoning, in a closed block above the answer.
	storeConversation("think", "Thinking", `[{role: 'user', content: '2+2?'}, {role: 'assistant', content: '4', reasoning: 'Two and two make four.'}]`)
	if r := evalString(`(() => { const d = document.querySelector('.msg.assistant details.reasoning'); return d && !d.open ? d.textContent : ''; })()`); !strings.Contains(r, "Two and two") {
		t.Errorf("reasoning block: %q", r)
	}

	// The Settings dialog: extra request fields that are not JSON are
	// said and not kept; then a system prompt, a temperature, a number of
	// tokens and extra fields are kept, as numbers, and sent.
	settingsNow := func() string { return evalString(`localStorage.getItem('llamafile.settings')`) }
	field := func(name string) chromedp.CSS { return chromedp.CSS(`#settings-form [name=` + name + `]`) }
	old := settingsNow()
	do("open the settings", chromedp.Click(chromedp.ID("open-settings")), chromedp.WaitVisible(chromedp.ID("settings-form")))
	if v := evalString(`document.querySelector('#settings-form [name=extra]').value`); v != `{"ignore_eos": true}` {
		t.Errorf("the settings dialog shows the extra fields %q", v)
	}
	do("not JSON", chromedp.SetValue(field("extra"), `{"repeat_penalty": 1`), chromedp.Click(chromedp.ID("settings-save")))
	if e, open := evalString(`document.getElementById('settings-error').textContent`), evalString(`String(document.getElementById('settings').open)`); !strings.Contains(e, "not a JSON object") || open != "true" || settingsNow() != old {
		t.Errorf("extra fields not JSON: the error %q, the dialog open %s, the settings %s (were %s)", e, open, settingsNow(), old)
	}
	do("change the settings", chromedp.SendKeys(field("system"), "You are a pirate."), chromedp.SetValue(field("temperature"), "0.2"),
		chromedp.SetValue(field("max_tokens"), "16"), chromedp.SetValue(field("extra"), `{"repeat_penalty": 1}`), chromedp.Click(chromedp.ID("settings-save")))
	wait("the settings dialog to close", `!document.getElementById('settings').open`)
	if s := settingsNow(); s != `{"system":"You are a pirate.","temperature":0.2,"top_p":0.95,"top_k":40,"min_p":0.05,"max_tokens":16,"seed":1,"extra":"{\"repeat_penalty\": 1}"}` {
		t.Errorf("the settings kept: %s", s)
	}

	// Regenerate the stored reply, then edit the question: the model
	// answers again, with the settings, the conversation continues from
	// the edit.
	b.record()
	do("regenerate", chromedp.Click(chromedp.CSS(`.msg.assistant button[aria-label="Regenerate the reply"]`)))
	wait("the regenerated reply", `!document.getElementById('send').hidden && document.querySelector('.msg.assistant .meta') !== null`)
	var sent []map[string]any
	b.requests(&sent)
	if got, _ := json.Marshal(sent); len(sent) != 1 || string(got) != `[{"max_tokens":16,"messages":[{"content":"You are a pirate.","role":"system"},{"content":"2+2?","role":"user"}],"min_p":0.05,"repeat_penalty":1,"seed":1,"stream":true,"stream_options":{"include_usage":true},"temperature":0.2,"top_k":40,"top_p":0.95}]` {
		t.Errorf("the request with the settings: %s", got)
	}
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
	record := b.record
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
		b.requests(&bodies)
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
