package tokenizer

import (
	"math"
	"strings"
)

// symbol is a piece of a word being merged: word[start:start+n], linked to
// its neighbours. Merged-away symbols have n == 0.
type symbol struct {
	prev, next int
	start, n   int
}

// splitSymbols splits word into one symbol per UTF-8 sequence, judging each
// sequence's length by its first byte only, as llama.cpp does.
func splitSymbols(word string, syms []symbol) []symbol {
	syms = syms[:0]
	for off := 0; off < len(word); {
		n := utf8Len(word[off])
		if n > len(word)-off {
			n = len(word) - off
		}
		i := len(syms)
		next := i + 1
		if off+n == len(word) {
			next = -1
		}
		syms = append(syms, symbol{prev: i - 1, next: next, start: off, n: n})
		off += n
	}
	return syms
}

// bigram is a candidate merge of two adjacent symbols.
type bigram struct {
	key         uint64 // priority: lower merges first
	left, right int
	size        int // bytes of the merged text when proposed
}

// spmKey orders SentencePiece merges: higher score first, then leftmost.
func spmKey(score float32, left int) uint64 {
	bits := math.Float32bits(score)
	if bits&(1<<31) != 0 {
		bits = ^bits
	} else {
		bits |= 1 << 31
	}
	// bits now increases with score; invert it so higher scores come first.
	return uint64(^bits)<<32 | uint64(uint32(left))
}

// bpeKey orders BPE merges: lowest rank first, then leftmost.
func bpeKey(rank int32, left int) uint64 {
	return uint64(uint32(rank))<<32 | uint64(uint32(left))
}

// bigramQueue is a min-heap of bigrams by key.
type bigramQueue []bigram

func (q *bigramQueue) push(b bigram) {
	h := append(*q, b)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].key <= h[i].key {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	*q = h
}

func (q *bigramQueue) pop() bigram {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].key < h[l].key {
			m = r
		}
		if h[i].key <= h[m].key {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}

