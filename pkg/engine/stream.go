package engine

import (
	"strings"
	"unicode/utf8"
)

// TextStream turns generated token pieces into text that is safe to
// show as it comes: it never hands out the start of a UTF-8 sequence
// whose end has not been generated yet, nor text that may turn out to be
// the start of a stop string, and it finds stop strings that span
// several tokens, as llama.cpp's server does. The zero value (no stop
// strings) is ready to use.
type TextStream struct {
	stops []string
	text  []byte // everything generated
	sent  int    // bytes of text handed out
	done  bool
	word  string // the stop string found
}

// NewTextStream returns a TextStream ending at the first of stops (empty
// strings are ignored).
func NewTextStream(stops []string) *TextStream {
	t := &TextStream{}
	for _, s := range stops {
		if s != "" {
			t.stops = append(t.stops, s)
		}
	}
	return t
}

// Add appends a token's piece and returns the text that became safe to
// show. stopped reports that a stop string completed: the text before it
// has then all been returned, and later pieces are ignored.
func (t *TextStream) Add(piece []byte) (out string, stopped bool) {
	if t.done {
		return "", true
	}
	from := max(t.sent-t.maxStop(), 0)
	t.text = append(t.text, piece...)
	// A complete stop string: the output ends before the earliest one.
	cut, word := -1, ""
	for _, s := range t.stops {
		if i := strings.Index(string(t.text[from:]), s); i >= 0 && (cut < 0 || from+i < cut) {
			cut, word = from+i, s
		}
	}
	if cut >= 0 {
		t.text = t.text[:cut]
		t.done, t.word = true, word
		return t.flush(len(t.text)), true
	}
	return t.flush(t.safeEnd()), false
}

// Flush returns whatever text is held back (an incomplete UTF-8 sequence
// or the start of a stop string) once generation has ended otherwise.
func (t *TextStream) Flush() string {
	return t.flush(len(t.text))
}

// Text returns all the text generated, up to a stop string.
func (t *TextStream) Text() string { return string(t.text) }

// StopWord returns the stop string that ended the text, or "".
func (t *TextStream) StopWord() string { return t.word }

func (t *TextStream) flush(end int) string {
	if end <= t.sent {
		return ""
	}
	s := string(t.text[t.sent:end])
	t.sent = end
	return s
}

func (t *TextStream) maxStop() int {
	n := 0
	for _, s := range t.stops {
		n = max(n, len(s))
	}
	return n
}

// safeEnd returns how much of the text can be shown: not an incomplete
// UTF-8 sequence at its end, nor a suffix that starts a stop string.
func (t *TextStream) safeEnd() int {
	end := len(t.text) - incompleteUTF8(t.text)
	for _, s := range t.stops {
		// The longest suffix of text[:end] that is a proper prefix of s.
		for k := min(len(s)-1, end-t.sent); k > 0; k-- {
			if string(t.text[end-k:end]) == s[:k] {
				end -= k
				break
			}
		}
	}
	return max(end, t.sent)
}

// incompleteUTF8 returns the length of an unfinished UTF-8 sequence at
// the end of b: the bytes of a multi-byte character whose remaining
// bytes are still to come (0 when b ends on a character boundary or on
// bytes that are invalid anyway).
func incompleteUTF8(b []byte) int {
	for k := 1; k <= min(3, len(b)); k++ {
		c := b[len(b)-k]
		if c&0xC0 == 0x80 {
			continue // a continuation byte: look further back
		}
		if c < 0x80 {
			return 0
		}
		need := 0
		switch {
		case c&0xE0 == 0xC0:
			need = 2
		case c&0xF0 == 0xE0:
			need = 3
		case c&0xF8 == 0xF0:
			need = 4
		}
		if need > k && utf8.RuneStart(c) {
			return k
		}
		return 0
	}
	return 0
}
