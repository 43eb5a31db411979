// Command quantize converts a GGUF model to another tensor type or
// quantization mix, choosing every tensor's type as llama.cpp's
// llama-quantize does and writing the same bytes:
//
//	quantize model-f32.gguf model-q4_k_m.gguf Q4_K_M
//
// See man/quantize.1. The work is done by package quant.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/llamafile-go/llamafile/internal/term"
	"github.com/llamafile-go/llamafile/pkg/quant"
	"github.com/llamafile-go/llamafile/pkg/version"
)

const usage = `usage: quantize [--allow-requantize] IN.gguf OUT.gguf TYPE [NTHREADS]

Converts the GGUF model IN.gguf to the tensor type or quantization mix TYPE
and writes it to OUT.gguf, choosing the type of every tensor as llama.cpp's
llama-quantize does.

TYPE is a name (case-insensitive) or llama.cpp's file type number:
  F32 (0)  F16 (1)  BF16 (32)  Q4_0 (2)  Q4_1 (3)  Q5_0 (8)  Q5_1 (9)  Q8_0 (7)
  Q2_K (10)  Q3_K_S (11)  Q3_K_M (12)  Q3_K_L (13)  Q4_K_S (14)  Q4_K_M (15)
  Q5_K_S (16)  Q5_K_M (17)  Q6_K (18); Q3_K, Q4_K and Q5_K mean the _M mixes.
NTHREADS is the number of threads (default: all cores).

options:
  --allow-requantize  convert tensors that are already quantized (they are
                      dequantized first; quality suffers)
  -h, --help          print this help and exit
  --version           print the version and exit
`

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, term.IsTerminal(os.Stderr))
	stop()
	os.Exit(code)
}

// config is the parsed command line.
type config struct {
	allowRequantize bool
	help, version   bool
	in, out         string
	fileType        quant.FileType
	typeName        string
	threads         int
}

// parseArgs parses the command line; options may appear anywhere before
// "--".
func parseArgs(args []string) (*config, error) {
	c := &config{}
	var operands []string
	for i, a := range args {
		if a == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		switch a {
		case "--allow-requantize":
			c.allowRequantize = true
		case "-h", "--help", "-help":
			c.help = true
		case "--version":
			c.version = true
		default:
			if len(a) > 1 && a[0] == '-' {
				if _, err := strconv.Atoi(a); err != nil {
					return nil, fmt.Errorf("unknown option %s", a)
				}
			}
			operands = append(operands, a)
		}
	}
	if c.help || c.version {
		return c, nil
	}
	switch {
	case len(operands) < 3:
		return nil, errors.New("missing operands: IN.gguf OUT.gguf TYPE are required")
	case len(operands) > 4:
		return nil, fmt.Errorf("too many operands (%d)", len(operands))
	}
	c.in, c.out, c.typeName = operands[0], operands[1], operands[2]
	ft, err := quant.ParseFileType(c.typeName)
	if err != nil {
		return nil, fmt.Errorf("invalid TYPE %q: want one of %s, or its number", c.typeName, typeList())
	}
	c.fileType = ft
	if len(operands) == 4 {
		n, err := strconv.Atoi(operands[3])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid NTHREADS %q: want a number of threads (0 for all cores)", operands[3])
		}
		c.threads = n
	}
	return c, nil
}

// typeList names the file types this build can produce.
func typeList() string {
	var names []string
	for _, ft := range quant.FileTypes() {
		if ft.Supported() {
			names = append(names, ft.String())
		}
	}
	return strings.Join(names, ", ")
}

