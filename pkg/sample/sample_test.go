package sample

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

var negInf = float32(math.Inf(-1))

// logitsOf returns logits whose softmax is probs (up to rounding).
func logitsOf(probs ...float64) []float32 {
	l := make([]float32, len(probs))
	for i, p := range probs {
		l[i] = float32(math.Log(p))
	}
	return l
}

// stage loads logits into s as Sample does and runs one stage on them, returning
// the surviving ids in the order the sampler holds them.
func stage(t *testing.T, p Params, logits []float32, run func(s *Sampler)) []int32 {
	t.Helper()
	s, err := New(p, len(logits))
	if err != nil {
		t.Fatal(err)
	}
	c := s.cand[:len(logits)]
	for i, l := range logits {
		c[i] = token{id: int32(i), logit: l}
	}
	s.cur, s.sorted = c, false
	run(s)
	ids := make([]int32, len(s.cur))
	for i, tk := range s.cur {
		ids[i] = tk.id
	}
	return ids
}

// plain returns parameters with every stage disabled and a fixed seed.
func plain() Params {
	p := DefaultParams()
	p.Temp, p.TopK, p.TopP, p.MinP = 1, 0, 1, 0
	p.Seed = 1
	return p
}

func TestStages(t *testing.T) {
	probs := logitsOf(0.05, 0.5, 0.15, 0.3) // ids by probability: 1, 3, 2, 0
	tests := []struct {
		name   string
		params func(p *Params)
		logits []float32
		run    func(s *Sampler)
		want   []int32
	}{
		{"top-k 2", func(p *Params) { p.TopK = 2 }, []float32{1, 5, 3, 4, 2}, func(s *Sampler) { s.topK(2) }, []int32{1, 3}},
		{"top-k 0 keeps all", nil, []float32{1, 5, 3}, func(s *Sampler) { s.topK(0) }, []int32{0, 1, 2}},
		{"top-k above size", nil, []float32{1, 5, 3}, func(s *Sampler) { s.topK(10) }, []int32{1, 2, 0}},
		{"top-p 0.7", func(p *Params) { p.TopP = 0.7 }, probs, (*Sampler).topP, []int32{1, 3}},
		{"top-p 0.9", func(p *Params) { p.TopP = 0.9 }, probs, (*Sampler).topP, []int32{1, 3, 2}},
		{"top-p 0 keeps one", func(p *Params) { p.TopP = 0 }, probs, (*Sampler).topP, []int32{1}},
		{"top-p min-keep 3", func(p *Params) { p.TopP = 0.1; p.MinKeep = 3 }, probs, (*Sampler).topP, []int32{1, 3, 2}},
		{"top-p 1 is off", nil, probs, (*Sampler).topP, []int32{0, 1, 2, 3}},
		// min-p 0.2 keeps p >= 0.1, in the unsorted order.
		{"min-p 0.2", func(p *Params) { p.MinP = 0.2 }, probs, (*Sampler).minP, []int32{1, 2, 3}},
		{"min-p 0.7", func(p *Params) { p.MinP = 0.7 }, probs, (*Sampler).minP, []int32{1}},
		{"min-p min-keep falls back to sorted", func(p *Params) { p.MinP = 0.7; p.MinKeep = 2 }, probs, (*Sampler).minP, []int32{1, 3}},
		// XTC at probability 1 removes every token with p >= 0.1 but the last.
		{"xtc", func(p *Params) { p.XTCProbability = 1; p.XTCThreshold = 0.1 }, probs, (*Sampler).xtcStage, []int32{2, 0}},
		{"xtc threshold above 0.5 is off", func(p *Params) { p.XTCProbability = 1; p.XTCThreshold = 0.6 }, probs, (*Sampler).xtcStage, []int32{0, 1, 2, 3}},
		{"xtc one above threshold", func(p *Params) { p.XTCProbability = 1; p.XTCThreshold = 0.4 }, probs, (*Sampler).xtcStage, []int32{1, 3, 2, 0}},
		// {10, 3, 0, 0, 0} has mean 2.6 and standard deviation sqrt(15.04) = 3.878:
		// 1 sigma keeps logits >= 6.12, 2 sigma >= 2.24, 3 sigma >= -1.63.
		{"top-n-sigma 1", func(p *Params) { p.TopNSigma = 1 }, []float32{10, 3, 0, 0, 0}, func(s *Sampler) { s.topNSigma(); dropInf(s) }, []int32{0}},
		{"top-n-sigma 2", func(p *Params) { p.TopNSigma = 2 }, []float32{10, 3, 0, 0, 0}, func(s *Sampler) { s.topNSigma(); dropInf(s) }, []int32{0, 1}},
		{"top-n-sigma 3", func(p *Params) { p.TopNSigma = 3 }, []float32{10, 3, 0, 0, 0}, func(s *Sampler) { s.topNSigma(); dropInf(s) }, []int32{0, 1, 2, 3, 4}},
		{"top-n-sigma ignores -inf", func(p *Params) { p.TopNSigma = 1 }, []float32{negInf, 4, 0}, func(s *Sampler) { s.topNSigma(); dropInf(s) }, []int32{1}},
		{"greedy temperature", func(p *Params) { p.Temp = 0 }, []float32{1, 5, 3, 5}, func(s *Sampler) { s.temperature(); dropInf(s) }, []int32{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := plain()
			if tc.params != nil {
				tc.params(&p)
			}
			got := stage(t, p, tc.logits, tc.run)
			if !slices.Equal(got, tc.want) {
				t.Errorf("survivors %v, want %v", got, tc.want)
			}
		})
	}
}

