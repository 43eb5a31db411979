package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/llamafile-go/llamafile/internal/term"
	"github.com/llamafile-go/llamafile/pkg/zipalign"
)

const checkUsage = `usage: llamafile --check [FILE...]

Reads every entry of the zip archive of each FILE (a llamafile), or of this
executable without a FILE, and verifies its CRC-32: one line per entry and a
summary, or the first damaged entry named and exit status 1. Run it after
downloading a large llamafile.
`

// runCheck is --check: it verifies the zip archive of each file in args,
// or of the executable's own file (ape.SelfPath) when there is none. It
// comes before the archive's .args are read, which a damaged archive may
// not give.
func runCheck(args []string, e env) int {
	for _, a := range args {
		switch {
		case a == "-h" || a == "--help":
			fmt.Fprint(e.stdout, checkUsage)
			return exitOK
		case strings.HasPrefix(a, "-") && a != "-":
			fmt.Fprintf(e.stderr, "llamafile: --check: unknown option %s\n%s", a, checkUsage)
			return exitUsage
		}
	}
	own := len(args) == 0
	if own {
		if e.selfErr != nil {
			fmt.Fprintf(e.stderr, "llamafile: --check: %v\n", e.selfErr)
			return exitError
		}
		args = []string{e.self}
	}
	var status io.Writer
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(f) {
		status = e.stderr
	}
	code := exitOK
	for _, p := range args {
		err := zipalign.CheckFile(p, e.stdout, status)
		if err == nil {
			continue
		}
		code = exitError
		if own && errors.Is(err, zipalign.ErrNoArchive) {
			fmt.Fprintf(e.stderr, "llamafile: %s: this executable carries no zip archive, so no weights to check; to check a llamafile, run llamafile --check FILE\n", p)
			continue
		}
		fmt.Fprintf(e.stderr, "llamafile: %s\n", strings.TrimPrefix(err.Error(), "zipalign: "))
	}
	return code
}
