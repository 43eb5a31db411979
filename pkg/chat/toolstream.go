package chat

import "strings"

// toolMarkers are the texts that open tool calls in the formats
// ParseToolCalls reads.
var toolMarkers = []string{hermesOpen, mistralCalls, pythonTag, actionStart,
	deepseekCallsBegin, deepseekCallBegin, functionOpen, recipient}

// ToolCallStream splits a reply streamed with tools offered into the text
// that cannot belong to a call, sent as it comes, and the rest, held and
// parsed when the reply ends: text streams until a call's marker (or a
// prefix of one) appears, and a reply that opens with JSON, which may be
// a bare call, is held whole.
type ToolCallStream struct {
	template string
	reply    strings.Builder
	sent     int  // bytes of the reply released as content
	holding  bool // from sent on, everything is held
}

// NewToolCallStream returns a stream for a reply to a prompt that template
// (its source) rendered.
func NewToolCallStream(template string) *ToolCallStream {
	// Functionary v3.2 replies open with a recipient line and Command R's
	// wrap their text in markers: nothing can be sent before the parse.
	hold := isFunctionaryV32(template) || toolFormatOf(template).name == commandRTools.name
	return &ToolCallStream{template: template, holding: hold}
}

// Add takes the next text of the reply and returns the content that may
// be sent now.
func (s *ToolCallStream) Add(text string) string {
	s.reply.WriteString(text)
	if s.holding {
		return ""
	}
	all := s.reply.String()
	if s.sent == 0 {
		lead := strings.TrimLeft(all, " \t\r\n")
		if lead == "" {
			return ""
		}
		if lead[0] == '{' || lead[0] == '[' {
			s.holding = true
			return ""
		}
	}
	rest := all[s.sent:]
	first := -1
	for _, m := range toolMarkers {
		if i := strings.Index(rest, m); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	n := len(rest)
	if first >= 0 {
		n, s.holding = first, true
	} else {
		// Keep back a tail that may grow into a marker.
		for _, m := range toolMarkers {
			for k := min(len(m)-1, len(rest)); k > 0; k-- {
				if strings.HasSuffix(rest, m[:k]) {
					n = min(n, len(rest)-k)
					break
				}
			}
		}
	}
	s.sent += n
	return rest[:n]
}

// Finish parses what was held: the content not yet sent, and the calls.
func (s *ToolCallStream) Finish() (content string, calls []ToolCall) {
	held := s.reply.String()[s.sent:]
	if s.sent > 0 {
		// After streamed text a call is marked: the bare-JSON and
		// recipient rules of the reply's start do not apply.
		return ParseToolCalls(held)
	}
	return ParseToolCallsFor(s.template, held)
}
