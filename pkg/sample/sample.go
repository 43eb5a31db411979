// Package sample picks the next token from a model's logits the way llama.cpp's
// common sampler does: logit bias, repetition penalties, top-n-sigma, top-k,
// locally typical, top-p, min-p, XTC, temperature (with optional dynamic
// temperature) and a draw from the remaining distribution, or the Mirostat 1 and 2
// samplers instead of that chain.
//
// The stages run in llama.cpp's default order (common_params_sampling.samplers:
// penalties, DRY, top-n-sigma, top-k, typical, top-p, min-p, XTC, temperature,
// then dist), with the same float32 arithmetic and the same candidate ordering,
// and the random numbers come from a Mersenne Twister (std::mt19937) consumed as
// libstdc++'s uniform_real_distribution and discrete_distribution consume it. A
// given seed therefore picks the same tokens as llama.cpp built with GCC on the
// same logits. Two rare exceptions: candidates with exactly equal logits are
// ordered by token id here, while C++'s std::sort leaves their order unspecified;
// and expf/logf here are correctly rounded, where a C library may be off by one
// unit in the last place, which moves a choice only when the random number falls
// within about 1e-7 of a boundary between two tokens. DRY is not implemented.
//
// Typical use:
//
//	s, err := sample.New(sample.DefaultParams(), nVocab)
//	for _, t := range prompt {
//		s.Accept(t) // so the repetition penalties see the prompt
//	}
//	for {
//		tok, err := s.Sample(logits)
//		s.Accept(tok)
//		...
//	}
package sample

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// token is one candidate: its id, its (transformed) logit and, after a softmax,
// its probability. It mirrors llama_token_data.
type token struct {
	id    int32
	logit float32
	p     float32
}

type bias struct {
	tok int32
	val float32
}

// Sampler turns logits into tokens. It keeps the state that sampling needs
// across steps: the recently accepted tokens (for the penalties), the random
// number generators and Mirostat's mu. A Sampler is not safe for concurrent use.
type Sampler struct {
	p      Params
	nVocab int
	bias   []bias

	// repetition penalties: a ring of the last lastN accepted tokens and how many
	// times each token occurs in it.
	penalize  bool
	ring      []int32
	ringStart int
	ringLen   int
	counts    []int32
	stamp     []uint32 // stamp[tok] == gen: already penalized in this call
	gen       uint32

	// cand holds every candidate; cur is the part still in play (the stages
	// shrink it, and XTC drops from its front); sorted says whether cur is in
	// descending order of logit, as llama_token_data_array.sorted does.
	cand   []token
	cur    []token
	sorted bool

	// scratch space for locally typical sampling
	order  []int32
	scores []float32
	tmp    []token

	dist     mt19937 // dist, or Mirostat's draw
	xtc      mt19937
	distSeed uint32
	xtcSeed  uint32
	mu       float32 // Mirostat's maximum surprise

	filtered []float32 // the logits a Constraint filtered
}

// New returns a Sampler for a vocabulary of nVocab tokens. It reports invalid
// parameters with an error naming the field.
func New(p Params, nVocab int) (*Sampler, error) {
	if err := p.validate(nVocab); err != nil {
		return nil, err
	}
	s := &Sampler{p: p, nVocab: nVocab, cand: make([]token, nVocab)}
	for tok, v := range p.LogitBias {
		s.bias = append(s.bias, bias{tok, v})
	}
	slices.SortFunc(s.bias, func(a, b bias) int { return cmp.Compare(a.tok, b.tok) })
	lastN := p.RepeatLastN
	if lastN == -1 {
		lastN = p.ContextSize
	}
	s.penalize = p.Mirostat == 0 && lastN > 0 &&
		(p.RepeatPenalty != 1 || p.FrequencyPenalty != 0 || p.PresencePenalty != 0)
	if s.penalize {
		s.ring = make([]int32, lastN)
		s.counts = make([]int32, nVocab)
		s.stamp = make([]uint32, nVocab)
	}
	if p.Mirostat == 0 && p.TypicalP < 1 {
		s.order = make([]int32, nVocab)
		s.scores = make([]float32, nVocab)
		s.tmp = make([]token, nVocab)
	}
	s.Reset()
	return s, nil
}

