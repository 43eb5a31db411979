package chat

import (
	"strings"
	"testing"
)

func TestReasoningSplitter(t *testing.T) {
	tests := []struct {
		prompt, reply      string
		reasoning, content string
	}{
		{"", "<think>Paris is the capital.</think>\n\nParis.", "Paris is the capital.", "Paris."},
		{"", "\n<think>\nhmm\n</think>Yes", "hmm", "Yes"},
		{"", "Plain answer with <think> later.", "", "Plain answer with <think> later."},
		{"", "<thin", "", "<thin"}, // the reply ended inside what looked like the tag
		{"<|im_start|>assistant\n<think>\n", "I should greet.\n</think>\n\nHello!", "I should greet.", "Hello!"},
		{"...<think>", "still thinking when cut off", "still thinking when cut off", ""},
		{"", "<think></think>Empty thought", "", "Empty thought"},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		r, c := SplitReasoning(tt.prompt, tt.reply)
		if r != tt.reasoning || c != tt.content {
			t.Errorf("%q + %q: reasoning %q, content %q; want %q, %q", tt.prompt, tt.reply, r, c, tt.reasoning, tt.content)
		}
		// Streamed one byte at a time, and in two halves, the same text.
		for _, size := range []int{1, max(1, len(tt.reply)/2), 3} {
			s := NewReasoningSplitter(tt.prompt)
			var rb, cb strings.Builder
			for i := 0; i < len(tt.reply); i += size {
				a, b := s.Add(tt.reply[i:min(len(tt.reply), i+size)])
				rb.WriteString(a)
				cb.WriteString(b)
			}
			a, b := s.Flush()
			rb.WriteString(a)
			cb.WriteString(b)
			if strings.TrimSpace(rb.String()) != tt.reasoning || cb.String() != tt.content {
				t.Errorf("%q in pieces of %d: reasoning %q, content %q; want %q, %q", tt.reply, size, rb.String(), cb.String(), tt.reasoning, tt.content)
			}
		}
	}
}
