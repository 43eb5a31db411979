//go:build unix

package main

import (
	"syscall"

	"github.com/llamafile-go/llamafile/pkg/ape"
)

// execute replaces this process with the engine; it returns only on error.
func execute(l *ape.Launch, args []string) (int, error) {
	argv := append([]string{l.Engine}, args...)
	return 0, syscall.Exec(l.Engine, argv, l.Env)
}
