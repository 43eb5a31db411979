// Package tokenizer turns text into token ids and back the way llama.cpp
// does, for the tokenizers a GGUF file can describe: SentencePiece ("llama"),
// byte-level BPE ("gpt2", with every pre-tokenizer llama.cpp knows),
// WordPiece ("bert"), Unigram ("t5") and RWKV ("rwkv").
//
// A Tokenizer is built from a Vocab, the plain description of a vocabulary
// that GGUF metadata holds (see FromGGUF). It is safe for concurrent use.
package tokenizer

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Token types, as tokenizer.ggml.token_type stores them.
const (
	TypeUndefined   = 0
	TypeNormal      = 1
	TypeUnknown     = 2
	TypeControl     = 3
	TypeUserDefined = 4
	TypeUnused      = 5
	TypeByte        = 6
)

// Token attributes (llama.cpp's llama_token_attr bits).
const (
	attrUnknown     = 1 << 0
	attrUnused      = 1 << 1
	attrNormal      = 1 << 2
	attrControl     = 1 << 3
	attrUserDefined = 1 << 4
	attrByte        = 1 << 5
	attrLstrip      = 1 << 7
	attrRstrip      = 1 << 8
)

// Vocab is a vocabulary as GGUF metadata describes it (keys
// tokenizer.ggml.*). Optional values are pointers or empty slices; nil means
// the key is absent and llama.cpp's default for the model applies.
type Vocab struct {
	Model  string    // tokenizer.ggml.model: "llama", "gpt2", "bert", "t5", "rwkv", ...
	Pre    string    // tokenizer.ggml.pre (byte-level BPE only)
	Tokens []string  // tokenizer.ggml.tokens
	Scores []float32 // tokenizer.ggml.scores
	Types  []int32   // tokenizer.ggml.token_type (TypeNormal, TypeControl, ...)
	Merges []string  // tokenizer.ggml.merges ("left right"; rank = index)

	// Special token ids (tokenizer.ggml.bos_token_id and so on). Ids out of
	// range are ignored, as llama.cpp does.
	BOS, EOS, EOT, EOM, UNK, SEP, PAD, Mask        *uint32
	FIMPre, FIMSuf, FIMMid, FIMPad, FIMRep, FIMSep *uint32

	AddBOS, AddEOS, AddSEP *bool  // tokenizer.ggml.add_{bos,eos,sep}_token
	AddSpacePrefix         *bool  // tokenizer.ggml.add_space_prefix
	RemoveExtraWhitespaces *bool  // tokenizer.ggml.remove_extra_whitespaces
	NormalizerLowercase    *bool  // tokenizer.ggml.normalizer.lowercase
	NormalizerStripAccents *bool  // tokenizer.ggml.normalizer.strip_accents
	PrecompiledCharsmap    []byte // tokenizer.ggml.precompiled_charsmap (Unigram)

	ModelName    string // general.name (some models get per-token attributes by name)
	Architecture string // general.architecture
}

// Null is the id that stands for "no such token".
const Null int32 = -1

type vocabType int

const (
	typeSPM vocabType = iota + 1
	typeBPE
	typeWPM
	typeUGM
	typeRWKV
)

// Tokenizer encodes and decodes text with one vocabulary.
type Tokenizer struct {
	typ   vocabType
	model string

	tokens []string
	scores []float32
	attrs  []uint16
	ids    map[string]int32
	maxLen int // longest token, in bytes

	bos, eos, eot, eom, unk, sep, pad, mask int32
	fimPre, fimSuf, fimMid, fimPad, fimRep  int32
	fimSep, nl                              int32

	addSpacePrefix, addBOS, addEOS, addSEP bool
	ignoreMerges, cleanSpaces              bool
	removeExtraSpaces, escapeSpaces        bool
	treatSpaceAsSuffix                     bool
	lowercase, stripAccents                bool

	pre      preSettings
	preTok   *preTokenizer
	ranks    map[string]int32 // "left right" -> merge rank
	special  []int32          // control, user-defined and unknown tokens, longest first
	eog      map[int32]bool
	ugm      *ugmModel
	rwkvTrie *trie
}

