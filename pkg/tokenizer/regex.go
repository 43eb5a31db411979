package tokenizer

import (
	"fmt"
	"strconv"
)

// This file holds a small backtracking regular-expression matcher with the
// semantics of ECMAScript regular expressions as C++'s std::regex implements
// them: the leftmost match wins, and at one position the first alternative
// that leads to a match wins; quantifiers are greedy unless followed by '?';
// lookahead is atomic. llama.cpp falls back to std::regex for pre-tokenizer
// patterns that have no hand-written splitter, so matching its behaviour
// needs these semantics rather than Go's leftmost-longest-free RE2.
//
// Character classes know only ASCII: \s is [ \t\n\v\f\r], \d is [0-9], \w is
// [A-Za-z0-9_], as in the "C" locale. Unicode categories (\p{L} and friends)
// are rewritten the way llama.cpp does: the text is "collapsed" so that every
// non-ASCII code point becomes a marker for its category, and \p{X} matches
// that marker plus the ASCII members of X (see collapseCategory).

type reKind uint8

const (
	reSet    reKind = iota // one code point from a set
	reSeq                  // subs in order
	reAlt                  // first matching sub
	reRepeat               // subs[0] between min and max times
	reLook                 // lookahead (negate: negative lookahead)
	reBegin                // ^
	reEnd                  // $
	reWordB                // \b (negate: \B)
)

type reNode struct {
	kind   reKind
	set    *charSet
	subs   []*reNode
	min    int
	max    int // -1: unbounded
	greedy bool
	negate bool
}

// charSet is a set of code points: an ASCII table, plus ranges and a
// catch-all flag for code points from 0x80 up.
type charSet struct {
	ascii   [128]bool
	high    [][2]rune // ranges over code points >= 0x80
	highAll bool      // every code point >= 0x80 (from \S, \D, \W)
	negate  bool
	and     *charSet // when set, members must also be in and
}

func (s *charSet) has(c rune) bool {
	if s.and != nil && !s.and.has(c) {
		return false
	}
	var in bool
	if c >= 0 && c < 128 {
		in = s.ascii[c]
	} else if s.highAll {
		in = true
	} else {
		for _, r := range s.high {
			if r[0] <= c && c <= r[1] {
				in = true
				break
			}
		}
	}
	return in != s.negate
}

func (s *charSet) addRange(lo, hi rune) {
	for c := lo; c <= hi && c < 128; c++ {
		if c >= 0 {
			s.ascii[c] = true
		}
	}
	if hi >= 128 {
		if lo < 128 {
			lo = 128
		}
		s.high = append(s.high, [2]rune{lo, hi})
	}
}

// addClass adds the members of a class escape letter (d, D, s, S, w, W).
func (s *charSet) addClass(e rune) {
	var in func(c rune) bool
	switch e {
	case 'd', 'D':
		in = func(c rune) bool { return '0' <= c && c <= '9' }
	case 's', 'S':
		in = func(c rune) bool { return c == ' ' || ('\t' <= c && c <= '\r') }
	case 'w', 'W':
		in = func(c rune) bool {
			return c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		}
	}
	neg := e == 'D' || e == 'S' || e == 'W'
	for c := rune(0); c < 128; c++ {
		if in(c) != neg {
			s.ascii[c] = true
		}
	}
	if neg {
		s.highAll = true
	}
}

// Markers that stand for non-ASCII code points in collapsed text.
const (
	collapsedOther  = 0xD0
	collapsedNumber = 0xD1
	collapsedLetter = 0xD2
	collapsedPunct  = 0xD3
	collapsedMark   = 0xD4
	collapsedSymbol = 0xD5
	collapsedSpace  = 0x0B // vertical tab: any non-ASCII white space
)

