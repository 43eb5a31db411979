// Package grammar constrains generation to a formal language written in GBNF,
// the grammar notation of llama.cpp (its grammars/README.md): rules,
// alternation, grouping, repetition (* + ? {m,n}), string literals, character
// classes with ranges and negation, "." for any character, and token
// references (<[id]>, !<[id]>, and <token> given a vocabulary).
//
// Parse turns GBNF text into a Grammar, an immutable value that any number of
// generations may share. A Matcher follows one generation through the
// grammar, as llama.cpp's llama_grammar does: it holds the set of pushdown
// stacks the text so far can be in, accepts text or tokens, and tells which
// tokens of a vocabulary may come next. The language accepted, the order of
// rules and the expansion of repetitions are llama.cpp's, so a grammar means
// here what it means there.
package grammar

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is the type of one grammar element (llama_gretype).
type kind uint8

const (
	kEnd      kind = iota // end of a rule
	kAlt                  // start of another alternative of the rule
	kRuleRef              // non-terminal: val is the rule id
	kChar                 // terminal: code point val (first of a class)
	kCharNot              // terminal: negated class, first code point val
	kRngUpper             // makes the preceding char a range up to val
	kCharAlt              // another char of the class
	kCharAny              // any character (".")
	kToken                // terminal: the token with id val
	kTokenNot             // terminal: any token but id val
)

type elem struct {
	kind kind
	val  uint32
}

// Limits of llama.cpp's parser (MAX_REPETITION_THRESHOLD).
const maxRepetitions = 2000

// Limits of ours, which llama.cpp does not have, so that a grammar from a
// request cannot take memory out of proportion to its text.
const (
	// maxCopied bounds the elements that repetitions copy, in all: each
	// copy of a 64 KiB literal repeated {1999} would otherwise cost 8
	// bytes an element, 1 GiB for 64 KiB of text.
	maxCopied = 1 << 20
	// maxNesting bounds how deep parentheses nest (each level is a
	// frame of the recursive parser).
	maxNesting = 1000
	// maxGeneratedBase is how much of a rule's name the names of the
	// rules generated for it keep (in messages).
	maxGeneratedBase = 64
	// maxRules bounds the rules of a grammar, generated ones included:
	// the checks below and the matcher recurse along chains of rules.
	maxRules = 1 << 17
)

// Grammar is a parsed GBNF grammar. It is immutable and safe for concurrent use.
type Grammar struct {
	elems []elem   // every rule's elements, each rule ending with kEnd
	start []int32  // start[rule]: index of the rule's first element
	names []string // names[rule]: the rule's name, or the base of a generated one's
	gen   []bool   // gen[rule]: the rule was generated (ruleName)
	root  int32
}

// ruleName is the name of a rule as llama.cpp names it: a generated rule's
// is its base, "_" and its id, made when a message needs it rather than for
// each rule (a grammar may have hundreds of thousands).
func ruleName(names []string, gen []bool, rule int32) string {
	if gen[rule] {
		return names[rule] + "_" + strconv.Itoa(int(rule))
	}
	return names[rule]
}

// TokenLookup resolves <token> references in a grammar to token ids; it
// returns false for text that is not exactly one token.
type TokenLookup func(text string) (int32, bool)