// New builds a tokenizer from a vocabulary, applying llama.cpp's defaults
// and fix-ups for values the vocabulary does not set.
func New(v *Vocab) (*Tokenizer, error) {
	if v == nil {
		return nil, errors.New("tokenizer: nil vocabulary")
	}
	t := &Tokenizer{
		model: v.Model,
		bos:   1, eos: 2, eot: Null, eom: Null, unk: 0, sep: Null, pad: Null, mask: Null,
		fimPre: Null, fimSuf: Null, fimMid: Null, fimPad: Null, fimRep: Null, fimSep: Null,
		escapeSpaces: true, lowercase: true,
	}
	pre := v.Pre
	switch v.Model {
	case "llama":
		t.typ = typeSPM
	case "bert":
		t.typ = typeWPM
		t.bos, t.eos, t.unk, t.sep, t.pad, t.mask = 101, Null, 100, 102, 0, 103
		t.addSEP = true
	case "gpt2", "whitespace":
		t.typ = typeBPE
		t.bos, t.eos, t.unk = 11, 11, Null
	case "gemma4":
		t.typ = typeBPE
		t.bos, t.eos, t.unk = Null, Null, Null
		pre = "gemma4"
	case "t5":
		t.typ = typeUGM
		t.bos, t.eos, t.unk, t.pad = Null, 1, 2, 0
	case "rwkv":
		t.typ = typeRWKV
		t.bos, t.eos, t.unk = Null, Null, Null
	case "":
		return nil, errors.New("tokenizer: tokenizer.ggml.model is empty")
	case "no_vocab", "none":
		return nil, fmt.Errorf("tokenizer: tokenizer.ggml.model %q: the model has no vocabulary", v.Model)
	default:
		return nil, fmt.Errorf("tokenizer: tokenizer.ggml.model %q is not supported", v.Model)
	}

	switch t.typ {
	case typeBPE:
		if len(v.Merges) == 0 && pre != "kimi-k2" {
			return nil, errors.New("tokenizer: tokenizer.ggml.merges is missing")
		}
		if err := t.setPre(pre); err != nil {
			return nil, err
		}
	case typeSPM:
		t.addSpacePrefix = true
		t.addBOS = true
	case typeWPM:
		t.cleanSpaces = true
		t.addBOS = true
		t.addSEP = true
	case typeUGM:
		t.addEOS = true
	}
	if v.AddSpacePrefix != nil {
		t.addSpacePrefix = *v.AddSpacePrefix
	}
	if v.RemoveExtraWhitespaces != nil {
		t.removeExtraSpaces = *v.RemoveExtraWhitespaces
	}

	if err := t.loadTokens(v); err != nil {
		return nil, err
	}
	if t.typ == typeBPE {
		t.ranks = make(map[string]int32, len(v.Merges))
		// Backwards, so that of repeated merges the first one's rank stays.
		for i := len(v.Merges) - 1; i >= 0; i-- {
			m := v.Merges[i]
			// llama.cpp splits at the first space after the first byte; a line
			// without one is a pair of empty strings that never matches.
			if len(m) < 2 || strings.IndexByte(m[1:], ' ') < 0 {
				continue
			}
			t.ranks[m] = int32(i)
		}
	}
	if err := t.initModel(v); err != nil {
		return nil, err
	}

	t.findNewline()
	t.applySpecialIDs(v)
	if v.AddBOS != nil {
		t.addBOS = *v.AddBOS
	}
	if v.AddEOS != nil {
		t.addEOS = *v.AddEOS
	}
	if v.AddSEP != nil {
		t.addSEP = *v.AddSEP
	}
	if t.typ == typeBPE && t.pre.typ == preGemma4 {
		t.addBOS = true
	}
	if v.NormalizerLowercase != nil {
		t.lowercase = *v.NormalizerLowercase
	}
	t.stripAccents = t.lowercase
	if v.NormalizerStripAccents != nil {
		t.stripAccents = *v.NormalizerStripAccents
	}
	t.detectSpecialTokens()
	t.buildSpecialCache()
	t.applyModelAttrs(v)
	return t, nil
}

// setPre applies the settings of a byte-level BPE pre-tokenizer.
func (t *Tokenizer) setPre(name string) error {
	ps, ok := lookupPre(name)
	if !ok {
		return fmt.Errorf("tokenizer: tokenizer.ggml.pre %q is not a known pre-tokenizer", name)
	}
	p, err := newPreTokenizer(ps.typ)
	if err != nil {
		return fmt.Errorf("tokenizer: pre-tokenizer %q: %w", name, err)
	}
	t.pre = ps
	t.preTok = p
	t.escapeSpaces = ps.escapeSpaces
	t.cleanSpaces = !ps.keepSpaces
	t.ignoreMerges = ps.ignoreMerges
	t.addBOS = ps.addBOS
	t.addSEP = ps.addSEP
	if ps.noBOS {
		t.bos = Null
	}
	if ps.noLowercase {
		t.lowercase = false
	}
	return nil
}