// run executes the command and returns its exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	c, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "quantize: %v\nTry 'quantize --help' for more information.\n", err)
		return exitError
	}
	switch {
	case c.help:
		fmt.Fprint(stdout, usage)
		return exitOK
	case c.version:
		fmt.Fprintf(stdout, "quantize %s\n", version.Version)
		return exitOK
	}
	threads := c.threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	fmt.Fprintf(stderr, "quantize: quantizing '%s' to '%s' as %s using %d threads\n", c.in, c.out, c.fileType, threads)

	d := &display{w: stderr, tty: tty}
	start := time.Now()
	res, err := quant.QuantizeFile(ctx, c.in, c.out, quant.Options{
		FileType:        c.fileType,
		Threads:         threads,
		AllowRequantize: c.allowRequantize,
		Log:             d.tensor,
		Progress:        d.progress,
	})
	d.clear()
	if err != nil {
		var rerr *quant.RequantizeError
		switch {
		case errors.Is(err, context.Canceled):
			fmt.Fprintf(stderr, "quantize: interrupted; %s not written\n", c.out)
			return exitInterrupted
		case errors.As(err, &rerr):
			fmt.Fprintf(stderr, "quantize: %v (use --allow-requantize to convert it anyway)\n", err)
		default:
			fmt.Fprintf(stderr, "quantize: %v\n", err)
		}
		return exitError
	}
	elements := max(1, float64(res.Elements))
	fmt.Fprintf(stderr, "quantize: model size = %8.2f MiB (%.2f BPW)\n", mib(res.OldSize), float64(res.OldSize)*8/elements)
	fmt.Fprintf(stderr, "quantize: quant size = %8.2f MiB (%.2f BPW)\n", mib(res.NewSize), float64(res.NewSize)*8/elements)
	if res.Fallbacks > 0 {
		fmt.Fprintf(stderr, "quantize: warning: %d of %d tensor(s) required fallback quantization\n", res.Fallbacks, len(res.Choices))
	}
	fmt.Fprintf(stderr, "quantize: wrote %s in %.2f s\n", c.out, time.Since(start).Seconds())
	return exitOK
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// display prints per-tensor lines and, on a terminal, a progress bar below
// them.
type display struct {
	w     io.Writer
	tty   bool
	shown bool // a progress bar is on screen
	last  time.Time
	done  int64
	total int64
}

const lineWidth = 72

// clear erases the progress bar, if shown.
func (d *display) clear() {
	if d.shown {
		fmt.Fprintf(d.w, "\r%*s\r", lineWidth, "")
		d.shown = false
	}
}

func (d *display) draw() {
	const width = 40
	frac := 1.0
	if d.total > 0 {
		frac = float64(d.done) / float64(d.total)
	}
	n := int(frac * width)
	bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	fmt.Fprintf(d.w, "\r[%s] %5.1f%% %8.2f/%.2f MiB", bar, frac*100, mib(d.done), mib(d.total))
	d.shown = true
}

// progress is quant.Options.Progress: redraw at most ten times a second.
func (d *display) progress(done, total int64) {
	d.done, d.total = done, total
	if !d.tty || time.Since(d.last) < 100*time.Millisecond {
		return
	}
	d.last = time.Now()
	d.draw()
}

// tensor is quant.Options.Log: one line per tensor, like llama.cpp's.
func (d *display) tensor(r quant.TensorReport) {
	d.clear()
	shape := make([]string, 4)
	for i := range shape {
		n := uint64(1)
		if i < len(r.Dims) {
			n = r.Dims[i]
		}
		shape[i] = fmt.Sprintf("%6d", n)
	}
	line := fmt.Sprintf("[%4d/%4d] %-36s - [%s], type = %6s, ", r.N, r.Count, r.Name, strings.Join(shape, ", "), r.From)
	if r.Convert() {
		line += fmt.Sprintf("converting to %s .. size = %8.2f MiB -> %8.2f MiB", r.To, mib(r.OldSize), mib(r.NewSize))
	} else {
		line += fmt.Sprintf("size = %8.3f MiB", mib(r.OldSize))
	}
	if r.Fallback {
		line += fmt.Sprintf(" (fallback: %d columns do not fit %s blocks of %d)", r.Dims[0], r.Wanted, r.Wanted.BlockSize())
	}
	fmt.Fprintln(d.w, line)
	if d.tty && r.N < r.Count {
		d.draw()
	}
}
