package chat

import "strings"

// kind identifies a built-in format; it indexes builtins. The zero kind is
// no format.
type kind uint8

const (
	kindNone kind = iota
	kindChatML
	kindLlama2
	kindLlama2Sys
	kindLlama2SysBOS
	kindLlama2SysStrip
	kindMistralV1
	kindMistralV3
	kindMistralV3Tekken
	kindMistralV7
	kindMistralV7Tekken
	kindPhi3
	kindPhi4
	kindFalcon3
	kindZephyr
	kindMonarch
	kindGemma
	kindOrion
	kindOpenChat
	kindVicuna
	kindVicunaOrca
	kindDeepSeek
	kindDeepSeek2
	kindDeepSeek3
	kindDeepSeekOCR
	kindCommandR
	kindLlama3
	kindChatGLM3
	kindChatGLM4
	kindGLMEdge
	kindMiniCPM
	kindExaone3
	kindExaone4
	kindExaoneMoE
	kindRWKVWorld
	kindGranite
	kindGranite40
	kindGranite41
	kindGigaChat
	kindMegrez
	kindYandex
	kindBailing
	kindBailingThink
	kindBailing2
	kindLlama4
	kindSmolVLM
	kindDots1
	kindHunyuanMoE
	kindGPTOSS
	kindHunyuanDense
	kindHunyuanVL
	kindKimiK2
	kindSeedOSS
	kindGrok2
	kindPanguEmbedded
	kindSolarOpen
	numKinds
)

// A renderFunc writes msgs in one format to b.
type renderFunc func(b *strings.Builder, msgs []Message, addAssistant bool)

// builtin describes one format: its llama.cpp name, its renderer, and
// whether llama.cpp leaves it out of its list of names.
type builtin struct {
	name     string
	render   renderFunc
	unlisted bool
}

