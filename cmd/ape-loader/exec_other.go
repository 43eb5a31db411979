//go:build !unix

package main

import (
	"os"

	"github.com/llamafile-go/llamafile/pkg/ape"
)

// execute runs the engine as a child process sharing the standard streams
// (Windows has no exec) and returns its exit code.
func execute(l *ape.Launch, args []string) (int, error) {
	argv := append([]string{l.Engine}, args...)
	p, err := os.StartProcess(l.Engine, argv, &os.ProcAttr{
		Env:   l.Env,
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		return 0, err
	}
	st, err := p.Wait()
	if err != nil {
		return 0, err
	}
	return st.ExitCode(), nil
}
