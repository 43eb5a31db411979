package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"github.com/landlock-lsm/go-landlock/landlock"
	"golang.org/x/sys/unix"
)

func restrict(p Policy) (Result, error) {
	var r Result
	var notices []string
	// Landlock: the kernel's ABI version, 0 without it.
	abi, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if errno != 0 || abi == 0 {
		notices = append(notices, "this kernel has no Landlock (Linux 5.13 or later), so file access is not restricted")
	} else {
		var rules []landlock.Rule
		for _, path := range p.Read {
			rules = append(rules, readRule(path))
		}
		if len(p.Write) > 0 {
			rules = append(rules, landlock.RWDirs(p.Write...).WithRefer())
		}
		if err := landlock.V7.BestEffort().RestrictPaths(rules...); err != nil {
			return r, fmt.Errorf("sandbox: landlock: %w", err)
		}
		r.Files = true
	}
	if auditArch == 0 {
		notices = append(notices, "no seccomp filter for "+runtime.GOARCH+", so system calls are not restricted")
	} else if err := seccomp(p.NoSockets); err != nil {
		if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) {
			return r, fmt.Errorf("sandbox: seccomp: %w", err)
		}
		notices = append(notices, "this kernel has no seccomp filters, so system calls are not restricted")
	} else {
		r.Syscalls = true
	}
	if len(notices) > 0 {
		r.Notice = "sandbox: " + notices[0]
		for _, n := range notices[1:] {
			r.Notice += "; " + n
		}
	}
	return r, nil
}

// readRule allows reading path: a directory and what it holds, or one
// file.
func readRule(path string) landlock.Rule {
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return landlock.ROFiles(path).IgnoreIfMissing()
	}
	return landlock.RODirs(path).IgnoreIfMissing()
}

// seccomp installs, on every thread, a filter that fails the forbidden
// system calls with EPERM.
func seccomp(noSockets bool) error {
	deny := []uintptr{unix.SYS_EXECVE, unix.SYS_EXECVEAT, unix.SYS_PTRACE,
		unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV, unix.SYS_KEXEC_LOAD}
	if noSockets {
		deny = append(deny, unix.SYS_SOCKET, unix.SYS_SOCKETPAIR)
	}
	prog := filter(deny)
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	// A filter needs no_new_privs (or CAP_SYS_ADMIN) on the thread that
	// installs it; TSYNC then gives both to every other thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if e != 0 {
		return e
	}
	return nil
}

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
)

// filter returns a BPF program that fails the system calls in deny with
// EPERM, and any call of another architecture (the 32-bit ABIs a 64-bit
// process could still enter) too.
func filter(deny []uintptr) []unix.SockFilter {
	const (
		ld    = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		ret   = unix.BPF_RET | unix.BPF_K
		allow = unix.SECCOMP_RET_ALLOW
		eperm = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	)
	n := len(deny)
	// Layout: load arch; arch ok? else deny; load nr; [x32 check];
	// one jump per denied call; allow; deny.
	prog := []unix.SockFilter{
		{Code: ld, K: offArch},
		{Code: jeq, K: auditArch, Jt: 1}, // on to the number, or
		{Code: ret, K: eperm},            // another architecture's ABI
		{Code: ld, K: offNr},
	}
	if x32Bit != 0 {
		// x32 calls are the x86-64 numbers with this bit set.
		prog = append(prog, unix.SockFilter{Code: jge, K: x32Bit, Jt: uint8(n + 1)})
	}
	for i, nr := range deny {
		prog = append(prog, unix.SockFilter{Code: jeq, K: uint32(nr), Jt: uint8(n - i)})
	}
	return append(prog, unix.SockFilter{Code: ret, K: allow}, unix.SockFilter{Code: ret, K: eperm})
}
