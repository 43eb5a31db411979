package quant

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// Metadata keys the quantizer sets or drops.
const (
	KeyFileType            = "general.file_type"
	KeyQuantizationVersion = "general.quantization_version"
	// QuantizationVersion is the value of general.quantization_version
	// (ggml's GGML_QNT_VERSION).
	QuantizationVersion = 2
)

// splitKeys are dropped from the output: it is always a single file.
var splitKeys = []string{"split.no", "split.count", "split.tensors.count"}

// minChunk is the least number of elements a worker converts at a time.
const minChunk = 32 * 512

// Options configure Quantize.
type Options struct {
	// FileType is the quantization mix to produce.
	FileType FileType
	// Threads is the number of goroutines converting rows; 0 means
	// runtime.GOMAXPROCS(0).
	Threads int
	// AllowRequantize permits converting tensors that are already
	// quantized (they are dequantized first). Without it Quantize fails
	// with a *RequantizeError before writing anything.
	AllowRequantize bool
	// Log, when set, is called after each tensor is written, in output
	// order.
	Log func(TensorReport)
	// Progress, when set, is called as work completes with the bytes of
	// input tensor data processed so far and in all. It may be called
	// from several goroutines, but never concurrently.
	Progress func(done, total int64)
}

// TensorReport describes one tensor as it was written.
type TensorReport struct {
	Choice
	N, Count int   // 1-based position in the output and number of tensors
	OldSize  int64 // bytes of data in the input
	NewSize  int64 // bytes of data in the output
}

// Result summarizes a quantization.
type Result struct {
	Choices   []Choice // every tensor, in output order
	Elements  uint64   // elements of all tensors
	OldSize   int64    // bytes of tensor data in the input
	NewSize   int64    // bytes of tensor data in the output
	Fallbacks int      // tensors that needed a fallback type
}

// RequantizeError is returned when a tensor of the input is already
// quantized, must change type, and Options.AllowRequantize is false.
type RequantizeError struct {
	Tensor string
	From   ggml.Type
}

func (e *RequantizeError) Error() string {
	return fmt.Sprintf("tensor %q: requantizing from type %s is disabled", e.Tensor, e.From)
}

