package tokenizer

import (
	"fmt"
	"strconv"
	"strings"
)

// TokenToPiece returns the bytes id stands for, like llama_token_to_piece
// with lstrip 0: U+2581 becomes a space in SentencePiece-style vocabularies,
// byte tokens become their byte, byte-level BPE text is mapped back to raw
// bytes. Control and unknown tokens render as their text only when special
// is set. The result may be an incomplete UTF-8 sequence.
func (t *Tokenizer) TokenToPiece(id int32, special bool) []byte {
	return t.appendPiece(nil, id, special, false)
}

// appendPiece appends id's piece to b, dropping one leading space when
// lstrip is set.
func (t *Tokenizer) appendPiece(b []byte, id int32, special, lstrip bool) []byte {
	if !t.valid(id) {
		return b
	}
	attr := t.attrs[id]
	if !special && attr&(attrUnknown|attrControl) != 0 {
		return b
	}
	start := len(b)
	text := t.tokens[id]
	switch t.typ {
	case typeSPM, typeWPM, typeUGM, typeBPE:
		switch {
		case attr&(attrUnknown|attrControl|attrUserDefined) != 0:
			b = append(b, text...)
		case attr&attrNormal != 0:
			if t.typ == typeBPE && !t.escapeSpaces {
				b = appendByteDecoded(b, text)
			} else {
				b = append(b, strings.ReplaceAll(text, "\u2581", " ")...)
			}
		case attr&attrByte != 0:
			b = append(b, tokenByte(text))
		}
	case typeRWKV:
		return append(b, unescapeRWKV(text)...)
	}
	if lstrip && len(b) > start && b[start] == ' ' {
		b = append(b[:start], b[start+1:]...)
	}
	return b
}

// tokenByte returns the byte of a "<0xXX>" token (0 if malformed, like
// strtol).
func tokenByte(text string) byte {
	if len(text) < 5 {
		return 0
	}
	v, _ := strconv.ParseUint(text[3:5], 16, 8)
	return byte(v)
}

// appendByteDecoded maps GPT-2's byte alphabet back to bytes. Characters
// outside it are written as llama.cpp does: "[UNK_BYTE_0x..." + hex + the
// whole token text + "]".
func appendByteDecoded(b []byte, text string) []byte {
	for _, c := range decodeCodepoints(text) {
		if by, ok := runeToByte[c]; ok {
			b = append(b, by)
			continue
		}
		b = append(b, "[UNK_BYTE_0x"...)
		for _, u := range appendCodepoint(nil, c) {
			b = fmt.Appendf(b, "%02x", u)
		}
		b = append(b, text...)
		b = append(b, ']')
	}
	return b
}

// Decode turns tokens back into text like llama_detokenize. With
// removeSpecial a leading BOS and trailing EOS the model adds are dropped;
// with unparseSpecial control tokens are rendered as their text. The
// leading space SentencePiece adds to the first word is removed, and
// vocabularies that ask for it get spaces before punctuation cleaned up.
func (t *Tokenizer) Decode(ids []int32, removeSpecial, unparseSpecial bool) string {
	removeSpace := t.addSpacePrefix
	if removeSpecial && t.addBOS && len(ids) > 0 && ids[0] == t.bos {
		removeSpace = false
		ids = ids[1:]
	}
	if removeSpecial && t.addEOS && len(ids) > 0 && ids[len(ids)-1] == t.eos {
		ids = ids[:len(ids)-1]
	}
	var b []byte
	for _, id := range ids {
		b = t.appendPiece(b, id, unparseSpecial, removeSpace)
		removeSpace = false
	}
	if t.cleanSpaces {
		b = cleanSpaces(b)
	}
	return string(b)
}

// cleanSpaces applies the clean_up_tokenization_spaces passes of llama.cpp:
// " ?" " !" " ." " ," lose their space, " ' " becomes "'", and " 's" " 'm"
// " 're" " 've" lose their space.
func cleanSpaces(text []byte) []byte {
	n := len(text)
	if n == 0 {
		return text
	}
	// Pass 1: space before ? ! . ,
	total := 1
	for i := 1; i < n; i++ {
		x := text[i]
		if text[i-1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') {
			total--
		}
		text[total] = x
		total++
	}
	// Pass 2: a lone apostrophe between spaces.
	n, total = total, 1
	for i := 1; i < n; i++ {
		x := text[i]
		if x == '\'' && i+1 < n && text[i-1] == ' ' && text[i+1] == ' ' {
			total--
			i++
			text[i] = 0
		}
		text[total] = x
		total++
	}
	// Pass 3: contractions.
	n, total = total, 1
	for i := 1; i < n; i++ {
		x := text[i]
		if text[i-1] == ' ' && x == '\'' && i+1 < n {
			x1 := text[i+1]
			if x1 == 's' || x1 == 'm' {
				total--
			} else if i+2 < n {
				x2 := text[i+2]
				if (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e') {
					total--
				}
			}
		}
		text[total] = x
		total++
	}
	return text[:total]
}
