// Package args reads llamafile's `.args` files: the default arguments a llamafile
// carries inside its executable, which go before the arguments the user types.
//
// The syntax is the one llamafile gets from Cosmopolitan's cosmo_args():
//
//   - Arguments are separated by white space (spaces, tabs, newlines, \r, \f, \v);
//     one per line is the common style, but several may share a line.
//   - A word starting with # starts a comment running to the end of the line
//     (a # inside a word is literal).
//   - 'single quotes' keep everything literally, up to the next single quote.
//   - "double quotes" work like C strings: \a \b \t \n \v \f \r \e, \ooo (one to
//     three octal digits), \xhh (one or two hex digits), \ followed by a newline
//     (a line continuation, removed), and \ before any other character for that
//     character; $NAME and ${NAME} expand environment variables.
//   - Outside quotes, \ followed by a newline continues the line, \a \b \t \n \v
//     \f \r \e give the control characters, and \ before any other character gives
//     that character (so `\ ` is a space inside an argument). $NAME and ${NAME}
//     expand environment variables, never splitting the value into several
//     arguments; a $ followed by anything else is literal.
//   - A word that is exactly `...` marks where the user's arguments go; without
//     one they go after the file's arguments. See Expand.
//
// Where this package differs from cosmo_args: an unterminated quote or ${ is an
// error (cosmo_args keeps what it read); a word that expands to nothing and holds
// no quotes gives no argument, as in the shell (cosmo_args gives an empty argument
// except at the end of the file); after a line continuation, white space ends the
// word, as in the shell (cosmo_args joins the next word to it); octal escapes take
// the digits 0-7 only; environment variables may add at most MaxExpansion bytes
// to a file's arguments in all. A quoted '...' cannot be told apart from the
// placeholder once parsed, so it too receives the user's arguments.
package args

import (
	"fmt"
	"os"
	"slices"
)

// Placeholder is the argument that Expand replaces with the user's arguments.
const Placeholder = "..."

// MaxExpansion bounds the bytes that environment variables may add to the
// arguments of one file, in all. Without it a file repeating "$VAR" would
// cost the size of VAR (which may be long: LS_COLORS, PATH) for every five
// bytes of the file.
const MaxExpansion = 1 << 20

// Parse splits the content of an .args file into arguments, expanding
// environment variables from the process environment. The error for an
// unterminated quote names the line where it opened.
func Parse(content []byte) ([]string, error) {
	return ParseFunc(content, os.Getenv)
}

// ParseFunc is Parse with getenv looking up the environment variables.
func ParseFunc(content []byte, getenv func(name string) string) ([]string, error) {
	p := parser{src: content, line: 1, getenv: getenv}
	return p.parse()
}

// Expand returns the arguments to run with: fileArgs with the first "..." replaced
// by userArgs (any later "..." are dropped, having no user arguments left to
// receive), or fileArgs followed by userArgs when there is no "...". userArgs are
// the user's arguments without the program name. The result is a new slice.
func Expand(fileArgs, userArgs []string) []string {
	i := slices.Index(fileArgs, Placeholder)
	if i < 0 {
		return slices.Concat(fileArgs, userArgs)
	}
	out := make([]string, 0, len(fileArgs)-1+len(userArgs))
	out = append(out, fileArgs[:i]...)
	out = append(out, userArgs...)
	for _, a := range fileArgs[i+1:] {
		if a != Placeholder {
			out = append(out, a)
		}
	}
	return out
}

type parser struct {
	src    []byte
	pos    int
	line   int
	getenv func(string) string
	args   []string
	word   []byte
	quoted bool // the current word holds quotes, so it is an argument even if empty
	inWord bool
	// expanded counts the bytes environment variables have added.
	expanded int
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '\f', '\v':
		return true
	}
	return false
}

func isNameByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// control returns the control character for the escape letter c, if any.
func control(c byte) (byte, bool) {
	switch c {
	case 'a':
		return '\a', true
	case 'b':
		return '\b', true
	case 't':
		return '\t', true
	case 'n':
		return '\n', true
	case 'v':
		return '\v', true
	case 'f':
		return '\f', true
	case 'r':
		return '\r', true
	case 'e':
		return 0x1b, true
	}
	return 0, false
}