// dropInf removes the candidates a stage masked with -Inf.
func dropInf(s *Sampler) {
	s.cur = slices.DeleteFunc(s.cur, func(t token) bool { return math.IsInf(float64(t.logit), -1) })
}

// typicalRef is a plain float64 implementation of locally typical sampling.
func typicalRef(logits []float32, mass float64) []int32 {
	maxL := math.Inf(-1)
	for _, l := range logits {
		maxL = math.Max(maxL, float64(l))
	}
	p := make([]float64, len(logits))
	var sum float64
	for i, l := range logits {
		p[i] = math.Exp(float64(l) - maxL)
		sum += p[i]
	}
	var h float64
	for i := range p {
		p[i] /= sum
		h -= p[i] * math.Log(p[i])
	}
	ids := make([]int32, len(p))
	for i := range ids {
		ids[i] = int32(i)
	}
	slices.SortStableFunc(ids, func(a, b int32) int {
		da, db := math.Abs(-math.Log(p[a])-h), math.Abs(-math.Log(p[b])-h)
		switch {
		case da < db:
			return -1
		case da > db:
			return 1
		}
		return 0
	})
	var cum float64
	for i, id := range ids {
		cum += p[id]
		if cum > mass {
			return ids[:i+1]
		}
	}
	return ids
}

func TestTypical(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, mass := range []float32{0.2, 0.5, 0.9, 0.99} {
		for range 20 {
			logits := make([]float32, 30)
			for i := range logits {
				logits[i] = float32(r.NormFloat64() * 2)
			}
			p := plain()
			p.TypicalP = mass
			got := stage(t, p, logits, (*Sampler).typical)
			want := typicalRef(logits, float64(mass))
			if !slices.Equal(got, want) {
				t.Errorf("typical %v: got %v, want %v", mass, got, want)
			}
		}
	}
}

