// Command mkape packs native engines into one multi-platform llamafile
// (see pkg/ape). The Makefile runs it to make bin/llamafile:
//
//	go run ./internal/mkape -o OUT OS/ARCH=PATH...
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/ape"
)

func main() {
	out := flag.String("o", "", "output `file`")
	raw := flag.Bool("raw", false, "store engines uncompressed")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: mkape -o OUT [-raw] OS/ARCH=PATH...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	var engines []ape.Engine
	for _, arg := range flag.Args() {
		platform, path, ok := strings.Cut(arg, "=")
		goos, goarch, ok2 := strings.Cut(platform, "/")
		if !ok || !ok2 || path == "" {
			fmt.Fprintf(os.Stderr, "mkape: %q is not OS/ARCH=PATH\n", arg)
			os.Exit(2)
		}
		engines = append(engines, ape.Engine{OS: goos, Arch: goarch, Path: path})
	}
	if err := ape.Pack(*out, engines, ape.PackOptions{Raw: *raw}); err != nil {
		fmt.Fprintln(os.Stderr, "mkape:", err)
		os.Exit(1)
	}
}
