// Command assimilate turns a multi-platform llamafile into the plain native
// executable for one platform, keeping its embedded zip archive (weights,
// .args) with its alignment. See assimilate(1).
package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/llamafile-go/llamafile/pkg/ape"
	"github.com/llamafile-go/llamafile/pkg/version"
	"github.com/urfave/cli/v2"
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "assimilate:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:      "assimilate",
		Usage:     "turn a multi-platform llamafile into one platform's native executable",
		UsageText: "assimilate [--os OS] [--arch ARCH] [--output OUT] FILE",
		Description: "assimilate replaces the multi-platform llamafile FILE, in place and atomically,\n" +
			"with the native executable for one platform (the host's by default),\n" +
			"keeping the zip archive it carries with its data alignment.",
		Version:         version.Version,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "os", Value: runtime.GOOS, Usage: "target `OS`: linux, darwin, windows, freebsd, openbsd or netbsd"},
			&cli.StringFlag{Name: "arch", Value: runtime.GOARCH, Usage: "target `ARCH`: amd64 or arm64"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `OUT` instead of replacing FILE"},
			&cli.BoolFlag{Name: "list", Aliases: []string{"l"}, Usage: "list the engines FILE holds and change nothing"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("assimilate: expected exactly one FILE (see --help)", 2)
			}
			file := c.Args().First()
			if c.Bool("list") {
				m, err := ape.ReadFile(file)
				if err != nil {
					return err
				}
				for _, e := range m.Entries {
					fmt.Printf("%-14s %-4s %10d bytes at %d\n", e.Platform(), e.Encoding, e.Size, e.Offset)
				}
				return nil
			}
			return ape.Assimilate(file, c.String("os"), c.String("arch"), c.String("output"))
		},
	}
}
