package tokenizer

import (
	"encoding/binary"
	"fmt"
	"sort"
	"testing"
)

// fuzzVocabs builds small vocabularies of every tokenizer type.
func fuzzVocabs(tb testing.TB, charsmap []byte) []*Tokenizer {
	tb.Helper()
	var out []*Tokenizer
	add := func(v *Vocab) {
		tok, err := New(v)
		if err != nil {
			tb.Fatalf("%s: %v", v.Model, err)
		}
		out = append(out, tok)
	}

	// Byte-level BPE: the 256 byte characters plus a few merges.
	var bpeTokens []string
	for b := 0; b < 256; b++ {
		bpeTokens = append(bpeTokens, string(byteToRune[b]))
	}
	bpeTokens = append(bpeTokens, "Ġt", "he", "Ġthe", "<|endoftext|>", "<|im_start|>")
	types := make([]int32, len(bpeTokens))
	for i := range types {
		types[i] = TypeNormal
	}
	types[len(types)-2], types[len(types)-1] = TypeControl, TypeUserDefined
	names := make([]string, 0, len(preByName))
	for name := range preByName {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, pre := range names {
		if pre == "whitespace" {
			continue
		}
		add(&Vocab{Model: "gpt2", Pre: pre, Tokens: bpeTokens, Types: types, Merges: []string{"Ġ t", "h e", "Ġt he"}})
	}
	add(&Vocab{Model: "whitespace", Pre: "whitespace", Tokens: bpeTokens, Types: types, Merges: []string{"h e"}})

	// SentencePiece with byte fallback.
	spm := []string{"<unk>", "<s>", "</s>"}
	spmTypes := []int32{TypeUnknown, TypeControl, TypeControl}
	for b := 0; b < 256; b++ {
		spm = append(spm, fmt.Sprintf("<0x%02X>", b))
		spmTypes = append(spmTypes, TypeByte)
	}
	for _, w := range []string{"▁", "▁a", "a", "b", "ab", "▁ab", "é", "中"} {
		spm = append(spm, w)
		spmTypes = append(spmTypes, TypeNormal)
	}
	scores := make([]float32, len(spm))
	for i := range scores {
		scores[i] = -float32(i)
	}
	add(&Vocab{Model: "llama", Tokens: spm, Scores: scores, Types: spmTypes})
	yes := true
	add(&Vocab{Model: "t5", Tokens: spm, Scores: scores, Types: spmTypes, RemoveExtraWhitespaces: &yes})
	if charsmap != nil {
		// Only the Unigram tokenizer with this character map.
		v := &Vocab{Model: "t5", Tokens: spm, Scores: scores, Types: spmTypes, PrecompiledCharsmap: charsmap}
		tok, err := New(v)
		if err != nil {
			return nil // a malformed map is rejected, which is fine
		}
		return []*Tokenizer{tok}
	}

	// WordPiece.
	add(&Vocab{Model: "bert", Tokens: []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "▁a", "a", "▁ab", "b", "▁", ",", "▁中"},
		Types: []int32{3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1}})

	// RWKV: escaped byte strings.
	var rwkv []string
	for b := 0; b < 256; b++ {
		rwkv = append(rwkv, fmt.Sprintf("\\x%02x", b))
	}
	rwkv = append(rwkv, "ab", "\\n\\n")
	add(&Vocab{Model: "rwkv", Tokens: rwkv})
	return out
}

// FuzzEncode checks that no input makes any tokenizer panic or return ids
// outside the vocabulary, and that decoding whatever comes out is safe.
func FuzzEncode(f *testing.F) {
	for _, s := range trickyTexts {
		f.Add(s, []byte{})
	}
	for _, s := range specialTexts {
		f.Add(s, []byte{8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 'x', 0})
	}
	// Invalid UTF-8 (every kind of bad sequence), and a longer input.
	for _, s := range []string{"\x80", "\xff\xfe", "a\xc3", "\xe4\xb8", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80",
		"<|im_start|>\xff<|im_end|>", "\xe2\x96\x81\x80 \xef\xbf\xbd"} {
		f.Add(s, []byte{})
	}
	f.Add(invalidUTF8(4<<10), []byte{}) // larger ones: TestInvalidUTF8Allocations
	static := fuzzVocabs(f, nil)
	f.Fuzz(func(t *testing.T, text string, charsmap []byte) {
		toks := static
		if len(charsmap) > 0 {
			// A plausible header, so that the array parser gets exercised.
			n := uint32(len(charsmap)/2) &^ 3
			toks = append(toks[:len(toks):len(toks)], fuzzVocabs(t, append(binary.LittleEndian.AppendUint32(nil, n), charsmap...))...)
		}
		for _, tok := range toks {
			for _, flags := range [][2]bool{{false, false}, {true, true}} {
				ids := tok.Encode(text, flags[0], flags[1])
				for _, id := range ids {
					if id < 0 || int(id) >= tok.NumTokens() {
						t.Fatalf("%s/%v: id %d out of range for %q", tok.model, tok.pre.typ, id, text)
					}
					tok.TokenToPiece(id, true)
				}
				tok.Decode(ids, flags[0], flags[1])
			}
		}
	})
}
