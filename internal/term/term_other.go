//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !windows

package term

import "os"

// IsTerminal reports false where terminals are not known.
func IsTerminal(*os.File) bool { return false }
