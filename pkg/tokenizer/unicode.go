package tokenizer

import "sort"

// Code point flags, as llama.cpp classifies characters for pre-tokenization.
const (
	flagUndefined   = 0x0001
	flagNumber      = 0x0002 // \p{N}
	flagLetter      = 0x0004 // \p{L}
	flagSeparator   = 0x0008 // \p{Z}
	flagMark        = 0x0010 // \p{M}
	flagPunctuation = 0x0020 // \p{P}
	flagSymbol      = 0x0040 // \p{S}
	flagControl     = 0x0080 // \p{C}
	flagCategories  = 0x00FF
	flagWhitespace  = 0x0100 // \s
)

const maxCodepoint = 0x110000

// latin1Flags caches the flags of the first 256 code points.
var latin1Flags = func() (t [256]uint16) {
	for c := range t {
		t[c] = lookupFlags(rune(c))
	}
	return t
}()

func lookupFlags(c rune) uint16 {
	if c < 0 || c >= maxCodepoint {
		return flagUndefined
	}
	// Find the last range starting at or before c.
	i := sort.Search(len(flagRanges), func(i int) bool { return rune(flagRanges[i]>>8) > c }) - 1
	f := uint16(flagRanges[i] & 0xFF)
	if isSpaceCodepoint(c) {
		f |= flagWhitespace
	}
	return f
}

func isSpaceCodepoint(c rune) bool {
	for _, s := range spaceCodepoints {
		if rune(s) == c {
			return true
		}
	}
	return false
}

// cptFlags returns the flags of code point c (flagUndefined outside Unicode).
func cptFlags(c rune) uint16 {
	if c >= 0 && c < 256 {
		return latin1Flags[c]
	}
	return lookupFlags(c)
}

// toLower applies the simple lowercase mapping of UnicodeData.txt.
func toLower(c rune) rune {
	if c < 0x80 {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	n := len(lowerPairs) / 2
	i := sort.Search(n, func(i int) bool { return rune(lowerPairs[2*i]) >= c })
	if i < n && rune(lowerPairs[2*i]) == c {
		return rune(lowerPairs[2*i+1])
	}
	return c
}

// nfdFirst returns the first code point of c's canonical decomposition, which
// is how llama.cpp approximates NFD normalization.
func nfdFirst(c rune) rune {
	n := len(nfdTriples) / 3
	i := sort.Search(n, func(i int) bool { return rune(nfdTriples[3*i]) > c }) - 1
	if i >= 0 && rune(nfdTriples[3*i]) <= c && c <= rune(nfdTriples[3*i+1]) {
		return rune(nfdTriples[3*i+2])
	}
	return c
}

// isHan reports whether c is a CJK ideograph, as the Kimi-K2 splitter sees it.
func isHan(c rune) bool {
	switch {
	case c >= 0x4E00 && c <= 0x9FFF,
		c >= 0x3400 && c <= 0x4DBF,
		c >= 0x20000 && c <= 0x2A6DF,
		c >= 0x2A700 && c <= 0x2B73F,
		c >= 0x2B740 && c <= 0x2B81F,
		c >= 0x2B820 && c <= 0x2CEAF,
		c >= 0x2CEB0 && c <= 0x2EBEF,
		c >= 0xF900 && c <= 0xFAFF,
		c >= 0x2F800 && c <= 0x2FA1F:
		return true
	}
	return false
}

// utf8Len returns the length of a UTF-8 sequence from its first byte alone,
// without validation (continuation bytes count as 1).
func utf8Len(b byte) int {
	switch b >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// decodeCodepoints splits s into code points the way llama.cpp does: it is
// lenient about overlong forms and surrogates, and turns each byte that does
// not start a complete sequence into U+FFFD.
func decodeCodepoints(s string) []rune {
	out := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		c, n := decodeOne(s, i)
		if n == 0 {
			out = append(out, 0xFFFD)
			i++
			continue
		}
		out = append(out, c)
		i += n
	}
	return out
}

// decodeOne decodes the code point at s[i:]; n is 0 when the bytes there are
// not a sequence llama.cpp accepts.
func decodeOne(s string, i int) (c rune, n int) {
	b0 := s[i]
	cont := func(k int) bool { return i+k < len(s) && s[i+k]&0xC0 == 0x80 }
	switch {
	case b0&0x80 == 0:
		return rune(b0), 1
	case b0&0x40 == 0:
		return 0, 0
	case b0&0x20 == 0:
		if !cont(1) {
			return 0, 0
		}
		return rune(b0&0x1F)<<6 | rune(s[i+1]&0x3F), 2
	case b0&0x10 == 0:
		if !cont(1) || !cont(2) {
			return 0, 0
		}
		return rune(b0&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), 3
	case b0&0x08 == 0:
		if !cont(1) || !cont(2) || !cont(3) {
			return 0, 0
		}
		return rune(b0&0x07)<<18 | rune(s[i+1]&0x3F)<<12 | rune(s[i+2]&0x3F)<<6 | rune(s[i+3]&0x3F), 4
	}
	return 0, 0
}

// appendCodepoint appends the UTF-8 form of c as llama.cpp writes it
// (surrogates included). Values beyond U+10FFFF, which llama.cpp rejects,
// are written as U+FFFD.
func appendCodepoint(b []byte, c rune) []byte {
	switch {
	case c >= 0 && c <= 0x7F:
		return append(b, byte(c))
	case c >= 0x80 && c <= 0x7FF:
		return append(b, 0xC0|byte(c>>6), 0x80|byte(c&0x3F))
	case c >= 0x800 && c <= 0xFFFF:
		return append(b, 0xE0|byte(c>>12), 0x80|byte(c>>6&0x3F), 0x80|byte(c&0x3F))
	case c >= 0x10000 && c <= 0x10FFFF:
		return append(b, 0xF0|byte(c>>18), 0x80|byte(c>>12&0x3F), 0x80|byte(c>>6&0x3F), 0x80|byte(c&0x3F))
	}
	return append(b, 0xEF, 0xBF, 0xBD)
}

// byteToRune is GPT-2's reversible mapping of bytes to printable code points.
var byteToRune, runeToByte = func() (fwd [256]rune, rev map[rune]byte) {
	rev = make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			fwd[b] = rune(b)
		} else {
			fwd[b] = rune(256 + n)
			n++
		}
		rev[fwd[b]] = byte(b)
	}
	return fwd, rev
}()
