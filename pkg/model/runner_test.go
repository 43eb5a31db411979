package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// seqPlan is one sequence of the multi-sequence tests: a prompt that
// joins the batch at step start, then greedy tokens.
type seqPlan struct {
	prompt []int32
	start  int // the step at which its prompt is evaluated
	gen    int // tokens to generate
}

// aloneLogits evaluates p by itself with a State (prompt in chunks of
// batch, then one token at a time) and returns the logits that picked
// each generated token, and the tokens.
func aloneLogits(t *testing.T, m *Model, p seqPlan, batch, threads int, ct CacheType) ([][]float32, []int32) {
	t.Helper()
	s, err := m.NewState(StateOptions{ContextSize: 1024, BatchSize: batch, Threads: threads, CacheTypeK: ct, CacheTypeV: ct})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EvalLast(p.prompt, 0); err != nil {
		t.Fatal(err)
	}
	var logits [][]float32
	var toks []int32
	for len(toks) < p.gen {
		l := slices.Clone(s.LastLogits())
		logits = append(logits, l)
		tok := int32(argmax(l))
		toks = append(toks, tok)
		if err := s.EvalLast([]int32{tok}, s.Pos()); err != nil {
			t.Fatal(err)
		}
	}
	return logits, toks
}

// batchedLogits runs every plan on one Runner: at each step one batch
// holds the next token of every generating sequence and the prompts that
// start at that step (each in chunks of at most chunk tokens, a chunk a
// step), as a continuous-batching server does.
func batchedLogits(t *testing.T, m *Model, plans []seqPlan, chunk, threads int, ct CacheType) ([][][]float32, [][]int32) {
	t.Helper()
	r, err := m.NewRunner(RunnerOptions{BatchSize: chunk + len(plans), Threads: threads, CacheTypeK: ct, CacheTypeV: ct})
	if err != nil {
		t.Fatal(err)
	}
	type seqState struct {
		seq    *Seq
		fed    int   // prompt tokens evaluated
		next   int32 // the token to evaluate next, once generating
		logits [][]float32
		toks   []int32
	}
	st := make([]seqState, len(plans))
	for i := range st {
		if st[i].seq, err = r.NewSeq(1024); err != nil {
			t.Fatal(err)
		}
	}
	for step := 0; ; step++ {
		var batch []BatchEntry
		var owners []int // the sequence of each output
		active := false
		prefilled := false
		for i, p := range plans {
			s := &st[i]
			switch {
			case len(s.toks) >= p.gen && s.fed == len(p.prompt):
				continue // finished
			case step < p.start:
				active = true
				continue
			case s.fed < len(p.prompt):
				active = true
				if prefilled {
					continue // one prompt chunk per step
				}
				prefilled = true
				n := min(chunk, len(p.prompt)-s.fed)
				for j := 0; j < n; j++ {
					last := s.fed+j == len(p.prompt)-1
					batch = append(batch, BatchEntry{Seq: s.seq, Pos: s.fed + j, Token: p.prompt[s.fed+j], Output: last})
					if last {
						owners = append(owners, i)
					}
				}
				s.fed += n
			default:
				active = true
				batch = append(batch, BatchEntry{Seq: s.seq, Pos: s.seq.Pos(), Token: s.next, Output: true})
				owners = append(owners, i)
			}
		}
		if !active {
			break
		}
		if len(batch) == 0 {
			continue
		}
		if err := r.Decode(context.Background(), batch, false); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		for j, i := range owners {
			s := &st[i]
			if len(s.toks) >= plans[i].gen {
				continue
			}
			l := slices.Clone(r.Output(j))
			s.logits = append(s.logits, l)
			s.next = int32(argmax(l))
			s.toks = append(s.toks, s.next)
		}
	}
	logits := make([][][]float32, len(st))
	toks := make([][]int32, len(st))
	for i := range st {
		logits[i], toks[i] = st[i].logits, st[i].toks
	}
	return logits, toks
}

func nmseOf(got, ref []float32) float64 {
	var num, den float64
	for i := range ref {
		d := float64(got[i]) - float64(ref[i])
		num += d * d
		den += float64(ref[i]) * float64(ref[i])
	}
	if den == 0 {
		return num
	}
	return num / den
}

// TestRunnerBatchIndependence checks that sequences evaluated together
// in mixed batches (prompt chunks beside other sequences' generated
// tokens, staggered starts) get the logits they get alone: within nmse
// 1e-6 (in practice the same bits) and the same greedy tokens.
func TestRunnerBatchIndependence(t *testing.T) {
	base := heldoutTokens300(300)
	prompt := func(n, rot int) []int32 {
		p := make([]int32, n)
		for i := range p {
			p[i] = base[(i+rot)%len(base)] % 512
		}
		p[0] = 1
		return p
	}
	plans := []seqPlan{
		{prompt: prompt(7, 0), start: 0, gen: 12},
		{prompt: prompt(70, 5), start: 0, gen: 10},
		{prompt: prompt(3, 9), start: 2, gen: 14},
		{prompt: prompt(130, 17), start: 4, gen: 6},
		{prompt: prompt(1, 0), start: 1, gen: 9},
		{prompt: prompt(33, 40), start: 6, gen: 8},
		{prompt: prompt(12, 3), start: 3, gen: 11},
		{prompt: prompt(64, 8), start: 5, gen: 7},
	}
	cases := []struct {
		model   string
		ct      CacheType
		threads int
	}{
		{"synth-llama-f32", CacheF16, 2},
		{"synth-llama-f32", CacheF32, 1},
		{"synth-llama-q4_k_m", CacheQ8_0, 2},
		{"synth-moe-f32", CacheF16, 2},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s/t%d", c.model, c.ct, c.threads), func(t *testing.T) {
			m := openModel(t, testutil.SharedFile(t, "testdata/models/"+c.model+".gguf"))
			const chunk = 64
			got, gotToks := batchedLogits(t, m, plans, chunk, c.threads, c.ct)
			worst := 0.0
			for i, p := range plans {
				ref, refToks := aloneLogits(t, m, p, chunk, c.threads, c.ct)
				if !slices.Equal(gotToks[i], refToks) {
					t.Errorf("sequence %d: batched tokens %v, alone %v", i, gotToks[i], refToks)
				}
				for k := range ref {
					if e := nmseOf(got[i][k], ref[k]); e > worst {
						worst = e
					}
				}
			}
			t.Logf("worst nmse batched vs alone: %.3g", worst)
			if worst > 1e-6 {
				t.Errorf("worst nmse %.3g > 1e-6", worst)
			}
		})
	}
}

