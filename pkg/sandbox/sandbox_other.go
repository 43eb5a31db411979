//go:build !linux && !openbsd

package sandbox

// restrict restricts nothing: this system has no sandbox this package
// uses (macOS's is not public API; FreeBSD's Capsicum and Windows' job
// objects do not fit a process that keeps its files and sockets).
func restrict(Policy) (Result, error) { return Result{}, nil }
