package grammar

import (
	"fmt"
	"regexp"
	"slices"
)

// Triggers start a lazy grammar: until one fires, generation is free; from
// the trigger on, the grammar constrains it (llama.cpp's lazy grammars, which
// its tool-call formats use so the model may answer in prose or call a tool).
type Triggers struct {
	// Words fire where the text generated so far contains one; the grammar
	// then matches from the word's start.
	Words []string
	// Patterns are regular expressions (Go's syntax) searched in the text
	// generated so far; the grammar matches from the start of the first
	// non-empty capturing group, or of the whole match when none.
	Patterns []string
	// Tokens fire when one of them is generated; the grammar matches from
	// that token on.
	Tokens []int32
}

type lazyState struct {
	patterns []*regexp.Regexp
	tokens   []int32
	text     []byte
	spans    []tokenSpan // the tokens of text, for the replay
}

type tokenSpan struct {
	tok        int32
	start, end int
}

// NewLazyMatcher is NewMatcher for a grammar that applies only from one of
// the triggers on. It fails on a pattern that does not compile.
func (g *Grammar) NewLazyMatcher(v *Vocab, t Triggers) (*Matcher, error) {
	m := g.NewMatcher(v)
	lz := &lazyState{tokens: slices.Clone(t.Tokens)}
	for _, w := range t.Words {
		lz.patterns = append(lz.patterns, regexp.MustCompile(regexp.QuoteMeta(w)))
	}
	for _, p := range t.Patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("grammar: trigger pattern %q: %w", p, err)
		}
		lz.patterns = append(lz.patterns, re)
	}
	m.lazy = lz
	return m, nil
}

// Waiting reports whether a lazy matcher's grammar has not been triggered
// yet (and so constrains nothing).
func (m *Matcher) Waiting() bool { return m.lazy != nil }

// acceptWaiting takes token tok while the grammar waits for a trigger.
func (m *Matcher) acceptWaiting(tok int32) error {
	lz := m.lazy
	if slices.Contains(lz.tokens, tok) {
		m.lazy = nil
		return m.AcceptToken(tok)
	}
	if m.v.eog[tok] {
		return nil
	}
	piece := m.v.pieces[tok]
	lz.spans = append(lz.spans, tokenSpan{tok, len(lz.text), len(lz.text) + len(piece)})
	lz.text = append(lz.text, piece...)
	for _, re := range lz.patterns {
		loc := re.FindSubmatchIndex(lz.text)
		if loc == nil {
			continue
		}
		start := loc[0]
		for i := 2; i+1 < len(loc); i += 2 {
			if loc[i] >= 0 && loc[i+1] > loc[i] {
				start = loc[i]
				break
			}
		}
		m.lazy = nil
		// Replay what the trigger covers: whole tokens as tokens, the
		// part of a token that straddles the start as text.
		for _, sp := range lz.spans {
			if sp.end <= start {
				continue
			}
			var err error
			if sp.start >= start {
				err = m.AcceptToken(sp.tok)
			} else {
				err = m.AcceptString(string(lz.text[start:sp.end]))
			}
			if err != nil {
				return fmt.Errorf("grammar: the text from the trigger %q on: %w", lz.text[start:], err)
			}
		}
		return nil
	}
	return nil
}
