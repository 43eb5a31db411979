package main

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// TestInterruptPromptEvaluation sends SIGINT while a long prompt is being
// evaluated (the prompt is shown before evaluation starts): the command
// must stop within the evaluation, not after it, exit with status 130 and
// print the timings of what it evaluated.
func TestInterruptPromptEvaluation(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT")
	}
	exe := testutil.Command(t, "llamafile")
	words := strings.Fields("the cat sat on a mat and then ran to the big red house where lily lived with her mom")
	var sb strings.Builder
	for i := 0; i < 2500; i++ {
		sb.WriteString(words[(i*7)%len(words)])
		sb.WriteByte(' ')
	}
	prompt := sb.String()
	// About 4000 tokens, evaluated in passes of 512 tokens: many seconds of
	// work, most of it after the first pass.
	cmd := exec.Command(exe, "-m", stories(t), "-p", prompt, "-n", "4", "-c", "8192", "-t", "2", "--temp", "0")
	cmd.Env = append(cmd.Environ(), "LLAMAFILE_SELF=", "LLAMAFILE_ENGINE=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The displayed prompt comes before its evaluation.
	buf := make([]byte, len(prompt))
	if _, err := io.ReadFull(stdout, buf); err != nil {
		cmd.Process.Kill()
		t.Fatalf("reading the displayed prompt: %v (stderr %s)", err, errb.String())
	}
	interrupt(t, cmd, stdout, &errb, 60*time.Second)
	stderr := errb.String()
	if !strings.Contains(stderr, "Interrupted by user") {
		t.Errorf("stderr lacks the interruption:\n%s", stderr)
	}
	// The timings count the prompt tokens evaluated: fewer than all of
	// them when the evaluation stopped part way.
	m := regexp.MustCompile(`prompt eval time = +[0-9.]+ ms / +([0-9]+) tokens`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("stderr lacks the prompt timings:\n%s", stderr)
	}
	n, _ := strconv.Atoi(m[1])
	tok := runExe(t, exe, nil, "-m", stories(t), "--tokenize", "--ids", "--no-escape", "-p", prompt)
	total := strings.Count(tok.stdout, ",") + 1
	if total < 3000 {
		t.Fatalf("prompt has %d tokens, want a long one", total)
	}
	if n >= total {
		t.Errorf("prompt eval counted %d of %d tokens: the evaluation ran to its end after SIGINT", n, total)
	}
}

// interrupt sends SIGINT to cmd, started with its standard output on the
// pipe stdout and its standard error going to stderr, reads the rest of the
// output and waits up to timeout for cmd to exit (killing it then). It fails
// the test unless cmd exits with status exitInterrupted.
func interrupt(t *testing.T, cmd *exec.Cmd, stdout io.Reader, stderr *bytes.Buffer, timeout time.Duration) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		io.Copy(io.Discard, stdout)
		done <- cmd.Wait()
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		cmd.Process.Kill()
		t.Fatal("llamafile did not stop on SIGINT")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Errorf("exit: %v, want status %d; stderr:\n%s", err, exitInterrupted, stderr.String())
	}
}
