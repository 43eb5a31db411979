package jsonschema

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The regular expressions of "pattern" (ECMA-262 syntax) become GBNF for
// the characters between a JSON string's quotes. Supported: literals and
// escapes (\n \t \xHH \uHHHH, escaped punctuation), ".", classes with
// ranges and negation, \d \w \s and their negations, groups ((...),
// (?:...), (?<name>...)), alternation, and the quantifiers * + ? {n}
// {n,} {n,m} (lazy or not: the language is the same). "^" and "$" anchor
// an alternative of the whole pattern; an alternative without them may
// have any text before or after it, as a pattern matches anywhere in the
// string. Lookaround, backreferences, word boundaries and Unicode
// property classes have no grammar equivalent and are errors.
//
// Characters that JSON must escape (the quote, the backslash, control
// characters) are written as their escapes, so the output stays JSON
// whatever the pattern allows.

const maxPatternDepth = 100

// runeRange is the characters lo..hi.
type runeRange struct{ lo, hi rune }

// runeSet is a sorted list of disjoint ranges.
type runeSet []runeRange

func (s runeSet) normalize() runeSet {
	sort.Slice(s, func(i, j int) bool { return s[i].lo < s[j].lo })
	var out runeSet
	for _, r := range s {
		if n := len(out); n > 0 && r.lo <= out[n-1].hi+1 {
			if r.hi > out[n-1].hi {
				out[n-1].hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

func (s runeSet) complement() runeSet {
	var out runeSet
	next := rune(0)
	for _, r := range s.normalize() {
		if r.lo > next {
			out = append(out, runeRange{next, r.lo - 1})
		}
		next = r.hi + 1
	}
	if next <= utf8.MaxRune {
		out = append(out, runeRange{next, utf8.MaxRune})
	}
	return out
}

func (s runeSet) contains(c rune) bool {
	for _, r := range s {
		if r.lo <= c && c <= r.hi {
			return true
		}
	}
	return false
}

var (
	digitSet = runeSet{{'0', '9'}}
	wordSet  = runeSet{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}
	spaceSet = runeSet{{'\t', '\r'}, {' ', ' '}, {0xa0, 0xa0}, {0x1680, 0x1680}, {0x2000, 0x200a},
		{0x2028, 0x2029}, {0x202f, 0x202f}, {0x205f, 0x205f}, {0x3000, 0x3000}, {0xfeff, 0xfeff}}
	dotSet = runeSet{{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}.complement()
	// jsonEscaped is what a JSON string cannot hold raw.
	jsonEscaped = runeSet{{0, 0x1f}, {'"', '"'}, {'\\', '\\'}}
)

// escapedInJSON writes c as it appears escaped inside a JSON string, as a
// GBNF literal's contents.
func escapedInJSON(c rune) string {
	q := quoteJSON(string(c))
	return literalEscaper.Replace(q[1 : len(q)-1])
}

// literalChar writes c as the contents of a GBNF literal, the way it
// appears in a JSON string.
func literalChar(c rune) string {
	if jsonEscaped.contains(c) {
		return escapedInJSON(c)
	}
	if c == 0x7f || c == utf8.RuneError {
		return fmt.Sprintf(`\x%02X`, c)
	}
	return string(c)
}

// classChar writes c inside a GBNF character class.
func classChar(c rune) string {
	if ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (c > 0x7f && c != utf8.RuneError) {
		return string(c)
	}
	if c <= 0xff {
		return fmt.Sprintf(`\x%02X`, c)
	}
	if c <= 0xffff {
		return fmt.Sprintf(`\u%04X`, c)
	}
	return fmt.Sprintf(`\U%08X`, c)
}

// setRule writes GBNF for one character of s in a JSON string: a class
// of what can be written raw, and escapes for the rest.
func setRule(s runeSet) string {
	s = s.normalize()
	var raw runeSet
	var alts []string
	for _, r := range s {
		for c := r.lo; c <= r.hi; {
			if jsonEscaped.contains(c) {
				alts = append(alts, `"`+escapedInJSON(c)+`"`)
				c++
				continue
			}
			end := r.hi
			for _, e := range jsonEscaped {
				if e.lo > c && e.lo-1 < end {
					end = e.lo - 1
				}
			}
			raw = append(raw, runeRange{c, end})
			c = end + 1
		}
	}
	if len(raw) > 0 {
		var b strings.Builder
		b.WriteByte('[')
		for _, r := range raw {
			b.WriteString(classChar(r.lo))
			if r.hi > r.lo {
				b.WriteByte('-')
				b.WriteString(classChar(r.hi))
			}
		}
		b.WriteByte(']')
		alts = append([]string{b.String()}, alts...)
	}
	switch len(alts) {
	case 0:
		return ""
	case 1:
		return alts[0]
	}
	return "(" + strings.Join(alts, " | ") + ")"
}

// patternParser converts one pattern.
type patternParser struct {
	src   []rune
	pos   int
	depth int
	char  string // the rule for any character of a JSON string
}

type patternError struct {
	msg string
	pos int
}

func (e *patternError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.pos) }

func (p *patternParser) fail(format string, args ...any) error {
	return &patternError{fmt.Sprintf(format, args...), p.pos}
}

func (p *patternParser) more() bool { return p.pos < len(p.src) }
func (p *patternParser) peek() rune { return p.src[p.pos] }
func (p *patternParser) eat(c rune) bool {
	if p.more() && p.peek() == c {
		p.pos++
		return true
	}
	return false
}

// patternToGBNF converts pattern to GBNF for a JSON string's contents;
// char names the rule for one character of any JSON string.
func patternToGBNF(pattern, char string) (string, error) {
	p := &patternParser{src: []rune(pattern), char: char}
	body, err := p.alternation(true)
	if err != nil {
		return "", err
	}
	if p.more() {
		return "", p.fail("unbalanced parenthesis")
	}
	return body, nil
}

// alternation parses alternatives up to a ")" or the end.
func (p *patternParser) alternation(top bool) (string, error) {
	var alts []string
	for {
		seq, err := p.sequence(top)
		if err != nil {
			return "", err
		}
		alts = append(alts, seq)
		if !p.eat('|') {
			break
		}
	}
	return strings.Join(alts, " | "), nil
}

// item is one element of a sequence: a literal character (merged with
// its neighbours when written) or a rule expression.
type item struct {
	literal bool
	text    string
}

func (p *patternParser) sequence(top bool) (string, error) {
	var items []item
	anchoredStart, anchoredEnd := false, false
	start := p.pos
	for p.more() && p.peek() != '|' && p.peek() != ')' {
		c := p.peek()
		switch {
		case c == '^':
			if !top || p.pos != start {
				return "", p.fail(`"^" inside the pattern is not supported`)
			}
			p.pos++
			anchoredStart = true
			continue
		case c == '$':
			p.pos++
			if !top || (p.more() && p.peek() != '|') {
				return "", p.fail(`"$" inside the pattern is not supported`)
			}
			anchoredEnd = true
			continue
		case c == '*' || c == '+' || c == '?' || c == '{':
			if len(items) == 0 {
				if c == '{' {
					// A "{" that starts no quantifier is a literal in ECMA-262.
					p.pos++
					items = append(items, item{true, literalChar(c)})
					continue
				}
				return "", p.fail("nothing to repeat")
			}
			q, ok, err := p.quantifier()
			if err != nil {
				return "", err
			}
			if !ok {
				p.pos++
				items = append(items, item{true, literalChar(c)})
				continue
			}
			last := &items[len(items)-1]
			if last.literal {
				last.text = `"` + last.text + `"`
				last.literal = false
			}
			last.text = repeat(last.text, q.min, q.max, "")
			continue
		}
		it, err := p.atom()
		if err != nil {
			return "", err
		}
		items = append(items, it)
	}
	var parts []string
	if top && !anchoredStart {
		parts = append(parts, p.char+"*")
	}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, `"`+lit.String()+`"`)
			lit.Reset()
		}
	}
	for _, it := range items {
		if it.literal {
			lit.WriteString(it.text)
			continue
		}
		flush()
		parts = append(parts, it.text)
	}
	flush()
	if top && !anchoredEnd {
		parts = append(parts, p.char+"*")
	}
	if len(parts) == 0 {
		return `""`, nil
	}
	return strings.Join(parts, " "), nil
}

type bounds struct{ min, max int } // max < 0: unbounded

// quantifier parses *, +, ?, {n}, {n,} or {n,m}, and a lazy "?" after it.
// ok is false for a "{" that is no quantifier (a literal in ECMA-262).
func (p *patternParser) quantifier() (bounds, bool, error) {
	var q bounds
	switch p.peek() {
	case '*':
		p.pos++
		q = bounds{0, -1}
	case '+':
		p.pos++
		q = bounds{1, -1}
	case '?':
		p.pos++
		q = bounds{0, 1}
	case '{':
		end := p.pos + 1
		for end < len(p.src) && p.src[end] != '}' {
			end++
		}
		if end == len(p.src) {
			return q, false, nil
		}
		body := string(p.src[p.pos+1 : end])
		lo, hi, comma := strings.Cut(body, ",")
		min, err := strconv.Atoi(lo)
		if err != nil {
			return q, false, nil
		}
		q = bounds{min, min}
		if comma {
			q.max = -1
			if hi != "" {
				if q.max, err = strconv.Atoi(hi); err != nil {
					return q, false, nil
				}
				if q.max < q.min {
					return q, false, p.fail("numbers out of order in {%s}", body)
				}
			}
		}
		p.pos = end + 1
	}
	if p.eat('+') {
		return q, false, p.fail("possessive quantifiers are not supported")
	}
	p.eat('?') // lazy: same language
	return q, true, nil
}

func (p *patternParser) atom() (item, error) {
	c := p.peek()
	switch c {
	case '(':
		p.pos++
		if p.eat('?') {
			switch {
			case p.eat(':'):
			case p.more() && p.peek() == '<' && p.pos+1 < len(p.src) && p.src[p.pos+1] != '=' && p.src[p.pos+1] != '!':
				for p.more() && p.peek() != '>' {
					p.pos++
				}
				if !p.eat('>') {
					return item{}, p.fail("unterminated group name")
				}
			default:
				return item{}, p.fail("lookaround and inline flags are not supported")
			}
		}
		p.depth++
		if p.depth > maxPatternDepth {
			return item{}, p.fail("groups nested deeper than %d", maxPatternDepth)
		}
		body, err := p.alternation(false)
		if err != nil {
			return item{}, err
		}
		p.depth--
		if !p.eat(')') {
			return item{}, p.fail("missing )")
		}
		return item{false, "(" + body + ")"}, nil
	case '[':
		set, err := p.class()
		if err != nil {
			return item{}, err
		}
		return p.setItem(set)
	case '.':
		p.pos++
		return p.setItem(dotSet)
	case '\\':
		set, single, err := p.escape(false)
		if err != nil {
			return item{}, err
		}
		if set != nil {
			return p.setItem(set)
		}
		return item{true, literalChar(single)}, nil
	case ']', '}':
		// Literals outside a class in ECMA-262's Annex B; say so plainly.
		p.pos++
		return item{true, literalChar(c)}, nil
	}
	p.pos++
	return item{true, literalChar(c)}, nil
}

func (p *patternParser) setItem(s runeSet) (item, error) {
	rule := setRule(s)
	if rule == "" {
		return item{}, p.fail("a character class that matches nothing")
	}
	return item{false, rule}, nil
}

// escape parses a backslash escape: a class escape gives a set, any
// other a single character.
func (p *patternParser) escape(inClass bool) (runeSet, rune, error) {
	p.pos++ // the backslash
	if !p.more() {
		return nil, 0, p.fail("trailing backslash")
	}
	c := p.peek()
	p.pos++
	switch c {
	case 'd':
		return digitSet, 0, nil
	case 'D':
		return digitSet.complement(), 0, nil
	case 'w':
		return wordSet, 0, nil
	case 'W':
		return wordSet.complement(), 0, nil
	case 's':
		return spaceSet, 0, nil
	case 'S':
		return spaceSet.complement(), 0, nil
	case 'n':
		return nil, '\n', nil
	case 'r':
		return nil, '\r', nil
	case 't':
		return nil, '\t', nil
	case 'f':
		return nil, '\f', nil
	case 'v':
		return nil, '\v', nil
	case '0':
		return nil, 0, nil
	case 'b':
		if inClass {
			return nil, '\b', nil
		}
		return nil, 0, p.fail(`word boundaries (\b) are not supported`)
	case 'B':
		return nil, 0, p.fail(`word boundaries (\B) are not supported`)
	case 'x', 'u':
		n := 2
		if c == 'u' {
			n = 4
			if p.eat('{') {
				end := p.pos
				for end < len(p.src) && p.src[end] != '}' {
					end++
				}
				v, err := strconv.ParseUint(string(p.src[p.pos:end]), 16, 32)
				if end == len(p.src) || err != nil || v > utf8.MaxRune {
					return nil, 0, p.fail(`bad \u{...} escape`)
				}
				p.pos = end + 1
				return nil, rune(v), nil
			}
		}
		if p.pos+n > len(p.src) {
			return nil, 0, p.fail(`\%c needs %d hex digits`, c, n)
		}
		v, err := strconv.ParseUint(string(p.src[p.pos:p.pos+n]), 16, 32)
		if err != nil {
			return nil, 0, p.fail(`\%c needs %d hex digits`, c, n)
		}
		p.pos += n
		return nil, rune(v), nil
	case 'p', 'P':
		return nil, 0, p.fail(`Unicode property classes (\%c) are not supported`, c)
	case 'c', 'k':
		return nil, 0, p.fail(`\%c escapes are not supported`, c)
	}
	if '1' <= c && c <= '9' {
		return nil, 0, p.fail("backreferences are not supported")
	}
	if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
		return nil, 0, p.fail(`unknown escape \%c`, c)
	}
	return nil, c, nil // an escaped punctuation character is itself
}

