package grammar

import (
	"slices"
	"strings"
	"unsafe"
)

// The matcher runs llama.cpp's pushdown machine: the state after some text
// is a set of stacks of grammar positions, each stack's top a terminal (or
// the stack empty: the grammar is complete there). Here the stacks are
// persistent linked frames, interned so that equal stacks are one id, and
// the sets of stacks are interned too. A state is then one set id, and
// moving on a character is a function of (set id, character) that is
// computed once and remembered: the machine becomes, lazily, a
// deterministic automaton over the states the generation actually visits.
// That is what makes checking a token, or masking a whole vocabulary, cheap.

// frame is one stack entry: a grammar position over the rest of the stack.
type frame struct {
	pos    int32 // index into Grammar.elems
	parent int32 // frame id below; 0 is the empty stack
}

// set is an interned set of stacks (frame ids, sorted); set 0 has no stacks
// (the text was rejected).
type set struct {
	frames []int32
	done   bool           // holds the empty stack: the grammar may end here
	chars  bool           // holds a stack whose top is a character terminal
	tokens bool           // holds a stack whose top is a token terminal
	ascii  *[128]int32    // transitions on ASCII characters, -1 unknown
	other  map[rune]int32 // transitions on other characters
}

type automaton struct {
	g        *Grammar
	frames   []frame
	frameIDs map[frame]int32
	advanced [][]int32 // advanced[frame]: the terminal-topped stacks it expands to
	sets     []set
	setIDs   map[string]int32
	initial  int32
	scratch  []int32
}

func newAutomaton(g *Grammar) *automaton {
	a := &automaton{
		g:        g,
		frames:   []frame{{pos: -1, parent: -1}},
		frameIDs: map[frame]int32{},
		advanced: [][]int32{{0}},
		sets:     []set{{}},
		setIDs:   map[string]int32{"": 0},
	}
	var out []int32
	for _, alt := range g.alternatives(g.root) {
		st := int32(0)
		if !isEndOfSeq(g.elems[alt]) {
			st = a.push(0, alt)
		}
		out = append(out, a.advance(st)...)
	}
	a.initial = a.intern(out)
	return a
}

// alternatives returns the first element of each alternative of rule.
func (g *Grammar) alternatives(rule int32) []int32 {
	alts := []int32{g.start[rule]}
	for i := g.start[rule]; g.elems[i].kind != kEnd; i++ {
		if g.elems[i].kind == kAlt {
			alts = append(alts, i+1)
		}
	}
	return alts
}

func (a *automaton) push(parent, pos int32) int32 {
	f := frame{pos: pos, parent: parent}
	if id, ok := a.frameIDs[f]; ok {
		return id
	}
	id := int32(len(a.frames))
	a.frames = append(a.frames, f)
	a.advanced = append(a.advanced, nil)
	a.frameIDs[f] = id
	return id
}

