// Package escape processes backslash escape sequences in text typed on a
// command line, the way llama.cpp's string_process_escapes does for its
// -p/--prompt, -f/--file and -r/--reverse-prompt arguments.
//
// The recognised sequences are \n, \r, \t, \', \", \\ and \xHH (two hex
// digits, giving that byte). A backslash followed by anything else, and a
// backslash at the very end, are kept as they are, so text without escapes
// passes through unchanged.
package escape

// Process returns s with its escape sequences replaced by the characters
// they stand for.
//
// As in llama.cpp, where \x is read with strtol, the two characters after
// \x may also be a sign or a white-space character followed by one hex
// digit ("\x-1" gives the byte 0xFF); anything else after \x keeps the
// backslash and the x.
func Process(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			out = append(out, c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case '\'':
			out = append(out, '\'')
		case '"':
			out = append(out, '"')
		case '\\':
			out = append(out, '\\')
		case 'x':
			if i+2 < len(s) {
				if b, ok := hexPair(s[i+1], s[i+2]); ok {
					out = append(out, b)
					i += 2
					break
				}
			}
			out = append(out, '\\', 'x')
		default:
			out = append(out, '\\', s[i])
		}
	}
	return string(out)
}

// hexPair parses two characters as strtol(..., 16) would when it must
// consume both: two hex digits, or a space, '+' or '-' followed by one.
func hexPair(a, b byte) (byte, bool) {
	lo, ok := hexDigit(b)
	if !ok {
		return 0, false
	}
	if hi, ok := hexDigit(a); ok {
		return hi<<4 | lo, true
	}
	switch a {
	case ' ', '\t', '\n', '\v', '\f', '\r', '+':
		return lo, true
	case '-':
		return -lo, true
	}
	return 0, false
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