// ParseError is a syntax or validity error in a grammar, at a line and
// column (1-based, columns count bytes) of its text.
type ParseError struct {
	Line, Column int
	Msg          string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return "grammar: " + e.Msg
	}
	return fmt.Sprintf("grammar: line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Parse parses GBNF text whose start rule is "root".
func Parse(src string) (*Grammar, error) { return ParseRoot(src, "root", nil) }

// ParseRoot parses GBNF text with the start rule root; lookup (which may be
// nil) resolves <token> references.
func ParseRoot(src, root string, lookup TokenLookup) (*Grammar, error) {
	p := &parser{src: src, lookup: lookup, ids: map[string]int32{}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	id, ok := p.ids[root]
	if !ok {
		return nil, &ParseError{Msg: fmt.Sprintf("no rule named %q to start from", root)}
	}
	g := &Grammar{root: id, names: p.names, gen: p.gen, start: make([]int32, 0, len(p.rules))}
	n := 0
	for i, r := range p.rules {
		if r == nil {
			return nil, p.undefined(int32(i))
		}
		n += len(r)
	}
	g.elems = make([]elem, 0, n)
	for _, r := range p.rules {
		g.start = append(g.start, int32(len(g.elems)))
		g.elems = append(g.elems, r...)
	}
	if len(g.start) > maxRules {
		return nil, &ParseError{Msg: fmt.Sprintf("%d rules (generated ones included) is more than the %d allowed", len(g.start), maxRules)}
	}
	if err := g.checkLeftRecursion(); err != nil {
		return nil, err
	}
	if err := g.checkGrowingCycles(); err != nil {
		return nil, err
	}
	return g, nil
}

type parser struct {
	src    string
	pos    int
	lookup TokenLookup
	ids    map[string]int32
	names  []string
	gen    []bool
	rules  [][]elem
	refAt  map[int32]int // where an undefined rule was first referenced
	copied int           // elements copied by repetitions (maxCopied)
	depth  int           // parentheses open (maxNesting)
}

func (p *parser) errAt(pos int, format string, args ...any) error {
	line := 1 + strings.Count(p.src[:pos], "\n")
	col := pos - strings.LastIndexByte(p.src[:pos], '\n')
	return &ParseError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) undefined(id int32) error {
	if at, ok := p.refAt[id]; ok {
		return p.errAt(at, "undefined rule %q", ruleName(p.names, p.gen, id))
	}
	return &ParseError{Msg: fmt.Sprintf("undefined rule %q", ruleName(p.names, p.gen, id))}
}

func (p *parser) symbol(name string) int32 {
	if id, ok := p.ids[name]; ok {
		return id
	}
	id := int32(len(p.names))
	p.ids[name] = id
	p.names = append(p.names, name)
	p.gen = append(p.gen, false)
	p.rules = append(p.rules, nil)
	return id
}

// generated makes a fresh rule id named after base, as llama.cpp names them
// (ruleName; with only the first maxGeneratedBase bytes of base). Unlike
// llama.cpp's, the name is no symbol a rule can refer to or redefine.
func (p *parser) generated(base string) int32 {
	id := int32(len(p.names))
	p.names = append(p.names, base[:min(len(base), maxGeneratedBase)])
	p.gen = append(p.gen, true)
	p.rules = append(p.rules, nil)
	return id
}

func (p *parser) peek(off int) byte {
	if p.pos+off < len(p.src) {
		return p.src[p.pos+off]
	}
	return 0
}

func isWordChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || '0' <= c && c <= '9'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// space skips blanks and comments, and newlines when newlineOK.
func (p *parser) space(newlineOK bool) {
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case c == ' ' || c == '\t':
			p.pos++
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\r' && p.src[p.pos] != '\n' {
				p.pos++
			}
		case newlineOK && (c == '\r' || c == '\n'):
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) name() (string, error) {
	start := p.pos
	for p.pos < len(p.src) && isWordChar(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return "", p.errAt(start, "expected a rule name")
	}
	return p.src[start:p.pos], nil
}

func (p *parser) integer() (uint64, error) {
	start := p.pos
	for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return 0, p.errAt(start, "expected an integer")
	}
	n, err := strconv.ParseUint(p.src[start:p.pos], 10, 64)
	if err != nil {
		return 0, p.errAt(start, "integer %s out of range", p.src[start:p.pos])
	}
	return n, nil
}

func (p *parser) parse() error {
	p.space(true)
	for p.pos < len(p.src) {
		if err := p.rule(); err != nil {
			return err
		}
	}
	if len(p.rules) == 0 {
		return &ParseError{Msg: "no rules"}
	}
	return nil
}

func (p *parser) rule() error {
	name, err := p.name()
	if err != nil {
		return err
	}
	p.space(false)
	id := p.symbol(name)
	if !strings.HasPrefix(p.src[p.pos:], "::=") {
		return p.errAt(p.pos, "expected ::= after rule name %q", name)
	}
	p.pos += 3
	p.space(true)
	if err := p.alternates(name, id, false); err != nil {
		return err
	}
	switch p.peek(0) {
	case '\r':
		p.pos++
		if p.peek(0) == '\n' {
			p.pos++
		}
	case '\n':
		p.pos++
	case 0:
	default:
		return p.errAt(p.pos, "expected a newline or the end after rule %q, found %q", name, p.runeAt())
	}
	p.space(true)
	return nil
}

