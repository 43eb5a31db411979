package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// gpuNames are the values --gpu takes, as llamafile spells them, with the
// aliases it accepts; each maps to its canonical name.
var gpuNames = map[string]string{
	"auto": "auto", "apple": "apple", "amd": "amd", "nvidia": "nvidia", "disable": "disable",
	"disabled": "disable", "metal": "apple", "cublas": "nvidia", "rocblas": "amd", "rocm": "amd", "hip": "amd",
}

// checkGPU reads llamafile's GPU flags, -ngl N and --gpu NAME. This build
// runs on the CPU only, so they choose nothing; but the command lines of
// llamafile's documentation nearly all say -ngl 9999, and they must run as
// written, on the CPU, as llamafile runs them on a machine without a GPU.
// o.gpuWanted records whether they asked for a GPU, for the notice.
func (o *options) checkGPU(c *cli.Context) error {
	gpu := ""
	if c.IsSet("gpu") {
		var ok bool
		if gpu, ok = gpuNames[strings.ToLower(c.String("gpu"))]; !ok {
			return usageError{fmt.Errorf("--gpu %q: must be auto, apple, amd, nvidia or disable", c.String("gpu"))}
		}
	}
	switch {
	case gpu == "disable" || c.IsSet("ngl") && c.Int("ngl") <= 0:
		// The CPU, as asked (llamafile: -ngl 0 disables the GPU).
	case c.Int("ngl") > 0, gpu == "apple" || gpu == "amd" || gpu == "nvidia":
		o.gpuWanted = true
	}
	return nil
}

// gpuNotice says once that a GPU asked for is not used.
func gpuNotice(w io.Writer) {
	fmt.Fprintln(w, "llamafile: no GPU support in this build; running on the CPU")
}