// builtins holds every format, indexed by kind. It is never modified.
var builtins = [numKinds]builtin{
	kindChatML:          {name: "chatml", render: renderChatML},
	kindLlama2:          {name: "llama2", render: renderLlama2(false, false, false)},
	kindLlama2Sys:       {name: "llama2-sys", render: renderLlama2(true, false, false)},
	kindLlama2SysBOS:    {name: "llama2-sys-bos", render: renderLlama2(true, true, false)},
	kindLlama2SysStrip:  {name: "llama2-sys-strip", render: renderLlama2(true, false, true)},
	kindMistralV1:       {name: "mistral-v1", render: renderMistral(" ", " ", false)},
	kindMistralV3:       {name: "mistral-v3", render: renderMistral("", " ", true)},
	kindMistralV3Tekken: {name: "mistral-v3-tekken", render: renderMistral("", "", false)},
	kindMistralV7:       {name: "mistral-v7", render: renderMistralV7(" ")},
	kindMistralV7Tekken: {name: "mistral-v7-tekken", render: renderMistralV7("")},
	kindPhi3:            {name: "phi3", render: renderPhi3},
	kindPhi4:            {name: "phi4", render: renderPhi4},
	kindFalcon3:         {name: "falcon3", render: renderFalcon3},
	kindZephyr:          {name: "zephyr", render: renderZephyr},
	kindMonarch:         {name: "monarch", render: renderMonarch},
	kindGemma:           {name: "gemma", render: renderGemma},
	kindOrion:           {name: "orion", render: renderOrion},
	kindOpenChat:        {name: "openchat", render: renderOpenChat},
	kindVicuna:          {name: "vicuna", render: renderVicuna(false)},
	kindVicunaOrca:      {name: "vicuna-orca", render: renderVicuna(true)},
	kindDeepSeek:        {name: "deepseek", render: renderDeepSeek},
	kindDeepSeek2:       {name: "deepseek2", render: renderDeepSeek2},
	kindDeepSeek3:       {name: "deepseek3", render: renderDeepSeek3},
	kindDeepSeekOCR:     {name: "deepseek-ocr", render: renderDeepSeekOCR},
	kindCommandR:        {name: "command-r", render: renderCommandR},
	kindLlama3:          {name: "llama3", render: renderLlama3},
	kindChatGLM3:        {name: "chatglm3", render: renderChatGLM3},
	kindChatGLM4:        {name: "chatglm4", render: renderChatGLM4},
	kindGLMEdge:         {name: "glmedge", render: renderGLMEdge},
	kindMiniCPM:         {name: "minicpm", render: renderMiniCPM},
	kindExaone3:         {name: "exaone3", render: renderExaone(false)},
	kindExaone4:         {name: "exaone4", render: renderExaone(true)},
	kindExaoneMoE:       {name: "exaone-moe", render: renderExaoneMoE},
	kindRWKVWorld:       {name: "rwkv-world", render: renderRWKVWorld},
	kindGranite:         {name: "granite", render: renderGranite(false)},
	kindGranite40:       {name: "granite-4.0", render: renderGranite(true)},
	kindGranite41:       {name: "granite-4.1", render: renderGranite(true)},
	kindGigaChat:        {name: "gigachat", render: renderGigaChat},
	kindMegrez:          {name: "megrez", render: renderMegrez},
	kindYandex:          {name: "yandex", render: renderYandex},
	kindBailing:         {name: "bailing", render: renderBailing(false)},
	kindBailingThink:    {name: "bailing-think", render: renderBailing(true)},
	kindBailing2:        {name: "bailing2", render: renderBailing2},
	kindLlama4:          {name: "llama4", render: renderLlama4},
	kindSmolVLM:         {name: "smolvlm", render: renderSmolVLM},
	kindDots1:           {name: "dots1", render: renderDots1, unlisted: true},
	kindHunyuanMoE:      {name: "hunyuan-moe", render: renderHunyuanMoE},
	kindGPTOSS:          {name: "gpt-oss", render: renderGPTOSS},
	kindHunyuanDense:    {name: "hunyuan-dense", render: renderHunyuanDense},
	kindHunyuanVL:       {name: "hunyuan-vl", render: renderHunyuanVL},
	kindKimiK2:          {name: "kimi-k2", render: renderKimiK2},
	kindSeedOSS:         {name: "seed_oss", render: renderSeedOSS},
	kindGrok2:           {name: "grok-2", render: renderGrok2},
	kindPanguEmbedded:   {name: "pangu-embedded", render: renderPanguEmbedded},
	kindSolarOpen:       {name: "solar-open", render: renderSolarOpen},
}

// template returns the Template of kind k.
func (k kind) template() Template {
	return Template{Name: builtins[k].name, kind: k}
}

// trim removes leading and trailing ASCII white space (what C's isspace
// accepts), as llama.cpp's trim does; other Unicode spaces are kept.
func trim(s string) string {
	return strings.Trim(s, " \t\n\v\f\r")
}

// asciiUpper upper-cases the ASCII letters of s, like C's toupper applied to
// every byte.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// write appends the strings ss to b.
func write(b *strings.Builder, ss ...string) {
	for _, s := range ss {
		b.WriteString(s)
	}
}

// Full-width bars (U+FF5C) and the SentencePiece space (U+2581) in the
// DeepSeek and Hunyuan special tokens.
const (
	deepseekUser      = "<\uff5cUser\uff5c>"
	deepseekAssistant = "<\uff5cAssistant\uff5c>"
	deepseekEOS       = "<\uff5cend\u2581of\u2581sentence\uff5c>"
	hunyuanUser       = "<\uff5chy_User\uff5c>"
	hunyuanAssistant  = "<\uff5chy_Assistant\uff5c>"
	hunyuanHolder2    = "<\uff5chy_place\u2581holder\u2581no\u25812\uff5c>"
	hunyuanHolder3    = "<\uff5chy_place\u2581holder\u2581no\u25813\uff5c>"
	hunyuanBOS        = "<\uff5chy_begin\u2581of\u2581sentence\uff5c>"
)

// renderChatML: <|im_start|>role\ncontent<|im_end|>\n per message.
func renderChatML(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		write(b, "<|im_start|>", m.Role, "\n", m.Content, "<|im_end|>\n")
	}
	if add {
		b.WriteString("<|im_start|>assistant\n")
	}
}

