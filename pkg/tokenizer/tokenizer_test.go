package tokenizer

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llamafile-go/llamafile/pkg/gguf"
)

func TestDecodeCodepoints(t *testing.T) {
	tests := []struct {
		in   string
		want []rune
	}{
		{"aé中🦙", []rune{'a', 'é', '中', '🦙'}},
		{"\xc3", []rune{0xFFFD}},             // truncated
		{"\x80a", []rune{0xFFFD, 'a'}},       // stray continuation byte
		{"\xc0\x80", []rune{0}},              // overlong form accepted, as llama.cpp does
		{"\xed\xa0\x80", []rune{0xD800}},     // surrogate accepted
		{"\xe2\x82", []rune{0xFFFD, 0xFFFD}}, // each byte of a broken sequence
		{"\xf8\x80", []rune{0xFFFD, 0xFFFD}}, // no 5-byte forms
		{"x\xf0\x9f\xa6", []rune{'x', 0xFFFD, 0xFFFD, 0xFFFD}},
	}
	for _, tc := range tests {
		got := decodeCodepoints(tc.in)
		if string(got) != string(tc.want) || len(got) != len(tc.want) {
			t.Errorf("decodeCodepoints(%q) = %U, want %U", tc.in, got, tc.want)
		}
	}
	if got := appendCodepoint(nil, 0xD800); !bytes.Equal(got, []byte{0xED, 0xA0, 0x80}) {
		t.Errorf("appendCodepoint(U+D800) = % x", got)
	}
}

func TestUnicodeTables(t *testing.T) {
	tests := []struct {
		c    rune
		want uint16
	}{
		{'a', flagLetter}, {'7', flagNumber}, {' ', flagSeparator | flagWhitespace},
		{'\n', flagControl | flagWhitespace}, {'!', flagPunctuation}, {'$', flagSymbol},
		{0x0301, flagMark}, {'中', flagLetter}, {0x3000, flagSeparator | flagWhitespace},
		{0x00A0, flagSeparator | flagWhitespace}, {0x0085, flagControl | flagWhitespace},
		{0x0378, flagUndefined}, {0x10FFFF, flagUndefined}, {0x110000, flagUndefined}, {-1, flagUndefined},
		{'½', flagNumber}, {0x1F999, flagSymbol},
	}
	for _, tc := range tests {
		if got := cptFlags(tc.c); got != tc.want {
			t.Errorf("cptFlags(%U) = %#x, want %#x", tc.c, got, tc.want)
		}
	}
	for c, want := range map[rune]rune{'A': 'a', 'Ä': 'ä', 'Ω': 'ω', 'a': 'a', '1': '1', 'İ': 'i'} {
		if got := toLower(c); got != want {
			t.Errorf("toLower(%U) = %U, want %U", c, got, want)
		}
	}
	for c, want := range map[rune]rune{'é': 'e', 'Å': 'A', 'a': 'a', 'ǻ': 'a', '가': 0x1100} {
		if got := nfdFirst(c); got != want {
			t.Errorf("nfdFirst(%U) = %U, want %U", c, got, want)
		}
	}
	for b := 0; b < 256; b++ {
		if got := runeToByte[byteToRune[b]]; int(got) != b {
			t.Fatalf("byte %d maps to %U and back to %d", b, byteToRune[b], got)
		}
	}
}

// TestRoundTrip checks Decode(Encode(text)) == text where llama.cpp
// guarantees it: SentencePiece vocabularies (the prefix space is removed
// again) and byte-level BPE without space clean-up, for valid UTF-8.
func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"llama-spm", "phi-3", "qwen2"} {
		tok := loadTokenizer(t, name, nil)
		for _, text := range append(append([]string{}, trickyTexts...), specialTexts...) {
			if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
				continue
			}
			ids := tok.Encode(text, false, false)
			if got := tok.Decode(ids, false, false); got != text {
				t.Errorf("%s: Decode(Encode(%q)) = %q", name, text, got)
			}
			// With BOS added and removed again.
			ids = tok.Encode(text, true, false)
			if got := tok.Decode(ids, true, false); got != text && tok.typ == typeBPE {
				t.Errorf("%s: Decode(Encode(%q, addSpecial), removeSpecial) = %q", name, text, got)
			}
		}
	}
}

