package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/llamafile-go/llamafile/pkg/sandbox"
)

// enterSandbox restricts the process for the rest of the run, once the
// model is mapped and (in the server) the socket listens: no new files
// but those p allows, no exec, no ptrace, no new sockets. --unsecure
// skips it, as in llamafile. A system that cannot restrict something gets
// a one-line notice, never a failure to start.
func enterSandbox(o *options, e env, logw io.Writer, p sandbox.Policy) {
	if o.unsecure || e.restrict == nil {
		return
	}
	res, err := e.restrict(p)
	switch {
	case err != nil:
		fmt.Fprintf(logw, "llamafile: %v; running without a sandbox\n", err)
	case res.Notice != "":
		fmt.Fprintf(logw, "llamafile: %s\n", res.Notice)
	}
}

// cliPolicy is the sandbox of the command line: nothing to open any more
// but the --prompt-cache file's folder, and no sockets.
func cliPolicy(o *options) sandbox.Policy {
	p := sandbox.Policy{NoSockets: true}
	if o.promptCache != "" && !o.promptCacheRO {
		p.Write = append(p.Write, filepath.Dir(o.promptCache))
	} else if o.promptCache != "" {
		p.Read = append(p.Read, o.promptCache)
	}
	return p
}

// serverPolicy is the sandbox of the server: reading only --path's
// directory, no new sockets (it accepts on the one it listens on, which
// OpenBSD's pledge allows only with new sockets: see
// sandbox.PledgePromises).
func serverPolicy(o *options) sandbox.Policy {
	p := sandbox.Policy{NoSockets: true, Accept: true}
	if o.server.staticDir != "" {
		p.Read = append(p.Read, o.server.staticDir)
	}
	return p
}
