package sandbox

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// probeEnv runs the test binary as a probe: it restricts itself with the
// policy the environment describes and reports what it can still do.
const probeEnv = "SANDBOX_PROBE"

func TestMain(m *testing.M) {
	if dir := os.Getenv(probeEnv); dir != "" {
		os.Exit(probe(dir, os.Getenv("SANDBOX_NOSOCKETS") == "1"))
	}
	os.Exit(m.Run())
}

// probe restricts the process to reading dir/ro and writing dir/rw, then
// tries what a sandboxed llamafile must not do, and prints one line per
// attempt: "name ok" or "name denied: error".
func probe(dir string, noSockets bool) int {
	res, err := Restrict(Policy{Read: []string{filepath.Join(dir, "ro")}, Write: []string{filepath.Join(dir, "rw")}, NoSockets: noSockets})
	if err != nil {
		fmt.Println("restrict failed:", err)
		return 2
	}
	fmt.Printf("result files=%v syscalls=%v notice=%q\n", res.Files, res.Syscalls, res.Notice)
	try := func(name string, f func() error) {
		if err := f(); err != nil {
			fmt.Printf("%s denied: %v\n", name, err)
		} else {
			fmt.Printf("%s ok\n", name)
		}
	}
	try("read-passwd", func() error { _, err := os.ReadFile("/etc/passwd"); return err })
	try("read-ro", func() error { _, err := os.ReadFile(filepath.Join(dir, "ro", "f")); return err })
	try("write-ro", func() error { return os.WriteFile(filepath.Join(dir, "ro", "new"), nil, 0o644) })
	try("write-tmp", func() error { return os.WriteFile(filepath.Join(os.TempDir(), "sandbox-probe"), nil, 0o644) })
	try("write-rw", func() error { return os.WriteFile(filepath.Join(dir, "rw", "new"), []byte("x"), 0o644) })
	try("rename-rw", func() error { return os.Rename(filepath.Join(dir, "rw", "new"), filepath.Join(dir, "rw", "renamed")) })
	try("socket", func() error {
		c, err := net.Dial("tcp", "127.0.0.1:9")
		if c != nil {
			c.Close()
		}
		// A refused connection still made a socket.
		if err != nil && errors.Is(err, syscall.ECONNREFUSED) {
			return nil
		}
		return err
	})
	try("exec", func() error {
		// With the standard streams given, exec opens no file first: the
		// error is seccomp's EPERM, not Landlock's EACCES.
		cmd := exec.Command("/bin/true")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		err := cmd.Run()
		if err != nil && !errors.Is(err, syscall.EPERM) {
			return nil // not the filter's refusal: count it as allowed
		}
		return err
	})
	return 0
}

// TestRestrict runs the probe under each policy, and checks what it can
// still do: the files of the policy, and nothing else; no exec; no new
// socket where forbidden.
func TestRestrict(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"ro", "rw"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ro", "f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, noSockets := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoSockets=%v", noSockets), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), probeEnv+"="+dir, fmt.Sprintf("SANDBOX_NOSOCKETS=%d", map[bool]int{false: 0, true: 1}[noSockets]))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("probe: %v\n%s", err, out)
			}
			got := map[string]bool{} // allowed
			var result string
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				name, rest, _ := strings.Cut(line, " ")
				if name == "result" {
					result = rest
					continue
				}
				got[name] = rest == "ok"
			}
			t.Logf("%s\n%s", result, out)
			if !strings.Contains(result, "syscalls=true") {
				t.Fatalf("seccomp not applied: %s", result)
			}
			want := map[string]bool{"read-ro": true, "write-rw": true, "rename-rw": true, "exec": false, "socket": !noSockets}
			if strings.Contains(result, "files=true") {
				for k, v := range map[string]bool{"read-passwd": false, "write-ro": false, "write-tmp": false} {
					want[k] = v
				}
			} else if os.Getenv("CI") == "true" {
				t.Errorf("Landlock not applied in CI: %s", result)
			} else {
				t.Logf("no Landlock here; file rules not checked: %s", result)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: allowed %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

// TestFilterLayout checks the jumps of the BPF program: every denied call
// lands on the EPERM return, everything else on the allow.
func TestFilterLayout(t *testing.T) {
	deny := []uintptr{59, 101, 41}
	prog := filter(deny)
	run := func(arch, nr uint32) uint32 {
		acc := uint32(0)
		for pc := 0; pc < len(prog); pc++ {
			in := prog[pc]
			switch in.Code {
			case 0x20: // ld abs
				acc = map[uint32]uint32{offNr: nr, offArch: arch}[in.K]
			case 0x15: // jeq
				if acc == in.K {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
			case 0x35: // jge
				if acc >= in.K {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
			case 0x06: // ret
				return in.K
			default:
				t.Fatalf("unexpected instruction %+v", in)
			}
		}
		t.Fatal("fell off the program")
		return 0
	}
	const allow, eperm = 0x7fff0000, 0x50001
	for _, nr := range deny {
		if got := run(auditArch, uint32(nr)); got != eperm {
			t.Errorf("call %d: %#x, want EPERM", nr, got)
		}
	}
	for _, nr := range []uint32{0, 1, 60, 231} {
		if got := run(auditArch, nr); got != allow {
			t.Errorf("call %d: %#x, want allow", nr, got)
		}
	}
	if got := run(0x40000003, 11); got != eperm { // i386
		t.Errorf("another architecture: %#x, want EPERM", got)
	}
	if x32Bit != 0 {
		if got := run(auditArch, x32Bit|1); got != eperm {
			t.Errorf("x32 call: %#x, want EPERM", got)
		}
	}
}