// mergeBigrams merges adjacent symbols pairwise, the queued bigram with the
// lowest key first. propose(left, right) queues the bigram of two adjacent
// symbols (either index may be -1, for none) when it may merge; it is called
// for every adjacent pair, then for the new neighbours of each merge. A
// bigram whose symbols changed since it was queued is dropped. Merged-away
// symbols are left with n == 0.
func mergeBigrams(syms []symbol, q *bigramQueue, propose func(left, right int)) {
	for i := 1; i < len(syms); i++ {
		propose(i-1, i)
	}
	for len(*q) > 0 {
		b := q.pop()
		l, r := &syms[b.left], &syms[b.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != b.size {
			continue
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = b.left
		}
		propose(l.prev, b.left)
		propose(b.left, l.next)
	}
}

// encodeSPM tokenizes escaped text with SentencePiece's BPE: adjacent pieces
// whose concatenation is a token merge, highest score first; pieces that are
// not tokens fall back to byte tokens.
func (t *Tokenizer) encodeSPM(text string, out []int32) []int32 {
	syms := splitSymbols(text, nil)
	var q bigramQueue
	try := func(left, right int) {
		if left < 0 || right < 0 {
			return
		}
		l, r := syms[left], syms[right]
		s := text[l.start : l.start+l.n+r.n]
		id, ok := t.ids[s]
		if !ok {
			return
		}
		q.push(bigram{key: spmKey(t.scores[id], left), left: left, right: right, size: len(s)})
	}
	mergeBigrams(syms, &q, try)
	if len(syms) == 0 {
		return out
	}
	for i := 0; i != -1; i = syms[i].next {
		s := text[syms[i].start : syms[i].start+syms[i].n]
		if id, ok := t.ids[s]; ok {
			out = append(out, id)
			continue
		}
		// A merged symbol is always a token, so only single characters get
		// here: spell them as bytes.
		for j := 0; j < len(s); j++ {
			if id, ok := t.byteToken(s[j]); ok {
				out = append(out, id)
			} else if t.unk != Null {
				out = append(out, t.unk)
			}
		}
	}
	return out
}

// encodeBPE tokenizes text with byte-level BPE: the pre-tokenizer splits it
// into words, and each word's pieces merge pairwise, lowest merge rank first.
func (t *Tokenizer) encodeBPE(text string, out []int32) []int32 {
	var syms []symbol
	var q bigramQueue
	var key []byte
	for _, word := range t.preTok.split(text) {
		q = q[:0]
		whole := false
		if t.ignoreMerges {
			_, whole = t.ids[word]
		} else if t.pre.typ == preGemma4 && strings.Trim(word, "\n") == "" {
			_, whole = t.ids[word]
		}
		if whole {
			syms = append(syms[:0], symbol{prev: -1, next: -1, start: 0, n: len(word)})
		} else {
			syms = splitSymbols(word, syms)
		}
		add := func(left, right int) {
			if left < 0 || right < 0 {
				return
			}
			l, r := syms[left], syms[right]
			key = append(key[:0], word[l.start:l.start+l.n]...)
			key = append(key, ' ')
			key = append(key, word[r.start:r.start+r.n]...)
			rank, ok := t.ranks[string(key)]
			if !ok {
				return
			}
			q.push(bigram{key: bpeKey(rank, left), left: left, right: right, size: l.n + r.n})
		}
		mergeBigrams(syms, &q, add)
		for _, s := range syms {
			if s.n == 0 {
				continue
			}
			piece := word[s.start : s.start+s.n]
			if id, ok := t.ids[piece]; ok {
				out = append(out, id)
				continue
			}
			for j := 0; j < len(piece); j++ {
				var id int32
				var ok bool
				if t.preTok.byteEncode {
					// llama.cpp looks up each byte of the encoded piece on its own.
					id, ok = t.ids[piece[j:j+1]]
				} else {
					id, ok = t.ids[hexByteToken(piece[j])]
				}
				if ok {
					out = append(out, id)
				}
			}
		}
	}
	return out
}

// encodeWhitespaceModel implements the "whitespace" tokenizer model: BPE on
// each run of non-space characters, optionally lowercased.
func (t *Tokenizer) encodeWhitespaceModel(text string, out []int32) []int32 {
	var seg []byte
	flush := func() {
		if len(seg) > 0 {
			out = t.encodeBPE(string(seg), out)
			seg = seg[:0]
		}
	}
	for _, c := range decodeCodepoints(text) {
		if cptFlags(c)&flagWhitespace != 0 {
			flush()
			continue
		}
		if t.lowercase {
			c = toLower(c)
		}
		seg = appendCodepoint(seg, c)
	}
	flush()
	return out
}

// encodeWPM tokenizes text with WordPiece: words are found by normalizing
// and splitting at spaces and punctuation, then matched greedily, longest
// token first, with a leading U+2581 marking the start of a word.
func (t *Tokenizer) encodeWPM(text string, out []int32) []int32 {
	for _, word := range t.wpmWords(text) {
		if word == "" {
			continue
		}
		w := "\u2581" + word
		n := len(w)
		before := len(out)
		for i := 0; i < n; i++ {
			matched := false
			j := i + t.maxLen + 1
			if j > n {
				j = n
			}
			for ; j > i; j-- {
				if id, ok := t.ids[w[i:j]]; ok {
					out = append(out, id)
					matched = true
					i = j - 1
					break
				}
			}
			if !matched {
				out = out[:before]
				break
			}
		}
		if len(out) == before && t.unk != Null {
			out = append(out, t.unk)
		}
	}
	return out
}

// wpmWords normalizes text as BERT does (optionally lowercasing and removing
// accents) and splits it into words.
func (t *Tokenizer) wpmWords(text string) []string {
	cpts := decodeCodepoints(text)
	if t.stripAccents {
		for i, c := range cpts {
			cpts[i] = nfdFirst(c)
		}
	}
	words := []string{""}
	var cur []byte
	finish := func() {
		if len(cur) > 0 {
			words[len(words)-1] = string(cur)
			words = append(words, "")
			cur = cur[:0]
		}
	}
	for _, c := range cpts {
		f := cptFlags(c)
		if f&flagWhitespace != 0 {
			finish()
			continue
		}
		if c == 0 || c == 0xFFFD || f&flagControl != 0 {
			continue
		}
		if t.stripAccents && f&flagMark != 0 {
			continue
		}
		low := c
		if t.lowercase {
			low = toLower(c)
		}
		if f&flagPunctuation != 0 || (c < 0x7F && f&flagSymbol != 0) || isChineseChar(c) {
			finish()
			words[len(words)-1] = string(appendCodepoint(nil, low))
			words = append(words, "")
			continue
		}
		cur = appendCodepoint(cur, low)
	}
	finish()
	if words[len(words)-1] == "" {
		words = words[:len(words)-1]
	}
	return words
}

func isChineseChar(c rune) bool {
	return (c >= 0x04E00 && c <= 0x09FFF) ||
		(c >= 0x03400 && c <= 0x04DBF) ||
		(c >= 0x20000 && c <= 0x2A6DF) ||
		(c >= 0x2A700 && c <= 0x2B73F) ||
		(c >= 0x2B740 && c <= 0x2B81F) ||
		(c >= 0x2B920 && c <= 0x2CEAF) || // sic: 0x2B920 as in Hugging Face's code
		(c >= 0x0F900 && c <= 0x0FAFF) ||
		(c >= 0x2F800 && c <= 0x2FA1F)
}

// trie maps byte strings to token ids for longest-prefix matching.
type trie struct {
	children map[byte]*trie
	has      bool
	id       int32
}

func (n *trie) insert(key string, id int32) {
	for i := 0; i < len(key); i++ {
		if n.children == nil {
			n.children = make(map[byte]*trie)
		}
		c, ok := n.children[key[i]]
		if !ok {
			c = &trie{}
			n.children[key[i]] = c
		}
		n = c
	}
	n.has = true
	n.id = id
}

func (n *trie) child(c byte) *trie {
	if n == nil || n.children == nil {
		return nil
	}
	return n.children[c]
}

// longestPrefix returns the length of the longest path from n that spells a
// prefix of s (a token or not), as llama.cpp's naive trie does.
func (n *trie) longestPrefix(s string) int {
	i := 0
	for i < len(s) {
		c := n.child(s[i])
		if c == nil {
			break
		}
		n = c
		i++
	}
	return i
}

// unescapeRWKV decodes an RWKV vocabulary entry (\t, \n, \r, \xHH and
// backslash escapes) into raw bytes.
func unescapeRWKV(s string) []byte {
	out := make([]byte, 0, len(s))
	escaping := false
	hexLeft := 0
	var acc byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if hexLeft > 0 {
			var v byte
			if c >= 'a' {
				v = c - 'a' + 10
			} else {
				v = c - '0'
			}
			acc = acc<<4 + v
			hexLeft--
			if hexLeft == 0 {
				out = append(out, acc)
				acc = 0
			}
			continue
		}
		if escaping {
			switch c {
			case 't':
				out = append(out, '\t')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 'x':
				hexLeft = 2
			default:
				out = append(out, c)
			}
			escaping = false
			continue
		}
		if c == '\\' {
			escaping = true
			continue
		}
		out = append(out, c)
	}
	return out
}

// encodeRWKV tokenizes greedily with the longest matching token.
func (t *Tokenizer) encodeRWKV(text string, out []int32) []int32 {
	pos := 0
	for pos < len(text) {
		node := t.rwkvTrie.child(text[pos])
		if node == nil {
			if t.unk != Null {
				out = append(out, t.unk)
			}
			pos++
			continue
		}
		start := pos
		var id int32
		end := 0
		for node != nil {
			if node.has {
				id = node.id
				end = pos + 1
			}
			if pos+1 >= len(text) {
				break
			}
			pos++
			node = node.child(text[pos])
		}
		if end == 0 {
			// No prefix is a token (llama.cpp would loop forever here).
			if t.unk != Null {
				out = append(out, t.unk)
			}
			pos = start + 1
			continue
		}
		out = append(out, id)
		pos = end
	}
	return out
}
