package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/model"
)

// BatchedParams configure a batched benchmark, with the flags and
// defaults of llama.cpp's llama-batched-bench.
type BatchedParams struct {
	Model                  string
	ContextSize            int   // -c: 0 means what the largest test needs
	BatchSize              int   // -b
	UBatchSize             int   // -ub
	Threads                int   // -t
	BatchThreads           int   // -tb
	NPP                    []int // -npp: prompt tokens per sequence
	NTG                    []int // -ntg: generated tokens per sequence
	NPL                    []int // -npl: sequences decoded together
	SharedPrompt           bool  // -pps: the sequences share one prompt
	CacheTypeK, CacheTypeV model.CacheType
}

// BatchedUsage is llamafile --batched-bench --help.
const BatchedUsage = `usage: llamafile --batched-bench -m MODEL [options]

Measures how prompt processing and generation scale with the number of
sequences decoded together, as llama.cpp's llama-batched-bench does: for
every PP, TG and B, B sequences each get a PP-token prompt (evaluated in
batches of -b tokens), then generate TG tokens, one forward pass per step
for all B at once.

  -m FILE        the model (GGUF)
  -c N           context positions in all (default: what the tests need)
  -b N           prompt tokens per forward pass (default 2048)
  -ub N          physical batch size (default 512)
  -t N           threads (default: the CPU count)
  -tb N          threads for prompt batches (default: -t)
  -npp LIST      prompt lengths (default 128,256,512)
  -ntg LIST      generation lengths (default 128,256)
  -npl LIST      sequence counts (default 1,2,4,8,16,32)
  -ctk, -ctv T   key/value cache types (f16, f32, q8_0)

LIST is comma-separated numbers or ranges, as llama-bench takes them.
`

// ParseBatchedArgs parses llama-batched-bench's flags.
func ParseBatchedArgs(args []string) (BatchedParams, error) {
	p := BatchedParams{BatchSize: 2048, UBatchSize: 512, NPP: []int{128, 256, 512}, NTG: []int{128, 256}, NPL: []int{1, 2, 4, 8, 16, 32}}
	for i := 0; i < len(args); i++ {
		flag := args[i]
		if flag == "-h" || flag == "--help" {
			return p, ErrHelp
		}
		if flag == "-pps" {
			// Sharing needs copying a sequence's cache (llama_memory_seq_cp).
			return p, errors.New("-pps: a prompt shared by the sequences is not supported")
		}
		if i+1 >= len(args) {
			return p, fmt.Errorf("flag %s needs a value", flag)
		}
		v := args[i+1]
		i++
		num := func() (int, error) {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("%s %s: expected a non-negative number", flag, v)
			}
			return n, nil
		}
		var err error
		switch flag {
		case "-m", "--model":
			p.Model = v
		case "-c", "--ctx-size":
			p.ContextSize, err = num()
		case "-b", "--batch-size":
			p.BatchSize, err = num()
		case "-ub", "--ubatch-size":
			p.UBatchSize, err = num()
		case "-t", "--threads":
			p.Threads, err = num()
		case "-tb", "--threads-batch":
			p.BatchThreads, err = num()
		case "-npp", "-ntg", "-npl":
			var l []int
			l, err = ParseIntList(v)
			if err == nil && len(l) == 0 {
				err = errors.New("empty list")
			}
			if err != nil {
				return p, fmt.Errorf("%s %s: %w", flag, v, err)
			}
			switch flag {
			case "-npp":
				p.NPP = l
			case "-ntg":
				p.NTG = l
			default:
				p.NPL = l
			}
		case "-ctk", "--cache-type-k", "-ctv", "--cache-type-v":
			var t model.CacheType
			t, err = model.ParseCacheType(v)
			if err == nil {
				if strings.Contains(flag, "k") {
					p.CacheTypeK = t
				} else {
					p.CacheTypeV = t
				}
			} else {
				err = fmt.Errorf("%s %s: %w", flag, v, err)
			}
		default:
			return p, fmt.Errorf("unknown flag %s", flag)
		}
		if err != nil {
			return p, err
		}
	}
	if p.Model == "" {
		return p, errors.New("no model: give one with -m")
	}
	for _, b := range p.NPL {
		if b < 1 {
			return p, fmt.Errorf("-npl %d: at least one sequence", b)
		}
	}
	if p.BatchSize < 1 || p.UBatchSize < 1 {
		return p, errors.New("-b and -ub must be positive")
	}
	return p, nil
}

// BatchedResult is one line of llama-batched-bench's table.
type BatchedResult struct {
	PP, TG, B, NKV int
	TPP, TTG       time.Duration
}

// SPP, STG and S are the table's speeds, in tokens per second.
func (r BatchedResult) SPP() float64 { return rate(r.ppTokens(), r.TPP) }
func (r BatchedResult) STG() float64 { return rate(r.B*r.TG, r.TTG) }
func (r BatchedResult) S() float64   { return rate(r.NKV, r.TPP+r.TTG) }

func (r BatchedResult) ppTokens() int { return r.B * r.PP }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// WriteBatchedHeader and WriteBatchedRow print llama-batched-bench's table.
func WriteBatchedHeader(w io.Writer) {
	fmt.Fprintf(w, "|%6s | %6s | %4s | %6s | %8s | %8s | %8s | %8s | %8s | %8s |\n", "PP", "TG", "B", "N_KV", "T_PP s", "S_PP t/s", "T_TG s", "S_TG t/s", "T s", "S t/s")
	fmt.Fprintf(w, "|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 7), strings.Repeat("-", 8), strings.Repeat("-", 6), strings.Repeat("-", 8),
		strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 10))
}

