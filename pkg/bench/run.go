package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/gguf"
	"github.com/llamafile-go/llamafile/pkg/version"
)

// Result is one test's measurements, with llama-bench's JSON field names.
type Result struct {
	BuildCommit   string `json:"build_commit"`
	BuildNumber   int    `json:"build_number"`
	CPUInfo       string `json:"cpu_info"`
	GPUInfo       string `json:"gpu_info"`
	Backends      string `json:"backends"`
	ModelFilename string `json:"model_filename"`
	ModelType     string `json:"model_type"`
	ModelSize     uint64 `json:"model_size"`
	ModelNParams  uint64 `json:"model_n_params"`
	NBatch        int    `json:"n_batch"`
	NUBatch       int    `json:"n_ubatch"`
	NThreads      int    `json:"n_threads"`
	TypeK         string `json:"type_k"`
	TypeV         string `json:"type_v"`
	NGPULayers    int    `json:"n_gpu_layers"`
	NPrompt       int    `json:"n_prompt"`
	NGen          int    `json:"n_gen"`
	NDepth        int    `json:"n_depth"`
	// TestTime is when the test started, RFC 3339 in UTC.
	TestTime string `json:"test_time"`
	// AvgNs and StddevNs summarize SamplesNs, the duration of each timed
	// repetition in nanoseconds.
	AvgNs    uint64 `json:"avg_ns"`
	StddevNs uint64 `json:"stddev_ns"`
	// AvgTs and StddevTs summarize SamplesTs, the tokens per second of
	// each repetition: (NPrompt+NGen) / duration.
	AvgTs     float64   `json:"avg_ts"`
	StddevTs  float64   `json:"stddev_ts"`
	SamplesNs []uint64  `json:"samples_ns"`
	SamplesTs []float64 `json:"samples_ts"`
}

// Name returns the test's llama-bench label: "pp512", "tg128" or
// "pp512+tg128".
func (r *Result) Name() string {
	switch {
	case r.NGen == 0:
		return fmt.Sprintf("pp%d", r.NPrompt)
	case r.NPrompt == 0:
		return fmt.Sprintf("tg%d", r.NGen)
	}
	return fmt.Sprintf("pp%d+tg%d", r.NPrompt, r.NGen)
}

// setSamples stores the repetition durations and computes the statistics
// as llama-bench does (sample standard deviation, n-1 in the divisor).
func (r *Result) setSamples(ns []uint64) {
	r.SamplesNs = ns
	r.SamplesTs = make([]float64, len(ns))
	fns := make([]float64, len(ns))
	n := float64(r.NPrompt + r.NGen)
	for i, t := range ns {
		fns[i] = float64(t)
		r.SamplesTs[i] = 1e9 * n / float64(t)
	}
	avgNs, sdNs := meanStddev(fns)
	r.AvgNs, r.StddevNs = uint64(avgNs), uint64(sdNs)
	r.AvgTs, r.StddevTs = meanStddev(r.SamplesTs)
}

func meanStddev(v []float64) (mean, sd float64) {
	if len(v) == 0 {
		return 0, 0
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) == 1 {
		return mean, 0
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)-1))
}

// test is one entry of the test matrix.
type test struct {
	nPrompt, nGen int
}

func (p *Params) tests() []test {
	var ts []test
	for _, n := range p.NPrompt {
		if n > 0 {
			ts = append(ts, test{nPrompt: n})
		}
	}
	for _, n := range p.NGen {
		if n > 0 {
			ts = append(ts, test{nGen: n})
		}
	}
	for _, pg := range p.PG {
		if pg[0] > 0 || pg[1] > 0 {
			ts = append(ts, test{nPrompt: pg[0], nGen: pg[1]})
		}
	}
	return ts
}

// Count returns the number of tests p describes.
func (p *Params) Count() int {
	return len(p.Models) * len(p.Batch) * len(p.UBatch) * len(p.Threads) * len(p.tests())
}

// Run runs every test p describes, in llama-bench's order, and calls report
// with each result as soon as it is measured. Progress lines go to
// progress when p.Progress is set (progress may be nil). Run stops at the
// first error, or when ctx is cancelled.
func Run(ctx context.Context, p Params, progress io.Writer, report func(*Result) error) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if progress == nil || !p.Progress {
		progress = io.Discard
	}
	r := &runner{
		ctx:      ctx,
		p:        &p,
		progress: progress,
		rng:      rand.New(rand.NewPCG(p.Seed, 0x6c6c616d6166696c)),
		total:    p.Count(),
		cpu:      cpuInfo(),
	}
	for _, path := range p.Models {
		if err := r.model(path, report); err != nil {
			return err
		}
	}
	return nil
}

type runner struct {
	ctx      context.Context
	p        *Params
	progress io.Writer
	rng      *rand.Rand
	total    int
	done     int
	cpu      string
}