// collapseCategory adds to s what llama.cpp substitutes for \p{name} in a
// collapsed pattern: the category's marker and its ASCII members. It reports
// false for category names llama.cpp does not rewrite.
func (s *charSet) collapseCategory(name string) bool {
	switch name {
	case "N":
		s.addRange(collapsedNumber, collapsedNumber)
		s.addRange('0', '9')
	case "L", "Lu", "Ll", "Lt", "Lm", "Lo":
		s.addRange(collapsedLetter, collapsedLetter)
		s.addRange('A', 'Z')
		s.addRange('a', 'z')
	case "P":
		s.addRange(collapsedPunct, collapsedPunct)
		for _, c := range "!\"#%&'()*,-./:;?@[\\]_{}" {
			s.addRange(c, c)
		}
	case "M":
		s.addRange(collapsedMark, collapsedMark)
	case "S":
		s.addRange(collapsedSymbol, collapsedSymbol)
		for _, c := range "$+<=>^`|~" {
			s.addRange(c, c)
		}
	default:
		return false
	}
	return true
}

// categoryNames are the \p{...} names that make llama.cpp collapse a pattern.
var categoryNames = []string{`\p{N}`, `\p{L}`, `\p{P}`, `\p{M}`, `\p{S}`, `\p{Lu}`, `\p{Ll}`, `\p{Lt}`, `\p{Lm}`, `\p{Lo}`}

// regex is a compiled pattern.
type regex struct {
	root      *reNode
	collapsed bool // matches collapsed text (the pattern uses \p{...})
}

type reParser struct {
	src       []rune
	pos       int
	collapsed bool
}

// compileRegex parses an ECMAScript pattern. With collapsed set, \p{X}
// escapes become sets over collapsed text.
func compileRegex(pattern string, collapsed bool) (*regex, error) {
	p := &reParser{src: []rune(pattern), collapsed: collapsed}
	n, err := p.parseAlt()
	if err == nil && p.pos < len(p.src) {
		err = p.errorf("unexpected %q", p.src[p.pos])
	}
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", pattern, err)
	}
	return &regex{root: n, collapsed: collapsed}, nil
}

func (p *reParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *reParser) more() bool { return p.pos < len(p.src) }

func (p *reParser) peek() rune {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return -1
}