func (t *Tokenizer) loadTokens(v *Vocab) error {
	n := len(v.Tokens)
	if n == 0 {
		return errors.New("tokenizer: tokenizer.ggml.tokens is missing or empty")
	}
	if v.Scores != nil && len(v.Scores) < n {
		return fmt.Errorf("tokenizer: tokenizer.ggml.scores has %d entries for %d tokens", len(v.Scores), n)
	}
	if v.Types != nil && len(v.Types) < n {
		return fmt.Errorf("tokenizer: tokenizer.ggml.token_type has %d entries for %d tokens", len(v.Types), n)
	}
	t.tokens = make([]string, n)
	t.scores = make([]float32, n)
	t.attrs = make([]uint16, n)
	t.ids = make(map[string]int32, n)
	for i, w := range v.Tokens {
		if w == "" {
			w = fmt.Sprintf("[EMPTY_%d]", i)
		}
		t.ids[w] = int32(i)
		if len(t.ids) != i+1 {
			return fmt.Errorf("tokenizer: tokenizer.ggml.tokens: token %d %q appears twice", i, w)
		}
		t.tokens[i] = w
		if len(w) > t.maxLen {
			t.maxLen = len(w)
		}
		if v.Scores != nil {
			t.scores[i] = v.Scores[i]
		}
		t.attrs[i] = attrNormal
		if v.Types != nil {
			switch v.Types[i] {
			case TypeNormal:
				t.attrs[i] = attrNormal
			case TypeUnknown:
				t.attrs[i] = attrUnknown
			case TypeControl:
				t.attrs[i] = attrControl
			case TypeUserDefined:
				t.attrs[i] = attrUserDefined
			case TypeUnused:
				t.attrs[i] = attrUnused
			case TypeByte:
				t.attrs[i] = attrByte
			default:
				t.attrs[i] = 0
			}
		}
	}
	return nil
}

func (t *Tokenizer) initModel(v *Vocab) error {
	switch t.typ {
	case typeUGM:
		m, err := newUGM(t, v.PrecompiledCharsmap)
		if err != nil {
			return err
		}
		t.ugm = m
	case typeRWKV:
		t.rwkvTrie = &trie{}
		for id, w := range t.tokens {
			t.rwkvTrie.insert(string(unescapeRWKV(w)), int32(id))
		}
	}
	return nil
}

// findNewline sets the id of "\n" the way llama.cpp determines it.
func (t *Tokenizer) findNewline() {
	switch t.typ {
	case typeSPM:
		if id, ok := t.byteToken('\n'); ok {
			t.nl = id
		} else {
			t.nl = t.pad
		}
	case typeWPM:
		t.nl = t.pad
	default:
		ids := t.Encode("\n", false, false)
		if len(ids) == 0 {
			t.nl = t.pad
		} else {
			t.nl = ids[0]
		}
	}
}

func (t *Tokenizer) applySpecialIDs(v *Vocab) {
	n := uint32(len(t.tokens))
	set := func(id *int32, val *uint32) {
		if *id >= 0 && uint32(*id) >= n {
			*id = Null
		}
		if val != nil && *val < n {
			*id = int32(*val)
		}
	}
	set(&t.bos, v.BOS)
	set(&t.eos, v.EOS)
	set(&t.eot, v.EOT)
	set(&t.eom, v.EOM)
	set(&t.unk, v.UNK)
	set(&t.sep, v.SEP)
	set(&t.pad, v.PAD)
	set(&t.mask, v.Mask)
	set(&t.fimPre, v.FIMPre)
	set(&t.fimSuf, v.FIMSuf)
	set(&t.fimMid, v.FIMMid)
	set(&t.fimPad, v.FIMPad)
	set(&t.fimRep, v.FIMRep)
	set(&t.fimSep, v.FIMSep)
}

