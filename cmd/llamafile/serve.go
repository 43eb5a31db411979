package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/llamafile-go/llamafile/internal/term"
	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/server"
)

// runServer serves the model over HTTP, as llama-server does: it listens
// at once (answering /health with 503 while the model loads), loads the
// model, opens the chat page in a browser when a person is watching, and
// serves until ctx is done (Ctrl-C, SIGTERM), then shuts down gracefully.
func runServer(ctx context.Context, o *options, self *engine.Bundle, e env, logw io.Writer) error {
	so := &o.server
	if err := self.CheckModel(o.model); err != nil {
		return err
	}
	addr := net.JoinHostPort(so.host, strconv.Itoa(so.port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("--port %d: address %s is already in use (choose another with --port)", so.port, addr)
		}
		return fmt.Errorf("--host %s --port %d: %w", so.host, so.port, err)
	}
	logger := slog.New(slog.NewTextHandler(logw, nil))
	srv, err := server.New(server.Config{
		APIKeys:          so.apiKeys,
		Timeout:          so.timeout,
		URLPrefix:        so.urlPrefix,
		StaticDir:        so.staticDir,
		NoUI:             so.noUI,
		Alias:            so.alias,
		Defaults:         o.sampling,
		DefaultMaxTokens: o.nPredict,
		CachePrompt:      !so.noCache,
		Metrics:          so.metrics,
		SlotsEndpoint:    so.slots,
		Embeddings:       so.embeddings,
		ReasoningFormat:  so.reasoning,
		Logger:           logger,
	})
	if err != nil {
		l.Close()
		return err
	}
	url := "http://" + displayHost(l.Addr().(*net.TCPAddr), so.host) + so.urlPrefix + "/"
	fmt.Fprintf(logw, "llamafile: listening on %s\n", url)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu      sync.Mutex
		eng     *server.Engine
		stopped bool // serving has ended: a late load closes its engine
	)
	go func() {
		en, err := load(o, self, logw)
		if err != nil {
			cancel(err)
			return
		}
		mu.Lock()
		if stopped {
			mu.Unlock()
			closeEngine(en)
			return
		}
		eng = en
		mu.Unlock()
		srv.SetBackend(en)
		fmt.Fprintf(logw, "llamafile: model %s loaded: %d slots of %d tokens; serving %s\n", en.Model.Name(), en.Slots(), en.ContextSize(), url)
		if !so.noBrowser && !so.noUI && canOpenBrowser(e) {
			openBrowser(url, logw)
		}
		// Loaded, listening, the browser started: from here on the
		// server opens no file but --path's and runs no program.
		enterSandbox(o, e, logw, serverPolicy(o))
	}()
	serveErr := srv.Serve(ctx, l)
	mu.Lock()
	stopped = true
	if eng != nil {
		closeEngine(eng)
	}
	mu.Unlock()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause // loading failed
	}
	if serveErr != nil {
		return fmt.Errorf("serving: %w", serveErr)
	}
	return nil
}

// closeEngine closes what load opened: the scheduler (requests still
// queued end), the --mmproj projector, the model.
func closeEngine(en *server.Engine) {
	en.Scheduler.Close()
	if en.Projector != nil {
		en.Projector.Close()
	}
	en.Model.Close()
}

// displayHost is the host of the URL printed for the user: the address
// listened on, with 0.0.0.0 and :: shown as localhost.
func displayHost(a *net.TCPAddr, host string) string {
	h := host
	if a.IP.IsUnspecified() || host == "" {
		h = "localhost"
	}
	return net.JoinHostPort(h, strconv.Itoa(a.Port))
}

// canOpenBrowser reports whether a browser should be opened: standard
// output is a terminal and, on Unix systems other than macOS, there is a
// display.
func canOpenBrowser(e env) bool {
	f, ok := e.stdout.(*os.File)
	if !ok || !term.IsTerminal(f) {
		return false
	}
	switch runtime.GOOS {
	case "windows", "darwin":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// openBrowser opens url with the system's opener, not waiting for it.
func openBrowser(url string, logw io.Writer) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		cmd = exec.Command("open", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(logw, "llamafile: could not open a browser (%v); open %s yourself\n", err, url)
		return
	}
	go cmd.Wait()
}

// load opens the model and starts the scheduler.
func load(o *options, self *engine.Bundle, logw io.Writer) (*server.Engine, error) {
	so := &o.server
	m, err := openModel(o.model, self, engineOptions(o, 0), logw)
	if err != nil {
		return nil, err
	}
	opts := engine.ServeOptions{
		Slots:        so.parallel,
		ContextSize:  o.ctxSize,
		BatchSize:    min(so.ubatch, max(o.batchSize, 1)),
		ContextShift: so.contextShift,
		Embeddings:   so.embeddings,
		Pooling:      so.pooling,
	}
	if o.ctxSize == 0 {
		opts.ContextSize = m.Params().ContextLength
	}
	tmpl, src, err := chooseTemplate(m, so, logw)
	if err != nil {
		m.Close()
		return nil, err
	}
	toolTmpl, toolSrc, err := chooseToolTemplate(m, so)
	if err != nil {
		m.Close()
		return nil, err
	}
	s, err := m.NewScheduler(opts)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", m.Name(), err)
	}
	warnTrainedContext(logw, m, s.SlotContextSize())
	var proj *engine.Projector // --mmproj: images in requests
	if o.mmproj != "" {
		if proj, err = openVisionProjector(o, self, m); err != nil {
			s.Close()
			m.Close()
			return nil, err
		}
	}
	return &server.Engine{Model: m, Scheduler: s, Template: tmpl, TemplateSource: src,
		ToolTemplate: toolTmpl, ToolTemplateSource: toolSrc, Alias: so.alias, Projector: proj}, nil
}