func TestSpecialTokens(t *testing.T) {
	tok := loadTokenizer(t, "qwen2", nil)
	start := tok.ID("<|im_start|>")
	end := tok.ID("<|im_end|>")
	if start == Null || end == Null {
		t.Fatal("qwen2 vocabulary lacks ChatML tokens")
	}
	if !tok.IsControl(start) || !tok.IsEOG(end) || tok.IsEOG(start) || tok.EOT() != end {
		t.Errorf("control/EOG flags wrong: control(start)=%v eog(end)=%v eog(start)=%v eot=%d",
			tok.IsControl(start), tok.IsEOG(end), tok.IsEOG(start), tok.EOT())
	}
	text := "<|im_start|>user\nhi<|im_end|>"
	parsed := tok.Encode(text, false, true)
	if len(parsed) < 3 || parsed[0] != start || parsed[len(parsed)-1] != end {
		t.Errorf("parseSpecial: got %v", parsed)
	}
	plain := tok.Encode(text, false, false)
	for _, id := range plain {
		if id == start || id == end {
			t.Errorf("without parseSpecial the control token %d was recognised: %v", id, plain)
		}
	}
	if got := tok.Decode(parsed, false, false); got != "user\nhi" {
		t.Errorf("Decode without unparseSpecial = %q", got)
	}
	if got := tok.Decode(parsed, false, true); got != text {
		t.Errorf("Decode with unparseSpecial = %q", got)
	}
	if got := tok.TokenToPiece(start, false); len(got) != 0 {
		t.Errorf("TokenToPiece(control, false) = %q", got)
	}
	if got := string(tok.TokenToPiece(start, true)); got != "<|im_start|>" {
		t.Errorf("TokenToPiece(control, true) = %q", got)
	}
	if tok.Token(start) != "<|im_start|>" || tok.Token(-1) != "" || tok.Token(int32(tok.NumTokens())) != "" {
		t.Error("Token returned the wrong text")
	}
	if tok.IsEOG(Null) || tok.IsControl(-5) || tok.TokenToPiece(1<<30, true) != nil {
		t.Error("out-of-range ids must be harmless")
	}
}