func hexValue(c byte) (byte, bool) {
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

// peek returns the byte at pos+off, or false past the end.
func (p *parser) peek(off int) (byte, bool) {
	if p.pos+off < len(p.src) {
		return p.src[p.pos+off], true
	}
	return 0, false
}

// advance moves past n bytes, counting lines.
func (p *parser) advance(n int) {
	for range n {
		if p.src[p.pos] == '\n' {
			p.line++
		}
		p.pos++
	}
}

// endWord finishes the current word.
func (p *parser) endWord() {
	if p.inWord && (len(p.word) > 0 || p.quoted) {
		p.args = append(p.args, string(p.word))
	}
	p.word, p.quoted, p.inWord = p.word[:0], false, false
}

// continuation reports the length of a line continuation (a backslash, then \n
// or \r\n) at pos, or 0.
func (p *parser) continuation() int {
	if c, _ := p.peek(0); c != '\\' {
		return 0
	}
	switch c, _ := p.peek(1); c {
	case '\n':
		return 2
	case '\r':
		if c2, _ := p.peek(2); c2 == '\n' {
			return 3
		}
	}
	return 0
}

func (p *parser) parse() ([]string, error) {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case isSpace(c):
			p.endWord()
			p.advance(1)
		case c == '#' && !p.inWord:
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == '.' && !p.inWord && p.isPlaceholder():
			p.args = append(p.args, Placeholder)
			p.advance(3)
		case c == '\'':
			p.inWord, p.quoted = true, true
			if err := p.single(); err != nil {
				return nil, err
			}
		case c == '"':
			p.inWord, p.quoted = true, true
			if err := p.double(); err != nil {
				return nil, err
			}
		case c == '$':
			p.inWord = true
			if err := p.dollar(); err != nil {
				return nil, err
			}
		case c == '\\':
			if n := p.continuation(); n > 0 {
				p.advance(n)
				continue
			}
			p.inWord = true
			p.advance(1)
			if p.pos == len(p.src) {
				break // a final lone backslash gives nothing
			}
			e := p.src[p.pos]
			if x, ok := control(e); ok {
				e = x
			}
			p.word = append(p.word, e)
			p.advance(1)
		default:
			p.inWord = true
			p.word = append(p.word, c)
			p.advance(1)
		}
	}
	p.endWord()
	return p.args, nil
}

// isPlaceholder reports whether a word "..." alone starts at pos.
func (p *parser) isPlaceholder() bool {
	for i := range 3 {
		if c, ok := p.peek(i); !ok || c != '.' {
			return false
		}
	}
	c, ok := p.peek(3)
	return !ok || isSpace(c)
}

// single reads a single-quoted string; pos is at the opening quote.
func (p *parser) single() error {
	start := p.line
	p.advance(1)
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		p.advance(1)
		if c == '\'' {
			return nil
		}
		p.word = append(p.word, c)
	}
	return fmt.Errorf("args: line %d: unterminated single quote", start)
}

// double reads a double-quoted string; pos is at the opening quote.
func (p *parser) double() error {
	start := p.line
	p.advance(1)
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '"':
			p.advance(1)
			return nil
		case '$':
			if err := p.dollar(); err != nil {
				return err
			}
		case '\\':
			if n := p.continuation(); n > 0 {
				p.advance(n)
				continue
			}
			p.advance(1)
			p.escape()
		default:
			p.word = append(p.word, c)
			p.advance(1)
		}
	}
	return fmt.Errorf("args: line %d: unterminated double quote", start)
}

// escape reads what follows a backslash inside double quotes.
func (p *parser) escape() {
	c, ok := p.peek(0)
	if !ok {
		return // the missing closing quote is reported by double
	}
	switch {
	case '0' <= c && c <= '7':
		v := 0
		for i := 0; i < 3; i++ {
			d, ok := p.peek(0)
			if !ok || d < '0' || d > '7' {
				break
			}
			v = v*8 + int(d-'0')
			p.advance(1)
		}
		p.word = append(p.word, byte(v))
	case c == 'x':
		p.advance(1)
		v, n := 0, 0
		for n < 2 {
			d, ok := p.peek(0)
			if !ok {
				break
			}
			h, ok := hexValue(d)
			if !ok {
				break
			}
			v = v*16 + int(h)
			n++
			p.advance(1)
		}
		if n == 0 {
			p.word = append(p.word, 'x')
		} else {
			p.word = append(p.word, byte(v))
		}
	default:
		if x, ok := control(c); ok {
			c = x
		}
		p.word = append(p.word, c)
		p.advance(1)
	}
}

// dollar expands $NAME or ${NAME}; pos is at the $. A $ followed by anything
// else is literal (so "$$HOME" is a $ and then $HOME expanded).
func (p *parser) dollar() error {
	start := p.line
	p.advance(1)
	c, ok := p.peek(0)
	switch {
	case ok && isNameByte(c):
		end := p.pos
		for end < len(p.src) && isNameByte(p.src[end]) {
			end++
		}
		if err := p.expand(string(p.src[p.pos:end]), start); err != nil {
			return err
		}
		p.advance(end - p.pos)
	case ok && c == '{':
		end := p.pos + 1
		for end < len(p.src) && p.src[end] != '}' {
			end++
		}
		if end == len(p.src) {
			return fmt.Errorf("args: line %d: unterminated ${", start)
		}
		if err := p.expand(string(p.src[p.pos+1:end]), start); err != nil {
			return err
		}
		p.advance(end + 1 - p.pos)
	default:
		p.word = append(p.word, '$')
	}
	return nil
}

// expand appends the value of the environment variable name, which line
// refers to, to the current word, within MaxExpansion.
func (p *parser) expand(name string, line int) error {
	v := p.getenv(name)
	if p.expanded += len(v); p.expanded > MaxExpansion {
		return fmt.Errorf("args: line %d: $%s: environment variables expand to more than %d bytes in all", line, name, MaxExpansion)
	}
	p.word = append(p.word, v...)
	return nil
}
