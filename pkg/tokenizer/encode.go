package tokenizer

import "strings"

// fragment is a piece of the input: a special token already recognised, or
// raw text (text[start:end]) still to be tokenized.
type fragment struct {
	token      int32 // Null for raw text
	start, end int
}

// isCSpace is C's isspace in the "C" locale.
func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// partition splits text at occurrences of special tokens, longest tokens
// first, as llama.cpp's tokenizer_st_partition does. Control and unknown
// tokens are recognised only with parseSpecial; user-defined tokens always.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{token: Null, start: 0, end: len(text)}}
	var next []fragment
	for _, id := range t.special {
		attr := t.attrs[id]
		if !parseSpecial && attr&(attrControl|attrUnknown) != 0 {
			continue
		}
		tok := t.tokens[id]
		next = next[:0]
		changed := false
		for _, f := range frags {
			if f.token != Null {
				next = append(next, f)
				continue
			}
			start, end := f.start, f.end
			for start < end {
				i := strings.Index(text[start:end], tok)
				if i < 0 {
					break
				}
				changed = true
				match := start + i
				left := match
				if attr&attrLstrip != 0 {
					for left > start && isCSpace(text[left-1]) {
						left--
					}
				}
				if left > start {
					next = append(next, fragment{token: Null, start: start, end: left})
				}
				next = append(next, fragment{token: id})
				start = match + len(tok)
				if attr&attrRstrip != 0 {
					for start < end && isCSpace(text[start]) {
						start++
					}
				}
			}
			if start < end {
				next = append(next, fragment{token: Null, start: start, end: end})
			}
		}
		if changed {
			frags, next = next, frags
		}
	}
	return frags
}

// Encode tokenizes text like llama_tokenize: addSpecial adds BOS/EOS (or
// CLS/SEP) as the model asks, and parseSpecial lets control tokens written in
// the text (such as "<|im_start|>") become their tokens.
func (t *Tokenizer) Encode(text string, addSpecial, parseSpecial bool) []int32 {
	frags := t.partition(text, parseSpecial)
	var out []int32
	switch t.typ {
	case typeSPM:
		if addSpecial && t.addBOS && t.bos != Null {
			out = append(out, t.bos)
		}
		prevSpecial := true
		for _, f := range frags {
			if f.token != Null {
				out = append(out, f.token)
				prevSpecial = true
				continue
			}
			s := text[f.start:f.end]
			if t.addSpacePrefix && prevSpecial {
				s = " " + s
			}
			out = t.encodeSPM(strings.ReplaceAll(s, " ", "\u2581"), out)
			prevSpecial = false
		}
		if addSpecial && t.addEOS && t.eos != Null {
			out = append(out, t.eos)
		}
	case typeBPE:
		if addSpecial && t.addBOS && t.bos != Null {
			out = append(out, t.bos)
		}
		out = encodeFragments(text, frags, out, func(s string, out []int32) []int32 {
			if t.escapeSpaces {
				s = strings.ReplaceAll(s, " ", "\u2581")
			}
			if t.model == "whitespace" {
				return t.encodeWhitespaceModel(s, out)
			}
			return t.encodeBPE(s, out)
		})
		if addSpecial && t.addEOS && t.eos != Null {
			out = append(out, t.eos)
		}
	case typeWPM:
		if addSpecial && t.bos != Null {
			out = append(out, t.bos)
		}
		out = encodeFragments(text, frags, out, t.encodeWPM)
		if addSpecial && t.sep != Null {
			out = append(out, t.sep)
		}
	case typeUGM:
		if addSpecial && t.addBOS && t.bos != Null {
			out = append(out, t.bos)
		}
		out = encodeFragments(text, frags, out, t.ugm.encode)
		if addSpecial && t.addEOS && t.eos != Null {
			out = append(out, t.eos)
		}
	case typeRWKV:
		out = encodeFragments(text, frags, out, t.encodeRWKV)
	}
	return out
}

// encodeFragments appends the tokens of frags to out: a special token as it
// is, raw text as encode tokenizes it.
func encodeFragments(text string, frags []fragment, out []int32, encode func(text string, out []int32) []int32) []int32 {
	for _, f := range frags {
		if f.token != Null {
			out = append(out, f.token)
			continue
		}
		out = encode(text[f.start:f.end], out)
	}
	return out
}
