// Command hello is the test engine of package ape: it reports the platform
// it was built for, its arguments, the file ape.SelfPath names, and what
// that file's zip archive holds.
package main

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/ape"
)

func main() {
	fmt.Printf("platform=%s/%s\n", runtime.GOOS, runtime.GOARCH)
	fmt.Printf("args=%q\n", os.Args[1:])
	self, err := ape.SelfPath()
	if err != nil {
		fmt.Println("self-error=" + err.Error())
		os.Exit(3)
	}
	fmt.Printf("self=%s\n", self)
	f, err := os.Open(self)
	if err != nil {
		fmt.Println("open-error=" + err.Error())
		os.Exit(3)
	}
	defer f.Close()
	fi, _ := f.Stat()
	z, err := zip.NewReader(f, fi.Size())
	if err != nil {
		fmt.Println("zip=none")
		return
	}
	for _, e := range z.File {
		off, _ := e.DataOffset()
		rc, err := e.Open()
		if err != nil {
			fmt.Printf("entry-error=%s %v\n", e.Name, err)
			continue
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		fmt.Printf("entry=%s offset=%d size=%d text=%q\n", e.Name, off, len(data), strings.TrimSpace(string(data[:min(len(data), 40)])))
	}
}