// Metadata returns the metadata of the quantized file: in's metadata in
// order, without split keys, general.quantization_version and
// general.file_type, which are appended (in that order) with the values
// QuantizationVersion and ft, as llama.cpp does.
func Metadata(in []gguf.KV, ft FileType) []gguf.KV {
	out := make([]gguf.KV, 0, len(in)+2)
	for _, kv := range in {
		switch kv.Key {
		case KeyFileType, KeyQuantizationVersion, splitKeys[0], splitKeys[1], splitKeys[2]:
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		gguf.KV{Key: KeyQuantizationVersion, Value: gguf.MustValueOf(uint32(QuantizationVersion))},
		gguf.KV{Key: KeyFileType, Value: gguf.MustValueOf(uint32(ft))},
	)
}

// Prepare checks that in can be quantized with opts and returns the plan:
// the model's hyperparameters are read, every tensor's type chosen, and
// each conversion checked (requantization, available converters). Nothing
// is written.
func Prepare(in *gguf.File, opts Options) ([]Choice, error) {
	choices, err := prepare(in, opts)
	if err != nil {
		return nil, fmt.Errorf("quant: %w", err)
	}
	return choices, nil
}

func prepare(in *gguf.File, opts Options) ([]Choice, error) {
	if !opts.FileType.Valid() {
		return nil, fmt.Errorf("unknown file type %d", uint32(opts.FileType))
	}
	if n, err := in.GetUint("split.count"); err == nil && n > 1 {
		return nil, fmt.Errorf("the input is part %s of a split model (%d parts); merge it first", splitPart(in), n)
	}
	m, err := modelFromGGUF(in)
	if err != nil {
		return nil, err
	}
	choices, err := plan(opts.FileType, m, in.Tensors)
	if err != nil {
		return nil, err
	}
	for _, c := range choices {
		if !c.Convert() {
			continue
		}
		if c.From.IsQuantized() && !opts.AllowRequantize {
			return nil, &RequantizeError{Tensor: c.Name, From: c.From}
		}
		if !ggml.CanDequantize(c.From) {
			return nil, fmt.Errorf("tensor %q: cannot convert from type %s", c.Name, c.From)
		}
		if !ggml.CanQuantize(c.To) {
			return nil, fmt.Errorf("tensor %q: file type %s needs type %s, which this quantizer cannot produce", c.Name, opts.FileType, c.To)
		}
	}
	return choices, nil
}

func splitPart(in *gguf.File) string {
	if n, err := in.GetUint("split.no"); err == nil {
		return fmt.Sprint(n + 1)
	}
	return "?"
}

// Quantize writes in, converted to the mix opts.FileType, to w as a GGUF v3
// file: metadata as Metadata returns it, tensors in llama.cpp's order with
// the types Plan chooses. Tensor data is read and validated (non-finite
// values are an error, as in llama.cpp) and converted by opts.Threads
// goroutines, a chunk of rows at a time; the bytes are those llama.cpp
// writes. Quantize stops early with ctx's error when ctx is done.
func Quantize(ctx context.Context, in *gguf.File, w io.Writer, opts Options) (*Result, error) {
	res, err := quantize(ctx, in, w, opts)
	if err != nil {
		return nil, fmt.Errorf("quant: %w", err)
	}
	return res, nil
}

func quantize(ctx context.Context, in *gguf.File, w io.Writer, opts Options) (*Result, error) {
	choices, err := prepare(in, opts)
	if err != nil {
		return nil, err
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}

	res := &Result{Choices: choices}
	infos := make([]gguf.TensorInfo, len(choices))
	for i, c := range choices {
		t := in.Tensors[c.Index]
		infos[i] = gguf.TensorInfo{Name: c.Name, Dims: c.Dims, Type: c.To}
		res.Elements += t.Elements()
		res.OldSize += int64(t.Size)
		if c.Fallback {
			res.Fallbacks++
		}
	}
	gw, err := gguf.NewWriter(w, Metadata(in.KV, opts.FileType), infos)
	if err != nil {
		return nil, fmt.Errorf("writing output: %w", err)
	}
	out := gw.Tensors()

	prog := &progress{fn: opts.Progress, total: res.OldSize}
	var buf []byte
	for i, c := range choices {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := &in.Tensors[c.Index]
		src := in.TensorData(t)
		if uint64(len(src)) != t.Size {
			return nil, fmt.Errorf("tensor %q: data lies outside the file", t.Name)
		}
		size := int64(out[i].Size)
		if cap(buf) < int(size) {
			buf = make([]byte, size)
		}
		data, err := convert(ctx, c, src, buf[:size], threads, prog)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		if err := gw.WriteTensor(data); err != nil {
			return nil, fmt.Errorf("writing output: %w", err)
		}
		res.NewSize += size
		if opts.Log != nil {
			opts.Log(TensorReport{Choice: c, N: i + 1, Count: len(choices), OldSize: int64(t.Size), NewSize: size})
		}
	}
	if err := gw.Close(); err != nil {
		return nil, fmt.Errorf("writing output: %w", err)
	}
	return res, nil
}

// progress serializes progress reports.
type progress struct {
	fn    func(done, total int64)
	total int64
	mu    sync.Mutex
	done  int64
}

func (p *progress) add(n int64) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.fn(p.done, p.total)
}