// renderLlama2 returns the renderer of the Llama 2 format and its variants:
// system puts a system message in <<SYS>> markers (otherwise it is written
// as a plain line), bosInHistory writes <s> before every [INST] but the
// first, and strip trims every message. The prompt opens with "[INST] "
// (the model's BOS comes from the tokenizer); there is no generation
// prompt, since a user turn already ends with [/INST].
func renderLlama2(system, bosInHistory, strip bool) renderFunc {
	return func(b *strings.Builder, msgs []Message, _ bool) {
		inTurn := true
		b.WriteString("[INST] ")
		for _, m := range msgs {
			content := m.Content
			if strip {
				content = trim(content)
			}
			if !inTurn {
				inTurn = true
				if bosInHistory {
					b.WriteString("<s>[INST] ")
				} else {
					b.WriteString("[INST] ")
				}
			}
			switch m.Role {
			case "system":
				if system {
					write(b, "<<SYS>>\n", content, "\n<</SYS>>\n\n")
				} else {
					write(b, content, "\n")
				}
			case "user":
				write(b, content, " [/INST]")
			default:
				write(b, content, "</s>")
				inTurn = false
			}
		}
	}
}

// renderMistral returns the renderer of Mistral's v1, v3 and v3-tekken
// formats, which differ in the spaces around [INST] and [/INST] and in
// whether assistant messages are trimmed. A system message opens the first
// [INST] turn, followed by a blank line.
func renderMistral(leading, trailing string, trimAssistant bool) renderFunc {
	return func(b *strings.Builder, msgs []Message, _ bool) {
		inTurn := false
		for _, m := range msgs {
			if !inTurn {
				write(b, leading, "[INST]", trailing)
				inTurn = true
			}
			switch m.Role {
			case "system":
				write(b, m.Content, "\n\n")
			case "user":
				write(b, m.Content, leading, "[/INST]")
			default:
				content := m.Content
				if trimAssistant {
					content = trim(content)
				}
				write(b, trailing, content, "</s>")
				inTurn = false
			}
		}
	}
}

// renderMistralV7 returns the renderer of Mistral's v7 format (space " ")
// or v7-tekken (space ""), which has [SYSTEM_PROMPT] markers.
func renderMistralV7(space string) renderFunc {
	return func(b *strings.Builder, msgs []Message, _ bool) {
		for _, m := range msgs {
			switch m.Role {
			case "system":
				write(b, "[SYSTEM_PROMPT]", space, m.Content, "[/SYSTEM_PROMPT]")
			case "user":
				write(b, "[INST]", space, m.Content, "[/INST]")
			default:
				write(b, space, m.Content, "</s>")
			}
		}
	}
}

func renderPhi3(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		write(b, "<|", m.Role, "|>\n", m.Content, "<|end|>\n")
	}
	if add {
		b.WriteString("<|assistant|>\n")
	}
}

func renderPhi4(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		write(b, "<|im_start|>", m.Role, "<|im_sep|>", m.Content, "<|im_end|>")
	}
	if add {
		b.WriteString("<|im_start|>assistant<|im_sep|>")
	}
}

func renderFalcon3(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		write(b, "<|", m.Role, "|>\n", m.Content, "\n")
	}
	if add {
		b.WriteString("<|assistant|>\n")
	}
}

func renderZephyr(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		write(b, "<|", m.Role, "|>\n", m.Content, "<|endoftext|>\n")
	}
	if add {
		b.WriteString("<|assistant|>\n")
	}
}

// renderMonarch writes <s> before every message but the first (whose BOS
// the tokenizer adds).
func renderMonarch(b *strings.Builder, msgs []Message, add bool) {
	for i, m := range msgs {
		if i > 0 {
			b.WriteString("<s>")
		}
		write(b, m.Role, "\n", m.Content, "</s>\n")
	}
	if add {
		b.WriteString("<s>assistant\n")
	}
}