// model runs the tests of one model file. The file is mapped once; each
// batch/thread combination gets an engine Model and a Context sized for
// its longest test, emptied before every run.
func (r *runner) model(path string, report func(*Result) error) error {
	f, err := gguf.Open(path)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer f.Close()
	info := Describe(f)
	tests := r.p.tests()
	maxCtx := 0
	for _, t := range tests {
		maxCtx = max(maxCtx, t.nPrompt+t.nGen)
	}
	if maxCtx == 0 {
		return nil
	}
	for _, nb := range r.p.Batch {
		for _, nub := range r.p.UBatch {
			for _, nt := range r.p.Threads {
				m, err := engine.OpenGGUF(f, engine.Options{
					ContextSize:  maxCtx,
					BatchSize:    nub,
					Threads:      nt,
					BatchThreads: nt,
					NoRepack:     r.p.NoRepack,
				})
				if err != nil {
					return fmt.Errorf("bench: %s: %w", path, err)
				}
				c, err := m.NewContext()
				if err != nil {
					return fmt.Errorf("bench: %s: %w", path, err)
				}
				for _, t := range tests {
					res := &Result{
						BuildCommit:   version.Version,
						CPUInfo:       r.cpu,
						Backends:      "CPU",
						ModelFilename: path,
						ModelType:     info.Type,
						ModelSize:     info.Size,
						ModelNParams:  info.Params,
						NBatch:        nb,
						NUBatch:       nub,
						NThreads:      nt,
						TypeK:         "f16",
						TypeV:         "f16",
						NPrompt:       t.nPrompt,
						NGen:          t.nGen,
						TestTime:      time.Now().UTC().Format("2006-01-02T15:04:05Z"),
					}
					r.done++
					if err := r.measure(c, res); err != nil {
						return fmt.Errorf("bench: %s: %s: %w", path, res.Name(), err)
					}
					if err := report(res); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// measure runs the warm-up and the timed repetitions of one test.
func (r *runner) measure(c *engine.Context, res *Result) error {
	say := func(what string) {
		fmt.Fprintf(r.progress, "llamafile-bench: benchmark %d/%d: %s\n", r.done, r.total, what)
	}
	if !r.p.NoWarmup {
		c.Reset()
		if res.NPrompt > 0 {
			say("warmup prompt run")
			if err := r.prompt(c, res.NPrompt, res.NBatch); err != nil {
				return err
			}
		}
		if res.NGen > 0 {
			say("warmup generation run")
			if err := r.generate(c, 1); err != nil {
				return err
			}
		}
	}
	samples := make([]uint64, 0, r.p.Reps)
	for i := range r.p.Reps {
		c.Reset()
		runtime.GC() // keep collections of earlier garbage out of the timing
		start := time.Now()
		if res.NPrompt > 0 {
			say(fmt.Sprintf("prompt run %d/%d", i+1, r.p.Reps))
			if err := r.prompt(c, res.NPrompt, res.NBatch); err != nil {
				return err
			}
		}
		if res.NGen > 0 {
			say(fmt.Sprintf("generation run %d/%d", i+1, r.p.Reps))
			if err := r.generate(c, res.NGen); err != nil {
				return err
			}
		}
		samples = append(samples, uint64(max(time.Since(start).Nanoseconds(), 1)))
	}
	res.setSamples(samples)
	return nil
}

// firstToken is BOS when the model adds it to prompts, else a random
// token, as llama-bench starts its prompts and generations.
func (r *runner) firstToken(m *engine.Model) int32 {
	if m.Tokenizer().AddBOS() && m.BOS() >= 0 {
		return m.BOS()
	}
	return r.token(m)
}

func (r *runner) token(m *engine.Model) int32 { return int32(r.rng.IntN(m.NumVocab())) }

// prompt evaluates n random tokens in batches of nBatch tokens.
func (r *runner) prompt(c *engine.Context, n, nBatch int) error {
	m := c.Model()
	batch := make([]int32, 0, min(n, nBatch))
	for done := 0; done < n; done += len(batch) {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		batch = batch[:min(n-done, nBatch)]
		for i := range batch {
			batch[i] = r.token(m)
		}
		if done == 0 {
			batch[0] = r.firstToken(m)
		}
		if err := c.EvalLast(batch); err != nil {
			return err
		}
	}
	return nil
}

// generate evaluates n tokens one at a time.
func (r *runner) generate(c *engine.Context, n int) error {
	m := c.Model()
	tok := []int32{r.firstToken(m)}
	for range n {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if err := c.EvalLast(tok); err != nil {
			return err
		}
		tok[0] = r.token(m)
	}
	return nil
}

// cpuInfo names the processor: the first "model name" of /proc/cpuinfo
// where there is one, else the architecture.
func cpuInfo() string {
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}