func TestPenalties(t *testing.T) {
	p := plain()
	p.RepeatPenalty, p.FrequencyPenalty, p.PresencePenalty, p.RepeatLastN = 2, 0.5, 0.25, 3
	s, err := New(p, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []int32{4, 0, 1, 1, 3} { // window of 3: 1, 1, 3
		s.Accept(tok)
	}
	logits := []float32{1, 4, -2, -3, 6}
	c := s.cand[:5]
	for i, l := range logits {
		c[i] = token{id: int32(i), logit: l}
	}
	s.cur = c
	s.penalties()
	want := []float32{
		1,                  // token 0 left the window
		4/2 - 2*0.5 - 0.25, // twice: divided, then 2 x frequency + presence
		-2,
		-3*2 - 0.5 - 0.25, // negative logits are multiplied
		6,                 // token 4 left the window
	}
	for i, tk := range s.cur {
		if tk.logit != want[i] {
			t.Errorf("token %d: logit %v, want %v", i, tk.logit, want[i])
		}
	}

	// Reset empties the window.
	s.Reset()
	for i, l := range logits {
		c[i] = token{id: int32(i), logit: l}
	}
	s.cur = c
	s.penalties()
	for i, tk := range s.cur {
		if tk.logit != logits[i] {
			t.Errorf("after Reset: token %d: logit %v, want %v", i, tk.logit, logits[i])
		}
	}
}

func TestPenaltyWindowContextSize(t *testing.T) {
	p := plain()
	p.Temp = 0
	p.RepeatPenalty, p.RepeatLastN, p.ContextSize = 100, -1, 3
	s, err := New(p, 4)
	if err != nil {
		t.Fatal(err)
	}
	logits := []float32{4, 3, 2, 1}
	// Greedy with a heavy penalty over a 3-token window cycles through 0, 1, 2.
	var got []int32
	for range 6 {
		tok, err := s.Sample(logits)
		if err != nil {
			t.Fatal(err)
		}
		s.Accept(tok)
		got = append(got, tok)
	}
	if want := []int32{0, 1, 2, 3, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestGreedyIsArgmax(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, topK := range []int{0, 40} {
		p := DefaultParams()
		p.Temp, p.TopK = 0, topK
		s, err := New(p, 1000)
		if err != nil {
			t.Fatal(err)
		}
		logits := make([]float32, 1000)
		for range 50 {
			best := 0
			for i := range logits {
				logits[i] = float32(r.NormFloat64())
				if logits[i] > logits[best] {
					best = i
				}
			}
			tok, err := s.Sample(logits)
			if err != nil {
				t.Fatal(err)
			}
			if tok != int32(best) {
				t.Fatalf("top-k %d: greedy picked %d, argmax is %d", topK, tok, best)
			}
		}
	}
}

// TestGreedyPathMatchesChain checks Sample's greedy shortcut against the stages
// of the chain run one by one.
func TestGreedyPathMatchesChain(t *testing.T) {
	p := DefaultParams()
	p.Temp, p.Seed = 0, 9
	q := p
	q.TopK = 3
	a, _ := New(p, 50)
	logits := make([]float32, 50)
	r := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		for i := range logits {
			logits[i] = float32(r.NormFloat64())
		}
		got, _ := a.Sample(logits)
		b, _ := New(q, 50)
		c := b.cand[:50]
		for i, l := range logits {
			c[i] = token{id: int32(i), logit: l}
		}
		b.cur, b.sorted = c, false
		b.topK(b.p.TopK)
		b.topP()
		b.minP()
		b.temperature()
		want, err := b.distStage()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("greedy shortcut %d, chain %d", got, want)
		}
	}
}

func TestSeedDeterminism(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	steps := make([][]float32, 30)
	for i := range steps {
		steps[i] = make([]float32, 200)
		for j := range steps[i] {
			steps[i][j] = float32(r.NormFloat64() * 2)
		}
	}
	run := func(s *Sampler) []int32 {
		var out []int32
		for _, l := range steps {
			tok, err := s.Sample(l)
			if err != nil {
				t.Fatal(err)
			}
			s.Accept(tok)
			out = append(out, tok)
		}
		return out
	}
	for _, mirostat := range []int{0, 1, 2} {
		p := DefaultParams()
		p.Mirostat, p.Seed = mirostat, 1234
		p.RepeatPenalty = 1.1
		a, _ := New(p, 200)
		b, _ := New(p, 200)
		first := run(a)
		if second := run(b); !slices.Equal(first, second) {
			t.Errorf("mirostat %d: same seed, different tokens:\n%v\n%v", mirostat, first, second)
		}
		a.Reset()
		if again := run(a); !slices.Equal(first, again) {
			t.Errorf("mirostat %d: after Reset, different tokens:\n%v\n%v", mirostat, first, again)
		}
		p.Seed = 4321
		c, _ := New(p, 200)
		if other := run(c); slices.Equal(first, other) {
			t.Errorf("mirostat %d: seeds 1234 and 4321 gave the same 30 tokens", mirostat)
		}
	}
}

func TestRandomSeed(t *testing.T) {
	p := DefaultParams()
	a, _ := New(p, 10)
	b, _ := New(p, 10)
	if a.Seed() == b.Seed() {
		// one chance in 2^32
		t.Errorf("two random seeds are both %d", a.Seed())
	}
	p.Seed = 77
	c, _ := New(p, 10)
	if c.Seed() != 77 {
		t.Errorf("Seed() = %d, want 77", c.Seed())
	}
}

// TestDistribution checks that plain sampling follows the softmax.
func TestDistribution(t *testing.T) {
	p := plain()
	p.Seed = 99
	probs := []float64{0.05, 0.5, 0.15, 0.3}
	s, _ := New(p, 4)
	logits := logitsOf(probs...)
	const n = 20000
	counts := make([]int, 4)
	for range n {
		tok, err := s.Sample(logits)
		if err != nil {
			t.Fatal(err)
		}
		counts[tok]++
	}
	for i, want := range probs {
		got := float64(counts[i]) / n
		if math.Abs(got-want) > 0.015 {
			t.Errorf("token %d drawn %.3f of the time, want %.3f", i, got, want)
		}
	}
}

func TestLogitBias(t *testing.T) {
	p := plain()
	p.Temp = 0
	p.LogitBias = map[int32]float32{2: 10, 1: negInf}
	s, _ := New(p, 4)
	tok, err := s.Sample([]float32{0, 5, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if tok != 2 {
		t.Errorf("greedy with bias picked %d, want 2", tok)
	}
	// A banned token is never drawn.
	p.Temp = 1
	p.LogitBias = map[int32]float32{1: negInf}
	s, _ = New(p, 3)
	for range 200 {
		tok, err := s.Sample([]float32{0, 5, 0})
		if err != nil {
			t.Fatal(err)
		}
		if tok == 1 {
			t.Fatal("banned token 1 was drawn")
		}
	}
}

func TestMirostatUpdatesMu(t *testing.T) {
	logits := logitsOf(0.6, 0.25, 0.1, 0.05)
	for _, version := range []int{1, 2} {
		p := plain()
		p.Mirostat, p.MirostatTau, p.MirostatEta = version, 1.5, 0.5
		s, err := New(p, 4)
		if err != nil {
			t.Fatal(err)
		}
		if s.mu != 3 {
			t.Fatalf("v%d: initial mu %v, want 2*tau = 3", version, s.mu)
		}
		for step := range 5 {
			mu := float64(s.mu)
			tok, err := s.Sample(logits)
			if err != nil {
				t.Fatal(err)
			}
			// The surprise is -log2 of the token's probability among the
			// candidates Mirostat kept, renormalized.
			var kept []float64
			for _, tk := range s.cur {
				kept = append(kept, math.Exp(float64(logits[tk.id])))
			}
			var sum, pTok float64
			for i, tk := range s.cur {
				sum += kept[i]
				if tk.id == tok {
					pTok = kept[i]
				}
			}
			want := mu - 0.5*(-math.Log2(pTok/sum)-1.5)
			if math.Abs(float64(s.mu)-want) > 1e-5 {
				t.Errorf("v%d step %d: mu %v, want %v", version, step, s.mu, want)
			}
			if version == 2 {
				// v2 keeps the tokens whose surprise is at most mu (at least one).
				for _, tk := range s.cur[1:] {
					if -math.Log2(math.Exp(float64(logits[tk.id]))) > mu+1e-6 {
						t.Errorf("v2 step %d: kept token %d above mu %v", step, tk.id, mu)
					}
				}
			}
		}
	}
}

func TestSampleNoAlloc(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	logits := make([]float32, 5000)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 3)
	}
	configs := map[string]func(p *Params){
		"default":   func(p *Params) {},
		"penalties": func(p *Params) { p.RepeatPenalty, p.FrequencyPenalty, p.PresencePenalty = 1.1, 0.1, 0.1 },
		"typical":   func(p *Params) { p.TypicalP = 0.9 },
		"top-p":     func(p *Params) { p.TopK = 0 },
		"xtc":       func(p *Params) { p.XTCProbability = 0.5 },
		"sigma":     func(p *Params) { p.TopNSigma = 2 },
		"dynatemp":  func(p *Params) { p.DynatempRange = 0.3 },
		"greedy":    func(p *Params) { p.Temp = 0 },
		"mirostat1": func(p *Params) { p.Mirostat = 1 },
		"mirostat2": func(p *Params) { p.Mirostat = 2 },
	}
	for name, f := range configs {
		p := DefaultParams()
		p.LogitBias = map[int32]float32{5: 1}
		f(&p)
		s, err := New(p, len(logits))
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			tok, err := s.Sample(logits)
			if err != nil {
				t.Fatal(err)
			}
			s.Accept(tok)
		})
		if allocs != 0 {
			t.Errorf("%s: Sample allocates %v times per call", name, allocs)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		field string
		mod   func(p *Params)
	}{
		{"Temp", func(p *Params) { p.Temp = float32(math.NaN()) }},
		{"TopP", func(p *Params) { p.TopP = 1.5 }},
		{"MinP", func(p *Params) { p.MinP = -0.1 }},
		{"TypicalP", func(p *Params) { p.TypicalP = float32(math.NaN()) }},
		{"XTCProbability", func(p *Params) { p.XTCProbability = 2 }},
		{"RepeatPenalty", func(p *Params) { p.RepeatPenalty = 0 }},
		{"RepeatPenalty", func(p *Params) { p.RepeatPenalty = 1e-45 }},
		{"FrequencyPenalty", func(p *Params) { p.FrequencyPenalty = float32(math.Inf(1)) }},
		{"RepeatLastN", func(p *Params) { p.RepeatLastN = -2 }},
		{"ContextSize", func(p *Params) { p.RepeatLastN = -1 }},
		{"Mirostat", func(p *Params) { p.Mirostat = 3 }},
		{"MinKeep", func(p *Params) { p.MinKeep = -1 }},
		{"LogitBias", func(p *Params) { p.LogitBias = map[int32]float32{10: 1} }},
		{"LogitBias", func(p *Params) { p.LogitBias = map[int32]float32{1: float32(math.Inf(1))} }},
	}
	for _, tc := range tests {
		p := DefaultParams()
		tc.mod(&p)
		_, err := New(p, 10)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: New error = %v, want one naming %s", tc.field, err, tc.field)
		}
	}
	if _, err := New(DefaultParams(), 0); err == nil {
		t.Error("New with an empty vocabulary succeeded")
	}
}

