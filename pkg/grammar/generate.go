package grammar

import (
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// Generate returns a random string of the grammar's language, to test one
// grammar against another: what one generates, an equivalent one
// accepts. Each alternative of a rule is equally likely, so repetitions
// are short. ok is false when the derivation nests deeper than maxDepth
// rules or grows past maxLen bytes, or meets a token terminal, which has
// no text.
func (g *Grammar) Generate(rng *rand.Rand, maxDepth, maxLen int) (s string, ok bool) {
	gen := generator{g: g, rng: rng, maxDepth: maxDepth, maxLen: maxLen}
	ok = gen.rule(g.root, 0)
	return gen.out.String(), ok
}

type generator struct {
	g                *Grammar
	rng              *rand.Rand
	maxDepth, maxLen int
	out              strings.Builder
}

func (gen *generator) rule(rule int32, depth int) bool {
	if depth > gen.maxDepth {
		return false
	}
	alts := gen.g.alternatives(rule)
	pos := alts[gen.rng.IntN(len(alts))]
	for {
		e := gen.g.elems[pos]
		switch e.kind {
		case kEnd, kAlt:
			return true
		case kRuleRef:
			if !gen.rule(int32(e.val), depth+1) {
				return false
			}
			pos++
		case kChar, kCharNot, kCharAny:
			c, next, ok := gen.char(pos)
			if !ok {
				return false
			}
			gen.out.WriteRune(c)
			if gen.out.Len() > gen.maxLen {
				return false
			}
			pos = next
		default: // tokens
			return false
		}
	}
}

// char picks a character the class at pos accepts.
func (gen *generator) char(pos int32) (rune, int32, bool) {
	g := gen.g
	var ranges [][2]rune
	for p := pos; ; {
		e := g.elems[p]
		switch {
		case e.kind == kCharAny:
			ranges = append(ranges, [2]rune{0, utf8.MaxRune})
			p++
		case g.elems[p+1].kind == kRngUpper:
			// A reversed range such as [z-a] matches nothing, as in
			// llama.cpp, and gives no character to draw.
			if lo, hi := rune(e.val), rune(g.elems[p+1].val); lo <= hi {
				ranges = append(ranges, [2]rune{lo, hi})
			}
			p += 2
		default:
			ranges = append(ranges, [2]rune{rune(e.val), rune(e.val)})
			p++
		}
		if g.elems[p].kind != kCharAlt {
			break
		}
	}
	for try := 0; try < 200; try++ {
		var c rune
		switch {
		case g.elems[pos].kind != kCharNot && len(ranges) > 0 && try%2 == 0:
			r := ranges[gen.rng.IntN(len(ranges))]
			c = r[0] + rune(gen.rng.IntN(int(r[1]-r[0])+1))
		case try%3 == 0:
			c = rune(gen.rng.IntN(0x800))
		default:
			c = rune(0x20 + gen.rng.IntN(0x5f)) // printable ASCII
		}
		if !utf8.ValidRune(c) {
			continue
		}
		if ok, next := g.matchChar(pos, c); ok {
			return c, next, true
		}
	}
	return 0, 0, false
}