func (p *reParser) parseAlt() (*reNode, error) {
	var alts []*reNode
	for {
		seq, err := p.parseSeq()
		if err != nil {
			return nil, err
		}
		alts = append(alts, seq)
		if p.peek() != '|' {
			break
		}
		p.pos++
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return &reNode{kind: reAlt, subs: alts}, nil
}

func (p *reParser) parseSeq() (*reNode, error) {
	seq := &reNode{kind: reSeq}
	for p.more() && p.peek() != '|' && p.peek() != ')' {
		atom, err := p.parseAtom()
		if err != nil {
			return nil, err
		}
		atom, err = p.parseQuantifiers(atom)
		if err != nil {
			return nil, err
		}
		seq.subs = append(seq.subs, atom)
	}
	if len(seq.subs) == 1 {
		return seq.subs[0], nil
	}
	// (?=[A])[B] matches one code point in both sets: fuse it into one set,
	// so that repeating it needs no recursion (the Tekken and GPT-4o
	// patterns repeat such pairs over whole words).
	if len(seq.subs) == 2 {
		look, set := seq.subs[0], seq.subs[1]
		if look.kind == reLook && !look.negate && look.subs[0].kind == reSet && set.kind == reSet {
			both := *set.set
			both.and = look.subs[0].set
			return &reNode{kind: reSet, set: &both}, nil
		}
	}
	return seq, nil
}

func (p *reParser) parseQuantifiers(atom *reNode) (*reNode, error) {
	for p.more() {
		min, max := 0, 0
		switch p.peek() {
		case '*':
			min, max = 0, -1
			p.pos++
		case '+':
			min, max = 1, -1
			p.pos++
		case '?':
			min, max = 0, 1
			p.pos++
		case '{':
			var err error
			min, max, err = p.parseBraces()
			if err != nil {
				return nil, err
			}
		default:
			return atom, nil
		}
		if atom.kind == reBegin || atom.kind == reEnd || atom.kind == reWordB || atom.kind == reLook {
			return nil, p.errorf("nothing to repeat")
		}
		greedy := true
		if p.peek() == '?' {
			greedy = false
			p.pos++
		}
		atom = &reNode{kind: reRepeat, subs: []*reNode{atom}, min: min, max: max, greedy: greedy}
	}
	return atom, nil
}

func (p *reParser) parseBraces() (min, max int, err error) {
	p.pos++ // '{'
	num := func() (int, bool) {
		start := p.pos
		for p.more() && p.peek() >= '0' && p.peek() <= '9' {
			p.pos++
		}
		if start == p.pos {
			return 0, false
		}
		v, err := strconv.Atoi(string(p.src[start:p.pos]))
		return v, err == nil
	}
	min, ok := num()
	if !ok {
		return 0, 0, p.errorf("bad repeat count")
	}
	max = min
	if p.peek() == ',' {
		p.pos++
		if p.peek() == '}' {
			max = -1
		} else if max, ok = num(); !ok {
			return 0, 0, p.errorf("bad repeat count")
		}
	}
	if p.peek() != '}' {
		return 0, 0, p.errorf("missing }")
	}
	p.pos++
	if max >= 0 && max < min {
		return 0, 0, p.errorf("bad repeat range {%d,%d}", min, max)
	}
	return min, max, nil
}

func single(c rune) *reNode {
	s := &charSet{}
	s.addRange(c, c)
	return &reNode{kind: reSet, set: s}
}

func (p *reParser) parseAtom() (*reNode, error) {
	c := p.src[p.pos]
	p.pos++
	switch c {
	case '(':
		kind, negate := reSeq, false
		if p.peek() == '?' {
			if p.pos+1 >= len(p.src) {
				return nil, p.errorf("bad group")
			}
			switch p.src[p.pos+1] {
			case ':':
			case '=':
				kind = reLook
			case '!':
				kind, negate = reLook, true
			default:
				return nil, p.errorf("unsupported group (?%c", p.src[p.pos+1])
			}
			p.pos += 2
		}
		sub, err := p.parseAlt()
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, p.errorf("missing )")
		}
		p.pos++
		if kind == reLook {
			return &reNode{kind: reLook, subs: []*reNode{sub}, negate: negate}, nil
		}
		return sub, nil
	case '[':
		return p.parseClass()
	case '.':
		s := &charSet{negate: true}
		s.addRange('\n', '\n')
		s.addRange('\r', '\r')
		return &reNode{kind: reSet, set: s}, nil
	case '^':
		return &reNode{kind: reBegin}, nil
	case '$':
		return &reNode{kind: reEnd}, nil
	case '\\':
		return p.parseEscape()
	case '*', '+', '?', '{':
		p.pos--
		return nil, p.errorf("nothing to repeat")
	}
	return single(c), nil
}

func (p *reParser) parseEscape() (*reNode, error) {
	if !p.more() {
		return nil, p.errorf("trailing backslash")
	}
	e := p.src[p.pos]
	switch e {
	case 'b', 'B':
		p.pos++
		return &reNode{kind: reWordB, negate: e == 'B'}, nil
	case 'd', 'D', 's', 'S', 'w', 'W':
		p.pos++
		s := &charSet{}
		s.addClass(e)
		return &reNode{kind: reSet, set: s}, nil
	case 'p':
		if p.collapsed {
			s := &charSet{}
			ok, err := p.parseCategory(s)
			if err != nil {
				return nil, err
			}
			if ok {
				return &reNode{kind: reSet, set: s}, nil
			}
		}
	}
	c, err := p.parseCharEscape()
	if err != nil {
		return nil, err
	}
	return single(c), nil
}