// Params returns the parameters the Sampler was made with.
func (s *Sampler) Params() Params { return s.p }

// Seed returns the seed of the generator that draws the token, which is the
// random one chosen at the last Reset when Params.Seed is RandomSeed.
func (s *Sampler) Seed() uint32 { return s.distSeed }

// Reset forgets the accepted tokens, re-seeds the random number generators (with
// fresh random seeds when Params.Seed is RandomSeed) and restarts Mirostat.
func (s *Sampler) Reset() {
	for i := 0; i < s.ringLen; i++ {
		if t := s.ring[(s.ringStart+i)%len(s.ring)]; t >= 0 && int(t) < s.nVocab {
			s.counts[t] = 0
		}
	}
	s.ringStart, s.ringLen = 0, 0
	s.distSeed = s.pickSeed()
	s.dist.seed(s.distSeed)
	s.xtcSeed = s.pickSeed()
	s.xtc.seed(s.xtcSeed)
	s.mu = 2 * s.p.MirostatTau
}

func (s *Sampler) pickSeed() uint32 {
	if s.p.Seed == RandomSeed {
		return rand.Uint32()
	}
	return s.p.Seed
}

// Accept records a token as part of the text: the penalties look at the last
// RepeatLastN accepted tokens. Accept every generated token, and the prompt's
// tokens too for the penalties to see them (llama.cpp's tools do).
func (s *Sampler) Accept(tok int32) {
	if !s.penalize {
		return
	}
	n := len(s.ring)
	if s.ringLen == n {
		if old := s.ring[s.ringStart]; old >= 0 && int(old) < s.nVocab {
			s.counts[old]--
		}
		s.ringStart = (s.ringStart + 1) % n
		s.ringLen--
	}
	s.ring[(s.ringStart+s.ringLen)%n] = tok
	s.ringLen++
	if tok >= 0 && int(tok) < s.nVocab {
		s.counts[tok]++
	}
}

// Sample returns the next token for logits, which must hold one value per token
// of the vocabulary. It does not accept the token: call Accept. It fails when a
// logit is NaN or +Inf or when no token is left with a non-zero probability
// (every token banned). Sample does not allocate.
func (s *Sampler) Sample(logits []float32) (int32, error) {
	if len(logits) != s.nVocab {
		return -1, fmt.Errorf("sample: %d logits for a vocabulary of %d tokens", len(logits), s.nVocab)
	}
	c := s.cand[:s.nVocab]
	for i, l := range logits {
		if l != l || l > math.MaxFloat32 {
			return -1, fmt.Errorf("sample: logits[%d] = %v", i, l)
		}
		c[i] = token{id: int32(i), logit: l}
	}
	s.cur, s.sorted = c, false

	// The candidates are in vocabulary order (index == id) until the first stage
	// that reorders them, so the bias and the penalties index them directly.
	for _, b := range s.bias {
		c[b.tok].logit += b.val
	}
	switch s.p.Mirostat {
	case 1:
		s.tempImpl(s.p.Temp, s.p.Temp == 1)
		return s.mirostat1()
	case 2:
		s.tempImpl(s.p.Temp, s.p.Temp == 1)
		return s.mirostat2()
	}
	s.penalties()
	if s.p.Temp <= 0 && s.p.DynatempRange <= 0 && s.p.TypicalP >= 1 && !s.xtcEnabled() {
		// Greedy: every stage before the temperature keeps the most likely token,
		// and the temperature then keeps only it. Draw a number anyway, as the
		// dist stage does, to keep the generator where llama.cpp's would be.
		s.dist.float64()
		best := 0
		for i := 1; i < len(c); i++ {
			if c[i].logit > c[best].logit {
				best = i
			}
		}
		if math.IsInf(float64(c[best].logit), -1) {
			return -1, errAllBanned
		}
		return c[best].id, nil
	}
	s.topNSigma()
	s.topK(s.p.TopK)
	s.typical()
	s.topP()
	s.minP()
	s.xtcStage()
	s.temperature()
	return s.distStage()
}