func (p *parser) runeAt() string {
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return string(r)
}

func (p *parser) alternates(name string, id int32, nested bool) error {
	var r []elem
	var err error
	if r, err = p.sequence(name, r, nested); err != nil {
		return err
	}
	for p.peek(0) == '|' {
		r = append(r, elem{kind: kAlt})
		p.pos++
		p.space(true)
		if r, err = p.sequence(name, r, nested); err != nil {
			return err
		}
	}
	r = append(r, elem{kind: kEnd})
	p.rules[id] = r // a later definition replaces an earlier one, as in llama.cpp
	return nil
}

// char parses one character of a literal or class, with its escapes.
func (p *parser) char() (uint32, error) {
	if p.pos >= len(p.src) {
		return 0, p.errAt(p.pos, "unexpected end of grammar")
	}
	if p.src[p.pos] != '\\' {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if r == utf8.RuneError && size <= 1 {
			return 0, p.errAt(p.pos, "invalid UTF-8")
		}
		p.pos += size
		return uint32(r), nil
	}
	start := p.pos
	hex := func(n int) (uint32, error) {
		if p.pos+2+n > len(p.src) {
			return 0, p.errAt(start, "expected %d hex digits after \\%c", n, p.src[p.pos+1])
		}
		v, err := strconv.ParseUint(p.src[p.pos+2:p.pos+2+n], 16, 32)
		if err != nil {
			return 0, p.errAt(start, "expected %d hex digits after \\%c", n, p.src[p.pos+1])
		}
		p.pos += 2 + n
		return uint32(v), nil
	}
	switch p.peek(1) {
	case 'x':
		return hex(2)
	case 'u':
		return hex(4)
	case 'U':
		return hex(8)
	case 't':
		p.pos += 2
		return '\t', nil
	case 'r':
		p.pos += 2
		return '\r', nil
	case 'n':
		p.pos += 2
		return '\n', nil
	case '\\', '"', '[', ']', '-':
		c := p.src[p.pos+1]
		p.pos += 2
		return uint32(c), nil
	case 0:
		return 0, p.errAt(start, "unexpected end of grammar after \\")
	}
	return 0, p.errAt(start, "unknown escape \\%s", string(p.src[p.pos+1]))
}

// token parses <[id]> or <text> (the latter through the lookup).
func (p *parser) token() (uint32, error) {
	start := p.pos
	p.pos++ // '<'
	if p.peek(0) == '[' {
		p.pos++
		n, err := p.integer()
		if err != nil {
			return 0, err
		}
		if p.peek(0) != ']' || p.peek(1) != '>' {
			return 0, p.errAt(p.pos, "expected ]> after a token id")
		}
		p.pos += 2
		if n > 1<<31-1 {
			return 0, p.errAt(start, "token id %d out of range", n)
		}
		return uint32(n), nil
	}
	end := strings.IndexByte(p.src[p.pos:], '>')
	if end < 0 {
		return 0, p.errAt(start, "expected > to end the token")
	}
	text := p.src[start : p.pos+end+1]
	p.pos += end + 1
	if p.lookup == nil {
		return 0, p.errAt(start, "token %s needs a vocabulary", text)
	}
	id, ok := p.lookup(text)
	if !ok {
		return 0, p.errAt(start, "%s is not a single token of the vocabulary", text)
	}
	return uint32(id), nil
}