// parseCategory parses "p{Name}" at p.pos into s, reporting false (and
// consuming nothing) when it is not a category llama.cpp rewrites.
func (p *reParser) parseCategory(s *charSet) (bool, error) {
	if p.pos+1 >= len(p.src) || p.src[p.pos+1] != '{' {
		return false, nil
	}
	end := p.pos + 2
	for end < len(p.src) && p.src[end] != '}' {
		end++
	}
	if end >= len(p.src) {
		return false, nil
	}
	if !s.collapseCategory(string(p.src[p.pos+2 : end])) {
		return false, nil
	}
	p.pos = end + 1
	return true, nil
}

// parseCharEscape parses an escape that stands for one code point (the
// backslash already consumed).
func (p *reParser) parseCharEscape() (rune, error) {
	e := p.src[p.pos]
	p.pos++
	switch e {
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'f':
		return '\f', nil
	case 'v':
		return '\v', nil
	case '0':
		return 0, nil
	case 'x', 'u':
		n := 2
		if e == 'u' {
			n = 4
		}
		if p.pos+n > len(p.src) {
			return 0, p.errorf("bad \\%c escape", e)
		}
		v, err := strconv.ParseUint(string(p.src[p.pos:p.pos+n]), 16, 32)
		if err != nil {
			return 0, p.errorf("bad \\%c escape", e)
		}
		p.pos += n
		return rune(v), nil
	}
	if e >= '1' && e <= '9' {
		return 0, p.errorf("back-references are not supported")
	}
	return e, nil
}

func (p *reParser) parseClass() (*reNode, error) {
	s := &charSet{}
	if p.peek() == '^' {
		s.negate = true
		p.pos++
	}
	first := true
	for {
		if !p.more() {
			return nil, p.errorf("missing ]")
		}
		c := p.src[p.pos]
		if c == ']' && !first {
			p.pos++
			break
		}
		first = false
		p.pos++
		lo := c
		if c == '\\' {
			if !p.more() {
				return nil, p.errorf("trailing backslash")
			}
			e := p.src[p.pos]
			switch e {
			case 'd', 'D', 's', 'S', 'w', 'W':
				p.pos++
				s.addClass(e)
				continue
			case 'b':
				p.pos++
				lo = '\b'
			case 'p':
				if p.collapsed {
					ok, err := p.parseCategory(s)
					if err != nil {
						return nil, err
					}
					if ok {
						continue
					}
				}
				fallthrough
			default:
				var err error
				if lo, err = p.parseCharEscape(); err != nil {
					return nil, err
				}
			}
		}
		hi := lo
		if p.peek() == '-' && p.pos+1 < len(p.src) && p.src[p.pos+1] != ']' {
			p.pos++
			h := p.src[p.pos]
			p.pos++
			if h == '\\' {
				if !p.more() {
					return nil, p.errorf("trailing backslash")
				}
				var err error
				if h, err = p.parseCharEscape(); err != nil {
					return nil, err
				}
			}
			if h < lo {
				return nil, p.errorf("bad range %q-%q", lo, h)
			}
			hi = h
		}
		s.addRange(lo, hi)
	}
	return &reNode{kind: reSet, set: s}, nil
}

// reMatcher runs a compiled pattern over one segment of text.
type reMatcher struct {
	text []rune
}