var errAllBanned = fmt.Errorf("sample: no token has a non-zero probability")

// penalties applies the repetition, frequency and presence penalties.
func (s *Sampler) penalties() {
	if !s.penalize || s.ringLen == 0 {
		return
	}
	s.gen++
	if s.gen == 0 {
		clear(s.stamp)
		s.gen = 1
	}
	rp, fp, pp := s.p.RepeatPenalty, s.p.FrequencyPenalty, s.p.PresencePenalty
	for i := 0; i < s.ringLen; i++ {
		tok := s.ring[(s.ringStart+i)%len(s.ring)]
		if tok < 0 || int(tok) >= s.nVocab || s.stamp[tok] == s.gen {
			continue
		}
		s.stamp[tok] = s.gen
		t := &s.cur[tok]
		if t.logit <= 0 {
			t.logit *= rp
		} else {
			t.logit /= rp
		}
		// Explicit conversions keep Go from fusing the multiply and the add,
		// which C++ (for x86-64) does not do either.
		t.logit -= float32(float32(s.counts[tok])*fp) + pp
	}
	s.sorted = false
}

// topNSigma masks the tokens more than TopNSigma standard deviations below the
// largest logit.
func (s *Sampler) topNSigma() {
	n := s.p.TopNSigma
	c := s.cur
	if n <= 0 || len(c) <= 1 {
		return
	}
	negInf := float32(math.Inf(-1))
	maxL := c[0].logit
	var sum float32
	valid := 0
	for _, t := range c {
		if t.logit != negInf {
			maxL = max(maxL, t.logit)
			sum += t.logit
			valid++
		}
	}
	var mean, std float32
	if valid > 0 {
		mean = sum / float32(valid)
		var acc float32
		for _, t := range c {
			if t.logit != negInf {
				d := float64(t.logit - mean)
				acc = float32(float64(acc) + d*d) // llama.cpp adds pow(d, 2), a double
			}
		}
		std = float32(math.Sqrt(float64(acc / float32(valid))))
	}
	limit := maxL - float32(n*std)
	for i := range c {
		if c[i].logit < limit {
			c[i].logit = negInf
		}
	}
}

// topK keeps the k candidates with the largest logits, sorted.
func (s *Sampler) topK(k int) {
	if k <= 0 {
		return
	}
	k = min(k, len(s.cur))
	if !s.sorted {
		partialSort(s.cur, k)
		s.sorted = true
	}
	s.cur = s.cur[:k]
}

// softmax sets the candidates' probabilities, sorting them first when sort is
// set; it works in float32 in the order the candidates are in.
func (s *Sampler) softmax(sort bool) {
	c := s.cur
	if sort && !s.sorted {
		partialSort(c, len(c))
		s.sorted = true
	}
	maxL := c[0].logit
	if !s.sorted {
		for _, t := range c[1:] {
			maxL = max(maxL, t.logit)
		}
	}
	var sum float32
	for i := range c {
		p := expf(c[i].logit - maxL)
		c[i].p = p
		sum += p
	}
	for i := range c {
		c[i].p /= sum
	}
}