func (p *parser) sequence(name string, r []elem, nested bool) ([]elem, error) {
	lastStart := len(r) // where the last item (the one a repetition applies to) starts
	prevRules := uint64(1)
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			lastStart, prevRules = len(r), 1
			for p.peek(0) != '"' {
				if p.pos >= len(p.src) {
					return nil, p.errAt(p.pos, "unterminated string literal")
				}
				ch, err := p.char()
				if err != nil {
					return nil, err
				}
				r = append(r, elem{kChar, ch})
			}
			p.pos++
			p.space(nested)
		case c == '[':
			open := p.pos
			p.pos++
			first := kChar
			if p.peek(0) == '^' {
				p.pos++
				first = kCharNot
			}
			lastStart, prevRules = len(r), 1
			for p.peek(0) != ']' {
				if p.pos >= len(p.src) {
					return nil, p.errAt(open, "unterminated character class")
				}
				ch, err := p.char()
				if err != nil {
					return nil, err
				}
				k := first
				if lastStart < len(r) {
					k = kCharAlt
				}
				r = append(r, elem{k, ch})
				if p.peek(0) == '-' && p.peek(1) != ']' {
					if p.pos+1 >= len(p.src) {
						return nil, p.errAt(open, "unterminated character class")
					}
					p.pos++
					hi, err := p.char()
					if err != nil {
						return nil, err
					}
					r = append(r, elem{kRngUpper, hi})
				}
			}
			p.pos++
			p.space(nested)
		case c == '<' || c == '!':
			k := kToken
			if c == '!' {
				k = kTokenNot
				p.pos++
				if p.peek(0) != '<' {
					return nil, p.errAt(p.pos, "expected < after !")
				}
			}
			id, err := p.token()
			if err != nil {
				return nil, err
			}
			lastStart, prevRules = len(r), 1
			r = append(r, elem{k, id})
			p.space(nested)
		case isWordChar(c):
			at := p.pos
			ref, _ := p.name()
			id := p.symbol(ref)
			if p.refAt == nil {
				p.refAt = map[int32]int{}
			}
			if _, ok := p.refAt[id]; !ok {
				p.refAt[id] = at
			}
			p.space(nested)
			lastStart, prevRules = len(r), 1
			r = append(r, elem{kRuleRef, uint32(id)})
		case c == '(':
			open := p.pos
			if p.depth++; p.depth > maxNesting {
				return nil, p.errAt(open, "parentheses nested more than %d deep", maxNesting)
			}
			p.pos++
			p.space(true)
			before := len(p.names)
			sub := p.generated(name)
			if err := p.alternates(name, sub, true); err != nil {
				return nil, err
			}
			p.depth--
			prevRules = max(1, uint64(len(p.names)-before))
			lastStart = len(r)
			r = append(r, elem{kRuleRef, uint32(sub)})
			if p.peek(0) != ')' {
				return nil, p.errAt(p.pos, "expected ) to close the ( at %s", p.where(open))
			}
			p.pos++
			p.space(nested)
		case c == '.':
			lastStart, prevRules = len(r), 1
			r = append(r, elem{kind: kCharAny})
			p.pos++
			p.space(nested)
		case c == '*' || c == '+' || c == '?':
			at := p.pos
			p.pos++
			p.space(nested)
			lo, hi := uint64(0), uint64(noMax)
			if c == '+' {
				lo = 1
			} else if c == '?' {
				hi = 1
			}
			var err error
			if r, err = p.repeat(name, r, lastStart, &prevRules, lo, hi, at); err != nil {
				return nil, err
			}
		case c == '{':
			at := p.pos
			p.pos++
			p.space(nested)
			lo, err := p.integer()
			if err != nil {
				return nil, err
			}
			p.space(nested)
			hi := uint64(noMax)
			switch p.peek(0) {
			case '}':
				hi = lo
				p.pos++
				p.space(nested)
			case ',':
				p.pos++
				p.space(nested)
				if isDigit(p.peek(0)) {
					if hi, err = p.integer(); err != nil {
						return nil, err
					}
					p.space(nested)
				}
				if p.peek(0) != '}' {
					return nil, p.errAt(p.pos, "expected } to close the repetition")
				}
				p.pos++
				p.space(nested)
			default:
				return nil, p.errAt(p.pos, "expected , or } in the repetition")
			}
			if lo > maxRepetitions {
				return nil, p.errAt(at, "%d repetitions is more than the %d allowed", lo, maxRepetitions)
			}
			if hi != noMax && hi > maxRepetitions {
				hi = noMax
			}
			if hi != noMax && hi < lo {
				return nil, p.errAt(at, "repetition {%d,%d}: the maximum is below the minimum", lo, hi)
			}
			if r, err = p.repeat(name, r, lastStart, &prevRules, lo, hi, at); err != nil {
				return nil, err
			}
		default:
			return r, nil
		}
	}
	return r, nil
}