// convert validates src (tensor data of type c.From) and returns the
// tensor's output data: src itself when the type is unchanged, otherwise
// dst filled with the rows converted to c.To.
func convert(ctx context.Context, c Choice, src, dst []byte, threads int, prog *progress) ([]byte, error) {
	n := uint64(1)
	for _, d := range c.Dims {
		n *= d
	}
	if n == 0 {
		prog.add(int64(len(src)))
		return dst[:0], nil
	}
	rowLen := int(c.Dims[0])
	rows := int(n / uint64(rowLen))
	srcRow := len(src) / rows
	dstRow := len(dst) / rows
	chunk := max(1, (minChunk+rowLen-1)/rowLen)
	nchunks := (rows + chunk - 1) / chunk
	check := ggml.CanDequantize(c.From)
	if !c.Convert() && !check {
		// Integer tensors: nothing to validate or convert.
		prog.add(int64(len(src)))
		return src, nil
	}

	var (
		next     atomic.Int64
		failed   atomic.Bool
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		failed.Store(true)
	}
	work := func() {
		defer wg.Done()
		f32 := make([]float32, chunk*rowLen)
		var back []float32
		for !failed.Load() {
			k := int(next.Add(1) - 1)
			if k >= nchunks {
				return
			}
			if err := ctx.Err(); err != nil {
				fail(err)
				return
			}
			r0, r1 := k*chunk, min(rows, (k+1)*chunk)
			in := src[r0*srcRow : r1*srcRow]
			x := f32[:(r1-r0)*rowLen]
			if check {
				if err := ggml.Dequantize(c.From, in, x); err != nil {
					fail(err)
					return
				}
				if r, ok := firstBadRow(x, rowLen); !ok {
					fail(fmt.Errorf("row %d: invalid data: non-finite value in %s input", r0+r, c.From))
					return
				}
			}
			if c.Convert() {
				o := dst[r0*dstRow : r1*dstRow : r1*dstRow]
				q, err := ggml.Quantize(c.To, x, rowLen, o[:0])
				if err != nil {
					fail(err)
					return
				}
				if len(q) != len(o) || (len(q) > 0 && &q[0] != &o[0]) {
					fail(fmt.Errorf("converting to %s: got %d bytes for rows %d-%d, want %d", c.To, len(q), r0, r1, len(o)))
					return
				}
				// Validate the result as llama.cpp does: a scale that
				// overflowed the type shows as a non-finite value.
				if back == nil {
					back = make([]float32, len(f32))
				}
				y := back[:len(x)]
				if err := ggml.Dequantize(c.To, o, y); err != nil {
					fail(err)
					return
				}
				if r, ok := firstBadRow(y, rowLen); !ok {
					fail(fmt.Errorf("row %d: quantized data validation failed: values out of range for %s", r0+r, c.To))
					return
				}
			}
			prog.add(int64(len(in)))
		}
	}
	workers := min(threads, nchunks)
	wg.Add(workers)
	for range workers {
		go work()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if !c.Convert() {
		return src, nil
	}
	return dst, nil
}

// firstBadRow returns the index of the first row of x holding a NaN or an
// infinity; ok is true when there is none.
func firstBadRow(x []float32, rowLen int) (row int, ok bool) {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i / rowLen, false
		}
	}
	return 0, true
}

// ErrSameFile is returned by QuantizeFile when the output is the input.
var ErrSameFile = errors.New("input and output are the same file")

// QuantizeFile quantizes the GGUF file inPath into outPath. It refuses to
// write over its input (the same path, or the same file through another
// name), and writes to a temporary file in outPath's directory that is
// renamed to outPath only once complete, so that a failure or cancellation
// never leaves a partial output; the temporary file is removed then.
func QuantizeFile(ctx context.Context, inPath, outPath string, opts Options) (res *Result, err error) {
	if err := checkNotSame(inPath, outPath); err != nil {
		return nil, err
	}
	in, err := gguf.Open(inPath)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	// Check the plan before creating anything.
	if _, err := prepare(in, opts); err != nil {
		return nil, fmt.Errorf("quant: %s: %w", inPath, err)
	}
	if fi, err := os.Stat(outPath); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("quant: %s: is a directory", outPath)
	}

	dir, base := filepath.Split(outPath)
	if dir == "" {
		dir = "."
	}
	tmp, err := createTemp(dir, "."+base+".tmp")
	if err != nil {
		// Name the output, not the temporary file.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("quant: %s: %w", outPath, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	res, err = quantize(ctx, in, bw, opts)
	if err != nil {
		return nil, fmt.Errorf("quant: %s: %w", inPath, err)
	}
	if err = bw.Flush(); err != nil {
		return nil, fmt.Errorf("quant: %s: %w", outPath, err)
	}
	if err = tmp.Sync(); err != nil {
		return nil, fmt.Errorf("quant: %s: %w", outPath, err)
	}
	if err = tmp.Close(); err != nil {
		return nil, fmt.Errorf("quant: %s: %w", outPath, err)
	}
	if err = ctx.Err(); err != nil {
		return nil, err
	}
	if err = os.Rename(tmp.Name(), outPath); err != nil {
		return nil, fmt.Errorf("quant: %w", err)
	}
	return res, nil
}

// createTemp creates a new file in dir named prefix and a random number,
// with mode 0666 less the umask, like a file created at the output path
// directly (os.CreateTemp would make it 0600, and a fixed mode would ignore
// the umask).
func createTemp(dir, prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		return f, err
	}
}

// checkNotSame fails when outPath names inPath's file.
func checkNotSame(inPath, outPath string) error {
	a, errA := filepath.Abs(inPath)
	b, errB := filepath.Abs(outPath)
	if errA == nil && errB == nil && a == b {
		return fmt.Errorf("quant: %s: %w", outPath, ErrSameFile)
	}
	fo, err := os.Stat(outPath)
	if err != nil {
		return nil // no such output yet
	}
	fi, err := os.Stat(inPath)
	if err != nil {
		return nil // Open reports it
	}
	if os.SameFile(fi, fo) {
		return fmt.Errorf("quant: %s: %w", outPath, ErrSameFile)
	}
	return nil
}