// pickedTemplate is the chat template the flags and the model choose:
// one of llama.cpp's built-in formats, or a Jinja template.
type pickedTemplate struct {
	builtin chat.Template
	jinja   *chat.Jinja // nil for a built-in format
	source  string      // what /props reports: the Jinja text or the format's name
	where   string      // where it came from, for messages
}

// pickTemplate chooses the chat template as llama-server does: with
// --jinja (the default) the model's own tokenizer.chat_template
// (modelSrc, from modelWhere: the model and the key), or the Jinja text of
// --chat-template(-file); --chat-template NAME a built-in format; with
// --no-jinja the template matched to a built-in format; ChatML for a
// model without a template. A model's template that --no-jinja cannot
// match falls back to ChatML with a warning to warn, or is an error when
// warn is nil.
func pickTemplate(so *serverOptions, modelSrc, modelWhere string, warn io.Writer) (pickedTemplate, error) {
	p := pickedTemplate{source: so.chatTemplate, where: "--chat-template"}
	fromFlag := so.chatTemplate != ""
	if so.templateFile != "" {
		p.where = "--chat-template-file " + so.templateFile
	}
	if fromFlag && so.templateFile == "" && !strings.Contains(p.source, "{") {
		// Not a template's text: a built-in format's name.
		t, err := chat.Lookup(p.source)
		if err != nil {
			return p, fmt.Errorf("--chat-template %q: not a built-in format (%s) nor a Jinja template", p.source, strings.Join(chat.Names(), ", "))
		}
		p.builtin, p.source = t, t.Name
		return p, nil
	}
	if !fromFlag {
		p.source, p.where = modelSrc, modelWhere
		if p.source == "" {
			if warn != nil {
				fmt.Fprintf(warn, "llamafile: the model has no chat template; using chatml\n")
			}
			p.builtin, p.source = chat.Default(), "chatml"
			return p, nil
		}
	}
	if so.noJinja {
		t, err := chat.Detect(p.source)
		switch {
		case err == nil:
			p.builtin = t
		case fromFlag || warn == nil:
			return p, fmt.Errorf("%s: %w (built-in formats: %s)", p.where, err, strings.Join(chat.Names(), ", "))
		default:
			fmt.Fprintf(warn, "llamafile: the model's chat template is not one of the built-in ones; using chatml (choose one with --chat-template, or drop --no-jinja)\n")
			p.builtin = chat.Default()
		}
		return p, nil
	}
	j, err := chat.ParseJinja(p.source)
	if err != nil {
		return p, fmt.Errorf("%s: %w", p.where, err)
	}
	p.jinja = j
	return p, nil
}

// chooseTemplate is the formatter of the model's chat requests (see
// pickTemplate) and the source /props reports.
func chooseTemplate(m *engine.Model, so *serverOptions, logw io.Writer) (chat.Formatter, string, error) {
	src, _ := m.File().GetString(chat.MetadataKey)
	p, err := pickTemplate(so, src, m.Name()+": "+chat.MetadataKey, logw)
	if err != nil {
		return nil, "", err
	}
	if p.jinja == nil {
		return p.builtin, p.source, nil
	}
	f := modelFormatter(m, p.jinja)
	// Fail now, not at the first request, on a template that cannot
	// render a plain conversation.
	if _, err := f.Apply([]chat.Message{{Role: "user", Content: "hi"}}, true); err != nil {
		return nil, "", fmt.Errorf("%s: %w", p.where, err)
	}
	return f, p.source, nil
}

// modelFormatter renders the Jinja template j with the model's special
// tokens.
func modelFormatter(m *engine.Model, j *chat.Jinja) chat.JinjaFormatter {
	f := chat.JinjaFormatter{Jinja: j, StripBOS: m.Tokenizer().AddBOS()}
	f.BOSToken, f.EOSToken = specialTexts(m)
	return f
}

// chooseToolTemplate is the formatter of chat requests with tools when
// the model has a tool_use template and the model's templates are served
// (no --chat-template, no --no-jinja), as llama-server does; nil otherwise.
func chooseToolTemplate(m *engine.Model, so *serverOptions) (chat.Formatter, string, error) {
	src, _ := m.File().GetString(chat.ToolUseMetadataKey)
	if src == "" || so.chatTemplate != "" || so.templateFile != "" || so.noJinja {
		return nil, "", nil
	}
	where := m.Name() + ": " + chat.ToolUseMetadataKey
	j, err := chat.ParseJinja(src)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", where, err)
	}
	f := modelFormatter(m, j)
	// Such templates may expect tools (Hermes' iterates over them
	// unguarded): check one with a tool, now rather than at a request.
	msgs := json.RawMessage(`[{"role": "user", "content": "hi"}]`)
	tools := json.RawMessage(`[{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}}}]`)
	if _, err := f.ApplyTools(msgs, tools, true); err != nil {
		return nil, "", fmt.Errorf("%s: %w", where, err)
	}
	return f, src, nil
}