func isWordRune(c rune) bool {
	return c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// match tries n at pos and calls k with the end of each way n can match,
// in priority order, until k returns true.
func (m *reMatcher) match(n *reNode, pos int, k func(int) bool) bool {
	t := m.text
	switch n.kind {
	case reSet:
		return pos < len(t) && n.set.has(t[pos]) && k(pos+1)
	case reSeq:
		return m.matchSeq(n.subs, pos, k)
	case reAlt:
		for _, sub := range n.subs {
			if m.match(sub, pos, k) {
				return true
			}
		}
		return false
	case reRepeat:
		if sub := n.subs[0]; sub.kind == reSet {
			return m.repeatSet(n, sub.set, pos, k)
		}
		return m.repeat(n, 0, pos, k)
	case reLook:
		ok := m.match(n.subs[0], pos, func(int) bool { return true })
		return ok != n.negate && k(pos)
	case reBegin:
		return pos == 0 && k(pos)
	case reEnd:
		return pos == len(t) && k(pos)
	case reWordB:
		left := pos > 0 && isWordRune(t[pos-1])
		right := pos < len(t) && isWordRune(t[pos])
		return (left != right) != n.negate && k(pos)
	}
	return false
}

func (m *reMatcher) matchSeq(subs []*reNode, pos int, k func(int) bool) bool {
	if len(subs) == 0 {
		return k(pos)
	}
	if len(subs) == 1 {
		return m.match(subs[0], pos, k)
	}
	return m.match(subs[0], pos, func(p int) bool { return m.matchSeq(subs[1:], p, k) })
}

// repeatSet repeats a single-code-point set without recursion.
func (m *reMatcher) repeatSet(n *reNode, set *charSet, pos int, k func(int) bool) bool {
	t := m.text
	limit := len(t) - pos
	if n.max >= 0 && n.max < limit {
		limit = n.max
	}
	count := 0
	for count < limit && set.has(t[pos+count]) {
		count++
	}
	if count < n.min {
		return false
	}
	if n.greedy {
		for c := count; c >= n.min; c-- {
			if k(pos + c) {
				return true
			}
		}
		return false
	}
	for c := n.min; c <= count; c++ {
		if k(pos + c) {
			return true
		}
	}
	return false
}

// repeat matches n.subs[0] repeatedly; done iterations have matched so far.
// As in ECMAScript, an optional iteration that matches the empty string fails.
func (m *reMatcher) repeat(n *reNode, done, pos int, k func(int) bool) bool {
	sub := n.subs[0]
	if done < n.min {
		return m.match(sub, pos, func(p int) bool { return m.repeat(n, done+1, p, k) })
	}
	if n.max >= 0 && done >= n.max {
		return k(pos)
	}
	more := func() bool {
		return m.match(sub, pos, func(p int) bool { return p != pos && m.repeat(n, done+1, p, k) })
	}
	if n.greedy {
		return more() || k(pos)
	}
	return k(pos) || more()
}

// find returns the leftmost match starting at or after from (only at from
// when continuous), skipping empty matches when notNull.
func (m *reMatcher) find(re *regex, from int, continuous, notNull bool) (start, end int, ok bool) {
	for s := from; s <= len(m.text); s++ {
		e := -1
		if m.match(re.root, s, func(p int) bool {
			if notNull && p == s {
				return false
			}
			e = p
			return true
		}) {
			return s, e, true
		}
		if continuous {
			break
		}
	}
	return 0, 0, false
}

// split applies re to each segment of text (lengths in offsets, summing to
// len(text)) and returns the new segment lengths, in the manner of
// llama.cpp's std::regex_iterator loop: each match becomes a segment (even an
// empty one), and so does each non-empty stretch between matches.
func (re *regex) split(text []rune, offsets []int) []int {
	out := make([]int, 0, len(offsets))
	start := 0
	for _, size := range offsets {
		m := reMatcher{text: text[start : start+size]}
		prev := 0
		pos, continuous, notNull := 0, false, false
		for {
			s, e, ok := m.find(re, pos, continuous, notNull)
			if !ok && notNull {
				// The retry after an empty match failed: search on from the next position.
				pos, continuous, notNull = pos+1, false, false
				s, e, ok = m.find(re, pos, false, false)
			}
			if !ok {
				break
			}
			if s > prev {
				out = append(out, s-prev)
			}
			out = append(out, e-s)
			prev = e
			if e == s {
				if e == size {
					break
				}
				pos, continuous, notNull = e, true, true
			} else {
				pos, continuous, notNull = e, false, false
			}
		}
		if prev < size {
			out = append(out, size-prev)
		}
		start += size
	}
	return out
}