func TestTokenToPiece(t *testing.T) {
	spm := loadTokenizer(t, "llama-spm", nil)
	bpe := loadTokenizer(t, "gpt-2", nil)
	tests := []struct {
		tok  *Tokenizer
		text string
		want string
	}{
		{spm, "<0x0A>", "\n"},
		{spm, "<0xE2>", "\xe2"}, // a lone byte of a longer UTF-8 sequence
		{spm, "▁Hello", " Hello"},
		{spm, "<s>", "<s>"},
		{bpe, "Ġhello", " hello"},
		{bpe, "Ċ", "\n"},
		{bpe, "âĢ", "\xe2\x80"}, // partial UTF-8
	}
	for _, tc := range tests {
		id := tc.tok.ID(tc.text)
		if id == Null {
			t.Fatalf("%q not in vocabulary", tc.text)
		}
		if got := string(tc.tok.TokenToPiece(id, true)); got != tc.want {
			t.Errorf("TokenToPiece(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
	if !spm.IsByte(spm.ID("<0x0A>")) || spm.NL() != spm.ID("<0x0A>") {
		t.Error("SentencePiece newline byte token not recognised")
	}
	if spm.AddBOS() != true || spm.AddEOS() != false || bpe.AddBOS() != false {
		t.Error("default add_bos/add_eos wrong")
	}
	if ids := spm.Encode("", true, false); len(ids) != 1 || ids[0] != spm.BOS() {
		t.Errorf("Encode(\"\", addSpecial) = %v, want [BOS]", ids)
	}
}

func TestNewErrors(t *testing.T) {
	ok := func() *Vocab {
		return &Vocab{Model: "gpt2", Pre: "gpt-2", Tokens: []string{"a", "b", "ab"}, Merges: []string{"a b"}}
	}
	if _, err := New(ok()); err != nil {
		t.Fatalf("minimal vocabulary: %v", err)
	}
	tests := []struct {
		name string
		edit func(v *Vocab)
		want string
	}{
		{"no model", func(v *Vocab) { v.Model = "" }, "tokenizer.ggml.model"},
		{"unknown model", func(v *Vocab) { v.Model = "sentencepiece2" }, "not supported"},
		{"no vocab model", func(v *Vocab) { v.Model = "no_vocab" }, "no vocabulary"},
		{"unknown pre", func(v *Vocab) { v.Pre = "nonsense" }, "tokenizer.ggml.pre"},
		{"no merges", func(v *Vocab) { v.Merges = nil }, "tokenizer.ggml.merges"},
		{"no tokens", func(v *Vocab) { v.Tokens = nil }, "tokenizer.ggml.tokens"},
		{"short scores", func(v *Vocab) { v.Scores = []float32{1} }, "tokenizer.ggml.scores"},
		{"short types", func(v *Vocab) { v.Types = []int32{1} }, "tokenizer.ggml.token_type"},
		{"duplicate token", func(v *Vocab) { v.Tokens = []string{"a", "a"} }, "appears twice"},
		{"short charsmap", func(v *Vocab) { v.Model = "t5"; v.PrecompiledCharsmap = []byte{1} }, "precompiled_charsmap"},
		{"overrunning charsmap", func(v *Vocab) { v.Model = "t5"; v.PrecompiledCharsmap = []byte{200, 0, 0, 0, 1} }, "precompiled_charsmap"},
	}
	for _, tc := range tests {
		v := ok()
		tc.edit(v)
		_, err := New(v)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

// TestSmallBPE checks merging, byte fallback and out-of-range special ids
// on a hand-made vocabulary.
func TestSmallBPE(t *testing.T) {
	bos := uint32(99) // out of range: the default applies
	v := &Vocab{
		Model:  "gpt2",
		Pre:    "gpt-2",
		Tokens: []string{"h", "e", "l", "o", "he", "ll", "hell", "hello", "Ġ", "Ġhello", "<|endoftext|>"},
		Types:  []int32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3},
		Merges: []string{"h e", "l l", "he ll", "hell o", "Ġ hello", "broken"},
		BOS:    &bos,
	}
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	got := tok.Encode("hello hello hex<|endoftext|>", false, true)
	want := []int32{7, 9, 8, 4} // "hello" "Ġhello" "Ġ" "he"; "x" is unknown and dropped
	want = append(want, 10)
	if !equalIDs(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	// The default BPE BOS (11) and the given one (99) are out of range.
	if tok.BOS() != Null {
		t.Errorf("BOS = %d, want Null", tok.BOS())
	}
	if tok.EOT() != 10 || !tok.IsEOG(10) || !tok.IsControl(10) {
		t.Errorf("<|endoftext|> not detected as EOT/EOG: eot=%d", tok.EOT())
	}
	if got := tok.Decode([]int32{7, 9, 10}, false, false); got != "hello hello" {
		t.Errorf("Decode = %q", got)
	}
}

// ggufBytes writes a GGUF file holding kv and no tensors.
func ggufBytes(t *testing.T, kv map[string]any) []byte {
	t.Helper()
	var kvs []gguf.KV
	for _, k := range []string{"general.architecture", "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens",
		"tokenizer.ggml.token_type", "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.add_bos_token",
		"tokenizer.ggml.scores", "tokenizer.ggml.precompiled_charsmap"} {
		if x, ok := kv[k]; ok {
			kvs = append(kvs, gguf.KV{Key: k, Value: gguf.MustValueOf(x)})
		}
	}
	var buf bytes.Buffer
	if err := gguf.Write(&buf, kvs, nil, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFromGGUF(t *testing.T) {
	good := func() map[string]any {
		return map[string]any{
			"general.architecture":         "llama",
			"tokenizer.ggml.model":         "gpt2",
			"tokenizer.ggml.pre":           "qwen2",
			"tokenizer.ggml.tokens":        []string{"a", "b", "ab", "<|im_end|>"},
			"tokenizer.ggml.token_type":    []int32{1, 1, 1, 3},
			"tokenizer.ggml.merges":        []string{"a b"},
			"tokenizer.ggml.bos_token_id":  uint32(3),
			"tokenizer.ggml.add_bos_token": true,
		}
	}
	f, err := gguf.Parse(ggufBytes(t, good()))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("abab", true, false); !equalIDs(got, []int32{3, 2, 2}) {
		t.Errorf("Encode = %v", got)
	}
	if !tok.AddBOS() || tok.BOS() != 3 || tok.EOT() != 3 || tok.Model() != "gpt2" {
		t.Errorf("metadata not applied: addBOS=%v bos=%d eot=%d", tok.AddBOS(), tok.BOS(), tok.EOT())
	}

	tests := []struct {
		name string
		edit func(m map[string]any)
		key  string
	}{
		{"missing model", func(m map[string]any) { delete(m, "tokenizer.ggml.model") }, "tokenizer.ggml.model"},
		{"missing tokens", func(m map[string]any) { delete(m, "tokenizer.ggml.tokens") }, "tokenizer.ggml.tokens"},
		{"tokens not strings", func(m map[string]any) { m["tokenizer.ggml.tokens"] = []int32{1} }, "tokenizer.ggml.tokens"},
		{"model not a string", func(m map[string]any) { m["tokenizer.ggml.model"] = uint32(1) }, "tokenizer.ggml.model"},
		{"bad bos type", func(m map[string]any) { m["tokenizer.ggml.bos_token_id"] = "x" }, "tokenizer.ggml.bos_token_id"},
		{"bad flag type", func(m map[string]any) { m["tokenizer.ggml.add_bos_token"] = uint32(1) }, "tokenizer.ggml.add_bos_token"},
		{"bad charsmap", func(m map[string]any) { m["tokenizer.ggml.precompiled_charsmap"] = []string{"x"} }, "tokenizer.ggml.precompiled_charsmap"},
		{"missing merges", func(m map[string]any) { delete(m, "tokenizer.ggml.merges") }, "tokenizer.ggml.merges"},
	}
	for _, tc := range tests {
		m := good()
		tc.edit(m)
		f, err := gguf.Parse(ggufBytes(t, m))
		if err != nil {
			t.Fatal(err)
		}
		_, err = FromGGUF(f)
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: err = %v, want it to name %s", tc.name, err, tc.key)
		}
		if tc.key == "tokenizer.ggml.model" && tc.name == "missing model" && !errors.Is(err, gguf.ErrKeyNotFound) {
			t.Errorf("%s: err = %v, want it to wrap gguf.ErrKeyNotFound", tc.name, err)
		}
	}
}

// TestFromGGUFFile loads a shared vocabulary through FromGGUF.
func TestFromGGUFFile(t *testing.T) {
	loadVocab(t, "bert-bge") // skips when ../shared is absent
	tok := loadTokenizer(t, "bert-bge", nil)
	ids := tok.Encode("Hello, World!", true, false)
	if len(ids) < 3 || ids[0] != tok.BOS() || ids[len(ids)-1] != tok.SEP() {
		t.Errorf("BERT Encode with addSpecial = %v, want [CLS] ... [SEP]", ids)
	}
	// WordPiece pieces carry their word's leading space; llama.cpp keeps it.
	if got := tok.Decode(ids, true, false); got != " hello, world!" {
		t.Errorf("Decode = %q", got)
	}
}

var benchText = strings.Repeat("The quick brown fox jumps over the lazy dog. It's 1234 km away; "+
	"naïve café — 日本語のテキスト 🦙!\n    for (int i = 0; i < n; i++) { sum += x[i]; }\n", 16)

func BenchmarkEncode(b *testing.B) {
	for _, c := range []struct{ name, vocab, pre string }{
		{"llama-spm", "llama-spm", ""},
		{"llama-bpe", "llama-bpe", ""},
		{"qwen2", "qwen2", ""},
		{"gpt-2", "gpt-2", ""},
		{"bert-bge", "bert-bge", ""},
		{"regex-gpt-4o", "llama-bpe", "gpt-4o"},
		{"regex-deepseek-v3", "llama-bpe", "deepseek-v3"},
	} {
		b.Run(c.name, func(b *testing.B) {
			tok := loadTokenizer(b, c.vocab, func(v *Vocab) {
				if c.pre != "" {
					v.Pre = c.pre
				}
			})
			b.SetBytes(int64(len(benchText)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tok.Encode(benchText, true, true)
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	v := loadVocab(b, "llama-bpe")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := New(v); err != nil {
			b.Fatal(err)
		}
	}
}

// TestConcurrentEncode uses one tokenizer from several goroutines (run with
// -race to check for shared state).
func TestConcurrentEncode(t *testing.T) {
	tok := loadTokenizer(t, "qwen2", func(v *Vocab) { v.Pre = "gpt-4o" }) // a regex pre-tokenizer
	want := tok.Encode(benchText, true, true)
	done := make(chan []int32)
	for g := 0; g < 4; g++ {
		go func() { done <- tok.Encode(benchText, true, true) }()
	}
	for g := 0; g < 4; g++ {
		if got := <-done; !equalIDs(got, want) {
			t.Error("concurrent Encode gave a different result")
		}
	}
}
