package chat

import "strings"

// The tags reasoning models (DeepSeek R1, Qwen 3, ...) put their thinking in.
const (
	ThinkOpen  = "<think>"
	ThinkClose = "</think>"
)

// ReasoningSplitter separates a reasoning model's thinking from its
// answer as the text streams, as llama.cpp's --reasoning-format deepseek
// does: a reply that begins with <think> (or whose prompt ends with it,
// as templates with thinking on write it) has its thinking up to
// </think> in the reasoning, the rest in the content. Tags split across
// chunks are held back until they are known. The zero value expects the
// reply to open the tag itself.
type ReasoningSplitter struct {
	state   int // splitStart, splitThinking, splitAfter, splitContent
	pending string
}

const (
	splitStart    = iota // before the first non-space: is it <think>?
	splitThinking        // inside the thinking
	splitAfter           // just after </think>: drop the blank lines
	splitContent         // the answer
)

// NewReasoningSplitter returns a splitter for a reply to prompt: one
// that starts inside the thinking when the prompt ends with <think>.
func NewReasoningSplitter(prompt string) *ReasoningSplitter {
	r := &ReasoningSplitter{}
	if strings.HasSuffix(strings.TrimRight(prompt, " \t\r\n"), ThinkOpen) {
		r.state = splitThinking
	}
	return r
}

// Add takes the next piece of the reply and returns what is known of the
// thinking and of the answer.
func (r *ReasoningSplitter) Add(text string) (reasoning, content string) {
	r.pending += text
	var rb, cb strings.Builder
	for {
		switch r.state {
		case splitStart:
			t := strings.TrimLeft(r.pending, " \t\r\n")
			switch {
			case strings.HasPrefix(t, ThinkOpen):
				r.pending, r.state = t[len(ThinkOpen):], splitThinking
				continue
			case strings.HasPrefix(ThinkOpen, t):
				return rb.String(), cb.String() // maybe the tag: wait
			}
			r.state = splitContent
			continue
		case splitThinking:
			if i := strings.Index(r.pending, ThinkClose); i >= 0 {
				rb.WriteString(r.pending[:i])
				r.pending, r.state = r.pending[i+len(ThinkClose):], splitAfter
				continue
			}
			keep := partialSuffix(r.pending, ThinkClose)
			rb.WriteString(r.pending[:len(r.pending)-keep])
			r.pending = r.pending[len(r.pending)-keep:]
			return rb.String(), cb.String()
		case splitAfter:
			r.pending = strings.TrimLeft(r.pending, " \t\r\n")
			if r.pending == "" {
				return rb.String(), cb.String()
			}
			r.state = splitContent
			continue
		default:
			cb.WriteString(r.pending)
			r.pending = ""
			return rb.String(), cb.String()
		}
	}
}

// Flush returns what is held back at the end of the reply.
func (r *ReasoningSplitter) Flush() (reasoning, content string) {
	p := r.pending
	r.pending = ""
	if r.state == splitThinking {
		return p, ""
	}
	if r.state == splitAfter {
		return "", ""
	}
	return "", p
}

// partialSuffix is the length of the longest suffix of s that is a
// proper prefix of tag.
func partialSuffix(s, tag string) int {
	for n := min(len(s), len(tag)-1); n > 0; n-- {
		if strings.HasSuffix(s, tag[:n]) {
			return n
		}
	}
	return 0
}

// SplitReasoning splits a whole reply, the thinking trimmed of spaces.
func SplitReasoning(prompt, reply string) (reasoning, content string) {
	r := NewReasoningSplitter(prompt)
	a, b := r.Add(reply)
	c, d := r.Flush()
	return strings.TrimSpace(a + c), b + d
}
