package tokenizer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// encodeWant is llama.cpp's result for one text (see llamacpp_data_test.go).
type encodeWant struct {
	ids          string
	dec00, dec11 string
}

// same stands for "the input text" in encodeWant's decoded texts.
const same = "\x00<same as input>"

func parseIDs(t *testing.T, s string) []int32 {
	t.Helper()
	var ids []int32
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			t.Fatalf("bad id %q", f)
		}
		ids = append(ids, int32(v))
	}
	return ids
}

// applyOverrides edits a vocabulary the way the reference programs' metadata
// overrides did ("s:key=value;b:key=0|1", or a bare pre-tokenizer name).
func applyOverrides(t *testing.T, v *Vocab, spec string) {
	t.Helper()
	if spec == "-" || spec == "" {
		return
	}
	if !strings.Contains(spec, "=") {
		spec = "s:tokenizer.ggml.pre=" + spec
	}
	for _, item := range strings.Split(spec, ";") {
		key, val, _ := strings.Cut(item[2:], "=")
		b := val == "1"
		switch key {
		case "tokenizer.ggml.pre":
			v.Pre = val
		case "tokenizer.ggml.model":
			v.Model = val
		case "tokenizer.ggml.add_bos_token":
			v.AddBOS = &b
		case "tokenizer.ggml.add_eos_token":
			v.AddEOS = &b
		case "tokenizer.ggml.add_space_prefix":
			v.AddSpacePrefix = &b
		case "tokenizer.ggml.remove_extra_whitespaces":
			v.RemoveExtraWhitespaces = &b
		default:
			t.Fatalf("override of %q not supported", key)
		}
	}
}

// TestPreTokenizers checks every pre-tokenizer name against llama.cpp's ids
// for tricky inputs (contractions, digit runs, CJK, white space, emoji,
// newlines, invalid UTF-8).
func TestPreTokenizers(t *testing.T) {
	base := loadTokenizer(t, "llama-bpe", nil)
	covered := map[string]bool{}
	for _, c := range preTokenizerCases {
		if len(c.ids) != len(trickyTexts) {
			t.Fatalf("case %v: %d results for %d texts", c.pres, len(c.ids), len(trickyTexts))
		}
		for _, pre := range c.pres {
			covered[pre] = true
			tok := *base
			if err := tok.setPre(pre); err != nil {
				t.Fatalf("pre %q: %v", pre, err)
			}
			for i, text := range trickyTexts {
				want := parseIDs(t, c.ids[i])
				if got := tok.Encode(text, false, false); !equalIDs(got, want) {
					t.Errorf("pre %q, text %d %q:\n got %v\nwant %v", pre, i, text, got, want)
				}
			}
		}
	}
	// "whitespace" is tested with the "whitespace" tokenizer model (with a
	// plain gpt2 model llama.cpp aborts on some of the inputs).
	for name := range preByName {
		if !covered[name] && name != "" && name != "whitespace" {
			t.Errorf("pre-tokenizer %q has no test case", name)
		}
	}
}

// TestEncodeDecodeLlamaCpp checks Encode and Decode against llama.cpp for
// every tokenizer type, with and without special tokens.
func TestEncodeDecodeLlamaCpp(t *testing.T) {
	for _, c := range encodeCases {
		name := fmt.Sprintf("%s/%s/add=%v,parse=%v", c.name, c.texts, c.addSpecial, c.parseSpecial)
		t.Run(name, func(t *testing.T) {
			tok := loadTokenizer(t, c.vocab, func(v *Vocab) { applyOverrides(t, v, c.overrides) })
			texts := trickyTexts
			if c.texts == "special" {
				texts = specialTexts
			}
			if len(c.want) != len(texts) {
				t.Fatalf("%d results for %d texts", len(c.want), len(texts))
			}
			for i, text := range texts {
				w := c.want[i]
				want := parseIDs(t, w.ids)
				got := tok.Encode(text, c.addSpecial, c.parseSpecial)
				if !equalIDs(got, want) {
					t.Errorf("text %d %q:\n got %v\nwant %v", i, text, got, want)
					continue
				}
				for _, d := range []struct {
					flag bool
					want string
				}{{false, w.dec00}, {true, w.dec11}} {
					if d.want == same {
						d.want = text
					}
					if dec := tok.Decode(got, d.flag, d.flag); dec != d.want {
						t.Errorf("text %d %q: Decode(%v, %v) = %q, want %q", i, text, d.flag, d.flag, dec, d.want)
					}
				}
			}
		})
	}
}

// TestVocabularyFacts checks special ids, flags, the end-of-generation set
// and token attributes against what llama.cpp derives when loading.
func TestVocabularyFacts(t *testing.T) {
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	for _, c := range infoCases {
		t.Run(c.name, func(t *testing.T) {
			tok := loadTokenizer(t, c.vocab, func(v *Vocab) { applyOverrides(t, v, c.overrides) })
			typ := map[vocabType]int{typeSPM: 1, typeBPE: 2, typeWPM: 3, typeUGM: 4, typeRWKV: 5}[tok.typ]
			ids := fmt.Sprintf("n=%d type=%d bos=%d eos=%d eot=%d sep=%d nl=%d pad=%d mask=%d "+
				"fim_pre=%d fim_suf=%d fim_mid=%d fim_pad=%d fim_rep=%d fim_sep=%d add_bos=%d add_eos=%d add_sep=%d",
				tok.NumTokens(), typ, tok.BOS(), tok.EOS(), tok.EOT(), tok.SEP(), tok.NL(), tok.PAD(), tok.Mask(),
				tok.FIMPre(), tok.FIMSuf(), tok.FIMMid(), tok.FIMPad(), tok.FIMRep(), tok.FIMSep(),
				b2i(tok.AddBOS()), b2i(tok.AddEOS()), b2i(tok.AddSEP()))
			if ids != c.ids {
				t.Errorf("ids:\n got %s\nwant %s", ids, c.ids)
			}
			var eog []string
			for _, id := range tok.EOGTokens() {
				eog = append(eog, strconv.Itoa(int(id)))
			}
			if got := strings.Join(eog, " "); got != c.eog {
				t.Errorf("EOG tokens: got %s, want %s", got, c.eog)
			}
			for _, s := range strings.Fields(c.eog) {
				id, _ := strconv.Atoi(s)
				if !tok.IsEOG(int32(id)) {
					t.Errorf("IsEOG(%d) = false", id)
				}
			}
			hist := map[uint16]int{}
			for _, a := range tok.attrs {
				if a != attrNormal {
					hist[a]++
				}
			}
			var keys []int
			for a := range hist {
				keys = append(keys, int(a))
			}
			sort.Ints(keys)
			var parts []string
			for _, a := range keys {
				parts = append(parts, fmt.Sprintf("%d:%d", a, hist[uint16(a)]))
			}
			if got := strings.Join(parts, " "); got != c.attrs {
				t.Errorf("attributes: got %s, want %s", got, c.attrs)
			}
		})
	}
}
