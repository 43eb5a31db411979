// Command ape-loader runs a multi-platform llamafile without the shell: it
// extracts the host's engine into the cache, as the file's shell prelude
// would, and executes it with the given arguments, passed on verbatim.
// It is meant to be registered with Linux binfmt_misc; see ape-loader(1).
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/llamafile-go/llamafile/pkg/ape"
	"github.com/llamafile-go/llamafile/pkg/version"
)

const usage = `usage: ape-loader FILE [ARGS...]
       ape-loader --help | --version

ape-loader runs the multi-platform llamafile FILE on this host (%s/%s):
it extracts the host's engine into the cache directory (%s),
verifies its SHA-256, sets LLAMAFILE_SELF to FILE and executes the engine
with ARGS, which are passed on unchanged, even those that look like options.
Use "ape-loader -- FILE" for a FILE whose name starts with "-".

To run llamafiles directly through it on Linux, register it with binfmt_misc:
  echo ':llamafile:M::MZqFpD=\x27\x0allamafile-ape::/usr/local/bin/ape-loader:' \
    >/proc/sys/fs/binfmt_misc/register
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, usage, runtime.GOOS, runtime.GOARCH, cacheDirHint())
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprintf(stdout, usage, runtime.GOOS, runtime.GOARCH, cacheDirHint())
		return 0
	case "-version", "--version":
		fmt.Fprintf(stdout, "ape-loader %s\n", version.Version)
		return 0
	case "--":
		args = args[1:]
		if len(args) == 0 {
			fmt.Fprintln(stderr, "ape-loader: no FILE given after --")
			return 2
		}
	default:
		if len(args[0]) > 1 && args[0][0] == '-' {
			fmt.Fprintf(stderr, "ape-loader: unknown option %s (use -- before a FILE starting with -)\n", args[0])
			return 2
		}
	}
	l, err := ape.Prepare(args[0], runtime.GOOS, runtime.GOARCH)
	if err != nil {
		fmt.Fprintln(stderr, "ape-loader:", err)
		return 1
	}
	code, err := execute(l, args[1:])
	if err != nil {
		fmt.Fprintf(stderr, "ape-loader: %s: %v\n", l.Engine, err)
		return 126
	}
	return code
}

func cacheDirHint() string {
	if d := os.Getenv(ape.EnvCache); d != "" {
		return d
	}
	switch runtime.GOOS {
	case "windows":
		return `%LocalAppData%\llamafile`
	case "darwin":
		return "~/Library/Caches/llamafile"
	}
	return "${XDG_CACHE_HOME:-~/.cache}/llamafile"
}
