package grammar

import (
	"errors"
	"fmt"
)

// partialUTF8 is the state of a UTF-8 sequence cut at a token boundary
// (llama_partial_utf8): the bits decoded so far and how many continuation
// bytes are still to come; remain -1 marks an invalid sequence.
type partialUTF8 struct {
	value  uint32
	remain int8
}

var utf8Len = [16]int8{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 3, 4}

// decode splits b, which continues the partial sequence p, into whole code
// points (appended to cps) and the partial sequence it ends with, as
// llama.cpp's decode_utf8 does. An invalid sequence gives remain -1 and no
// code points.
func decode(cps []rune, b []byte, p partialUTF8) ([]rune, partialUTF8) {
	value, remain := p.value, p.remain
	i := 0
	for i < len(b) && remain > 0 {
		if b[i]>>6 != 2 {
			return cps[:0], partialUTF8{remain: -1}
		}
		value = value<<6 | uint32(b[i]&0x3f)
		i++
		remain--
	}
	if p.remain > 0 && remain == 0 {
		cps = append(cps, rune(value))
	}
	for i < len(b) {
		n := utf8Len[b[i]>>4] - 1
		if n < 0 {
			return cps[:0], partialUTF8{remain: -1}
		}
		value = uint32(b[i]) & (1<<(7-n) - 1)
		i++
		for i < len(b) && n > 0 {
			value = value<<6 | uint32(b[i]&0x3f)
			i++
			n--
		}
		remain = n
		if n == 0 {
			cps = append(cps, rune(value))
		}
	}
	return cps, partialUTF8{value: value, remain: remain}
}

// Match reports whether the grammar accepts the whole of s.
func (g *Grammar) Match(s string) bool {
	m := g.NewMatcher(nil)
	return m.AcceptString(s) == nil && m.Done()
}

// ErrRejected is returned (wrapped) when text or a token does not fit the
// grammar.
var ErrRejected = errors.New("grammar: rejected")

// Matcher follows one text through a grammar. It is not safe for
// concurrent use; make one per generation.
type Matcher struct {
	a       *automaton
	v       *Vocab
	state   int32
	partial partialUTF8
	cps     []rune
	masks   map[int32][]uint64
	path    []walkStep
	lazy    *lazyState // waiting for a trigger
}

// NewMatcher starts matching at the beginning of g. v is the vocabulary
// the tokens of AcceptToken, Allows and Mask come from; it may be nil for
// a matcher only given text.
func (g *Grammar) NewMatcher(v *Vocab) *Matcher {
	a := newAutomaton(g)
	return &Matcher{a: a, v: v, state: a.initial}
}

// Done reports whether the text so far is a complete sentence of the
// grammar (an end of generation may come now).
func (m *Matcher) Done() bool {
	return m.lazy != nil || m.partial.remain == 0 && m.a.sets[m.state].done
}

// Complete reports whether the grammar allows nothing more than the text so
// far: generation should end.
func (m *Matcher) Complete() bool {
	s := m.a.sets[m.state]
	return m.lazy == nil && m.partial.remain == 0 && s.done && !s.chars && !s.tokens
}

// feed runs the bytes b (which hold no whole token terminal) from state,
// returning the new state (0: rejected) and the partial sequence left.
func (m *Matcher) feed(state int32, p partialUTF8, b []byte) (int32, partialUTF8) {
	if len(b) == 0 {
		return state, p
	}
	m.cps, p = decode(m.cps[:0], b, p)
	if p.remain < 0 {
		return 0, p
	}
	if len(m.cps) == 0 {
		state = m.a.charStacks(state)
	}
	for _, c := range m.cps {
		if state = m.a.step(state, c); state == 0 {
			return 0, p
		}
	}
	if p.remain > 0 && !m.a.partialOK(state, p) {
		return 0, p
	}
	return state, p
}

// AcceptString moves the matcher over text s (which may end in the middle
// of a UTF-8 sequence). On error the matcher is unchanged.
func (m *Matcher) AcceptString(s string) error {
	st, p := m.feed(m.state, m.partial, []byte(s))
	if st == 0 {
		return fmt.Errorf("%w: %q", ErrRejected, s)
	}
	m.state, m.partial = st, p
	return nil
}

// next returns the state after token tok, 0 if the grammar rejects it.
func (m *Matcher) next(tok int32) (int32, partialUTF8) {
	piece := m.v.pieces[tok]
	if len(piece) == 0 || piece[0] == 0 {
		return 0, partialUTF8{}
	}
	byText, p := m.feed(m.state, m.partial, piece)
	if m.partial.remain == 0 {
		if byTok := m.a.tokenStep(m.state, tok); byTok != 0 {
			// A token terminal consumes the whole token.
			if p.remain != 0 {
				byText = 0
			}
			return m.a.union(byText, byTok), partialUTF8{}
		}
	}
	return byText, p
}

// Allows reports whether token tok may come next. An end-of-generation
// token is allowed exactly when the grammar is done.
func (m *Matcher) Allows(tok int32) bool {
	if tok < 0 || int(tok) >= len(m.v.pieces) {
		return false
	}
	if m.lazy != nil {
		return true
	}
	if m.v.eog[tok] {
		return m.Done()
	}
	st, _ := m.next(tok)
	return st != 0
}

// AcceptToken moves the matcher over token tok. On error (the grammar does
// not allow tok) the matcher is unchanged.
func (m *Matcher) AcceptToken(tok int32) error {
	if tok < 0 || int(tok) >= len(m.v.pieces) {
		return fmt.Errorf("grammar: token %d outside the vocabulary", tok)
	}
	if m.lazy != nil {
		return m.acceptWaiting(tok)
	}
	if m.v.eog[tok] {
		if m.Done() {
			return nil
		}
		return fmt.Errorf("%w: end of generation before the grammar is complete", ErrRejected)
	}
	st, p := m.next(tok)
	if st == 0 {
		return fmt.Errorf("%w: token %d %q", ErrRejected, tok, m.v.pieces[tok])
	}
	m.state, m.partial = st, p
	return nil
}
