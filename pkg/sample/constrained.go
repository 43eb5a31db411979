package sample

// Constraint limits the tokens that may be sampled, as a grammar does.
type Constraint interface {
	// Allows reports whether tok may come next.
	Allows(tok int32) bool
	// Filter sets to -Inf the logit of every token that may not come next.
	Filter(logits []float32)
}

// SampleConstrained samples a token that c allows, as llama.cpp's
// common_sampler_sample does: it samples from logits as Sample does and
// keeps the token if c allows it; only when c rejects it does it filter
// the whole vocabulary and sample again. Checking one token is cheap and
// almost always enough, filtering is not. logits is not modified.
func (s *Sampler) SampleConstrained(logits []float32, c Constraint) (int32, error) {
	tok, err := s.Sample(logits)
	if err != nil || c.Allows(tok) {
		return tok, err
	}
	s.filtered = append(s.filtered[:0], logits...)
	c.Filter(s.filtered)
	return s.Sample(s.filtered)
}