// renderGemma has no system turn: system messages are trimmed, joined and
// put at the start of the next non-assistant turn. The assistant is called
// "model", and every message is trimmed.
func renderGemma(b *strings.Builder, msgs []Message, add bool) {
	system := ""
	for _, m := range msgs {
		if m.Role == "system" {
			system += trim(m.Content)
			continue
		}
		role := m.Role
		if role == "assistant" {
			role = "model"
		}
		write(b, "<start_of_turn>", role, "\n")
		if system != "" && role != "model" {
			write(b, system, "\n\n")
			system = ""
		}
		write(b, trim(m.Content), "<end_of_turn>\n")
	}
	if add {
		b.WriteString("<start_of_turn>model\n")
	}
}

// renderOrion merges system messages into the next user turn. A user turn
// ends with the assistant's opening and an EOS, so there is no separate
// generation prompt.
func renderOrion(b *strings.Builder, msgs []Message, _ bool) {
	system := ""
	for _, m := range msgs {
		switch m.Role {
		case "system":
			system += m.Content
		case "user":
			b.WriteString("Human: ")
			if system != "" {
				write(b, system, "\n\n")
				system = ""
			}
			write(b, m.Content, "\n\nAssistant: </s>")
		default:
			write(b, m.Content, "</s>")
		}
	}
}

// renderOpenChat writes "GPT4 Correct Role: " with the role's first letter
// upper-cased; a system message is written bare.
func renderOpenChat(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		if m.Role == "system" {
			write(b, m.Content, "<|end_of_turn|>")
			continue
		}
		role := m.Role
		if role != "" {
			role = asciiUpper(role[:1]) + role[1:]
		}
		write(b, "GPT4 Correct ", role, ": ", m.Content, "<|end_of_turn|>")
	}
	if add {
		b.WriteString("GPT4 Correct Assistant:")
	}
}

// renderVicuna returns the Vicuna renderer; orca gives the Orca-Vicuna
// variant, which marks the system message with "SYSTEM: ".
func renderVicuna(orca bool) renderFunc {
	return func(b *strings.Builder, msgs []Message, add bool) {
		for _, m := range msgs {
			switch m.Role {
			case "system":
				if orca {
					write(b, "SYSTEM: ", m.Content, "\n")
				} else {
					write(b, m.Content, "\n\n")
				}
			case "user":
				write(b, "USER: ", m.Content, "\n")
			case "assistant":
				write(b, "ASSISTANT: ", m.Content, "</s>\n")
			}
		}
		if add {
			b.WriteString("ASSISTANT:")
		}
	}
}

// renderDeepSeek is DeepSeek Coder's instruction format.
func renderDeepSeek(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			b.WriteString(m.Content)
		case "user":
			write(b, "### Instruction:\n", m.Content, "\n")
		case "assistant":
			write(b, "### Response:\n", m.Content, "\n<|EOT|>\n")
		}
	}
	if add {
		b.WriteString("### Response:\n")
	}
}

func renderDeepSeek2(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			write(b, m.Content, "\n\n")
		case "user":
			write(b, "User: ", m.Content, "\n\n")
		case "assistant":
			write(b, "Assistant: ", m.Content, deepseekEOS)
		}
	}
	if add {
		b.WriteString("Assistant:")
	}
}

func renderDeepSeek3(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			write(b, m.Content, "\n\n")
		case "user":
			write(b, deepseekUser, m.Content)
		case "assistant":
			write(b, deepseekAssistant, m.Content, deepseekEOS)
		}
	}
	if add {
		b.WriteString(deepseekAssistant)
	}
}

// renderDeepSeekOCR has no template: it writes the contents one after the
// other, and no generation prompt.
func renderDeepSeekOCR(b *strings.Builder, msgs []Message, _ bool) {
	for _, m := range msgs {
		b.WriteString(m.Content)
	}
}

// renderCommandR is Cohere's Command-R format; messages are trimmed.
func renderCommandR(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		var token string
		switch m.Role {
		case "system":
			token = "<|SYSTEM_TOKEN|>"
		case "user":
			token = "<|USER_TOKEN|>"
		case "assistant":
			token = "<|CHATBOT_TOKEN|>"
		default:
			continue
		}
		write(b, "<|START_OF_TURN_TOKEN|>", token, trim(m.Content), "<|END_OF_TURN_TOKEN|>")
	}
	if add {
		b.WriteString("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>")
	}
}