func WriteBatchedRow(w io.Writer, r BatchedResult) {
	fmt.Fprintf(w, "|%6d | %6d | %4d | %6d | %8.3f | %8.2f | %8.3f | %8.2f | %8.3f | %8.2f |\n",
		r.PP, r.TG, r.B, r.NKV, r.TPP.Seconds(), r.SPP(), r.TTG.Seconds(), r.STG(), (r.TPP + r.TTG).Seconds(), r.S())
}

// RunBatched runs every test of p on m, calling emit with each result.
// Each sequence has its own cache of PP+TG positions; the prompts are
// random tokens, evaluated in
// forward passes of at most min(-b, -ub) rows mixing the sequences, then
// every generation step is one forward pass of B rows.
func RunBatched(ctx context.Context, m *engine.Model, p BatchedParams, emit func(BatchedResult) error) error {
	threads := p.Threads
	if threads == 0 {
		threads = runtime.NumCPU()
	}
	maxB, maxLen := 0, 0
	for _, b := range p.NPL {
		maxB = max(maxB, b)
	}
	for _, pp := range p.NPP {
		for _, tg := range p.NTG {
			maxLen = max(maxLen, pp+tg)
		}
	}
	batch := min(p.BatchSize, p.UBatchSize)
	r, err := m.Network().NewRunner(model.RunnerOptions{BatchSize: max(batch, maxB), Threads: threads, BatchThreads: p.BatchThreads,
		CacheTypeK: p.CacheTypeK, CacheTypeV: p.CacheTypeV})
	if err != nil {
		return err
	}
	defer r.Close()
	nv := m.NumVocab()
	rng := rand.New(rand.NewPCG(1, 2))
	randTok := func() int32 { return int32(rng.IntN(nv)) }

	// decode runs entries in forward passes of at most size rows (a
	// sequence's rows may span passes; they stay in order).
	decode := func(entries []model.BatchEntry, size int) error {
		for len(entries) > 0 {
			n := min(size, len(entries))
			if err := r.Decode(ctx, entries[:n], false); err != nil {
				return err
			}
			entries = entries[n:]
		}
		return nil
	}
	// Warm up, as llama-batched-bench does.
	{
		q, err := r.NewSeq(16)
		if err != nil {
			return err
		}
		if err := decode([]model.BatchEntry{{Seq: q, Pos: 0, Token: randTok(), Output: true}}, batch); err != nil {
			return err
		}
	}
	for _, pp := range p.NPP {
		for _, tg := range p.NTG {
			for _, b := range p.NPL {
				if p.ContextSize > 0 && b*(pp+tg) > p.ContextSize {
					continue // llama-batched-bench skips what the context cannot hold
				}
				seqs := make([]*model.Seq, b)
				for i := range seqs {
					if seqs[i], err = r.NewSeq(pp + tg); err != nil {
						return err
					}
				}
				var prompt []model.BatchEntry
				for i := range seqs {
					for k := 0; k < pp; k++ {
						prompt = append(prompt, model.BatchEntry{Seq: seqs[i], Pos: k, Token: randTok(), Output: k == pp-1})
					}
				}
				t0 := time.Now()
				if len(prompt) > 0 {
					if err := decode(prompt, batch); err != nil {
						return err
					}
				}
				tPP := time.Since(t0)
				t1 := time.Now()
				step := make([]model.BatchEntry, b)
				for g := 0; g < tg; g++ {
					for i := range step {
						step[i] = model.BatchEntry{Seq: seqs[i], Pos: pp + g, Token: randTok(), Output: true}
					}
					if err := r.Decode(ctx, step, false); err != nil {
						return err
					}
				}
				tTG := time.Since(t1)
				res := BatchedResult{PP: pp, TG: tg, B: b, NKV: b * (pp + tg), TPP: tPP, TTG: tTG}
				if err := emit(res); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// BatchedMain is llamafile --batched-bench: it returns the exit status.
func BatchedMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	p, err := ParseBatchedArgs(args)
	if errors.Is(err, ErrHelp) {
		io.WriteString(stdout, BatchedUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "llamafile --batched-bench: %v\n(see llamafile --batched-bench --help)\n", err)
		return 2
	}
	m, err := engine.Open(p.Model, engine.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "llamafile --batched-bench: %v\n", err)
		return 1
	}
	defer m.Close()
	threads := p.Threads
	if threads == 0 {
		threads = runtime.NumCPU()
	}
	tb := p.BatchThreads
	if tb == 0 {
		tb = threads
	}
	fmt.Fprintf(stdout, "\nmain: n_kv_max = %d, n_batch = %d, n_ubatch = %d, is_pp_shared = 0, n_threads = %d, n_threads_batch = %d\n\n",
		p.ContextSize, p.BatchSize, p.UBatchSize, threads, tb)
	WriteBatchedHeader(stdout)
	err = RunBatched(ctx, m, p, func(r BatchedResult) error {
		WriteBatchedRow(stdout, r)
		return nil
	})
	if err != nil {
		fmt.Fprintf(stderr, "llamafile --batched-bench: %v\n", err)
		return 1
	}
	return 0
}
