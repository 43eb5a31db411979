package tokenizer

import (
	"errors"
	"fmt"

	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// FromGGUF builds the tokenizer described by a GGUF file's tokenizer.ggml.*
// metadata. Errors name the missing or malformed key.
func FromGGUF(f *gguf.File) (*Tokenizer, error) {
	v, err := VocabFromGGUF(f)
	if err != nil {
		return nil, err
	}
	return New(v)
}

// VocabFromGGUF reads the vocabulary description from GGUF metadata.
func VocabFromGGUF(f *gguf.File) (*Vocab, error) {
	v := &Vocab{}
	var err error
	wrap := func(key string, err error) error { return fmt.Errorf("tokenizer: %s: %w", key, err) }
	absent := func(err error) bool { return errors.Is(err, gguf.ErrKeyNotFound) }

	if v.Model, err = f.GetString("tokenizer.ggml.model"); err != nil {
		return nil, wrap("tokenizer.ggml.model", err)
	}
	if v.Pre, err = f.GetString("tokenizer.ggml.pre"); err != nil && !absent(err) {
		return nil, wrap("tokenizer.ggml.pre", err)
	}
	if v.Model == "no_vocab" || v.Model == "none" {
		return v, nil
	}
	if v.Tokens, err = f.GetStrings("tokenizer.ggml.tokens"); err != nil {
		return nil, wrap("tokenizer.ggml.tokens", err)
	}
	if v.Scores, err = f.GetFloat32s("tokenizer.ggml.scores"); err != nil && !absent(err) {
		return nil, wrap("tokenizer.ggml.scores", err)
	}
	if v.Types, err = f.GetInt32s("tokenizer.ggml.token_type"); err != nil && !absent(err) {
		return nil, wrap("tokenizer.ggml.token_type", err)
	}
	if v.Merges, err = f.GetStrings("tokenizer.ggml.merges"); err != nil && !absent(err) {
		return nil, wrap("tokenizer.ggml.merges", err)
	}

	ids := []struct {
		key string
		dst **uint32
	}{
		{"tokenizer.ggml.bos_token_id", &v.BOS},
		{"tokenizer.ggml.eos_token_id", &v.EOS},
		{"tokenizer.ggml.eot_token_id", &v.EOT},
		{"tokenizer.ggml.eom_token_id", &v.EOM},
		{"tokenizer.ggml.unknown_token_id", &v.UNK},
		{"tokenizer.ggml.seperator_token_id", &v.SEP},
		{"tokenizer.ggml.padding_token_id", &v.PAD},
		{"tokenizer.ggml.mask_token_id", &v.Mask},
		{"tokenizer.ggml.fim_pre_token_id", &v.FIMPre},
		{"tokenizer.ggml.fim_suf_token_id", &v.FIMSuf},
		{"tokenizer.ggml.fim_mid_token_id", &v.FIMMid},
		{"tokenizer.ggml.fim_pad_token_id", &v.FIMPad},
		{"tokenizer.ggml.fim_rep_token_id", &v.FIMRep},
		{"tokenizer.ggml.fim_sep_token_id", &v.FIMSep},
		// Deprecated names, which win when valid (as in llama.cpp).
		{"tokenizer.ggml.prefix_token_id", &v.FIMPre},
		{"tokenizer.ggml.suffix_token_id", &v.FIMSuf},
		{"tokenizer.ggml.middle_token_id", &v.FIMMid},
	}
	for _, id := range ids {
		u, err := f.GetUint(id.key)
		if absent(err) {
			continue
		}
		if err != nil {
			return nil, wrap(id.key, err)
		}
		if u >= uint64(len(v.Tokens)) {
			continue // out of range: llama.cpp keeps the default (or earlier) id
		}
		val := uint32(u)
		*id.dst = &val
	}

	flags := []struct {
		key string
		dst **bool
	}{
		{"tokenizer.ggml.add_bos_token", &v.AddBOS},
		{"tokenizer.ggml.add_eos_token", &v.AddEOS},
		{"tokenizer.ggml.add_sep_token", &v.AddSEP},
		{"tokenizer.ggml.add_space_prefix", &v.AddSpacePrefix},
		{"tokenizer.ggml.remove_extra_whitespaces", &v.RemoveExtraWhitespaces},
		{"tokenizer.ggml.normalizer.lowercase", &v.NormalizerLowercase},
		{"tokenizer.ggml.normalizer.strip_accents", &v.NormalizerStripAccents},
	}
	for _, fl := range flags {
		b, err := f.GetBool(fl.key)
		if absent(err) {
			continue
		}
		if err != nil {
			return nil, wrap(fl.key, err)
		}
		*fl.dst = &b
	}

	if val, ok := f.Get("tokenizer.ggml.precompiled_charsmap"); ok {
		switch x := val.V.(type) {
		case []uint8:
			v.PrecompiledCharsmap = x
		case []int8:
			v.PrecompiledCharsmap = make([]byte, len(x))
			for i, c := range x {
				v.PrecompiledCharsmap[i] = byte(c)
			}
		default:
			return nil, fmt.Errorf("tokenizer: tokenizer.ggml.precompiled_charsmap: type %s, want array of bytes", val.TypeName())
		}
	}
	v.ModelName, _ = f.GetString("general.name")
	v.Architecture, _ = f.GetString("general.architecture")
	return v, nil
}
