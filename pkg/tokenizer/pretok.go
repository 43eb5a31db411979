package tokenizer

// preType identifies a byte-level BPE pre-tokenizer (how text is split into
// words before merges), named in GGUF by tokenizer.ggml.pre.
type preType int

const (
	preDefault preType = iota
	preLlama3
	preDeepseekLlm
	preDeepseekCoder
	preFalcon
	preMpt
	preStarcoder
	preGpt2
	preRefact
	preCommandR
	preStablelm2
	preQwen2
	preOlmo
	preDbrx
	preSmaug
	prePoro
	preChatglm4
	preViking
	preJais
	preTekken
	preSmollm
	preCodeshell
	preBloom
	preGpt3Finnish
	preExaone
	preChameleon
	preMinerva
	preDeepseek3Llm
	preGpt4o
	preSuperbpe
	preTrillion
	preBailingmoe
	preSeedCoder
	preHunyuan
	preKimiK2
	preHunyuanDense
	preGrok2
	preGraniteDocling
	preMinimaxM2
	preAfmoe
	preSolarOpen
	preYoutu
	preExaoneMoe
	preQwen35
	preTinyAya
	preJoyaiLlm
	preJais2
	preGemma4
	preSarvamMoe
	preMinicpm5
	preWhitespace
	preGraniteEmbMulti
	preMellum2
	preLaguna
)

// preSettings is what a pre-tokenizer name implies beyond its regexes.
type preSettings struct {
	typ          preType
	ignoreMerges bool // whole words found in the vocabulary skip merging
	keepSpaces   bool // no clean-up of spaces when decoding
	addBOS       bool // add BOS unless tokenizer.ggml.add_bos_token says otherwise
	addSEP       bool
	escapeSpaces bool // spaces become U+2581 before merging (SPM-style BPE)
	noBOS        bool // the default BOS id does not apply
	noLowercase  bool
}

