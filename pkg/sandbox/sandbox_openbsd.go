package sandbox

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// restrict unveils the policy's paths (nothing else stays visible) and
// pledges stdio, reading, writing where allowed, the terminal and, unless
// NoSockets, the network (accepting on the open listener).
func restrict(p Policy) (Result, error) {
	for _, path := range p.Read {
		if err := unix.Unveil(path, "r"); err != nil {
			return Result{}, fmt.Errorf("sandbox: unveil %s: %w", path, err)
		}
	}
	for _, path := range p.Write {
		if err := unix.Unveil(path, "rwc"); err != nil {
			return Result{}, fmt.Errorf("sandbox: unveil %s: %w", path, err)
		}
	}
	if err := unix.UnveilBlock(); err != nil {
		return Result{}, fmt.Errorf("sandbox: unveil: %w", err)
	}
	promises := "stdio rpath tty"
	if len(p.Write) > 0 {
		promises += " wpath cpath"
	}
	if !p.NoSockets {
		promises += " inet"
	}
	if err := unix.PledgePromises(promises); err != nil {
		return Result{}, fmt.Errorf("sandbox: pledge: %w", err)
	}
	return Result{Files: true, Syscalls: true}, nil
}
