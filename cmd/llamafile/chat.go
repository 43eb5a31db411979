package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"golang.org/x/term"

	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
)

const chatHelp = `commands:
  /help    this help
  /clear   forget the conversation (the system prompt stays)
  /exit    leave (also Ctrl-D, or Ctrl-C at the prompt)
End a line with \ to go on on the next one. Ctrl-C stops a reply.
`

// runChat is a conversation in the terminal through the model's chat
// template, as llama.cpp's -cnv is: each turn is rendered with the whole
// conversation, and the slot's cache keeps what the previous turns
// evaluated, so only the new turn is.
func runChat(ctx context.Context, o *options, self *engine.Bundle, e env, logw io.Writer) error {
	m, err := openModel(o.model, self, engineOptions(o, 0), logw)
	if err != nil {
		return err
	}
	defer m.Close()
	tmpl, _, err := chooseTemplate(m, &o.server, logw)
	if err != nil {
		return err
	}
	enterSandbox(o, e, logw, cliPolicy(o))
	nCtx := o.ctxSize
	if nCtx == 0 {
		nCtx = m.Params().ContextLength
	}
	sched, err := m.NewScheduler(engine.ServeOptions{Slots: 1, ContextSize: nCtx})
	if err != nil {
		return fmt.Errorf("%s: %w", m.Name(), err)
	}
	defer sched.Close()

	system := o.systemPrompt
	if system == "" && o.promptSet {
		system = o.prompt // llama.cpp's -cnv takes -p as the system prompt
	}
	var msgs []chat.Message
	reset := func() {
		msgs = msgs[:0]
		if system != "" {
			msgs = append(msgs, chat.Message{Role: "system", Content: system})
		}
	}
	reset()

	sigint, stopSIGINT := takeSIGINT()
	defer stopSIGINT()
	in := newLineReader(e, sigint)
	fmt.Fprintf(e.stderr, "llamafile: chatting with %s (/help for commands)\n", m.Name())
	for {
		line, err := in.readLine("> ")
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(e.stdout)
			return nil
		}
		if err != nil {
			return err
		}
		for strings.HasSuffix(line, `\`) {
			more, err := in.readLine("... ")
			if err != nil {
				break
			}
			line = strings.TrimSuffix(line, `\`) + "\n" + more
		}
		switch strings.TrimSpace(line) {
		case "":
			continue
		case "/exit", "/quit":
			return nil
		case "/help":
			fmt.Fprint(e.stdout, chatHelp)
			continue
		case "/clear":
			reset()
			fmt.Fprintln(e.stdout, "(the conversation is cleared)")
			continue
		}
		msgs = append(msgs, chat.Message{Role: "user", Content: line})
		prompt, err := tmpl.Apply(msgs, true)
		if err != nil {
			return err
		}
		req := &engine.Request{Prompt: m.Tokenize(prompt, true, true), MaxTokens: o.nPredict, Sampling: o.sampling,
			CachePrompt: true, Slot: -1, IgnoreEOS: o.ignoreEOS}
		reply, err := chatTurn(ctx, sched, req, e.stdout, sigint)
		fmt.Fprintln(e.stdout)
		switch {
		case errors.Is(err, errInterrupted):
			return err
		case errors.Is(err, engine.ErrPromptTooLong):
			msgs = msgs[:len(msgs)-1]
			fmt.Fprintf(e.stderr, "llamafile: %v; /clear starts over\n", err)
			continue
		case err != nil && !errors.Is(err, context.Canceled):
			return err
		}
		msgs = append(msgs, chat.Message{Role: "assistant", Content: reply})
	}
}

// chatTurn streams one reply to w. A SIGINT stops it (keeping what was
// said); a second one before it has stopped ends the program.
func chatTurn(ctx context.Context, sched *engine.Scheduler, req *engine.Request, w io.Writer, sigint <-chan os.Signal) (string, error) {
	genCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopped := make(chan struct{})
	twice := make(chan struct{})
	go func() {
		select {
		case <-sigint:
			cancel()
		case <-stopped:
			return
		}
		select {
		case <-sigint:
			close(twice)
		case <-stopped:
		}
	}()
	res, err := sched.Generate(genCtx, req, func(c engine.Chunk) error {
		_, err := io.WriteString(w, c.Text)
		return err
	})
	close(stopped)
	select {
	case <-twice:
		return "", errInterrupted
	default:
	}
	if res == nil {
		return "", err
	}
	return res.Text, err
}

// takeSIGINT makes Ctrl-C the conversation's: a SIGINT stops a reply
// and no longer ends the program (the context's SIGINT handler goes;
// SIGTERM still ends it). Its channel receives the SIGINTs until stop.
func takeSIGINT() (sigint <-chan os.Signal, stop func()) {
	signal.Reset(os.Interrupt)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	return ch, func() { signal.Stop(ch) }
}

// lineReader reads the user's lines: with line editing and history at a
// terminal, else plainly from standard input (where a SIGINT at the
// prompt ends the chat, as Ctrl-C does at a terminal).
type lineReader struct {
	e      env
	fd     int
	term   *term.Terminal
	lines  chan lineOrErr
	sigint <-chan os.Signal
}

type lineOrErr struct {
	line string
	err  error
}

func newLineReader(e env, sigint <-chan os.Signal) *lineReader {
	r := &lineReader{e: e, sigint: sigint}
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.fd = int(f.Fd())
		r.term = term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{e.stdin, e.stdout}, "")
		return r
	}
	r.lines = make(chan lineOrErr)
	go func() {
		sc := bufio.NewScanner(e.stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			r.lines <- lineOrErr{line: sc.Text()}
		}
		err := sc.Err()
		if err == nil {
			err = io.EOF
		}
		for {
			r.lines <- lineOrErr{err: err}
		}
	}()
	return r
}

// readLine reads a line after prompt; io.EOF at the end of the input,
// Ctrl-D on an empty line, or Ctrl-C.
func (r *lineReader) readLine(prompt string) (string, error) {
	if r.term == nil {
		fmt.Fprint(r.e.stdout, prompt)
		select {
		case l := <-r.lines:
			return l.line, l.err
		case <-r.sigint:
			return "", io.EOF
		}
	}
	// Raw mode only while the line is edited, so that Ctrl-C during a
	// reply arrives as a signal.
	old, err := term.MakeRaw(r.fd)
	if err != nil {
		return "", fmt.Errorf("terminal: %w", err)
	}
	defer term.Restore(r.fd, old)
	r.term.SetPrompt(prompt)
	return r.term.ReadLine()
}