// preByName maps tokenizer.ggml.pre values to their settings, following
// llama.cpp's list of known names.
var preByName = func() map[string]preSettings {
	m := make(map[string]preSettings)
	add := func(s preSettings, names ...string) {
		for _, n := range names {
			m[n] = s
		}
	}
	add(preSettings{typ: preDefault}, "", "default")
	add(preSettings{typ: preMinicpm5, ignoreMerges: true}, "minicpm5")
	add(preSettings{typ: preLlama3, ignoreMerges: true, addBOS: true}, "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano")
	add(preSettings{typ: preDeepseekLlm, keepSpaces: true}, "deepseek-llm")
	add(preSettings{typ: preDeepseekCoder, keepSpaces: true}, "deepseek-coder")
	add(preSettings{typ: preDeepseek3Llm, keepSpaces: true}, "deepseek-v3")
	add(preSettings{typ: preYoutu, keepSpaces: true, ignoreMerges: true}, "youtu")
	add(preSettings{typ: preFalcon}, "falcon")
	add(preSettings{typ: preMpt}, "mpt")
	add(preSettings{typ: preStarcoder}, "starcoder")
	add(preSettings{typ: preGpt2}, "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "modern-bert", "exaone4")
	add(preSettings{typ: preJais2}, "jais-2")
	add(preSettings{typ: preGemma4, escapeSpaces: true}, "gemma4", "granite-embed-multi-311m")
	add(preSettings{typ: preSarvamMoe, escapeSpaces: true, keepSpaces: true}, "sarvam-moe")
	add(preSettings{typ: preGpt2, addSEP: true}, "jina-v1-en", "jina-v2-code", "roberta-bpe")
	add(preSettings{typ: preWhitespace, noLowercase: true}, "whitespace")
	add(preSettings{typ: preRefact}, "refact")
	add(preSettings{typ: preCommandR, keepSpaces: true}, "command-r")
	add(preSettings{typ: preQwen2, keepSpaces: true}, "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2")
	add(preSettings{typ: preQwen35, keepSpaces: true}, "qwen35")
	add(preSettings{typ: preStablelm2}, "stablelm2")
	add(preSettings{typ: preOlmo}, "olmo")
	add(preSettings{typ: preDbrx}, "dbrx")
	add(preSettings{typ: preSmaug}, "smaug-bpe")
	add(preSettings{typ: prePoro, keepSpaces: true}, "poro-chat")
	add(preSettings{typ: preChatglm4, noBOS: true}, "glm4", "chatglm-bpe")
	add(preSettings{typ: preViking, keepSpaces: true}, "viking")
	add(preSettings{typ: preJais}, "jais")
	add(preSettings{typ: preTekken, keepSpaces: true, ignoreMerges: true, addBOS: true}, "tekken")
	add(preSettings{typ: preSmollm, keepSpaces: true}, "smollm")
	add(preSettings{typ: preCodeshell}, "codeshell")
	add(preSettings{typ: preBloom}, "bloom")
	add(preSettings{typ: preGpt3Finnish}, "gpt3-finnish")
	add(preSettings{typ: preExaone}, "exaone")
	add(preSettings{typ: preExaoneMoe}, "exaone-moe")
	add(preSettings{typ: preChameleon, addBOS: true, keepSpaces: true}, "chameleon")
	add(preSettings{typ: preMinerva}, "minerva-7b")
	add(preSettings{typ: preQwen2}, "megrez")
	add(preSettings{typ: preGpt4o, keepSpaces: true}, "gpt-4o", "llama4", "kanana2", "talkie")
	add(preSettings{typ: preGraniteEmbMulti, keepSpaces: true, ignoreMerges: true}, "granite-embed-multi-97m")
	add(preSettings{typ: preTinyAya, keepSpaces: true}, "tiny_aya", "cohere2moe")
	add(preSettings{typ: preSuperbpe, keepSpaces: true}, "superbpe")
	add(preSettings{typ: preTrillion, keepSpaces: true}, "trillion")
	add(preSettings{typ: preGraniteDocling, keepSpaces: true}, "granite-docling")
	add(preSettings{typ: preBailingmoe, keepSpaces: true}, "bailingmoe", "bailingmoe2", "llada-moe")
	add(preSettings{typ: preSeedCoder, keepSpaces: true}, "seed-coder")
	add(preSettings{typ: preHunyuan, keepSpaces: true}, "hunyuan")
	add(preSettings{typ: preHunyuanDense, keepSpaces: true}, "hunyuan-dense")
	add(preSettings{typ: preJoyaiLlm, keepSpaces: true}, "joyai-llm")
	add(preSettings{typ: preKimiK2, keepSpaces: true}, "kimi-k2")
	add(preSettings{typ: preGrok2, keepSpaces: true}, "grok-2")
	add(preSettings{typ: preAfmoe, keepSpaces: true}, "afmoe")
	add(preSettings{typ: preLaguna, keepSpaces: true}, "laguna")
	add(preSettings{typ: preMinimaxM2, keepSpaces: true}, "minimax-m2")
	add(preSettings{typ: preSolarOpen, keepSpaces: true}, "solar-open")
	add(preSettings{typ: preMellum2}, "mellum2")
	return m
}()

// lookupPre returns the settings of a pre-tokenizer name.
func lookupPre(name string) (preSettings, bool) {
	s, ok := preByName[name]
	return s, ok
}

// preRegexes returns the split patterns of a pre-tokenizer, applied one after
// another, and whether words are then mapped to GPT-2's byte alphabet. The
// patterns are those llama.cpp uses (adapted from the models' tokenizer.json).
func preRegexes(t preType) (exprs []string, byteEncode bool) {
	switch t {
	case preLlama3:
		return []string{
			`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preJais2:
		return []string{
			`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1}`,
		}, true
	case preDbrx, preSmaug:
		return []string{
			`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preDeepseekLlm:
		return []string{
			"[\r\n]",
			`\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+`,
			`\s?[!-/:-~！-／：-～‘-‟　-。]+`,
			`\s+$`,
			`[一-龥ࠀ-一가-퟿]+`,
			`\p{N}+`,
		}, true
	case preDeepseek3Llm, preHunyuanDense, preJoyaiLlm:
		return []string{
			`\p{N}{1,3}`,
			`[一-龥぀-ゟ゠-ヿ]+`,
			"[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
		}, true
	case preYoutu:
		return []string{
			`[가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥぀-ゟ゠-ヿ]+`,
			`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preDeepseekCoder:
		return []string{
			"[\r\n]",
			`\s?\p{L}+`,
			`\s?\p{P}+`,
			`[一-龥ࠀ-一가-퟿]+`,
			`\p{N}`,
		}, true
	case preFalcon:
		return []string{
			"[\\p{P}\\$\\+<=>\\^~\\|`]+",
			`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`,
			`[0-9][0-9][0-9]`,
		}, true
	case preStarcoder, preRefact, preCommandR, preSmollm, preCodeshell, preExaone, preMinerva, preMellum2:
		return []string{
			`\p{N}`,
			`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`,
		}, true
	case preGpt2, preMpt, preOlmo, preJais, preTrillion, preGraniteDocling:
		return []string{
			`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`,
		}, true
	case preStablelm2, preQwen2, preHunyuan, preSolarOpen:
		return []string{
			`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preQwen35:
		return []string{
			`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case prePoro, preBloom, preGpt3Finnish:
		return []string{
			` ?[^(\s|.,!?…。，、।۔،)]+`,
		}, true
	case preChatglm4:
		return []string{
			`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preViking:
		return []string{
			` ?[^(\s|.,!?…。，、।۔،)]+`,
			`\p{N}`,
		}, true
	case preTekken:
		return []string{
			`[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preChameleon:
		return []string{
			`<sentinel:[0-9]+>`,
			`(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z`,
			`([\t\n]|    |  )`,
			`\p{N}`,
			"[\\p{P}!-/:-@\\[-`{-~]",
			`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`,
		}, true
	case preGpt4o, preMinimaxM2:
		return []string{
			`[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preGraniteEmbMulti:
		return []string{
			`[^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))*((?=[\p{L}\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))+((?=[\p{L}\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preTinyAya:
		return []string{
			`\d{1,3}(?=(?:\d{3})*\b)`,
			`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preKimiK2:
		return []string{
			`\p{Han}+`,
		}, true
	case preSuperbpe:
		return []string{
			`\p{N}+`,
			`(?=(\d{3})+(?!\d))`,
		}, true
	case preBailingmoe:
		return []string{
			`'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`,
		}, true
	case preSeedCoder:
		return []string{
			`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preGrok2:
		return []string{
			`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preAfmoe:
		return []string{
			`\p{AFMoE_digits}`,
			`[一-鿿㐀-䶿豈-﫿぀-ゟ゠-ヿ･-ﾟ⼀-⿟เ-๿຀-໿ក-៿က-႟ꩠ-ꩿꧠ-꧿가-힯ᄀ-ᇿ]+`,
			"[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
		}, true
	case preLaguna:
		return []string{
			`[^\n]+|[\n]+`,
			`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preExaoneMoe:
		return []string{
			`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+`,
		}, true
	case preGemma4:
		return []string{
			`[^\n]+|[\n]+`,
		}, false
	case preSarvamMoe:
		return []string{
			`[^\n]+|[\n]+`,
		}, false
	case preMinicpm5:
		return []string{
			`\p{N}{1,3}`,
			`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		}, true
	case preWhitespace:
		return []string{
			`\S+`,
		}, false
	default:
		return []string{
			`[\p{P}\$\+<=>\^~\|]+`,
			`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`,
			`\p{N}+`,
			`[0-9][0-9][0-9]`,
		}, true
	}
}
