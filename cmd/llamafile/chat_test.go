//go:build linux || darwin

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// ptySession runs llamafile at a pseudo-terminal.
type ptySession struct {
	t    *testing.T
	f    *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
}

func startPTY(t *testing.T, args ...string) *ptySession {
	t.Helper()
	return startPTYCmd(t, exec.Command(testutil.Command(t, "llamafile"), args...))
}

// startPTYCmd runs cmd at a pseudo-terminal.
func startPTYCmd(t *testing.T, cmd *exec.Cmd) *ptySession {
	t.Helper()
	f, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	s := &ptySession{t: t, f: f, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		f.Close()
	})
	return s
}

// output is what the terminal showed, with CR LF as LF.
func (s *ptySession) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.ReplaceAll(s.out.String(), "\r\n", "\n")
}

// waitFor waits until the output holds n prompts ("\n> ").
func (s *ptySession) waitFor(n int) string {
	s.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if out := s.output(); strings.Count(out, "\n> ") >= n {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("no prompt %d in:\n%s", n, s.output())
	return ""
}

func (s *ptySession) send(text string) {
	if _, err := s.f.Write([]byte(text)); err != nil {
		s.t.Fatal(err)
	}
}

// replyAfter is the text between the echoed user line and the next prompt.
func replyAfter(out, user string) string {
	_, rest, ok := strings.Cut(out, "> "+user+"\n")
	if !ok {
		return ""
	}
	reply, _, _ := strings.Cut(rest, "\n> ")
	return reply
}

// TestChatTerminal: a scripted two-turn conversation with SmolLM2 at a
// pseudo-terminal gives the replies the server gives at temperature 0;
// /help and /clear work; Ctrl-C stops a reply and Ctrl-D leaves.
func TestChatTerminal(t *testing.T) {
	model := testutil.SmolLM2(t)
	turns := []string{"What is the capital of France?", "And of Italy?"}

	base, stop := inProcessServer(t, "-m", model, "-t", "2", "--temp", "0", "-n", "24")
	var msgs []map[string]string
	var want []string
	for _, u := range turns {
		msgs = append(msgs, map[string]string{"role": "user", "content": u})
		body, _ := json.Marshal(map[string]any{"messages": msgs})
		var r struct {
			Choices []struct{ Message struct{ Content string } }
		}
		if err := json.Unmarshal(postJSON(t, base+"/v1/chat/completions", string(body)), &r); err != nil || len(r.Choices) != 1 {
			t.Fatalf("server: %v", err)
		}
		want = append(want, r.Choices[0].Message.Content)
		msgs = append(msgs, map[string]string{"role": "assistant", "content": r.Choices[0].Message.Content})
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	s := startPTY(t, "-m", model, "--chat", "-t", "2", "--temp", "0", "-n", "24")
	s.waitFor(1)
	for i, u := range turns {
		s.send(u + "\r")
		out := s.waitFor(i + 2)
		if got := replyAfter(out, u); got != want[i] {
			t.Errorf("turn %d: the chat replied %q, the server %q", i+1, got, want[i])
		}
	}
	s.send("/help\r")
	if out := s.waitFor(4); !strings.Contains(out, "/clear") {
		t.Errorf("/help did not list the commands:\n%s", out)
	}
	s.send("/clear\r")
	s.waitFor(5)
	s.send(turns[0] + "\r") // after /clear, the first turn's reply again
	if out := s.waitFor(6); strings.Count(out, want[0]) != 2 {
		t.Errorf("after /clear the first question got another reply:\n%s", out)
	}
	s.send(string([]byte{4})) // Ctrl-D
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("Ctrl-D did not end the chat")
	}
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
}

// TestChatInterrupt: Ctrl-C stops a reply that would not end by itself,
// and the chat goes on.
func TestChatInterrupt(t *testing.T) {
	model := testutil.SmolLM2(t)
	s := startPTY(t, "-m", model, "--chat", "-t", "2", "--ignore-eos", "-n", "-1")
	s.waitFor(1)
	s.send("Tell me a very long story.\r")
	time.Sleep(1500 * time.Millisecond)
	s.send(string([]byte{3})) // Ctrl-C: SIGINT, the terminal is in cooked mode during a reply
	out := s.waitFor(2)
	if replyAfter(out, "Tell me a very long story.") == "" {
		t.Errorf("no reply before the interruption:\n%s", out)
	}
	s.send("/exit\r")
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("/exit did not end the chat")
	}
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
}
