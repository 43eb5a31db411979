package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/version"
)

// Printer writes results as they arrive: Header once, Test per result,
// Footer at the end.
type Printer interface {
	Header(p *Params) error
	Test(r *Result) error
	Footer() error
}

// NewPrinter returns the Printer of an output format (FormatMarkdown,
// FormatJSON or FormatJSONL) writing to w.
func NewPrinter(format string, w io.Writer) (Printer, error) {
	switch format {
	case FormatMarkdown:
		return &markdownPrinter{w: w}, nil
	case FormatJSON:
		return &jsonPrinter{w: w}, nil
	case FormatJSONL:
		return &jsonPrinter{w: w, lines: true}, nil
	}
	return nil, fmt.Errorf("bench: unknown output format %q (want md, json or jsonl)", format)
}

// WriteMarkdown writes results as llama-bench's markdown table; p selects
// the optional columns (n_batch and n_ubatch appear when not the
// defaults).
func WriteMarkdown(w io.Writer, p *Params, results []*Result) error {
	return writeAll(&markdownPrinter{w: w}, p, results)
}

// WriteJSON writes results as a JSON array of objects with llama-bench's
// field names.
func WriteJSON(w io.Writer, results []*Result) error {
	return writeAll(&jsonPrinter{w: w}, nil, results)
}

func writeAll(pr Printer, p *Params, results []*Result) error {
	if err := pr.Header(p); err != nil {
		return err
	}
	for _, r := range results {
		if err := pr.Test(r); err != nil {
			return err
		}
	}
	return pr.Footer()
}

// column is one markdown column: its header and its width, negative for
// left-aligned (printf's %-*s), as llama-bench lays them out.
type column struct {
	name  string
	width int
	value func(r *Result) string
}

type markdownPrinter struct {
	w    io.Writer
	cols []column
}

func (m *markdownPrinter) Header(p *Params) error {
	m.cols = []column{
		{"model", -30, func(r *Result) string { return r.ModelType }},
		{"size", 10, func(r *Result) string { return formatSize(r.ModelSize) }},
		{"params", 10, func(r *Result) string { return formatParams(r.ModelNParams) }},
		{"backend", -10, func(r *Result) string { return r.Backends }},
		{"threads", 7, func(r *Result) string { return fmt.Sprint(r.NThreads) }},
	}
	if p != nil && !slices.Equal(p.Batch, []int{DefaultBatch}) {
		m.cols = append(m.cols, column{"n_batch", 7, func(r *Result) string { return fmt.Sprint(r.NBatch) }})
	}
	if p != nil && !slices.Equal(p.UBatch, []int{DefaultUBatch}) {
		m.cols = append(m.cols, column{"n_ubatch", 8, func(r *Result) string { return fmt.Sprint(r.NUBatch) }})
	}
	m.cols = append(m.cols,
		column{"test", 15, func(r *Result) string { return r.Name() }},
		column{"t/s", 20, func(r *Result) string { return fmt.Sprintf("%.2f ± %.2f", r.AvgTs, r.StddevTs) }},
	)
	var b strings.Builder
	b.WriteString("|")
	for _, c := range m.cols {
		fmt.Fprintf(&b, " %*s |", c.width, c.name)
	}
	b.WriteString("\n|")
	for _, c := range m.cols {
		w := max(c.width, -c.width)
		end := "-"
		if c.width > 0 {
			end = ":"
		}
		fmt.Fprintf(&b, " %s%s |", strings.Repeat("-", w-1), end)
	}
	b.WriteString("\n")
	_, err := io.WriteString(m.w, b.String())
	return err
}

func (m *markdownPrinter) Test(r *Result) error {
	var b strings.Builder
	b.WriteString("|")
	for _, c := range m.cols {
		// Go pads by runes, so "±" needs none of llama-bench's byte
		// width correction.
		fmt.Fprintf(&b, " %*s |", c.width, c.value(r))
	}
	b.WriteString("\n")
	_, err := io.WriteString(m.w, b.String())
	return err
}

func (m *markdownPrinter) Footer() error {
	_, err := fmt.Fprintf(m.w, "\nbuild: llamafile %s (%s)\n", version.Version, runtime.Version())
	return err
}

// formatSize prints bytes as llama-bench does: MiB below 1 GiB, else GiB.
func formatSize(n uint64) string {
	if n < 1<<30 {
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// formatParams prints a weight count as llama-bench does: millions below
// a billion, else billions.
func formatParams(n uint64) string {
	if n < 1e9 {
		return fmt.Sprintf("%.2f M", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f B", float64(n)/1e9)
}

type jsonPrinter struct {
	w     io.Writer
	lines bool // JSON Lines: one compact object per line, no array
	n     int
}

func (j *jsonPrinter) Header(*Params) error {
	if j.lines {
		return nil
	}
	_, err := io.WriteString(j.w, "[\n")
	return err
}

func (j *jsonPrinter) Test(r *Result) error {
	var buf bytes.Buffer
	if !j.lines && j.n > 0 {
		buf.WriteString(",\n")
	}
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if !j.lines {
		buf.WriteString("  ")
		enc.SetIndent("  ", "  ")
	}
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	out := buf.Bytes()
	if !j.lines {
		out = bytes.TrimSuffix(out, []byte("\n"))
	}
	j.n++
	_, err := j.w.Write(out)
	return err
}

func (j *jsonPrinter) Footer() error {
	if j.lines {
		return nil
	}
	end := "]\n"
	if j.n > 0 {
		end = "\n]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}

// Main runs the benchmark command line args (without the program name),
// printing results to stdout and errors to stderr, and returns the exit
// status: 0 on success, 1 when a test fails, 2 for bad arguments. It is
// what "llamafile --bench ARGS..." runs.
func Main(args []string, stdout, stderr io.Writer) int {
	return MainContext(context.Background(), args, stdout, stderr)
}

// MainContext is Main stopping early when ctx is cancelled.
func MainContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	p, err := ParseArgs(args)
	if errors.Is(err, ErrHelp) {
		io.WriteString(stdout, Usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "llamafile --bench: %v\n(see llamafile --bench --help)\n", err)
		return 2
	}
	pr, err := NewPrinter(p.Output, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "llamafile --bench: %v\n", err)
		return 2
	}
	if err := pr.Header(&p); err != nil {
		fmt.Fprintf(stderr, "llamafile --bench: %v\n", err)
		return 1
	}
	if err := Run(ctx, p, stderr, pr.Test); err != nil {
		fmt.Fprintf(stderr, "llamafile --bench: %v\n", err)
		return 1
	}
	if err := pr.Footer(); err != nil {
		fmt.Fprintf(stderr, "llamafile --bench: %v\n", err)
		return 1
	}
	return 0
}