// typical keeps the locally typical tokens: those whose surprise is closest to
// the distribution's entropy, until their probabilities sum to more than TypicalP.
func (s *Sampler) typical() {
	P := s.p.TypicalP
	if P >= 1 {
		return
	}
	s.softmax(true)
	c := s.cur
	var entropy float32
	for _, t := range c {
		// llama.cpp takes 0*log(0) too, which makes the entropy NaN; tokens with a
		// zero probability add nothing here.
		if t.p > 0 {
			entropy += float32(-t.p * logf(t.p))
		}
	}
	order, scores := s.order[:len(c)], s.scores[:len(c)]
	for i, t := range c {
		scores[i] = float32(math.Abs(float64(-logf(t.p) - entropy)))
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(scores[a], scores[b]) })
	var cum float32
	last := len(order)
	minKeep := s.p.MinKeep
	for i, idx := range order {
		cum += c[idx].p
		if cum > P && (minKeep == 0 || i >= minKeep-1) {
			last = i + 1
			break
		}
	}
	tmp := s.tmp[:last]
	for i := range tmp {
		tmp[i] = c[order[i]]
	}
	copy(c, tmp)
	s.cur = c[:last]
	s.sorted = false
}

// topP keeps the most likely tokens until their probabilities reach TopP.
func (s *Sampler) topP() {
	P := s.p.TopP
	if P >= 1 {
		return
	}
	s.softmax(false)
	c := s.cur
	// Like llama.cpp, sort only the top 256 of a large unsorted set at first, and
	// everything only when those do not reach P.
	k := len(c)
	partial := false
	if !s.sorted && len(c) > 1024 {
		k = 256
		partialSort(c, k)
		partial = true
	} else if !s.sorted {
		partialSort(c, len(c))
	}
	var cum float32
	last := len(c)
	for i := range c {
		cum += c[i].p
		if cum >= P && i+1 >= s.p.MinKeep {
			last = i + 1
			break
		}
		if partial && i == k-1 {
			// c[:k] holds the k largest, sorted: sorting the rest sorts all.
			partialSort(c[k:], len(c)-k)
			partial = false
		}
	}
	s.cur = c[:last]
	s.sorted = true
}

// minP drops the tokens less likely than MinP times the most likely one.
func (s *Sampler) minP() {
	P := s.p.MinP
	c := s.cur
	if P <= 0 || len(c) == 0 {
		return
	}
	logP := logf(P)
	if !s.sorted {
		maxL := float32(-math.MaxFloat32)
		for _, t := range c {
			maxL = max(maxL, t.logit)
		}
		minL := maxL + logP
		n := 0
		for _, t := range c {
			if t.logit >= minL {
				n++
			}
		}
		if n > 0 && n >= s.p.MinKeep {
			j := 0
			for _, t := range c {
				if t.logit >= minL {
					c[j] = t
					j++
				}
			}
			s.cur = c[:n]
			return
		}
		partialSort(c, len(c))
		s.sorted = true
	}
	minL := c[0].logit + logP
	i := 1
	for ; i < len(c); i++ {
		if c[i].logit < minL && i >= s.p.MinKeep {
			break
		}
	}
	s.cur = c[:i]
}

func (s *Sampler) xtcEnabled() bool {
	return s.p.XTCProbability > 0 && s.p.XTCThreshold <= 0.5
}

// xtcStage removes, with probability XTCProbability, every token at least as
// likely as XTCThreshold except the least likely of them.
func (s *Sampler) xtcStage() {
	if !s.xtcEnabled() || len(s.cur) < 2 {
		return
	}
	if s.xtc.float32() > s.p.XTCProbability {
		return
	}
	s.softmax(true)
	c := s.cur
	pos := 0
	for i := range c {
		if c[i].p < s.p.XTCThreshold {
			break
		}
		pos = i
	}
	if len(c)-pos >= s.p.MinKeep && pos > 0 {
		s.cur = c[pos:]
	}
}

// temperature applies the (possibly dynamic) temperature.
func (s *Sampler) temperature() {
	t, delta := s.p.Temp, s.p.DynatempRange
	if delta <= 0 {
		s.tempImpl(t, t == 1)
		return
	}
	c := s.cur
	if len(c) <= 1 {
		return
	}
	minT, maxT := max(0, t-delta), t+delta
	maxEntropy := -logf(1 / float32(len(c)))
	s.softmax(true)
	var entropy float32
	for _, tk := range c {
		if tk.p > 0 {
			entropy -= float32(tk.p * logf(tk.p))
		}
	}
	norm := entropy / maxEntropy
	dyn := minT + float32((maxT-minT)*powf(norm, s.p.DynatempExponent))
	// llama.cpp recomputes the probabilities after this; the dist stage, the only
	// one left, computes them again, so that is skipped here.
	s.tempImpl(dyn, false)
}

