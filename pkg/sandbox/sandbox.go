// Package sandbox restricts what the running process may still do, once it
// has opened what it needs: the model mapped, the listening socket open,
// the input read. People run llamafiles downloaded from strangers and
// expose servers on their network; after Restrict, a bug that a hostile
// model file, chat template or request could exploit reaches far less.
//
// On Linux, Restrict applies a Landlock ruleset (go-landlock, at the
// newest ABI the kernel has): no file may be opened but for reading under
// Policy.Read and for writing under Policy.Write. Then a seccomp filter,
// on every thread: no execve, no ptrace or process_vm_* access to other
// processes, and with Policy.NoSockets no new sockets (socket, socketpair).
// On OpenBSD, pledge(2) and unveil(2) do the same (PledgePromises), but for
// one thing: a process that accepts connections (Policy.Accept, a server)
// must pledge "inet", which allows new sockets too. Elsewhere (macOS,
// Windows, FreeBSD, NetBSD) nothing is restricted, and Result says so.
//
// A kernel without Landlock or seccomp is not an error: Result.Notice says
// in one line what is not restricted, and the program goes on.
package sandbox

import (
	"fmt"
	"path/filepath"
	"time"
)

// Policy is what the process may still do.
type Policy struct {
	// Read lists the files and directories that may still be opened for
	// reading (a directory: everything under it).
	Read []string
	// Write lists the directories where files may still be created,
	// written, renamed and removed (and read).
	Write []string
	// NoSockets forbids new sockets: connections already open and
	// listening sockets keep working (a server accepts on its own).
	NoSockets bool
	// Accept says that the process accepts connections on a listening
	// TCP socket it holds, as a server does. Linux needs no permission
	// for it; OpenBSD's pledge needs "inet", which also allows new
	// sockets whatever NoSockets says (see PledgePromises).
	Accept bool
}

// Result says what Restrict restricted.
type Result struct {
	// Files is set when file access is restricted (Landlock, unveil).
	Files bool
	// Syscalls is set when system calls are restricted (seccomp, pledge).
	Syscalls bool
	// Notice is one line for the user when something could not be
	// restricted on this system, "" otherwise.
	Notice string
}

// Restrict restricts the whole process, every thread, for the rest of its
// life: there is no undoing it. It returns an error only when a
// restriction the system supports fails to apply.
func Restrict(p Policy) (Result, error) {
	// What the standard library loads lazily from files, load now:
	// the local time zone (log timestamps).
	_, _ = time.Now().Local().Zone()
	abs := func(paths []string) ([]string, error) {
		out := make([]string, 0, len(paths))
		for _, path := range paths {
			a, err := filepath.Abs(path)
			if err != nil {
				return nil, fmt.Errorf("sandbox: %s: %w", path, err)
			}
			out = append(out, a)
		}
		return out, nil
	}
	var err error
	if p.Read, err = abs(p.Read); err != nil {
		return Result{}, err
	}
	if p.Write, err = abs(p.Write); err != nil {
		return Result{}, err
	}
	return restrict(p)
}