// renderLlama3 trims every message.
func renderLlama3(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		write(b, "<|start_header_id|>", m.Role, "<|end_header_id|>\n\n", trim(m.Content), "<|eot_id|>")
	}
	if add {
		b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	}
}

func renderChatGLM3(b *strings.Builder, msgs []Message, add bool) {
	b.WriteString("[gMASK]sop")
	for _, m := range msgs {
		write(b, "<|", m.Role, "|>\n ", m.Content)
	}
	if add {
		b.WriteString("<|assistant|>")
	}
}

func renderChatGLM4(b *strings.Builder, msgs []Message, add bool) {
	b.WriteString("[gMASK]<sop>")
	for _, m := range msgs {
		write(b, "<|", m.Role, "|>\n", m.Content)
	}
	if add {
		b.WriteString("<|assistant|>\n")
	}
}

func renderGLMEdge(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		write(b, "<|", m.Role, "|>\n", m.Content)
	}
	if add {
		b.WriteString("<|assistant|>")
	}
}

// renderMiniCPM: a user turn ends with <AI>, so there is no separate
// generation prompt; messages are trimmed.
func renderMiniCPM(b *strings.Builder, msgs []Message, _ bool) {
	for _, m := range msgs {
		if m.Role == "user" {
			write(b, "<用户>", trim(m.Content), "<AI>")
		} else {
			b.WriteString(trim(m.Content))
		}
	}
}

// renderExaone returns the EXAONE 3 renderer, or with tool the EXAONE 4
// one, which adds [|tool|] turns. Messages are trimmed.
func renderExaone(tool bool) renderFunc {
	return func(b *strings.Builder, msgs []Message, add bool) {
		for _, m := range msgs {
			c := trim(m.Content)
			switch {
			case m.Role == "system":
				write(b, "[|system|]", c, "[|endofturn|]\n")
			case m.Role == "user":
				write(b, "[|user|]", c, "\n")
			case m.Role == "assistant":
				write(b, "[|assistant|]", c, "[|endofturn|]\n")
			case m.Role == "tool" && tool:
				write(b, "[|tool|]", c, "[|endofturn|]\n")
			}
		}
		if add {
			b.WriteString("[|assistant|]")
		}
	}
}

func renderExaoneMoE(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system", "user", "assistant", "tool":
			write(b, "<|", m.Role, "|>\n", trim(m.Content), "<|endofturn|>\n")
		}
	}
	if add {
		b.WriteString("<|assistant|>\n")
	}
}

// renderRWKVWorld opens the assistant's turn after a final user message,
// whatever addAssistant says, as llama.cpp does. Messages are trimmed.
func renderRWKVWorld(b *strings.Builder, msgs []Message, _ bool) {
	for i, m := range msgs {
		switch m.Role {
		case "system":
			write(b, "System: ", trim(m.Content), "\n\n")
		case "user":
			write(b, "User: ", trim(m.Content), "\n\n")
			if i == len(msgs)-1 {
				b.WriteString("Assistant:")
			}
		case "assistant":
			write(b, "Assistant: ", trim(m.Content), "\n\n")
		}
	}
}

// renderGranite returns the renderer of IBM Granite 3's format or, with
// v4, of Granite 4.0 and 4.1's. A message of the role "assistant_tool_call"
// gets <|tool_call|> after its role; Granite 4 writes that role as
// "assistant".
func renderGranite(v4 bool) renderFunc {
	return func(b *strings.Builder, msgs []Message, add bool) {
		for _, m := range msgs {
			role := m.Role
			if v4 && role == "assistant_tool_call" {
				role = "assistant"
			}
			write(b, "<|start_of_role|>", role, "<|end_of_role|>")
			if m.Role == "assistant_tool_call" {
				b.WriteString("<|tool_call|>")
			}
			write(b, m.Content, "<|end_of_text|>\n")
		}
		if add {
			b.WriteString("<|start_of_role|>assistant<|end_of_role|>")
		}
	}
}