func (p *parser) where(pos int) string {
	e := p.errAt(pos, "").(*ParseError)
	return fmt.Sprintf("line %d, column %d", e.Line, e.Column)
}

const noMax = ^uint64(0)

// repeat rewrites the item r[lastStart:] repeated lo to hi times (hi noMax:
// unbounded) as llama.cpp does:
//
//	S{m,n} -> S S ... S (m times) S'(n-m), with S'(x) ::= S S'(x-1) | and S'(1) ::= S |
//	S{m,}  -> S ... S (m times) S', with S' ::= S S' |
func (p *parser) repeat(name string, r []elem, lastStart int, prevRules *uint64, lo, hi uint64, at int) ([]elem, error) {
	if lastStart == len(r) {
		return nil, p.errAt(at, "%c has nothing before it to repeat", p.src[at])
	}
	item := append([]elem(nil), r[lastStart:]...)
	total := uint64(1)
	if hi != noMax && hi > 0 {
		total = hi
	} else if lo > 0 {
		total = lo
	}
	if *prevRules*total >= maxRepetitions {
		return nil, p.errAt(at, "the repetition makes too many rules (at most %d)", maxRepetitions)
	}
	// The item is copied once per repetition but the first, and once per
	// optional one (total copies at most, as lo <= total).
	copies := total * uint64(len(item))
	if copies > uint64(maxCopied-p.copied) {
		return nil, p.errAt(at, "the repetition makes too many elements (%d copies of %d; repetitions may copy %d in all)",
			total, len(item), maxCopied)
	}
	p.copied += int(copies)
	if lo == 0 {
		r = r[:lastStart]
	} else {
		for i := uint64(1); i < lo; i++ {
			r = append(r, item...)
		}
	}
	nOpt := uint64(1)
	if hi != noMax {
		nOpt = hi - lo
	}
	var last int32
	for i := uint64(0); i < nOpt; i++ {
		id := p.generated(name)
		rec := append([]elem(nil), item...)
		if hi == noMax {
			rec = append(rec, elem{kRuleRef, uint32(id)})
		} else if i > 0 {
			rec = append(rec, elem{kRuleRef, uint32(last)})
		}
		rec = append(rec, elem{kind: kAlt}, elem{kind: kEnd})
		p.rules[id] = rec
		last = id
	}
	if nOpt > 0 {
		r = append(r, elem{kRuleRef, uint32(last)})
	}
	*prevRules *= total
	return r, nil
}

func isEndOfSeq(e elem) bool { return e.kind == kEnd || e.kind == kAlt }

// checkLeftRecursion rejects grammars where a rule can reach itself without
// consuming input: the stack machine would loop forever on them.
func (g *Grammar) checkLeftRecursion() error {
	n := len(g.start)
	visited := make([]bool, n)
	inProgress := make([]bool, n)
	mayBeEmpty := make([]bool, n)
	var visit func(rule int32) bool
	visit = func(rule int32) bool {
		if inProgress[rule] {
			return true
		}
		if visited[rule] {
			return false
		}
		inProgress[rule] = true
		atStart := true
		for i := g.start[rule]; ; i++ {
			e := g.elems[i]
			if isEndOfSeq(e) {
				if atStart {
					mayBeEmpty[rule] = true
					break
				}
				atStart = true
			} else {
				atStart = false
			}
			if e.kind == kEnd {
				break
			}
		}
		recurse := true
		for i := g.start[rule]; ; i++ {
			e := g.elems[i]
			switch {
			case e.kind == kRuleRef && recurse:
				if visit(int32(e.val)) {
					return true
				}
				if !mayBeEmpty[e.val] {
					recurse = false
				}
			case isEndOfSeq(e):
				recurse = true
			default:
				recurse = false
			}
			if e.kind == kEnd {
				break
			}
		}
		inProgress[rule] = false
		visited[rule] = true
		return false
	}
	for i := range n {
		if !visited[i] && visit(int32(i)) {
			return &ParseError{Msg: fmt.Sprintf("left recursion in rule %q (a rule reaches itself before consuming any text)", ruleName(g.names, g.gen, int32(i)))}
		}
	}
	return nil
}