// Token texts llama.cpp recognises as special when the metadata does not
// name them.
var (
	eotTexts    = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"}
	eomTexts    = []string{"<|eom_id|>"}
	fimPreTexts = []string{"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"}
	fimSufTexts = []string{"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"}
	fimMidTexts = []string{"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"}
	fimPadTexts = []string{"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"}
	fimRepTexts = []string{"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"}
	fimSepTexts = []string{"<|file_sep|>"}
	eogTexts    = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~["}
	// Tokens gpt-oss needs rendered: made user-defined.
	alwaysRendered = []string{"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}
)

// detectSpecialTokens finds EOT, EOM and FIM tokens by their text, marks
// unused tokens and builds the end-of-generation set, as llama.cpp does.
//
// Where several texts fit one role llama.cpp takes whichever its hash map
// yields first; here the highest id wins, which agrees with llama.cpp on the
// common vocabularies (Qwen, Phi-3, Llama 3).
func (t *Tokenizer) detectSpecialTokens() {
	find := func(id *int32, texts []string) {
		if *id != Null {
			return
		}
		best := Null
		for _, s := range texts {
			if tid, ok := t.ids[s]; ok && tid > best {
				best = tid
			}
		}
		if best != Null {
			*id = best
			t.attrs[best] |= attrControl
		}
	}
	find(&t.eot, eotTexts)
	find(&t.eom, eomTexts)
	find(&t.fimPre, fimPreTexts)
	find(&t.fimSuf, fimSufTexts)
	find(&t.fimMid, fimMidTexts)
	find(&t.fimPad, fimPadTexts)
	find(&t.fimRep, fimRepTexts)
	find(&t.fimSep, fimSepTexts)

	for i, w := range t.tokens {
		if t.attrs[i]&attrControl != 0 && strings.Contains(w, "unused") {
			t.attrs[i] |= attrUnused
		}
	}

	t.eog = make(map[int32]bool)
	for _, id := range []int32{t.fimPad, t.fimRep, t.fimSep} {
		if id != Null {
			t.eog[id] = true
		}
	}
	for _, s := range eogTexts {
		if id, ok := t.ids[s]; ok {
			t.eog[id] = true
			t.attrs[id] |= attrControl
		}
	}
	for _, s := range alwaysRendered {
		if id, ok := t.ids[s]; ok {
			t.attrs[id] = attrUserDefined
		}
	}
	for _, id := range []int32{t.eos, t.eot, t.eom} {
		if id != Null {
			t.eog[id] = true
		}
	}

	// o200k_harmony and solar-open: "<|end|>" ends a message, not generation.
	has := func(s string) (int32, bool) {
		id, ok := t.ids[s]
		return id, ok && t.eog[id]
	}
	_, hasReturn := has("<|return|>")
	_, hasCall := has("<|call|>")
	_, hasCalls := has("<|calls|>")
	_, hasFlush := has("<|flush|>")
	endID, hasEnd := has("<|end|>")
	hasCall = hasCall || hasCalls
	if (hasReturn && hasCall && hasEnd) || (hasCall && hasFlush && hasEnd) {
		delete(t.eog, endID)
		t.attrs[endID] = attrUserDefined
	}
	// Gemma 4 and PaddleOCR: "</s>" is an ordinary token there.
	if _, ok := has("<|tool_response>"); ok {
		if sID, ok := has("</s>"); ok {
			delete(t.eog, sID)
			t.attrs[sID] = attrNormal
		}
	}
}

func (t *Tokenizer) buildSpecialCache() {
	for id, a := range t.attrs {
		if a&(attrControl|attrUserDefined|attrUnknown) != 0 {
			t.special = append(t.special, int32(id))
		}
	}
	sort.SliceStable(t.special, func(i, j int) bool {
		return len(t.tokens[t.special[i]]) > len(t.tokens[t.special[j]])
	})
}

// applyModelAttrs sets the per-token strip attributes llama.cpp derives from
// model and pre-tokenizer names.
func (t *Tokenizer) applyModelAttrs(v *Vocab) {
	setAttr := func(text string, attr uint16, on bool) {
		id, ok := t.ids[text]
		if !ok {
			return
		}
		if on {
			t.attrs[id] |= attr
		} else {
			t.attrs[id] &^= attr
		}
	}
	name := strings.ToLower(v.ModelName)
	containsAny := func(s string, subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
	switch {
	case containsAny(v.Pre, "jina-v2-de", "jina-v2-es", "jina-v2-code") ||
		containsAny(v.Architecture, "nomic-bert-moe", "jina-bert-v3"):
		setAttr("<mask>", attrLstrip, true)
	case containsAny(name, "phi-3", "phi3"):
		for _, id := range t.special {
			t.attrs[id] |= attrRstrip
		}
		setAttr("</s>", attrRstrip, true)
		for _, s := range []string{"<unk>", "<s>", "<|endoftext|>"} {
			setAttr(s, attrRstrip, false)
		}
	case containsAny(name, "modern-bert"):
		setAttr("[MASK]", attrLstrip, true)
	}
}

// NumTokens returns the size of the vocabulary.
func (t *Tokenizer) NumTokens() int { return len(t.tokens) }

// Token returns the vocabulary text of id ("" when out of range).
func (t *Tokenizer) Token(id int32) string {
	if !t.valid(id) {
		return ""
	}
	return t.tokens[id]
}

// Score returns the score of id (0 when out of range).
func (t *Tokenizer) Score(id int32) float32 {
	if !t.valid(id) {
		return 0
	}
	return t.scores[id]
}

// ID returns the id of a token text, or Null.
func (t *Tokenizer) ID(text string) int32 {
	if id, ok := t.ids[text]; ok {
		return id
	}
	return Null
}

func (t *Tokenizer) valid(id int32) bool { return id >= 0 && int(id) < len(t.tokens) }

// Model returns the tokenizer model name (tokenizer.ggml.model).
func (t *Tokenizer) Model() string { return t.model }

// BOS returns the beginning-of-sequence token, or Null.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS returns the end-of-sequence token, or Null.
func (t *Tokenizer) EOS() int32 { return t.eos }

// EOT returns the end-of-turn token, or Null.
func (t *Tokenizer) EOT() int32 { return t.eot }

// EOM returns the end-of-message token, or Null.
func (t *Tokenizer) EOM() int32 { return t.eom }

// UNK returns the unknown token, or Null.
func (t *Tokenizer) UNK() int32 { return t.unk }

// SEP returns the separator token, or Null.
func (t *Tokenizer) SEP() int32 { return t.sep }

// PAD returns the padding token, or Null.
func (t *Tokenizer) PAD() int32 { return t.pad }

// Mask returns the mask token, or Null.
func (t *Tokenizer) Mask() int32 { return t.mask }

// NL returns the token of a newline, or Null.
func (t *Tokenizer) NL() int32 { return t.nl }

// FIMPre returns the fill-in-the-middle prefix token, or Null.
func (t *Tokenizer) FIMPre() int32 { return t.fimPre }

// FIMSuf returns the fill-in-the-middle suffix token, or Null.
func (t *Tokenizer) FIMSuf() int32 { return t.fimSuf }

// FIMMid returns the fill-in-the-middle middle token, or Null.
func (t *Tokenizer) FIMMid() int32 { return t.fimMid }

// FIMPad returns the fill-in-the-middle padding token, or Null.
func (t *Tokenizer) FIMPad() int32 { return t.fimPad }

// FIMRep returns the fill-in-the-middle repository token, or Null.
func (t *Tokenizer) FIMRep() int32 { return t.fimRep }

// FIMSep returns the fill-in-the-middle file separator token, or Null.
func (t *Tokenizer) FIMSep() int32 { return t.fimSep }

// AddBOS reports whether Encode with addSpecial prepends BOS.
func (t *Tokenizer) AddBOS() bool { return t.addBOS }

// AddEOS reports whether Encode with addSpecial appends EOS.
func (t *Tokenizer) AddEOS() bool { return t.addEOS }

// AddSEP reports whether the model expects a separator appended (BERT-style).
func (t *Tokenizer) AddSEP() bool { return t.addSEP }

// IsEOG reports whether id ends generation (EOS, EOT, EOM and the like).
func (t *Tokenizer) IsEOG(id int32) bool { return id != Null && t.eog[id] }

// EOGTokens returns the end-of-generation tokens in ascending order.
func (t *Tokenizer) EOGTokens() []int32 {
	out := make([]int32, 0, len(t.eog))
	for id := range t.eog {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// IsControl reports whether id is a control token.
func (t *Tokenizer) IsControl(id int32) bool { return t.valid(id) && t.attrs[id]&attrControl != 0 }

// IsByte reports whether id is a byte-fallback token such as <0x0A>.
func (t *Tokenizer) IsByte(id int32) bool { return t.valid(id) && t.attrs[id]&attrByte != 0 }

// IsUserDefined reports whether id is a user-defined token.
func (t *Tokenizer) IsUserDefined(id int32) bool {
	return t.valid(id) && t.attrs[id]&attrUserDefined != 0
}

// IsUnused reports whether id is an unused token.
func (t *Tokenizer) IsUnused(id int32) bool { return t.valid(id) && t.attrs[id]&attrUnused != 0 }

// byteToken returns the token of one byte: <0xXX> in SentencePiece-style
// vocabularies, the byte's GPT-2 character in BPE and WordPiece ones.
func (t *Tokenizer) byteToken(b byte) (int32, bool) {
	switch t.typ {
	case typeSPM, typeUGM:
		if id, ok := t.ids[hexByteToken(b)]; ok {
			return id, true
		}
		id, ok := t.ids[string([]byte{b})]
		return id, ok
	default:
		id, ok := t.ids[string(byteToRune[b])]
		return id, ok
	}
}

func hexByteToken(b byte) string {
	const hex = "0123456789ABCDEF"
	return string([]byte{'<', '0', 'x', hex[b>>4], hex[b&15], '>'})
}