func TestSampleErrors(t *testing.T) {
	for _, mirostat := range []int{0, 1, 2} {
		p := DefaultParams()
		p.Mirostat = mirostat
		p.LogitBias = map[int32]float32{0: negInf, 1: negInf, 2: negInf}
		s, err := New(p, 3)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sample([]float32{1, 2}); err == nil {
			t.Errorf("mirostat %d: short logits accepted", mirostat)
		}
		if _, err := s.Sample([]float32{1, float32(math.NaN()), 2}); err == nil || !strings.Contains(err.Error(), "logits[1]") {
			t.Errorf("mirostat %d: NaN logit: error %v", mirostat, err)
		}
		if _, err := s.Sample([]float32{1, 2, 3}); err == nil {
			t.Errorf("mirostat %d: every token banned, no error", mirostat)
		}
	}
}

func TestPartialSort(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{1, 2, 10, 100, 1000, 5000} {
		for _, k := range []int{1, 2, 40, 256, n} {
			if k > n {
				continue
			}
			c := make([]token, n)
			for i := range c {
				// few distinct values, to exercise ties
				c[i] = token{id: int32(i), logit: float32(r.IntN(50))}
			}
			want := slices.Clone(c)
			slices.SortFunc(want, less)
			partialSort(c, k)
			if !slices.Equal(c[:k], want[:k]) {
				t.Errorf("n %d k %d: top differs", n, k)
			}
		}
	}
}

func BenchmarkSample(b *testing.B) {
	r := rand.New(rand.NewPCG(15, 16))
	logits := make([]float32, 32000)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 3)
	}
	for _, bc := range []struct {
		name string
		mod  func(p *Params)
	}{
		{"default", func(p *Params) {}},
		{"greedy", func(p *Params) { p.Temp = 0 }},
		{"penalties", func(p *Params) { p.RepeatPenalty = 1.1 }},
		{"top-p-only", func(p *Params) { p.TopK, p.MinP = 0, 0 }},
		{"mirostat2", func(p *Params) { p.Mirostat = 2 }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := DefaultParams()
			bc.mod(&p)
			s, err := New(p, len(logits))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				tok, err := s.Sample(logits)
				if err != nil {
					b.Fatal(err)
				}
				s.Accept(tok)
			}
		})
	}
}
