package engine

import (
	"fmt"

	"github.com/llamafile-go/llamafile/pkg/grammar"
)

// GrammarVocab returns the model's vocabulary as grammars see it (each
// token's text, special tokens included), built on first use.
func (m *Model) GrammarVocab() *grammar.Vocab {
	m.gvocabOnce.Do(func() {
		m.gvocab = grammar.NewVocab(m.tok.NumTokens(),
			func(id int32) []byte { return m.tok.TokenToPiece(id, true) },
			m.tok.IsEOG)
	})
	return m.gvocab
}

// ParseGrammar parses a GBNF grammar for this model: a <token> in it is the
// model's token of that text.
func (m *Model) ParseGrammar(src string) (*grammar.Grammar, error) {
	return grammar.ParseRoot(src, "root", func(text string) (int32, bool) {
		ids := m.tok.Encode(text, false, true)
		if len(ids) != 1 {
			return 0, false
		}
		return ids[0], true
	})
}

// newGrammarMatcher makes the matcher of a request's grammar, nil when it
// has none.
func (m *Model) newGrammarMatcher(g *grammar.Grammar, t *grammar.Triggers) (*grammar.Matcher, error) {
	switch {
	case g == nil:
		return nil, nil
	case t == nil:
		return g.NewMatcher(m.GrammarVocab()), nil
	}
	gm, err := g.NewLazyMatcher(m.GrammarVocab(), *t)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return gm, nil
}
