package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// startServer runs llamafile with args (a server command line) on a free
// port and returns its base URL once it prints it, and a function that
// stops it with SIGTERM and returns its exit status and standard error.
func startServer(t *testing.T, args ...string) (string, func() (int, string)) {
	t.Helper()
	exe := testutil.Command(t, "llamafile")
	cmd := exec.Command(exe, append(args, "--port", "0", "--nobrowser")...)
	cmd.Env = append(cmd.Environ(), "LLAMAFILE_SELF=", "LLAMAFILE_ENGINE=")
	pr, pw := io.Pipe()
	var errb safeBuffer
	cmd.Stderr = io.MultiWriter(pw, &errb)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := watchURL(pr)
	var waitOnce sync.Once
	var code int
	wait := func() (int, string) {
		waitOnce.Do(func() {
			err := cmd.Wait()
			pw.Close()
			code = cmd.ProcessState.ExitCode()
			_ = err
		})
		return code, errb.String()
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		wait()
	})
	select {
	case u := <-urlc:
		stop := func() (int, string) {
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Errorf("the server did not exit within 10 s of SIGTERM")
			}
			return wait()
		}
		return u, stop
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		_, stderr := wait()
		t.Fatalf("no URL printed in 30 s; stderr:\n%s", stderr)
	}
	return "", nil
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitHealthy polls /health until it answers 200.
func waitHealthy(t *testing.T, base string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
			if resp.StatusCode != 503 {
				t.Fatalf("/health: status %d", resp.StatusCode)
			}
		}
	}
	t.Fatal("/health not 200 within 30 s")
}

// TestServerCommand runs `llamafile -m stories260k.gguf` with no prompt:
// it serves; a greedy /completion gives llama.cpp's completion; SIGTERM
// ends it with status 0.
func TestServerCommand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM")
	}
	cases := testutil.GreedyCases(t)
	base, stop := startServer(t, "-m", stories(t), "-c", "512", "-np", "2", "-t", "2", "--temp", "0")
	waitHealthy(t, base)
	tc := cases[0]
	body, _ := json.Marshal(map[string]any{"prompt": tc.Prompt, "n_predict": tc.NPredict})
	resp, err := http.Post(base+"/completion", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Content string `json:"content"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Content != tc.Completion {
		t.Errorf("/completion of %q:\n got %q\nwant %q", tc.Prompt, got.Content, tc.Completion)
	}
	code, stderr := stop()
	if code != 0 {
		t.Errorf("exit status %d after SIGTERM; stderr:\n%s", code, stderr)
	}
}

// TestServerPortInUse checks that a taken port is a clear error naming
// it.
func TestServerPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	r := llamafile(t, nil, "-m", stories(t), "--port", itoa(port), "--nobrowser")
	if r.code != 1 || !strings.Contains(r.stderr, "--port "+itoa(port)) || !strings.Contains(r.stderr, "in use") {
		t.Errorf("exit %d, stderr %q; want status 1 naming --port %d as in use", r.code, r.stderr, port)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// watchURL reads a server's log from r and sends the URL it says it
// listens on.
func watchURL(r io.Reader) <-chan string {
	urlc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on (http://\S+)/`)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	return urlc
}