// TestRunnerDecodeErrors checks that malformed batches are refused with
// errors naming the row.
func TestRunnerDecodeErrors(t *testing.T) {
	m := openModel(t, testutil.SharedFile(t, "testdata/models/synth-llama-q4_0.gguf"))
	r, err := m.NewRunner(RunnerOptions{BatchSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	other, err := m.NewRunner(RunnerOptions{BatchSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := r.NewSeq(16)
	b, _ := r.NewSeq(16)
	foreign, _ := other.NewSeq(16)
	ctx := context.Background()
	cases := []struct {
		name  string
		batch []BatchEntry
		want  string
	}{
		{"empty", nil, "empty batch"},
		{"too large", make([]BatchEntry, 9), "larger than the batch size"},
		{"foreign", []BatchEntry{{Seq: foreign}}, "another runner"},
		{"bad token", []BatchEntry{{Seq: a, Token: 99999}}, "token id out of range"},
		{"gap", []BatchEntry{{Seq: a, Pos: 0}, {Seq: a, Pos: 2}}, "does not follow"},
		{"not adjacent", []BatchEntry{{Seq: a, Pos: 0}, {Seq: b, Pos: 0}, {Seq: a, Pos: 1}}, "not adjacent"},
		{"past cache", []BatchEntry{{Seq: a, Pos: 3}}, "not within the 0 cached"},
	}
	for _, c := range cases {
		err := r.Decode(ctx, c.batch, false)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// Filling a sequence to its end, then one more, overflows.
	var batch []BatchEntry
	for i := 0; i < 8; i++ {
		batch = append(batch, BatchEntry{Seq: a, Pos: i, Token: 1})
	}
	if err := r.Decode(ctx, batch, false); err != nil {
		t.Fatal(err)
	}
	for i := range batch {
		batch[i].Pos += 8
	}
	if err := r.Decode(ctx, batch, false); err != nil {
		t.Fatal(err)
	}
	err = r.Decode(ctx, []BatchEntry{{Seq: a, Pos: 16, Token: 1}}, false)
	if !errors.Is(err, ErrContextOverflow) {
		t.Errorf("decoding past the context: %v, want ErrContextOverflow", err)
	}
	if a.Pos() != 16 {
		t.Errorf("Pos %d after filling, want 16", a.Pos())
	}
}

// TestSeqShift checks the context shift. Layer 0's keys and values
// depend only on the token and its position, so after dropping positions
// and re-rotating the kept keys, layer 0 of the cache must hold what
// evaluating the shortened sequence from scratch stores there (an F32
// cache: up to the rotation's rounding). Later layers differ, as in
// llama.cpp: their kept entries had seen the dropped tokens.
func TestSeqShift(t *testing.T) {
	m := openModel(t, testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf"))
	toks := heldoutTokens300(300)[:60]
	for i := range toks {
		toks[i] %= 512
	}
	const keep, discard = 4, 20
	newState := func() *State {
		s, err := m.NewState(StateOptions{ContextSize: 128, Threads: 2, CacheTypeK: CacheF32, CacheTypeV: CacheF32})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := newState()
	if err := s.EvalLast(toks, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Shift(keep, discard); err != nil {
		t.Fatal(err)
	}
	if s.Pos() != len(toks)-discard {
		t.Fatalf("Pos %d after the shift, want %d", s.Pos(), len(toks)-discard)
	}
	ref := newState()
	short := append(slices.Clone(toks[:keep]), toks[keep+discard:]...)
	if err := ref.EvalLast(short, 0); err != nil {
		t.Fatal(err)
	}
	kv, rkv := s.seq.kv, ref.seq.kv
	got, want := make([]float32, kv.dk), make([]float32, kv.dk)
	var num, den float64
	for h := 0; h < kv.heads; h++ {
		for p := 0; p < len(short); p++ {
			getRow(kv.kt, got, kv.keyRow(0, h, p))
			getRow(rkv.kt, want, rkv.keyRow(0, h, p))
			for i := range got {
				d := float64(got[i] - want[i])
				num += d * d
				den += float64(want[i]) * float64(want[i])
			}
			if !slices.Equal(kv.valueRow(0, h, p), rkv.valueRow(0, h, p)) {
				t.Fatalf("head %d position %d: values differ after the shift", h, p)
			}
		}
	}
	e := num / den
	t.Logf("layer 0 keys, nmse shifted vs re-evaluated: %.3g", e)
	if e > 1e-12 || math.IsNaN(e) {
		t.Errorf("layer 0 keys: nmse %.3g after the shift, want <= 1e-12", e)
	}
	// Evaluation goes on after the shift.
	if err := s.EvalLast([]int32{7}, s.Pos()); err != nil {
		t.Fatal(err)
	}
	if err := s.Shift(0, 1000); err == nil {
		t.Error("shifting out more positions than cached: no error")
	}
}
