package chat

import "strings"

// detect recognises a Jinja chat template by substrings characteristic of
// each format, checked in the order llama.cpp's llm_chat_detect_template
// checks them; the order matters, since some templates hold the markers of
// several formats. It returns kindNone when nothing matches.
func detect(src string) kind {
	has := func(s string) bool { return strings.Contains(src, s) }
	all := func(ss ...string) bool {
		for _, s := range ss {
			if !strings.Contains(src, s) {
				return false
			}
		}
		return true
	}
	switch {
	case has("<|im_start|>"):
		switch {
		case has("<|im_sep|>"):
			return kindPhi4
		case has("<end_of_utterance>"):
			// SmolVLM uses <|im_start|> as its BOS but is not chatml.
			return kindSmolVLM
		}
		return kindChatML
	case strings.HasPrefix(src, "mistral") || has("[INST]"):
		return detectINST(src)
	case all("<|assistant|>", "<|end|>"):
		return kindPhi3
	case has("[gMASK]<sop>"):
		return kindChatGLM4
	case all("<|assistant|>", "<|user|>"):
		switch {
		case has("<|tool_declare|>"):
			return kindExaoneMoE
		case has("</s>"):
			return kindFalcon3
		}
		return kindGLMEdge
	case all("<|{{ item['role'] }}|>", "<|begin_of_image|>"):
		return kindGLMEdge
	case all("<|user|>", "<|endoftext|>"):
		return kindZephyr
	case has("bos_token + message['role']"):
		return kindMonarch
	case has("<start_of_turn>"):
		return kindGemma
	case has(`'\n\nAssistant: ' + eos_token`):
		return kindOrion
	case has("GPT4 Correct "):
		return kindOpenChat
	case all("USER: ", "ASSISTANT: "):
		if has("SYSTEM: ") {
			return kindVicunaOrca
		}
		return kindVicuna
	case all("### Instruction:", "<|EOT|>"):
		return kindDeepSeek
	case all("<|START_OF_TURN_TOKEN|>", "<|USER_TOKEN|>"):
		return kindCommandR
	case all("<|start_header_id|>", "<|end_header_id|>"):
		return kindLlama3
	case has("[gMASK]sop"):
		return kindChatGLM3
	case has("<用户>"):
		return kindMiniCPM
	case has("'Assistant: ' + message['content'] + eos_token"):
		return kindDeepSeek2
	case all(deepseekAssistant, deepseekUser, deepseekEOS):
		return kindDeepSeek3
	case all("[|system|]", "[|assistant|]", "[|endofturn|]"):
		if has("[|tool|]") {
			return kindExaone4
		}
		return kindExaone3
	case has("rwkv-world") || has(`{{- 'User: ' + message['content']|trim + '\n\n' -}}`):
		return kindRWKVWorld
	case has("<|start_of_role|>"):
		switch {
		case !has("<tool_call>") && !has("<tools>"):
			return kindGranite
		case has("g4_default_system_message"):
			return kindGranite40
		}
		return kindGranite41
	case has("message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]"):
		return kindGigaChat
	case has("<|role_start|>"):
		return kindMegrez
	case has(" Ассистент:"):
		return kindYandex
	case all("<role>ASSISTANT</role>", "'HUMAN'"):
		return kindBailing
	case all("<role>ASSISTANT</role>", `"HUMAN"`, "<think>"):
		return kindBailingThink
	case all("<role>ASSISTANT</role>", "<role>HUMAN</role>", "<|role_end|>"):
		return kindBailing2
	case all("<|header_start|>", "<|header_end|>"):
		return kindLlama4
	case has("<|endofuserprompt|>"):
		return kindDots1
	case all("<|extra_0|>", "<|extra_4|>"):
		return kindHunyuanMoE
	case all("<|start|>", "<|channel|>"):
		return kindGPTOSS
	case all(hunyuanAssistant, hunyuanBOS):
		return kindHunyuanVL
	case all(hunyuanAssistant, hunyuanHolder3):
		return kindHunyuanDense
	case has("<|im_assistant|>assistant<|im_middle|>"):
		return kindKimiK2
	case has("<seed:bos>"):
		return kindSeedOSS
	case has("'Assistant: '  + message['content'] + '<|separator|>"):
		return kindGrok2
	case has("[unused9]系统：[unused10]"):
		return kindPanguEmbedded
	case all("<|begin|>", "<|end|>", "<|content|>"):
		return kindSolarOpen
	}
	return kindNone
}

// detectINST tells apart the formats built on [INST] markers: Mistral's
// official v1, v3, v3-tekken and v7 templates, and Llama 2 with its
// variants.
func detectINST(src string) kind {
	has := func(s string) bool { return strings.Contains(src, s) }
	switch {
	case has("[SYSTEM_PROMPT]"):
		return kindMistralV7
	case has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]"):
		// Mistral's official v1 template, or v3 / v3-tekken.
		switch {
		case has(" [INST]"):
			return kindMistralV1
		case has(`"[INST]"`):
			return kindMistralV3Tekken
		}
		return kindMistralV3
	case has("content.strip()"):
		return kindLlama2SysStrip
	case has("bos_token + '[INST]"):
		return kindLlama2SysBOS
	case has("<<SYS>>"):
		return kindLlama2Sys
	}
	return kindLlama2
}