// renderGigaChat writes <s> itself; only a first system message is kept.
func renderGigaChat(b *strings.Builder, msgs []Message, add bool) {
	rest := msgs
	b.WriteString("<s>")
	if len(msgs) > 0 && msgs[0].Role == "system" {
		write(b, msgs[0].Content, "<|message_sep|>")
		rest = msgs[1:]
	}
	for _, m := range rest {
		switch m.Role {
		case "user":
			write(b, "user<|role_sep|>", m.Content, "<|message_sep|>",
				"available functions<|role_sep|>[]<|message_sep|>")
		case "assistant":
			write(b, "assistant<|role_sep|>", m.Content, "<|message_sep|>")
		}
	}
	if add {
		b.WriteString("assistant<|role_sep|>")
	}
}

func renderMegrez(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		write(b, "<|role_start|>", m.Role, "<|role_end|>", m.Content, "<|turn_end|>")
	}
	if add {
		b.WriteString("<|role_start|>assistant<|role_end|>")
	}
}

// renderYandex keeps only user and assistant messages.
func renderYandex(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		switch m.Role {
		case "user":
			write(b, " Пользователь: ", m.Content, "\n\n")
		case "assistant":
			write(b, " Ассистент: ", m.Content, "\n\n")
		}
	}
	if add {
		b.WriteString(" Ассистент:[SEP]")
	}
}

// bailingRole is a role as the Bailing (Ling) formats write it: "HUMAN" for
// the user, otherwise upper-cased.
func bailingRole(role string) string {
	if role == "user" {
		return "HUMAN"
	}
	return asciiUpper(role)
}

// renderBailing returns the Bailing (Ling) renderer; think gives the
// bailing-think variant, whose generation prompt opens a <think> block.
func renderBailing(think bool) renderFunc {
	return func(b *strings.Builder, msgs []Message, add bool) {
		for _, m := range msgs {
			write(b, "<role>", bailingRole(m.Role), "</role>", m.Content)
		}
		if add {
			b.WriteString("<role>ASSISTANT</role>")
			if think {
				b.WriteString("<think>")
			}
		}
	}
}

// renderBailing2 (Ling 2.0) adds a "detailed thinking off" system message
// when the conversation does not start with one.
func renderBailing2(b *strings.Builder, msgs []Message, add bool) {
	if len(msgs) == 0 || msgs[0].Role != "system" {
		b.WriteString("<role>SYSTEM</role>detailed thinking off<|role_end|>")
	}
	for _, m := range msgs {
		write(b, "<role>", bailingRole(m.Role), "</role>", m.Content, "<|role_end|>")
	}
	if add {
		b.WriteString("<role>ASSISTANT</role>")
	}
}

// renderLlama4 trims every message.
func renderLlama4(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		write(b, "<|header_start|>", m.Role, "<|header_end|>\n\n", trim(m.Content), "<|eot|>")
	}
	if add {
		b.WriteString("<|header_start|>assistant<|header_end|>\n\n")
	}
}

// renderSmolVLM opens with <|im_start|>, which SmolVLM uses as its BOS.
func renderSmolVLM(b *strings.Builder, msgs []Message, add bool) {
	b.WriteString("<|im_start|>")
	for _, m := range msgs {
		switch m.Role {
		case "system":
			write(b, m.Content, "\n\n")
		case "user":
			write(b, "User: ", m.Content, "<end_of_utterance>\n")
		default:
			write(b, "Assistant: ", m.Content, "<end_of_utterance>\n")
		}
	}
	if add {
		b.WriteString("Assistant:")
	}
}

// renderDots1 is dots.llm1's format.
func renderDots1(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			write(b, "<|system|>", m.Content, "<|endofsystem|>")
		case "user":
			write(b, "<|userprompt|>", m.Content, "<|endofuserprompt|>")
		default:
			write(b, "<|response|>", m.Content, "<|endofresponse|>")
		}
	}
	if add {
		b.WriteString("<|response|>")
	}
}

// renderHunyuanMoE has no generation prompt.
func renderHunyuanMoE(b *strings.Builder, msgs []Message, _ bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			write(b, "<|startoftext|>", m.Content, "<|extra_4|>")
		case "assistant":
			write(b, m.Content, "<|eos|>")
		default:
			write(b, "<|startoftext|>", m.Content, "<|extra_0|>")
		}
	}
}

