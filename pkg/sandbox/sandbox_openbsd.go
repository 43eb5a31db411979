package sandbox

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// restrict unveils the policy's paths (nothing else stays visible) and
// pledges PledgePromises(p): stdio, reading, writing where allowed, the
// terminal and, unless NoSockets or when Accept, the network.
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
	promises, notice := PledgePromises(p)
	if err := unix.PledgePromises(promises); err != nil {
		return Result{}, fmt.Errorf("sandbox: pledge: %w", err)
	}
	return Result{Files: true, Syscalls: true, Notice: notice}, nil
}