// tempImpl divides the logits by t, or for t <= 0 keeps only the first largest.
func (s *Sampler) tempImpl(t float32, skip bool) {
	c := s.cur
	if skip || len(c) == 0 {
		return
	}
	if t <= 0 {
		best := 0
		for i := 1; i < len(c); i++ {
			if c[i].logit > c[best].logit {
				best = i
			}
		}
		for i := range c {
			if i != best {
				c[i].logit = float32(math.Inf(-1))
			}
		}
		return
	}
	for i := range c {
		c[i].logit /= t
	}
}

// distStage draws a token from the softmax of the remaining candidates, as
// llama.cpp's dist sampler does: one uniform double against the running sum.
func (s *Sampler) distStage() (int32, error) {
	c := s.cur
	rnd := s.dist.float64()
	if len(c) == 1 {
		if math.IsInf(float64(c[0].logit), -1) {
			return -1, errAllBanned
		}
		return c[0].id, nil
	}
	maxL := c[0].logit
	if !s.sorted {
		for _, t := range c[1:] {
			maxL = max(maxL, t.logit)
		}
	}
	var sum float64
	for i := range c {
		p := expf(c[i].logit - maxL)
		c[i].p = p
		sum += float64(p)
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return -1, errAllBanned
	}
	target := sum * rnd
	var run float64
	for _, t := range c {
		run += float64(t.p)
		if run >= target {
			return t.id, nil
		}
	}
	return c[len(c)-1].id, nil
}

// mirostatCheck reports whether some candidate has a finite logit.
func (s *Sampler) mirostatCheck() error {
	for _, t := range s.cur {
		if !math.IsInf(float64(t.logit), -1) {
			return nil
		}
	}
	return errAllBanned
}

// mirostat1 is Mirostat (v1) with m = 100, as llama.cpp's common sampler uses it.
func (s *Sampler) mirostat1() (int32, error) {
	if err := s.mirostatCheck(); err != nil {
		return -1, err
	}
	const m = 100
	s.softmax(true)
	c := s.cur
	// Estimate the Zipf exponent s_hat from the m most likely tokens.
	var sumTB, sumTT float32
	for i := 0; i < m-1 && i < len(c)-1; i++ {
		ti := logf(float32(i+2) / float32(i+1))
		bi := logf(c[i].p / c[i+1].p)
		sumTB += float32(ti * bi)
		sumTT += float32(ti * ti)
	}
	sHat := sumTB / sumTT
	eps := sHat - 1
	k := powf(float32(eps*powf(2, s.mu))/(1-powf(float32(s.nVocab), -eps)), 1/sHat)
	s.topK(int(max(cInt(k), 1)))
	s.softmax(true)
	return s.mirostatDraw()
}

// mirostat2 is Mirostat 2.0.
func (s *Sampler) mirostat2() (int32, error) {
	if err := s.mirostatCheck(); err != nil {
		return -1, err
	}
	s.softmax(true)
	c := s.cur
	n := 0
	for n < len(c) && !(-log2f(c[n].p) > s.mu) {
		n++
	}
	s.cur = c[:max(n, 1)]
	s.softmax(true)
	return s.mirostatDraw()
}

// mirostatDraw draws from the candidates' probabilities and updates mu from the
// surprise of the drawn token.
func (s *Sampler) mirostatDraw() (int32, error) {
	c := s.cur
	idx := discrete(c, &s.dist)
	e := -log2f(c[idx].p) - s.p.MirostatTau
	s.mu -= float32(s.p.MirostatEta * e)
	return c[idx].id, nil
}