// checkGrowingCycles rejects the left recursion that checkLeftRecursion,
// which is llama.cpp's check and counts as empty only rules with an empty
// alternative, lets through: through rules that may match nothing in other
// ways ("x ::= ws x \"a\"" with "ws ::= [ ]*"). Where the cycle passes a
// reference that something follows, each turn pushes a frame and the
// matcher recurses without end; cycles through last references only (as
// in "root ::= ( [x]* )*") come back to the same frames and are harmless.
// A reference is on a cycle when the rules at its two ends are in one
// strongly connected component of the graph of references that may come
// first (Tarjan's algorithm).
func (g *Grammar) checkGrowingCycles() error {
	n := len(g.start)
	nullable := g.nullable()
	type edge struct {
		to      int32
		growing bool // something follows the reference
	}
	edges := make([][]edge, n)
	for rule := range int32(n) {
		i := g.start[rule]
		for {
			for ; g.elems[i].kind == kRuleRef; i++ {
				to := int32(g.elems[i].val)
				edges[rule] = append(edges[rule], edge{to, !isEndOfSeq(g.elems[i+1])})
				if !nullable[to] {
					break
				}
			}
			for !isEndOfSeq(g.elems[i]) {
				i++
			}
			if g.elems[i].kind == kEnd {
				break
			}
			i++
		}
	}
	index := make([]int32, n) // order of discovery, from 1; 0: not yet
	low := make([]int32, n)
	comp := make([]int32, n) // component, from 1; 0: not yet
	onStack := make([]bool, n)
	var stack []int32
	next, comps := int32(1), int32(0)
	var connect func(v int32)
	connect = func(v int32) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, e := range edges[v] {
			switch {
			case index[e.to] == 0:
				connect(e.to)
				low[v] = min(low[v], low[e.to])
			case onStack[e.to]:
				low[v] = min(low[v], index[e.to])
			}
		}
		if low[v] == index[v] {
			comps++
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp[w] = comps
				if w == v {
					break
				}
			}
		}
	}
	for v := range int32(n) {
		if index[v] == 0 {
			connect(v)
		}
	}
	for v := range int32(n) {
		for _, e := range edges[v] {
			if e.growing && comp[v] == comp[e.to] {
				return &ParseError{Msg: fmt.Sprintf("left recursion in rule %q through rules that may match nothing "+
					"(it reaches itself before consuming any text)", ruleName(g.names, g.gen, v))}
			}
		}
	}
	return nil
}

// nullable returns which rules may match the empty text: those with an
// alternative made only of references to such rules (or of nothing). It
// works in time linear in the grammar: each alternative made only of rule
// references counts the references not yet known to be nullable, and is
// told when one becomes so.
func (g *Grammar) nullable() []bool {
	n := len(g.start)
	nullable := make([]bool, n)
	type alt struct {
		rule int32
		left int // references not known nullable yet
	}
	var alts []alt
	users := make([][]int32, n) // users[rule]: the alternatives referring to rule, once a reference
	var queue []int32
	for rule := range int32(n) {
		i := g.start[rule]
		for {
			first := i
			refsOnly := true
			for ; !isEndOfSeq(g.elems[i]); i++ {
				if g.elems[i].kind != kRuleRef {
					refsOnly = false
				}
			}
			if refsOnly {
				if i == first {
					if !nullable[rule] {
						nullable[rule] = true
						queue = append(queue, rule)
					}
				} else {
					a := int32(len(alts))
					alts = append(alts, alt{rule: rule, left: int(i - first)})
					for j := first; j < i; j++ {
						ref := g.elems[j].val
						users[ref] = append(users[ref], a)
					}
				}
			}
			if g.elems[i].kind == kEnd {
				break
			}
			i++
		}
	}
	for len(queue) > 0 {
		rule := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, a := range users[rule] {
			if alts[a].left--; alts[a].left == 0 && !nullable[alts[a].rule] {
				nullable[alts[a].rule] = true
				queue = append(queue, alts[a].rule)
			}
		}
	}
	return nullable
}
