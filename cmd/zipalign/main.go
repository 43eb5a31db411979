// Command zipalign adds files to the zip archive at the end of a file,
// typically an executable, storing them uncompressed with their data aligned
// so that they can be memory-mapped in place. It is how a llamafile gets its
// weights:
//
//	zipalign -j0 model.llamafile model.gguf .args
//
// With --check it verifies instead the CRC-32 of every entry of an archive,
// for example a llamafile just downloaded:
//
//	zipalign --check model.llamafile
//
// See man/zipalign.1.
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/llamafile-go/llamafile/internal/term"
	"github.com/llamafile-go/llamafile/pkg/version"
	"github.com/llamafile-go/llamafile/pkg/zipalign"
)

const usage = `usage: zipalign [-a ALIGN] [-j] [-0..-9] [-N] [-v] ZIPFILE FILE...
       zipalign --check ZIPFILE...

Adds each FILE to the zip archive at the end of ZIPFILE (an executable, an
existing zip, or a file to create), replacing entries of the same name.
Entries are stored uncompressed with their data aligned to ALIGN bytes from
the start of ZIPFILE, so that they can be memory-mapped in place.

options:
  -a ALIGN   alignment of stored data, a power of two (default 65536)
  -j         junk paths: name entries by the files' base names
  -0         store uncompressed (default)
  -1 .. -9   deflate, from fastest to smallest (files deflate cannot
             shrink are stored and aligned)
  -N         record real modification times (default: a fixed time, so
             the output is reproducible)
  -v         verbose: report each entry on standard error
  --check    add nothing: read every entry of each ZIPFILE (a llamafile,
             say, after a download) and verify its CRC-32; prints one
             line per entry and a summary, or names the first damaged
             entry and exits with status 1
  -h, --help     print this help and exit
  --version      print the version and exit

Single-letter options combine: -j0 is -j -0.
`

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	opt      zipalign.Options
	junk     bool
	verbose  bool
	help     bool
	version  bool
	check    bool
	operands []string
}

// errUsage marks command line errors, which exit with status 2.
type errUsage struct{ msg string }

func (e *errUsage) Error() string { return e.msg }

// parseArgs parses getopt-style options "0123456789vjNha:", combinable
// (-j0, -0j, -jva4096), anywhere before "--", plus --help and --version.
func parseArgs(args []string) (*config, error) {
	c := &config{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			c.operands = append(c.operands, args[i+1:]...)
			return c, nil
		case a == "--help" || a == "-help":
			c.help = true
			continue
		case a == "--version":
			c.version = true
			continue
		case a == "--check":
			c.check = true
			continue
		case strings.HasPrefix(a, "--"):
			return nil, &errUsage{fmt.Sprintf("unknown option %s", a)}
		case len(a) < 2 || a[0] != '-':
			c.operands = append(c.operands, a)
			continue
		}
	flags:
		for j := 1; j < len(a); j++ {
			switch ch := a[j]; {
			case ch >= '0' && ch <= '9':
				c.opt.Level = int(ch - '0')
			case ch == 'j':
				c.junk = true
			case ch == 'v':
				c.verbose = true
			case ch == 'N':
				c.opt.KeepModTime = true
			case ch == 'h':
				c.help = true
			case ch == 'a':
				val := a[j+1:]
				if val == "" {
					if i+1 == len(args) {
						return nil, &errUsage{"option -a needs a value"}
					}
					i++
					val = args[i]
				}
				n, err := strconv.ParseInt(val, 10, 64)
				if err != nil || n < 1 || n > zipalign.MaxAlign || n&(n-1) != 0 {
					return nil, &errUsage{fmt.Sprintf("-a %s: alignment must be a power of two from 1 to %d", val, zipalign.MaxAlign)}
				}
				c.opt.Align = n
				break flags
			default:
				return nil, &errUsage{fmt.Sprintf("unknown option -%c in %s", ch, a)}
			}
		}
	}
	return c, nil
}

// run executes the command and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "zipalign: %v\nTry 'zipalign --help' for more information.\n", err)
		return exitUsage
	}
	switch {
	case c.help:
		fmt.Fprint(stdout, usage)
		return exitOK
	case c.version:
		fmt.Fprintf(stdout, "zipalign %s\n", version.Version)
		return exitOK
	case len(c.operands) == 0:
		fmt.Fprintf(stderr, "zipalign: missing ZIPFILE\n%s", usage)
		return exitUsage
	case c.check:
		return check(c.operands, stdout, stderr)
	case len(c.operands) == 1:
		fmt.Fprintf(stderr, "zipalign: %s: no FILE to add\nTry 'zipalign --help' for more information.\n", c.operands[0])
		return exitUsage
	}
	if c.verbose {
		c.opt.Verbose = stderr
	}
	zipPath := c.operands[0]
	var files []zipalign.File
	for _, p := range c.operands[1:] {
		name, err := zipalign.EntryName(p, c.junk)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
		files = append(files, zipalign.File{Name: name, Path: p})
	}
	if err := zipalign.Append(zipPath, files, c.opt); err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	return exitOK
}

// check verifies each archive, showing progress on stderr when it is a
// terminal, and returns exitError when any is damaged or unreadable.
func check(paths []string, stdout, stderr io.Writer) int {
	var status io.Writer
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(f) {
		status = stderr
	}
	code := exitOK
	for _, p := range paths {
		if err := zipalign.CheckFile(p, stdout, status); err != nil {
			fmt.Fprintln(stderr, err)
			code = exitError
		}
	}
	return code
}