// renderGPTOSS is a simplified Harmony format (gpt-oss).
func renderGPTOSS(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		write(b, "<|start|>", m.Role, "<|message|>", m.Content)
		if m.Role == "assistant" {
			b.WriteString("<|return|>")
		} else {
			b.WriteString("<|end|>")
		}
	}
	if add {
		b.WriteString("<|start|>assistant")
	}
}

// renderHunyuanDense: a user turn ends with the assistant's opening, so
// there is no separate generation prompt; only a first system message is
// kept.
func renderHunyuanDense(b *strings.Builder, msgs []Message, _ bool) {
	for i, m := range msgs {
		if i == 0 && m.Role == "system" {
			write(b, m.Content, hunyuanHolder3)
		}
		switch m.Role {
		case "assistant":
			write(b, hunyuanAssistant, m.Content, hunyuanHolder2)
		case "user":
			write(b, hunyuanUser, m.Content, hunyuanAssistant)
		}
	}
}

// renderHunyuanVL (HunyuanOCR, HunyuanVL) opens with its BOS text and writes
// each turn's marker after its content; a first system message is kept,
// later ones and other roles are dropped. There is no generation prompt.
func renderHunyuanVL(b *strings.Builder, msgs []Message, _ bool) {
	b.WriteString(hunyuanBOS)
	for i, m := range msgs {
		switch {
		case i == 0 && m.Role == "system":
			write(b, m.Content, hunyuanHolder3)
		case m.Role == "user":
			write(b, m.Content, hunyuanUser)
		case m.Role == "assistant":
			write(b, m.Content, hunyuanAssistant)
		}
	}
}

// renderKimiK2 writes tool results as a system-side "tool" turn.
func renderKimiK2(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			b.WriteString("<|im_system|>system<|im_middle|>")
		case "user":
			b.WriteString("<|im_user|>user<|im_middle|>")
		case "assistant":
			b.WriteString("<|im_assistant|>assistant<|im_middle|>")
		case "tool":
			b.WriteString("<|im_system|>tool<|im_middle|>")
		}
		write(b, m.Content, "<|im_end|>")
	}
	if add {
		b.WriteString("<|im_assistant|>assistant<|im_middle|>")
	}
}

// renderSeedOSS trims assistant messages only.
func renderSeedOSS(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		content := m.Content
		if m.Role == "assistant" {
			content = trim(content)
		}
		write(b, "<seed:bos>", m.Role, "\n", content, "<seed:eos>")
	}
	if add {
		b.WriteString("<seed:bos>assistant\n")
	}
}

// renderGrok2 trims system and user messages, not assistant ones.
func renderGrok2(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			write(b, "System: ", trim(m.Content), "<|separator|>\n\n")
		case "user":
			write(b, "Human: ", trim(m.Content), "<|separator|>\n\n")
		case "assistant":
			write(b, "Assistant: ", m.Content, "<|separator|>\n\n")
		}
	}
	if add {
		b.WriteString("Assistant:")
	}
}

// renderPanguEmbedded writes an empty system turn when the conversation
// does not start with one.
func renderPanguEmbedded(b *strings.Builder, msgs []Message, add bool) {
	for i, m := range msgs {
		if i == 0 && m.Role != "system" {
			b.WriteString("[unused9]系统：[unused10]")
		}
		var label string
		switch m.Role {
		case "system":
			label = "系统："
		case "user":
			label = "用户："
		case "assistant":
			label = "助手："
		case "tool":
			label = "工具："
		case "function":
			label = "方法："
		default:
			continue
		}
		write(b, "[unused9]", label, m.Content, "[unused10]")
	}
	if add {
		b.WriteString("[unused9]助手：")
	}
}

func renderSolarOpen(b *strings.Builder, msgs []Message, add bool) {
	for _, m := range msgs {
		write(b, "<|begin|>", m.Role, "<|content|>", m.Content, "<|end|>")
	}
	if add {
		b.WriteString("<|begin|>assistant")
	}
}
