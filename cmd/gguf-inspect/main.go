// Command gguf-inspect prints the header, metadata and tensor table of GGUF
// model files, for people or, with --json, for programs.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/llamafile-go/llamafile/pkg/gguf"
	"github.com/llamafile-go/llamafile/pkg/version"
)

// usageError marks a command-line mistake (exit status 2).
type usageError struct{ error }

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// options are the parsed flags.
type options struct {
	json    bool
	keys    bool
	tensors bool
	get     string
	hasGet  bool
}

func newApp(stdout, stderr io.Writer, status *int) *cli.App {
	return &cli.App{
		Name:            "gguf-inspect",
		Usage:           "print the metadata and tensors of GGUF model files",
		UsageText:       "gguf-inspect [--json] [--keys | --tensors | --get KEY] FILE...",
		Version:         version.Version,
		HideHelpCommand: true,
		Writer:          stdout,
		ErrWriter:       stderr,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print one JSON document per file"},
			&cli.BoolFlag{Name: "keys", Usage: "print the metadata only"},
			&cli.BoolFlag{Name: "tensors", Usage: "print the tensor table only"},
			&cli.StringFlag{Name: "get", Usage: "print the value of metadata `KEY` only, raw (arrays one element per line)"},
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		Action: func(c *cli.Context) error {
			opt := options{
				json:    c.Bool("json"),
				keys:    c.Bool("keys"),
				tensors: c.Bool("tensors"),
				get:     c.String("get"),
				hasGet:  c.IsSet("get"),
			}
			if c.NArg() == 0 {
				return usageError{errors.New("no FILE given (see --help)")}
			}
			if opt.hasGet && (opt.keys || opt.tensors) {
				return usageError{errors.New("--get cannot be combined with --keys or --tensors")}
			}
			w := bufio.NewWriter(stdout)
			defer w.Flush()
			for i, path := range c.Args().Slice() {
				if err := inspect(w, path, i, c.NArg(), opt); err != nil {
					w.Flush()
					fmt.Fprintf(stderr, "gguf-inspect: %v\n", err)
					*status = 1
				}
			}
			return w.Flush()
		},
	}
}

// run runs the command and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	status := 0
	err := newApp(stdout, stderr, &status).Run(flagsFirst(args))
	if err != nil {
		fmt.Fprintf(stderr, "gguf-inspect: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return status
}

// flagsFirst returns args (the program name first) with the options moved
// before the files, so that options may follow files as with most
// commands ("gguf-inspect m.gguf --json"); the files follow a "--", so that
// the flag parser, which stops at the first file, sees every option.
// Arguments after a "--" in args are files whatever they look like.
func flagsFirst(args []string) []string {
	if len(args) == 0 {
		return args
	}
	flags := []string{args[0]}
	var files []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			files = append(files, args[i+1:]...)
			i = len(args)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			if (a == "--get" || a == "-get") && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			files = append(files, a)
		}
	}
	return append(append(flags, "--"), files...)
}

// inspect prints one file in the selected format.
func inspect(w *bufio.Writer, path string, index, count int, opt options) error {
	f, err := gguf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	switch {
	case opt.hasGet:
		v, ok := f.Get(opt.get)
		if !ok {
			return fmt.Errorf("%s: key %q: %w", path, opt.get, gguf.ErrKeyNotFound)
		}
		if opt.json {
			writeJSONValue(w, v)
			w.WriteByte('\n')
			return nil
		}
		writeRaw(w, v)
	case opt.json:
		writeJSON(w, path, f, opt)
	default:
		writeText(w, path, f, index, count, opt)
	}
	return nil
}
