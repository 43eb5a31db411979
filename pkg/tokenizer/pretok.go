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

// lookupPre maps a tokenizer.ggml.pre value to its settings, following
// llama.cpp's list of known names.
func lookupPre(name string) (preSettings, bool) {
	switch name {
	case "", "default":
		return preSettings{typ: preDefault}, true
	case "minicpm5":
		return preSettings{typ: preMinicpm5, ignoreMerges: true}, true
	case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
		return preSettings{typ: preLlama3, ignoreMerges: true, addBOS: true}, true
	case "deepseek-llm":
		return preSettings{typ: preDeepseekLlm, keepSpaces: true}, true
	case "deepseek-coder":
		return preSettings{typ: preDeepseekCoder, keepSpaces: true}, true
	case "deepseek-v3":
		return preSettings{typ: preDeepseek3Llm, keepSpaces: true}, true
	case "youtu":
		return preSettings{typ: preYoutu, keepSpaces: true, ignoreMerges: true}, true
	case "falcon":
		return preSettings{typ: preFalcon}, true
	case "mpt":
		return preSettings{typ: preMpt}, true
	case "starcoder":
		return preSettings{typ: preStarcoder}, true
	case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "modern-bert", "exaone4":
		return preSettings{typ: preGpt2}, true
	case "jais-2":
		return preSettings{typ: preJais2}, true
	case "gemma4", "granite-embed-multi-311m":
		return preSettings{typ: preGemma4, escapeSpaces: true}, true
	case "sarvam-moe":
		return preSettings{typ: preSarvamMoe, escapeSpaces: true, keepSpaces: true}, true
	case "jina-v1-en", "jina-v2-code", "roberta-bpe":
		return preSettings{typ: preGpt2, addSEP: true}, true
	case "whitespace":
		return preSettings{typ: preWhitespace, noLowercase: true}, true
	case "refact":
		return preSettings{typ: preRefact}, true
	case "command-r":
		return preSettings{typ: preCommandR, keepSpaces: true}, true
	case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2":
		return preSettings{typ: preQwen2, keepSpaces: true}, true
	case "qwen35":
		return preSettings{typ: preQwen35, keepSpaces: true}, true
	case "stablelm2":
		return preSettings{typ: preStablelm2}, true
	case "olmo":
		return preSettings{typ: preOlmo}, true
	case "dbrx":
		return preSettings{typ: preDbrx}, true
	case "smaug-bpe":
		return preSettings{typ: preSmaug}, true
	case "poro-chat":
		return preSettings{typ: prePoro, keepSpaces: true}, true
	case "glm4", "chatglm-bpe":
		return preSettings{typ: preChatglm4, noBOS: true}, true
	case "viking":
		return preSettings{typ: preViking, keepSpaces: true}, true
	case "jais":
		return preSettings{typ: preJais}, true
	case "tekken":
		return preSettings{typ: preTekken, keepSpaces: true, ignoreMerges: true, addBOS: true}, true
	case "smollm":
		return preSettings{typ: preSmollm, keepSpaces: true}, true
	case "codeshell":
		return preSettings{typ: preCodeshell}, true
	case "bloom":
		return preSettings{typ: preBloom}, true
	case "gpt3-finnish":
		return preSettings{typ: preGpt3Finnish}, true
	case "exaone":
		return preSettings{typ: preExaone}, true
	case "exaone-moe":
		return preSettings{typ: preExaoneMoe}, true
	case "chameleon":
		return preSettings{typ: preChameleon, addBOS: true, keepSpaces: true}, true
	case "minerva-7b":
		return preSettings{typ: preMinerva}, true
	case "megrez":
		return preSettings{typ: preQwen2}, true
	case "gpt-4o", "llama4", "kanana2", "talkie":
		return preSettings{typ: preGpt4o, keepSpaces: true}, true
	case "granite-embed-multi-97m":
		return preSettings{typ: preGraniteEmbMulti, keepSpaces: true, ignoreMerges: true}, true
	case "tiny_aya", "cohere2moe":
		return preSettings{typ: preTinyAya, keepSpaces: true}, true
	case "superbpe":
		return preSettings{typ: preSuperbpe, keepSpaces: true}, true
	case "trillion":
		return preSettings{typ: preTrillion, keepSpaces: true}, true
	case "granite-docling":
		return preSettings{typ: preGraniteDocling, keepSpaces: true}, true
	case "bailingmoe", "bailingmoe2", "llada-moe":
		return preSettings{typ: preBailingmoe, keepSpaces: true}, true
	case "seed-coder":
		return preSettings{typ: preSeedCoder, keepSpaces: true}, true
	case "hunyuan":
		return preSettings{typ: preHunyuan, keepSpaces: true}, true
	case "hunyuan-dense":
		return preSettings{typ: preHunyuanDense, keepSpaces: true}, true
	case "joyai-llm":
		return preSettings{typ: preJoyaiLlm, keepSpaces: true}, true
	case "kimi-k2":
		return preSettings{typ: preKimiK2, keepSpaces: true}, true
	case "grok-2":
		return preSettings{typ: preGrok2, keepSpaces: true}, true
	case "afmoe":
		return preSettings{typ: preAfmoe, keepSpaces: true}, true
	case "laguna":
		return preSettings{typ: preLaguna, keepSpaces: true}, true
	case "minimax-m2":
		return preSettings{typ: preMinimaxM2, keepSpaces: true}, true
	case "solar-open":
		return preSettings{typ: preSolarOpen, keepSpaces: true}, true
	case "mellum2":
		return preSettings{typ: preMellum2}, true
	}
	return preSettings{}, false
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