// discrete draws an index with probability proportional to c[i].p, as libstdc++'s
// std::discrete_distribution<int> does: normalized in double, cumulated, the last
// cumulative set to 1, and searched for the first one not below a uniform double.
// Like it, a single candidate is returned without drawing.
func discrete(c []token, r *mt19937) int {
	if len(c) < 2 {
		return 0
	}
	var sum float64
	for _, t := range c {
		sum += float64(t.p)
	}
	u := r.float64()
	var cum float64
	for i, t := range c[:len(c)-1] {
		cum += float64(t.p) / sum
		if cum >= u {
			return i
		}
	}
	return len(c) - 1
}

// cInt converts as x86-64's cvttss2si does for C's (int)x: truncation, and
// INT_MIN for NaN and values out of range.
func cInt(x float32) int32 {
	if x != x || x >= 1<<31 || x < -(1<<31) {
		return math.MinInt32
	}
	return int32(x)
}

func expf(x float32) float32  { return float32(math.Exp(float64(x))) }
func logf(x float32) float32  { return float32(math.Log(float64(x))) }
func log2f(x float32) float32 { return float32(math.Log2(float64(x))) }
func powf(x, y float32) float32 {
	return float32(math.Pow(float64(x), float64(y)))
}

// less orders candidates by descending logit, then by ascending id.
func less(a, b token) int {
	switch {
	case a.logit > b.logit:
		return -1
	case a.logit < b.logit:
		return 1
	}
	return cmp.Compare(a.id, b.id)
}

// partialSort moves the k candidates that come first in less's order to c[:k],
// sorted; the order of c[k:] is unspecified.
func partialSort(c []token, k int) {
	if k <= 0 {
		return
	}
	switch {
	case k <= 128 && len(c) > 8*k:
		heapSelect(c, k)
	case k < len(c):
		nthElement(c, k)
	}
	slices.SortFunc(c[:k], less)
}

// heapSelect moves the k first candidates in less's order to c[:k] (in any
// order), keeping in c[:k] a heap whose root is the last of them: most
// candidates cost one comparison with the root.
func heapSelect(c []token, k int) {
	h := c[:k]
	for i := k/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
	for i := k; i < len(c); i++ {
		if c[i].logit < h[0].logit || less(c[i], h[0]) >= 0 {
			continue
		}
		h[0], c[i] = c[i], h[0]
		siftDown(h, 0)
	}
}

// siftDown restores the heap property (parent after its children in less's
// order) below i.
func siftDown(h []token, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && less(h[r], h[l]) > 0 {
			m = r
		}
		if less(h[m], h[i]) <= 0 {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// nthElement reorders c so that c[:k] holds the k first candidates in less's
// order (in any order): quickselect with a median-of-three pivot, falling back
// to sorting when it does not converge.
func nthElement(c []token, k int) {
	lo, hi := 0, len(c)
	budget := 64
	for hi-lo > 24 {
		if budget == 0 {
			slices.SortFunc(c[lo:hi], less)
			return
		}
		budget--
		mid := lo + (hi-lo)/2
		if less(c[mid], c[lo]) < 0 {
			c[mid], c[lo] = c[lo], c[mid]
		}
		if less(c[hi-1], c[lo]) < 0 {
			c[hi-1], c[lo] = c[lo], c[hi-1]
		}
		if less(c[hi-1], c[mid]) < 0 {
			c[hi-1], c[mid] = c[mid], c[hi-1]
		}
		pivot := c[mid]
		i, j := lo, hi-1
		for i <= j {
			for less(c[i], pivot) < 0 {
				i++
			}
			for less(pivot, c[j]) < 0 {
				j--
			}
			if i <= j {
				c[i], c[j] = c[j], c[i]
				i++
				j--
			}
		}
		// Now c[lo:j+1] <= pivot <= c[i:hi], and c[j+1:i] equals the pivot: the
		// boundary k lies in one part, or between parts and then the work is done.
		switch {
		case k <= j:
			hi = j + 1
		case k > i:
			lo = i
		default:
			return
		}
	}
	slices.SortFunc(c[lo:hi], less)
}
