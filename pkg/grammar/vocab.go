package grammar

import (
	"bytes"
	"math"
	"slices"
)

// Vocab is a model's vocabulary as the grammar sees it: each token's text
// (special tokens as their text, as llama.cpp's grammar sampler sees them)
// and which tokens end generation. Build it once per model; it is
// immutable and shared by every Matcher.
type Vocab struct {
	pieces [][]byte
	eog    []bool
	trie   []trieNode // the pieces in a byte trie, in preorder
	ids    []int32    // token ids of the trie's nodes, by trieNode.first
}

// trieNode is one node of the pieces' trie: the byte that leads to it, the
// tokens whose piece ends at it, and where its subtree ends in preorder (so
// a rejected prefix skips all the tokens that start with it).
type trieNode struct {
	b           byte
	depth       uint16
	first, last int32 // ids[first:last] end here
	end         int32 // index after this node's subtree
}

// NewVocab builds the vocabulary of n tokens from their pieces and whether
// each ends generation.
func NewVocab(n int, piece func(id int32) []byte, isEOG func(id int32) bool) *Vocab {
	v := &Vocab{pieces: make([][]byte, n), eog: make([]bool, n)}
	order := make([]int32, 0, n)
	for i := range n {
		id := int32(i)
		v.pieces[i] = bytes.Clone(piece(id))
		v.eog[i] = isEOG(id)
		if !v.eog[i] && len(v.pieces[i]) > 0 && v.pieces[i][0] != 0 {
			order = append(order, id)
		}
	}
	slices.SortFunc(order, func(a, b int32) int { return bytes.Compare(v.pieces[a], v.pieces[b]) })
	v.ids = order
	v.trie = append(v.trie, trieNode{})
	v.build(0, 0, int32(len(order)), 0)
	return v
}

// build fills node's tokens and children from order[lo:hi], which share
// their first depth bytes.
func (v *Vocab) build(node int, lo, hi int32, depth int) {
	i := lo
	for i < hi && len(v.pieces[v.ids[i]]) == depth {
		i++
	}
	v.trie[node].first, v.trie[node].last = lo, i
	for i < hi {
		b := v.pieces[v.ids[i]][depth]
		j := i
		for j < hi && v.pieces[v.ids[j]][depth] == b {
			j++
		}
		child := len(v.trie)
		v.trie = append(v.trie, trieNode{b: b, depth: uint16(depth + 1)})
		v.build(child, i, j, depth+1)
		i = j
	}
	v.trie[node].end = int32(len(v.trie))
}

// NumTokens returns the vocabulary's size.
func (v *Vocab) NumTokens() int { return len(v.pieces) }

// maxMasks bounds the masks a Matcher remembers.
const maxMasks = 256

// Filter sets to -Inf the logit of every token the grammar does not allow
// next. logits holds one value per token of the vocabulary.
func (m *Matcher) Filter(logits []float32) {
	if m.lazy != nil {
		return
	}
	mask := m.mask()
	for i := range logits {
		if mask[i>>6]&(1<<(i&63)) == 0 {
			logits[i] = float32(math.Inf(-1))
		}
	}
}

// mask returns the allowed tokens as a bit set.
func (m *Matcher) mask() []uint64 {
	if m.partial.remain == 0 {
		if mk, ok := m.masks[m.state]; ok {
			return mk
		}
	}
	n := len(m.v.pieces)
	mask := make([]uint64, (n+63)/64)
	set := func(id int32) { mask[id>>6] |= 1 << (id & 63) }
	if m.Done() {
		for i, e := range m.v.eog {
			if e {
				set(int32(i))
			}
		}
	}
	if m.partial.remain != 0 {
		// Rare (the last token ended inside a character): test each token.
		for i := range n {
			if !m.v.eog[i] {
				if st, _ := m.next(int32(i)); st != 0 {
					set(int32(i))
				}
			}
		}
		return mask
	}
	if s := m.a.sets[m.state]; s.tokens {
		for i := range n {
			if !m.v.eog[i] && len(m.v.pieces[i]) > 0 && m.v.pieces[i][0] != 0 && m.a.tokenStep(m.state, int32(i)) != 0 {
				set(int32(i))
			}
		}
	}
	if m.a.sets[m.state].chars {
		m.walk(set)
	}
	if m.masks == nil {
		m.masks = map[int32][]uint64{}
	}
	if len(m.masks) >= maxMasks {
		clear(m.masks)
	}
	m.masks[m.state] = mask
	return mask
}

// walkStep is where the walk through the trie stands after a prefix.
type walkStep struct {
	state   int32
	partial partialUTF8
}

// walk visits the trie of pieces from the matcher's state, skipping every
// subtree whose prefix the grammar rejects, and sets the tokens accepted.
func (m *Matcher) walk(set func(int32)) {
	v := m.v
	path := append(m.path[:0], walkStep{state: m.state})
	for i := 1; i < len(v.trie); {
		nd := &v.trie[i]
		d := int(nd.depth)
		path = path[:d] // preorder: the parent is path[d-1]
		cur, ok := m.byteStep(path[d-1], nd.b)
		if !ok || cur.partial.remain > 0 && !m.a.partialOK(cur.state, cur.partial) {
			i = int(nd.end)
			continue
		}
		path = append(path, cur)
		if nd.first < nd.last {
			for _, id := range v.ids[nd.first:nd.last] {
				set(id)
			}
		}
		i++
	}
	m.path = path
}

// byteStep moves one byte of a piece on from w.
func (m *Matcher) byteStep(w walkStep, b byte) (walkStep, bool) {
	p := w.partial
	if p.remain == 0 {
		n := utf8Len[b>>4] - 1
		switch {
		case n < 0:
			return walkStep{}, false
		case n == 0:
			st := m.a.step(w.state, rune(b))
			return walkStep{state: st}, st != 0
		}
		return walkStep{state: w.state, partial: partialUTF8{value: uint32(b) & (1<<(7-n) - 1), remain: n}}, true
	}
	if b>>6 != 2 {
		return walkStep{}, false
	}
	p.value = p.value<<6 | uint32(b&0x3f)
	p.remain--
	if p.remain > 0 {
		return walkStep{state: w.state, partial: p}, true
	}
	st := m.a.step(w.state, rune(p.value))
	return walkStep{state: st}, st != 0
}
