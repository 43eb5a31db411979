package tokenizer

import (
	"encoding/binary"
	"fmt"
	"math"
)

// ugmModel is the Unigram (T5) tokenizer: a SentencePiece normalizer driven
// by the precompiled character map, then a Viterbi search for the
// tokenization with the highest total score.
type ugmModel struct {
	t            *Tokenizer
	xcda         []uint32 // XOR-compressed double array over normalizer inputs
	replacements []byte   // NUL-terminated replacement strings
	tokens       trie     // normal, user-defined and unused tokens
	userDefined  trie
	unknownScore float64
}

const ugmUnknownPenalty = 10

func newUGM(t *Tokenizer, charsmap []byte) (*ugmModel, error) {
	m := &ugmModel{t: t}
	if len(charsmap) > 0 {
		if len(charsmap) < 4 {
			return nil, fmt.Errorf("tokenizer: tokenizer.ggml.precompiled_charsmap: %d bytes is too short", len(charsmap))
		}
		size := binary.LittleEndian.Uint32(charsmap)
		if uint64(size)+4 >= uint64(len(charsmap)) {
			return nil, fmt.Errorf("tokenizer: tokenizer.ggml.precompiled_charsmap: array of %d bytes overruns the %d-byte map", size, len(charsmap))
		}
		m.xcda = make([]uint32, size/4)
		for i := range m.xcda {
			m.xcda[i] = binary.LittleEndian.Uint32(charsmap[4+4*i:])
		}
		m.replacements = charsmap[4+size:]
	}
	minScore, maxScore := float32(math.MaxFloat32), float32(-math.MaxFloat32)
	for id, w := range t.tokens {
		a := t.attrs[id]
		if a&attrNormal != 0 {
			minScore = min(minScore, t.scores[id])
			maxScore = max(maxScore, t.scores[id])
		}
		if a&(attrNormal|attrUserDefined|attrUnused) != 0 {
			m.tokens.insert(w, int32(id))
		}
		if a&attrUserDefined != 0 {
			m.userDefined.insert(w, 0)
		}
	}
	m.unknownScore = float64(minScore - ugmUnknownPenalty)
	return m, nil
}

type ugmBest struct {
	id     int32
	offset int // where the token starts
	score  float64
}

func (m *ugmModel) encode(text string, out []int32) []int32 {
	t := m.t
	norm := m.normalize(text)
	n := len(norm)
	if n == 0 {
		return out
	}
	best := make([]ugmBest, n+1)
	for i := range best {
		best[i] = ugmBest{id: t.unk, score: -math.MaxFloat64}
	}
	best[0] = ugmBest{id: t.unk}
	for off := 0; off < n; {
		cpLen := min(utf8Len(norm[off]), n-off)
		cur := best[off]
		single := false
		node := m.tokens.child(norm[off])
		for p := off + 1; node != nil; p++ {
			if node.has {
				if p-off == cpLen {
					single = true
				}
				score := float64(t.scores[node.id])
				if t.attrs[node.id]&attrUserDefined != 0 {
					score = 0
				}
				if s := cur.score + score; s > best[p].score {
					best[p] = ugmBest{id: node.id, offset: off, score: s}
				}
			}
			if p >= n {
				break
			}
			node = node.child(norm[p])
		}
		if !single {
			p := off + cpLen
			if s := cur.score + m.unknownScore; s > best[p].score {
				best[p] = ugmBest{id: t.unk, offset: off, score: s}
			}
		}
		off += cpLen
	}

	// Walk back from the end, merging runs of unknown tokens into one.
	start := len(out)
	prevUnknown := false
	for b := best[n]; ; b = best[b.offset] {
		unknown := b.id == t.unk
		if !(prevUnknown && unknown) {
			out = append(out, b.id)
		}
		if b.offset == 0 {
			break
		}
		prevUnknown = unknown
	}
	for i, j := start, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// normalize applies the character map and the white-space rules.
func (m *ugmModel) normalize(input string) string {
	t := m.t
	space := " "
	if t.escapeSpaces {
		space = "\u2581"
	}
	prepend := !t.treatSpaceAsSuffix && t.addSpacePrefix
	appendSpace := t.treatSpaceAsSuffix && t.addSpacePrefix
	merge := t.removeExtraSpaces
	out := make([]byte, 0, 3*len(input))
	prepended, inWord := false, false
	for off := 0; off < len(input); {
		repl, consumed := m.normalizePrefix(input, off)
		for i := 0; i < len(repl); i++ {
			c := repl[i]
			if c != ' ' {
				if !inWord {
					inWord = true
					if (prepend && !prepended) || merge {
						out = append(out, space...)
						prepended = true
					}
				}
				out = append(out, c)
			} else {
				inWord = false
				if !merge {
					out = append(out, space...)
				}
			}
		}
		off += consumed
	}
	if appendSpace {
		out = append(out, space...)
	}
	return string(out)
}

// normalizePrefix returns the normalized form of the longest normalizable
// prefix of input[off:] and how many input bytes it covers.
func (m *ugmModel) normalizePrefix(input string, off int) (string, int) {
	if off >= len(input) {
		return "", 0
	}
	if n := m.userDefined.longestPrefix(input[off:]); n > 0 {
		return input[off : off+n], n
	}
	longest, replOff := 0, uint32(0)
	if len(m.xcda) > 0 {
		node := m.xcdaBase(0)
		for p := off; p < len(input); p++ {
			c := uint32(input[p])
			if c == 0 {
				break
			}
			node ^= c
			packed, ok := m.xcdaNode(node)
			if !ok || packed&(1<<31|0xFF) != c {
				break
			}
			leaf := packed>>8&1 != 0
			base, ok := m.xcdaNode(node)
			if !ok {
				break
			}
			node ^= (base >> 10) << ((base & (1 << 9)) >> 6)
			if leaf {
				v, ok := m.xcdaNode(node)
				if !ok {
					break
				}
				longest = p - off + 1
				replOff = v & (1<<31 - 1)
			}
		}
	}
	if longest > 0 && int(replOff) < len(m.replacements) {
		r := m.replacements[replOff:]
		for i, b := range r {
			if b == 0 {
				return string(r[:i]), longest
			}
		}
	}
	if _, n := decodeOne(input, off); n > 0 {
		return input[off : off+n], n
	}
	return "\uFFFD", 1
}

func (m *ugmModel) xcdaNode(i uint32) (uint32, bool) {
	if int(i) >= len(m.xcda) {
		return 0, false
	}
	return m.xcda[i], true
}

func (m *ugmModel) xcdaBase(i uint32) uint32 {
	p, _ := m.xcdaNode(i)
	return (p >> 10) << ((p & (1 << 9)) >> 6)
}
