package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/llamafile-go/llamafile/pkg/sandbox"
)

// sandboxProbe, set in the environment, makes the test binary a probe: it
// parses the arguments after "--", enters the sandbox the command would
// enter for them, and reports what it can still do.
const sandboxProbe = "LLAMAFILE_SANDBOX_PROBE"

func TestMain(m *testing.M) {
	if os.Getenv(sandboxProbe) != "" {
		os.Exit(runSandboxProbe())
	}
	os.Exit(m.Run())
}

func runSandboxProbe() int {
	var args []string
	for i, a := range os.Args {
		if a == "--" {
			args = os.Args[i+1:]
		}
	}
	o, err := parseArgs(args, io.Discard, os.ReadFile)
	if err != nil || o == nil {
		fmt.Println("parse:", err)
		return 2
	}
	policy := cliPolicy(o)
	if o.mode == modeServer {
		policy = serverPolicy(o)
	}
	enterSandbox(o, env{restrict: sandbox.Restrict}, os.Stdout, policy)
	dir := os.Getenv(sandboxProbe)
	try := func(name string, f func() error) {
		if err := f(); err != nil {
			fmt.Printf("%s denied: %v\n", name, err)
		} else {
			fmt.Printf("%s ok\n", name)
		}
	}
	try("read-passwd", func() error { _, err := os.ReadFile("/etc/passwd"); return err })
	try("write", func() error { return os.WriteFile(filepath.Join(dir, "written"), []byte("x"), 0o644) })
	try("socket", func() error {
		c, err := net.Dial("tcp", "127.0.0.1:9")
		if err == nil {
			c.Close()
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil // a socket was made
		}
		return err
	})
	return 0
}

// probeSandbox runs the probe with a command line and returns what it was
// allowed to do.
func probeSandbox(t *testing.T, args ...string) map[string]bool {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), sandboxProbe+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe %v: %v\n%s", args, err, out)
	}
	allowed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if name, rest, ok := strings.Cut(line, " "); ok && (rest == "ok" || strings.HasPrefix(rest, "denied")) {
			allowed[name] = rest == "ok"
		} else if strings.Contains(line, "sandbox") {
			t.Logf("%v: %s", args, line) // a notice
		}
	}
	return allowed
}

// landlock reports whether this kernel has Landlock; without it the file
// rules are not checked (and in CI that is a failure).
func landlock(t *testing.T) bool {
	v, _, e := syscall.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if e != 0 || v == 0 {
		if os.Getenv("CI") == "true" {
			t.Error("no Landlock on this kernel (required when CI=true)")
		}
		t.Log("no Landlock on this kernel: file rules not checked")
		return false
	}
	return true
}

// TestSandboxPolicies: a server cannot open /etc/passwd or write a file;
// a command-line run cannot open a socket either; --unsecure lifts both.
func TestSandboxPolicies(t *testing.T) {
	files := landlock(t)
	for _, tt := range []struct {
		name string
		args []string
		want map[string]bool
	}{
		{"server", []string{"-m", "x.gguf"}, map[string]bool{"read-passwd": !files, "write": !files, "socket": false}},
		{"cli", []string{"-m", "x.gguf", "-p", "hi"}, map[string]bool{"read-passwd": !files, "write": !files, "socket": false}},
		{"server --unsecure", []string{"-m", "x.gguf", "--unsecure"}, map[string]bool{"read-passwd": true, "write": true, "socket": true}},
		{"cli --unsecure", []string{"-m", "x.gguf", "-p", "hi", "--unsecure"}, map[string]bool{"read-passwd": true, "write": true, "socket": true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := probeSandbox(t, tt.args...)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s: allowed %v, want %v (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

// TestSandboxedServer: the real server, once loaded, runs sandboxed
// (seccomp on, no_new_privs): a symlink to /etc/passwd inside --path is
// refused, while the files of --path are served; with --unsecure neither
// holds.
func TestSandboxedServer(t *testing.T) {
	files := landlock(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "passwd")); err != nil {
		t.Fatal(err)
	}
	for _, unsecure := range []bool{false, true} {
		args := []string{"-m", stories(t), "--path", dir}
		if unsecure {
			args = append(args, "--unsecure")
		}
		base, stop := startServer(t, args...)
		waitHealthy(t, base)
		status := func(path string) (int, string) {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		// The sandbox is entered just after /health turns 200.
		var seccomp string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if seccomp = procStatus(t, serverPID(t, base), "Seccomp"); seccomp == "2" || unsecure {
				break
			}
		}
		if code, body := status("/"); code != 200 || body != "hello" {
			t.Errorf("unsecure=%v: / gave %d %q", unsecure, code, body)
		}
		code, body := status("/passwd")
		switch {
		case unsecure && (code != 200 || !strings.Contains(body, "root:")):
			t.Errorf("--unsecure: /passwd gave %d", code)
		case !unsecure && files && code == 200:
			t.Errorf("sandboxed: /passwd (a link to /etc/passwd) was served: %.40q", body)
		case !unsecure && seccomp != "2":
			t.Errorf("sandboxed: Seccomp %q, want 2 (filtering)", seccomp)
		case unsecure && seccomp != "0":
			t.Errorf("--unsecure: Seccomp %q, want 0", seccomp)
		}
		if code, stderr := stop(); code != 0 {
			t.Errorf("exit %d after SIGTERM:\n%s", code, stderr)
		}
	}
}

// serverPID finds the process listening at base's port.
func serverPID(t *testing.T, base string) int {
	t.Helper()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	// The server's socket inode, from /proc/net/tcp, then the process
	// holding it.
	var inode string
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			var p int
			if len(fields) > 9 && fields[3] == "0A" { // LISTEN
				if _, err := fmt.Sscanf(fields[1][strings.LastIndexByte(fields[1], ':')+1:], "%X", &p); err == nil && fmt.Sprint(p) == port {
					inode = fields[9]
				}
			}
		}
		f.Close()
	}
	if inode == "" {
		t.Fatalf("no listening socket on port %s", port)
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		fds, err := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if target, _ := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name())); target == "socket:["+inode+"]" {
				var pid int
				fmt.Sscan(p.Name(), &pid)
				return pid
			}
		}
	}
	t.Fatalf("no process holds socket %s", inode)
	return 0
}

// procStatus returns a field of /proc/PID/status.
func procStatus(t *testing.T, pid int, field string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
