package sample

import (
	"fmt"
	"math"
)

// RandomSeed asks for a random seed, as LLAMA_DEFAULT_SEED (0xFFFFFFFF) does in
// llama.cpp: every random number generator of the sampler is seeded from the
// operating system's randomness, anew at each Reset.
const RandomSeed uint32 = 0xFFFFFFFF

// Params configures a Sampler. The zero value is not useful; start from
// DefaultParams. Field comments give the value that disables each stage.
type Params struct {
	// Temp divides the logits. Temp <= 0 samples greedily: the most likely
	// surviving token is taken (llama.cpp keeps only the maximum and samples
	// from it). 1 leaves the logits unchanged.
	Temp float32
	// DynatempRange enables dynamic temperature when > 0: the temperature is chosen
	// in [Temp-DynatempRange, Temp+DynatempRange] from the normalized entropy of
	// the candidates, raised to DynatempExponent. 0 disables it.
	DynatempRange    float32
	DynatempExponent float32

	// TopK keeps the TopK most likely tokens; <= 0 disables it.
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probabilities sum to
	// at least TopP; 1 disables it.
	TopP float32
	// MinP drops tokens whose probability is below MinP times that of the most
	// likely token; 0 disables it.
	MinP float32
	// TypicalP is locally typical sampling's mass; 1 disables it.
	TypicalP float32
	// TopNSigma keeps the tokens whose logit is within TopNSigma standard
	// deviations of the largest logit; <= 0 disables it.
	TopNSigma float32
	// XTCProbability is the chance that XTC ("exclude top choices") removes, at a
	// step, every token above XTCThreshold except the least likely of them.
	// 0 disables XTC, and so does XTCThreshold > 0.5.
	XTCProbability float32
	XTCThreshold   float32
	// MinKeep is the least number of tokens top-p, min-p, typical and XTC leave.
	MinKeep int

	// RepeatPenalty divides positive (multiplies non-positive) logits of tokens seen
	// among the last RepeatLastN accepted tokens; 1 disables it.
	RepeatPenalty float32
	// RepeatLastN is the window of accepted tokens the penalties look at: 0
	// disables the penalties, -1 means ContextSize.
	RepeatLastN int
	// ContextSize is the model's context length, needed only when RepeatLastN is -1.
	ContextSize int
	// FrequencyPenalty is subtracted from a logit once per occurrence of the token in
	// the window; 0 disables it.
	FrequencyPenalty float32
	// PresencePenalty is subtracted from the logit of every token present in the
	// window; 0 disables it.
	PresencePenalty float32

	// Mirostat selects Mirostat sampling: 0 off, 1 Mirostat, 2 Mirostat 2.0. As in
	// llama.cpp, Mirostat replaces the whole chain: only the logit bias and the
	// temperature apply before it (no penalties, top-k, top-p, ...).
	Mirostat int
	// MirostatTau is the target surprise (cross-entropy), MirostatEta the learning rate.
	MirostatTau float32
	MirostatEta float32

	// Seed seeds the random number generators; RandomSeed picks a random seed.
	Seed uint32

	// LogitBias is added to the logits of the given tokens before anything else;
	// float32(math.Inf(-1)) bans a token.
	LogitBias map[int32]float32
}

// DefaultParams returns llama.cpp's defaults (common_params_sampling): temperature
// 0.8, top-k 40, top-p 0.95, min-p 0.05, typical 1.0 (off), repeat penalty 1.0 (off)
// over the last 64 tokens, presence and frequency penalties 0, Mirostat off with
// tau 5.0 and eta 0.1, XTC off (probability 0, threshold 0.1), top-n-sigma off and
// a random seed.
func DefaultParams() Params {
	return Params{
		Temp:             0.8,
		DynatempRange:    0,
		DynatempExponent: 1,
		TopK:             40,
		TopP:             0.95,
		MinP:             0.05,
		TypicalP:         1,
		TopNSigma:        -1,
		XTCProbability:   0,
		XTCThreshold:     0.1,
		MinKeep:          0,
		RepeatPenalty:    1,
		RepeatLastN:      64,
		FrequencyPenalty: 0,
		PresencePenalty:  0,
		Mirostat:         0,
		MirostatTau:      5,
		MirostatEta:      0.1,
		Seed:             RandomSeed,
	}
}

func finite(x float32) bool {
	return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
}

// validate checks p for a vocabulary of nVocab tokens; the error names the field.
func (p *Params) validate(nVocab int) error {
	if nVocab <= 0 {
		return fmt.Errorf("sample: vocabulary size %d: must be positive", nVocab)
	}
	for _, f := range []struct {
		name string
		v    float32
	}{
		{"Temp", p.Temp}, {"DynatempRange", p.DynatempRange}, {"DynatempExponent", p.DynatempExponent},
		{"TopNSigma", p.TopNSigma}, {"XTCThreshold", p.XTCThreshold},
		{"FrequencyPenalty", p.FrequencyPenalty}, {"PresencePenalty", p.PresencePenalty},
		{"MirostatTau", p.MirostatTau}, {"MirostatEta", p.MirostatEta},
	} {
		if !finite(f.v) {
			return fmt.Errorf("sample: %s = %v: must be finite", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    float32
	}{
		{"TopP", p.TopP}, {"MinP", p.MinP}, {"TypicalP", p.TypicalP}, {"XTCProbability", p.XTCProbability},
	} {
		if !(f.v >= 0 && f.v <= 1) {
			return fmt.Errorf("sample: %s = %v: must be between 0 and 1", f.name, f.v)
		}
	}
	if !finite(p.RepeatPenalty) || p.RepeatPenalty <= 0 || !finite(1/p.RepeatPenalty) {
		return fmt.Errorf("sample: RepeatPenalty = %v: must be finite and greater than 0", p.RepeatPenalty)
	}
	if p.MinKeep < 0 {
		return fmt.Errorf("sample: MinKeep = %d: must not be negative", p.MinKeep)
	}
	switch {
	case p.RepeatLastN < -1:
		return fmt.Errorf("sample: RepeatLastN = %d: must be -1 (context size), 0 (off) or positive", p.RepeatLastN)
	case p.RepeatLastN == -1 && p.ContextSize <= 0:
		return fmt.Errorf("sample: RepeatLastN = -1 needs a positive ContextSize, have %d", p.ContextSize)
	}
	if p.Mirostat < 0 || p.Mirostat > 2 {
		return fmt.Errorf("sample: Mirostat = %d: must be 0, 1 or 2", p.Mirostat)
	}
	for tok, b := range p.LogitBias {
		if tok < 0 || int(tok) >= nVocab {
			return fmt.Errorf("sample: LogitBias: token %d out of range [0, %d)", tok, nVocab)
		}
		if math.IsNaN(float64(b)) || math.IsInf(float64(b), 1) {
			return fmt.Errorf("sample: LogitBias: token %d: bias %v: must be finite or -Inf", tok, b)
		}
	}
	return nil
}
