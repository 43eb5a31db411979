package tokenizer

import (
	"fmt"
	"strings"
)

// A preTokenizer splits text into words for byte-level BPE. Like llama.cpp's
// unicode_regex_split, it applies its steps one after another; each step
// splits every segment left by the previous ones. Segment lengths count code
// points.
type preTokenizer struct {
	steps      []splitStep
	byteEncode bool // map each word's bytes to GPT-2's printable alphabet
	collapse   bool // some step matches collapsed text
	wide       bool // some step matches plain text
}

type splitStep struct {
	custom func(s *splitInput, offsets []int) []int // hand-written splitter
	re     *regex
}

// splitInput is the text of one split, in the forms the steps need.
type splitInput struct {
	cpts      []rune
	flags     []uint16
	collapsed []rune // code points replaced by category markers
	wide      []rune // non-ASCII white space replaced by \v
}

// Patterns with hand-written splitters in llama.cpp (compared verbatim).
const (
	patGPT2    = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`
	patLlama3a = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patLlama3b = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patQwen2   = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patQwen35  = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patKimiK2  = `\p{Han}+`
	patAfmoe   = `\p{AFMoE_digits}`
	patLines   = `[^\n]+|[\n]+`
	patAyaNums = `\d{1,3}(?=(?:\d{3})*\b)`
	// Not special in llama.cpp, but the generic matcher needs quadratic time
	// for it on long digit runs; splitThousands gives the same result.
	patThousands = `(?=(\d{3})+(?!\d))`
)

func newPreTokenizer(t preType) (*preTokenizer, error) {
	exprs, byteEncode := preRegexes(t)
	p := &preTokenizer{byteEncode: byteEncode}
	for _, e := range exprs {
		var step splitStep
		switch e {
		case patGPT2:
			step.custom = splitGPT2
		case patLlama3a, patLlama3b:
			step.custom = func(s *splitInput, o []int) []int { return splitLlama3(s, o, 3, false) }
		case patQwen2:
			step.custom = func(s *splitInput, o []int) []int { return splitLlama3(s, o, 1, false) }
		case patQwen35:
			step.custom = func(s *splitInput, o []int) []int { return splitLlama3(s, o, 1, true) }
		case patKimiK2:
			step.custom = splitKimiK2
		case patAfmoe, patAyaNums:
			step.custom = splitDigitGroups
		case patLines:
			step.custom = splitLines
		case patThousands:
			step.custom = splitThousands
		default:
			collapsed := false
			for _, name := range categoryNames {
				if strings.Contains(e, name) {
					collapsed = true
					break
				}
			}
			if collapsed {
				for _, c := range e {
					if c >= 0x80 {
						return nil, fmt.Errorf("pattern %q mixes Unicode categories and non-ASCII characters", e)
					}
				}
			}
			re, err := compileRegex(e, collapsed)
			if err != nil {
				return nil, err
			}
			step.re = re
			p.collapse = p.collapse || collapsed
			p.wide = p.wide || !collapsed
		}
		p.steps = append(p.steps, step)
	}
	return p, nil
}

// split returns the words of text.
func (p *preTokenizer) split(text string) []string {
	in := &splitInput{cpts: decodeCodepoints(text)}
	in.flags = make([]uint16, len(in.cpts))
	for i, c := range in.cpts {
		in.flags[i] = cptFlags(c)
	}
	if p.collapse {
		in.collapsed = make([]rune, len(in.cpts))
		for i, c := range in.cpts {
			f := in.flags[i]
			switch {
			case c < 0x80:
				in.collapsed[i] = c
			case f&flagWhitespace != 0:
				in.collapsed[i] = collapsedSpace
			default:
				switch f & flagCategories {
				case flagNumber:
					in.collapsed[i] = collapsedNumber
				case flagLetter:
					in.collapsed[i] = collapsedLetter
				case flagPunctuation:
					in.collapsed[i] = collapsedPunct
				case flagMark:
					in.collapsed[i] = collapsedMark
				case flagSymbol:
					in.collapsed[i] = collapsedSymbol
				default:
					in.collapsed[i] = collapsedOther
				}
			}
		}
	}
	if p.wide {
		in.wide = make([]rune, len(in.cpts))
		for i, c := range in.cpts {
			if c > 0x7F && in.flags[i]&flagWhitespace != 0 {
				c = collapsedSpace
			}
			in.wide[i] = c
		}
	}

	offsets := []int{len(in.cpts)}
	for _, st := range p.steps {
		var next []int
		if st.custom != nil {
			next = st.custom(in, offsets)
		}
		if len(next) == 0 && st.re != nil {
			t := in.wide
			if st.re.collapsed {
				t = in.collapsed
			}
			next = st.re.split(t, offsets)
		}
		offsets = next
	}

	words := make([]string, 0, len(offsets))
	var buf []byte
	start := 0
	for _, n := range offsets {
		buf = buf[:0]
		for _, c := range in.cpts[start : start+n] {
			buf = appendCodepoint(buf, c)
		}
		start += n
		if p.byteEncode {
			words = append(words, byteEncode(buf))
		} else {
			words = append(words, string(buf))
		}
	}
	return words
}

// byteEncode maps each byte to its GPT-2 code point.
func byteEncode(b []byte) string {
	var sb strings.Builder
	sb.Grow(2 * len(b))
	for _, c := range b {
		sb.WriteRune(byteToRune[c])
	}
	return sb.String()
}

// segment walks one segment of the text for the hand-written splitters.
type segment struct {
	in       *splitInput
	ini, end int // the segment is cpts[ini:end]
	prevEnd  int
	out      *[]int
}

const outOfRange = -1

func (s *segment) cpt(pos int) rune {
	if s.ini <= pos && pos < s.end {
		return s.in.cpts[pos]
	}
	return outOfRange
}

func (s *segment) flags(pos int) uint16 {
	if s.ini <= pos && pos < s.end {
		return s.in.flags[pos]
	}
	return 0
}

// add ends a word at end and returns its length (0 adds nothing).
func (s *segment) add(end int) int {
	n := end - s.prevEnd
	if n > 0 {
		*s.out = append(*s.out, n)
	}
	s.prevEnd = end
	return n
}

// contraction returns the length of 's 't 're 've 'm 'll 'd at pos (0 if
// none); fold makes it case-insensitive.
func (s *segment) contraction(pos int, fold bool) int {
	if s.cpt(pos) != '\'' || pos+1 >= s.end {
		return 0
	}
	low := func(c rune) rune {
		if fold {
			return toLower(c)
		}
		return c
	}
	c1 := low(s.cpt(pos + 1))
	if c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd' {
		return 2
	}
	if pos+2 < s.end {
		c2 := low(s.cpt(pos + 2))
		if (c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l') {
			return 3
		}
	}
	return 0
}

// digits handles \p{N}{1,max} at pos, a run of number code points: it adds
// the run as words of max code points and one of the rest, and returns the
// position after it.
func (s *segment) digits(pos, max int) int {
	ini := pos
	for s.flags(pos)&flagNumber != 0 {
		pos++
		if pos-ini >= max {
			s.add(pos)
			ini = pos
		}
	}
	s.add(pos)
	return pos
}

// symbols handles ` ?[^\s\p{L}\p{N}]+` at pos, followed by [\r\n]* when
// newlines: c is the code point at pos and f2 the flags of the run's first
// code point (after c when c is a space). The run goes on while the flags
// are non-zero and hold none of stop. It adds the word and returns the
// position after it.
func (s *segment) symbols(pos int, c rune, f2, stop uint16, newlines bool) int {
	if c == ' ' {
		pos++
	}
	for f2&stop == 0 && f2 != 0 {
		pos++
		f2 = s.flags(pos)
	}
	if newlines {
		for c2 := s.cpt(pos); c2 == '\r' || c2 == '\n'; c2 = s.cpt(pos) {
			pos++
		}
	}
	s.add(pos)
	return pos
}

// whitespace handles the trailing alternatives shared by the splitters:
// \s*[\r\n]+ (when newlines), \s+(?!\S) and \s+; otherwise one code point.
func (s *segment) whitespace(pos int, newlines bool) int {
	n, lastNL := 0, 0
	for s.flags(pos+n)&flagWhitespace != 0 {
		if c := s.cpt(pos + n); newlines && (c == '\r' || c == '\n') {
			lastNL = pos + n + 1
		}
		n++
	}
	switch {
	case lastNL > 0:
		pos = lastNL
	case n > 1 && s.cpt(pos+n) != outOfRange:
		pos += n - 1
	case n > 0:
		pos += n
	default:
		pos++
	}
	s.add(pos)
	return pos
}

func forSegments(in *splitInput, offsets []int, f func(s *segment)) []int {
	out := make([]int, 0, len(offsets))
	start := 0
	for _, n := range offsets {
		s := &segment{in: in, ini: start, end: start + n, prevEnd: start, out: &out}
		start += n
		f(s)
	}
	return out
}

const flagsLN = flagLetter | flagNumber

// splitGPT2 implements 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+.
func splitGPT2(in *splitInput, offsets []int) []int {
	return forSegments(in, offsets, func(s *segment) {
		for pos := s.ini; pos < s.end; {
			if n := s.contraction(pos, false); n > 0 {
				pos += s.add(pos + n)
				continue
			}
			c := s.cpt(pos)
			f2 := s.flags(pos)
			if c == ' ' {
				f2 = s.flags(pos + 1)
			}
			if f2&flagLetter != 0 || f2&flagNumber != 0 {
				class := f2 & flagsLN
				if c == ' ' {
					pos++
				}
				for f2&class != 0 {
					pos++
					f2 = s.flags(pos)
				}
				s.add(pos)
				continue
			}
			if f2&(flagWhitespace|flagsLN) == 0 && f2 != 0 {
				pos = s.symbols(pos, c, f2, flagWhitespace|flagsLN, false)
				continue
			}
			pos = s.whitespace(pos, false)
		}
	})
}

// splitLlama3 implements the Llama 3 pattern
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// and, with maxDigits 1, Qwen 2's; marks makes letter runs take \p{M} too
// (Qwen 3.5).
func splitLlama3(in *splitInput, offsets []int, maxDigits int, marks bool) []int {
	letter := uint16(flagLetter)
	if marks {
		letter |= flagMark
	}
	return forSegments(in, offsets, func(s *segment) {
		for pos := s.ini; pos < s.end; {
			if n := s.contraction(pos, true); n > 0 {
				pos += s.add(pos + n)
				continue
			}
			c, f := s.cpt(pos), s.flags(pos)
			if !(c == '\r' || c == '\n' || f&flagNumber != 0) {
				// For Qwen 3.5 llama.cpp tests the current code point for a mark
				// too, so a lone mark starts a run.
				if f&flagLetter != 0 || s.flags(pos+1)&letter != 0 || (marks && f&flagMark != 0) {
					pos++
					for s.flags(pos)&letter != 0 {
						pos++
					}
					s.add(pos)
					continue
				}
			}
			if f&flagNumber != 0 {
				pos = s.digits(pos, maxDigits)
				continue
			}
			f2 := f
			if c == ' ' {
				f2 = s.flags(pos + 1)
			}
			if f2&(flagWhitespace|flagsLN|letter) == 0 && f != 0 {
				pos = s.symbols(pos, c, f2, flagWhitespace|flagsLN|letter, true)
				continue
			}
			pos = s.whitespace(pos, true)
		}
	})
}

// splitKimiK2 implements Kimi K2's pattern, where Han characters form their
// own words:
// [\p{Han}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|...|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// with letter case ignored, as llama.cpp does.
func splitKimiK2(in *splitInput, offsets []int) []int {
	return forSegments(in, offsets, func(s *segment) {
		letterNotHan := func(pos int) bool { return s.flags(pos)&flagLetter != 0 && !isHan(s.cpt(pos)) }
		for pos := s.ini; pos < s.end; {
			c, f := s.cpt(pos), s.flags(pos)
			if isHan(c) {
				for isHan(s.cpt(pos)) {
					pos++
				}
				s.add(pos)
				continue
			}
			leadOK := !(c == '\r' || c == '\n' || f&flagsLN != 0)
			if letterNotHan(pos) || (leadOK && letterNotHan(pos+1)) {
				lead := false
				if leadOK {
					lead = true
					pos++
				}
				letters := false
				for letterNotHan(pos) {
					letters = true
					pos++
				}
				if letters || (!lead && letterNotHan(pos)) {
					if !letters {
						pos++
					}
					for letterNotHan(pos) {
						pos++
					}
					pos += s.contraction(pos, true)
					s.add(pos)
					continue
				} else if lead {
					pos--
				}
			}
			if f&flagNumber != 0 {
				pos = s.digits(pos, 3)
				continue
			}
			f2 := f
			if c == ' ' {
				f2 = s.flags(pos + 1)
			}
			if f2&(flagWhitespace|flagsLN) == 0 && f2 != 0 {
				pos = s.symbols(pos, c, f2, flagWhitespace|flagsLN, true)
				continue
			}
			pos = s.whitespace(pos, true)
		}
	})
}

// splitDigitGroups splits runs of digits into groups of three counted from
// the right (1234567 → 1 234 567), as llama.cpp's AFMoE splitter does; text
// before a run joins the run's first group.
func splitDigitGroups(in *splitInput, offsets []int) []int {
	return forSegments(in, offsets, func(s *segment) {
		for pos := s.ini; pos < s.end; {
			if s.flags(pos)&flagNumber == 0 {
				pos++
				continue
			}
			start := pos
			for pos < s.end && s.flags(pos)&flagNumber != 0 {
				pos++
			}
			cur := start
			if r := (pos - start) % 3; r > 0 {
				cur += r
				s.add(cur)
			}
			for cur < pos {
				cur += 3
				s.add(cur)
			}
		}
		if s.prevEnd < s.end {
			s.add(s.end)
		}
	})
}

// splitLines implements [^\n]+|[\n]+.
func splitLines(in *splitInput, offsets []int) []int {
	return forSegments(in, offsets, func(s *segment) {
		for pos := s.ini; pos < s.end; {
			nl := in.cpts[pos] == '\n'
			for pos < s.end && (in.cpts[pos] == '\n') == nl {
				pos++
			}
			s.add(pos)
		}
	})
}

// splitThousands implements (?=(\d{3})+(?!\d)) as std::regex_iterator
// runs it: an empty match wherever the rest of an ASCII digit run is a
// positive multiple of three digits long, each splitting the segment there
// and adding an empty segment.
func splitThousands(in *splitInput, offsets []int) []int {
	out := make([]int, 0, len(offsets))
	start := 0
	for _, n := range offsets {
		seg := in.cpts[start : start+n]
		start += n
		prev := 0
		for i := 0; i < n; {
			if seg[i] < '0' || seg[i] > '9' {
				i++
				continue
			}
			end := i
			for end < n && seg[end] >= '0' && seg[end] <= '9' {
				end++
			}
			for p := i; p+3 <= end; p++ {
				if (end-p)%3 == 0 {
					if p > prev {
						out = append(out, p-prev)
					}
					out = append(out, 0)
					prev = p
				}
			}
			i = end
		}
		if prev < n {
			out = append(out, n-prev)
		}
	}
	return out
}