// advance expands a stack whose top may be a rule reference into the stacks
// with a terminal (or nothing) on top, as llama_grammar_advance_stack does.
func (a *automaton) advance(st int32) []int32 {
	if r := a.advanced[st]; r != nil {
		return r
	}
	f := a.frames[st]
	e := a.g.elems[f.pos]
	if e.kind != kRuleRef {
		r := []int32{st}
		a.advanced[st] = r
		return r
	}
	a.advanced[st] = []int32{} // in progress: a cycle adds nothing
	base := f.parent
	if !isEndOfSeq(a.g.elems[f.pos+1]) {
		base = a.push(f.parent, f.pos+1)
	}
	var out []int32
	for _, alt := range a.g.alternatives(int32(e.val)) {
		next := base
		if !isEndOfSeq(a.g.elems[alt]) {
			next = a.push(base, alt)
		}
		for _, s := range a.advance(next) {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	if out == nil {
		out = []int32{}
	}
	a.advanced[st] = out
	return out
}

// intern returns the id of the set of the stacks in frames (which it may
// reorder).
func (a *automaton) intern(frames []int32) int32 {
	slices.Sort(frames)
	frames = slices.Compact(frames)
	key := unsafe.String((*byte)(unsafe.Pointer(unsafe.SliceData(frames))), len(frames)*4)
	if id, ok := a.setIDs[key]; ok {
		return id
	}
	s := set{frames: slices.Clone(frames)}
	for _, f := range s.frames {
		switch {
		case f == 0:
			s.done = true
		case a.g.elems[a.frames[f].pos].kind == kToken || a.g.elems[a.frames[f].pos].kind == kTokenNot:
			s.tokens = true
		default:
			s.chars = true
		}
	}
	id := int32(len(a.sets))
	a.sets = append(a.sets, s)
	a.setIDs[strings.Clone(key)] = id // key aliases frames
	return id
}

// matchChar reports whether c satisfies the character terminal at pos, and
// returns the position after the terminal (llama_grammar_match_char).
func (g *Grammar) matchChar(pos int32, c rune) (bool, int32) {
	positive := g.elems[pos].kind != kCharNot
	found := false
	for {
		e := g.elems[pos]
		switch {
		case g.elems[pos+1].kind == kRngUpper:
			found = found || e.val <= uint32(c) && uint32(c) <= g.elems[pos+1].val
			pos += 2
		case e.kind == kCharAny:
			found = true
			pos++
		default:
			found = found || e.val == uint32(c)
			pos++
		}
		if g.elems[pos].kind != kCharAlt {
			return found == positive, pos
		}
	}
}

// matchPartialChar reports whether some completion of the partial UTF-8
// sequence p could satisfy the terminal at pos. llama.cpp's
// llama_grammar_match_partial_char answers no for a negated class as soon
// as one excluded character could complete p; here a negated class says no
// only when its exclusions cover every character p can complete to.
func (g *Grammar) matchPartialChar(pos int32, p partialUTF8) bool {
	if p.remain < 0 || p.remain == 1 && p.value < 2 {
		return false // invalid, or an overlong 7-bit character
	}
	lo := p.value << (6 * uint(p.remain))
	hi := lo | (1<<(6*uint(p.remain)) - 1)
	if lo == 0 {
		switch p.remain {
		case 2:
			lo = 1 << 11
		case 3:
			lo = 1 << 16
		}
	}
	negated := g.elems[pos].kind == kCharNot
	var excluded [][2]uint32 // of a negated class, clipped to [lo, hi]
	for {
		e := g.elems[pos]
		a, b := e.val, e.val
		switch {
		case e.kind == kCharAny:
			return true
		case g.elems[pos+1].kind == kRngUpper:
			b = g.elems[pos+1].val
			pos += 2
		default:
			pos++
		}
		if a <= hi && lo <= b {
			if !negated {
				return true
			}
			excluded = append(excluded, [2]uint32{max(a, lo), min(b, hi)})
		}
		if g.elems[pos].kind != kCharAlt {
			break
		}
	}
	if !negated {
		return false
	}
	slices.SortFunc(excluded, func(x, y [2]uint32) int { return int(int64(x[0]) - int64(y[0])) })
	next := lo // the first character not known to be excluded
	for _, r := range excluded {
		if r[0] > next {
			return true
		}
		next = max(next, r[1]+1)
	}
	return next <= hi
}

// step returns the set after the character c from set id.
func (a *automaton) step(id int32, c rune) int32 {
	s := &a.sets[id]
	if !s.chars {
		return 0
	}
	if c < 128 {
		if s.ascii == nil {
			s.ascii = new([128]int32)
			for i := range s.ascii {
				s.ascii[i] = -1
			}
		} else if n := s.ascii[c]; n >= 0 {
			return n
		}
	} else if n, ok := s.other[c]; ok {
		return n
	}
	out := a.scratch[:0]
	for _, f := range s.frames {
		if f == 0 {
			continue
		}
		fr := a.frames[f]
		if k := a.g.elems[fr.pos].kind; k == kToken || k == kTokenNot {
			continue
		}
		ok, after := a.g.matchChar(fr.pos, c)
		if !ok {
			continue
		}
		next := fr.parent
		if !isEndOfSeq(a.g.elems[after]) {
			next = a.push(fr.parent, after)
		}
		out = append(out, a.advance(next)...)
	}
	n := a.intern(out)
	a.scratch = out[:0]
	s = &a.sets[id] // intern may have grown a.sets
	if c < 128 {
		s.ascii[c] = n
	} else {
		if s.other == nil {
			s.other = map[rune]int32{}
		}
		s.other[c] = n
	}
	return n
}

// charStacks returns the set of id's stacks that have a character terminal
// on top: what survives a token that holds no whole character.
func (a *automaton) charStacks(id int32) int32 {
	s := a.sets[id]
	if !s.done && !s.tokens {
		return id
	}
	var out []int32
	for _, f := range s.frames {
		if f != 0 {
			if k := a.g.elems[a.frames[f].pos].kind; k != kToken && k != kTokenNot {
				out = append(out, f)
			}
		}
	}
	return a.intern(out)
}

// tokenStep returns the stacks of set id after the token tok matched their
// token terminal, and 0 if none matches.
func (a *automaton) tokenStep(id int32, tok int32) int32 {
	s := a.sets[id]
	if !s.tokens {
		return 0
	}
	var out []int32
	for _, f := range s.frames {
		if f == 0 {
			continue
		}
		fr := a.frames[f]
		e := a.g.elems[fr.pos]
		if e.kind == kToken && e.val == uint32(tok) || e.kind == kTokenNot && e.val != uint32(tok) {
			next := fr.parent
			if !isEndOfSeq(a.g.elems[fr.pos+1]) {
				next = a.push(fr.parent, fr.pos+1)
			}
			out = append(out, a.advance(next)...)
		}
	}
	return a.intern(out)
}

// union returns the set of the stacks of x and y.
func (a *automaton) union(x, y int32) int32 {
	switch {
	case x == 0 || x == y:
		return y
	case y == 0:
		return x
	}
	out := append(slices.Clone(a.sets[x].frames), a.sets[y].frames...)
	return a.intern(out)
}

// partialOK reports whether some stack of set id could go on with the
// partial character p.
func (a *automaton) partialOK(id int32, p partialUTF8) bool {
	for _, f := range a.sets[id].frames {
		if f == 0 {
			continue
		}
		pos := a.frames[f].pos
		if k := a.g.elems[pos].kind; k == kToken || k == kTokenNot {
			continue
		}
		if a.g.matchPartialChar(pos, p) {
			return true
		}
	}
	return false
}