// class parses [...] into the set it matches.
func (p *patternParser) class() (runeSet, error) {
	p.pos++ // [
	negate := p.eat('^')
	var set runeSet
	first := true
	for {
		if !p.more() {
			return nil, p.fail("unterminated character class")
		}
		if p.peek() == ']' && !first {
			p.pos++
			break
		}
		if p.peek() == ']' {
			// "[]" matches nothing and "[^]" everything in ECMA-262.
			p.pos++
			if negate {
				return runeSet{{0, utf8.MaxRune}}, nil
			}
			return nil, nil
		}
		first = false
		lo, loSet, err := p.classAtom()
		if err != nil {
			return nil, err
		}
		if loSet == nil && p.pos+1 < len(p.src) && p.peek() == '-' && p.src[p.pos+1] != ']' {
			p.pos++
			hi, hiSet, err := p.classAtom()
			if err != nil {
				return nil, err
			}
			if hiSet != nil {
				return nil, p.fail("a range cannot end in a class escape")
			}
			if hi < lo {
				return nil, p.fail("range out of order in character class")
			}
			set = append(set, runeRange{lo, hi})
			continue
		}
		if loSet != nil {
			set = append(set, loSet...)
		} else {
			set = append(set, runeRange{lo, lo})
		}
	}
	set = set.normalize()
	if negate {
		set = set.complement()
	}
	return set, nil
}

func (p *patternParser) classAtom() (rune, runeSet, error) {
	if p.peek() == '\\' {
		set, c, err := p.escape(true)
		return c, set, err
	}
	c := p.peek()
	p.pos++
	return c, nil, nil
}

// repeat writes item repeated min to max times (max < 0: unbounded),
// separated by sep when it is not empty.
func repeat(item string, min, max int, sep string) string {
	if max == 0 {
		return ""
	}
	if min == 0 && max == 1 {
		return item + "?"
	}
	if sep == "" {
		switch {
		case min == 1 && max < 0:
			return item + "+"
		case min == 0 && max < 0:
			return item + "*"
		case max < 0:
			return fmt.Sprintf("%s{%d,}", item, min)
		case min == max:
			return fmt.Sprintf("%s{%d}", item, min)
		}
		return fmt.Sprintf("%s{%d,%d}", item, min, max)
	}
	restMin, restMax := min-1, max-1
	if min == 0 {
		restMin = 0
	}
	if max < 0 {
		restMax = -1
	}
	result := item + " " + repeat("("+sep+" "+item+")", restMin, restMax, "")
	if min == 0 {
		result = "(" + result + ")?"
	}
	return strings.TrimSpace(result)
}
