package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/vision"
)

// VisionBackend is a Backend that reads images (a model served with its
// vision projector, --mmproj); /props reports "vision": true for it.
type VisionBackend interface {
	Vision() bool
	// EncodeImage decodes and encodes an image file's bytes.
	EncodeImage(ctx context.Context, data []byte) (*engine.Image, error)
	// TokenizeMedia tokenizes a prompt in which each engine.MediaMarker
	// stands for the next image, as llama.cpp's mtmd does.
	TokenizeMedia(text string, images []*engine.Image) (engine.Prompt, error)
}

// Vision reports whether the Engine has a vision projector.
func (e *Engine) Vision() bool { return e.Projector != nil }

// EncodeImage encodes an image with the Engine's projector.
func (e *Engine) EncodeImage(ctx context.Context, data []byte) (*engine.Image, error) {
	if e.Projector == nil {
		return nil, errors.New("no vision projector")
	}
	return e.Projector.EncodeImage(ctx, data, 0)
}

// TokenizeMedia tokenizes a prompt with images, BOS added.
func (e *Engine) TokenizeMedia(text string, images []*engine.Image) (engine.Prompt, error) {
	return e.Model.TokenizeMedia(text, images, true, true)
}

// hasVision reports whether the backend reads images.
func (s *Server) hasVision() bool {
	vb, ok := s.backend().(VisionBackend)
	return ok && vb.Vision()
}

// imageInput is an image of a request, with the field that gave it.
type imageInput struct {
	field string
	data  []byte
}

// dataURL decodes a data: URL's base64 payload. Other URLs are refused:
// the server never fetches anything.
func dataURL(field, u string) ([]byte, error) {
	if !strings.HasPrefix(u, "data:") {
		return nil, badField(field, "only data: URLs (base64 image bytes) are accepted; the server does not fetch %.40q", u)
	}
	head, payload, ok := strings.Cut(u, ",")
	if !ok || !strings.HasSuffix(head, ";base64") {
		return nil, badField(field, "a data: URL must be base64 (data:image/png;base64,...)")
	}
	b, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, badField(field, "bad base64: %v", err)
	}
	return b, nil
}

// chatContent reads a chat message's content as textContent does, with
// "image_url" parts too: each becomes engine.MediaMarker in the text,
// its image appended to imgs. Parts are joined as llama-server joins
// them (concat_content_parts): text parts with a newline between them,
// none before or after a marker.
func chatContent(field string, raw json.RawMessage, imgs *[]imageInput) (string, error) {
	var parts []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		ImageURL *struct {
			URL string `json:"url"`
		} `json:"image_url"`
	}
	if absent(raw) || raw[0] != '[' || json.Unmarshal(raw, &parts) != nil {
		return textContent(field, raw, "text", "input_text")
	}
	var b strings.Builder
	afterMarker := false
	for i, p := range parts {
		pf := fmt.Sprintf("%s[%d]", field, i)
		switch p.Type {
		case "text", "input_text":
			if b.Len() > 0 && !afterMarker {
				b.WriteString("\n")
			}
			b.WriteString(p.Text)
			afterMarker = false
		case "image_url":
			if p.ImageURL == nil {
				return "", badField(pf+".image_url", "missing")
			}
			data, err := dataURL(pf+".image_url.url", p.ImageURL.URL)
			if err != nil {
				return "", err
			}
			*imgs = append(*imgs, imageInput{field: pf + ".image_url.url", data: data})
			b.WriteString(engine.MediaMarker)
			afterMarker = true
		default:
			return "", badField(pf+".type", "content of type %q is not supported (text, image_url)", p.Type)
		}
	}
	return b.String(), nil
}

// errNoProjector is the 400 of an image sent to a model served without
// a projector.
func errNoProjector(img imageInput) error {
	return badField(img.field, "the request has an image, but this model has no vision projector: start the server with --mmproj FILE")
}

// mediaPrompt encodes imgs and tokenizes prompt around them; an error
// (a 400) when the model has no projector or an image is bad.
func (s *Server) mediaPrompt(ctx context.Context, prompt string, imgs []imageInput) (engine.Prompt, error) {
	vb, ok := s.backend().(VisionBackend)
	if !ok || !vb.Vision() {
		return engine.Prompt{}, errNoProjector(imgs[0])
	}
	enc := make([]*engine.Image, len(imgs))
	for i, im := range imgs {
		img, err := vb.EncodeImage(ctx, im.data)
		if errors.Is(err, vision.ErrBadImage) {
			return engine.Prompt{}, badField(im.field, "%v", err)
		}
		if err != nil {
			return engine.Prompt{}, &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: fmt.Sprintf("encoding the image of %s: %v", im.field, err)}
		}
		enc[i] = img
	}
	pr, err := vb.TokenizeMedia(prompt, enc)
	if err != nil {
		return engine.Prompt{}, badRequest("%v", err)
	}
	return pr, nil
}

// completionRequests reads /completion's prompt: the shapes of
// promptRequests, and llama.cpp's multimodal prompt
// {"prompt_string": "...", "multimodal_data": ["base64", ...]}, alone or
// as elements of a list of prompts, whose images go where its string has
// engine.MediaMarker, in order.
func (s *Server) completionRequests(ctx context.Context, g *genParams, raw json.RawMessage) ([]*engine.Request, error) {
	raw = trimJSON(raw)
	if len(raw) > 0 && raw[0] == '{' {
		req, err := s.multimodalRequest(ctx, g, "prompt", raw)
		if err != nil {
			return nil, err
		}
		return []*engine.Request{req}, nil
	}
	var parts []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &parts) != nil || !anyObject(parts) {
		return s.promptRequests(g, raw)
	}
	if err := checkPrompts("prompt", len(parts)); err != nil {
		return nil, err
	}
	reqs := make([]*engine.Request, len(parts))
	for i, p := range parts {
		field := fmt.Sprintf("prompt[%d]", i)
		var err error
		if p = trimJSON(p); len(p) > 0 && p[0] == '{' {
			reqs[i], err = s.multimodalRequest(ctx, g, field, p)
		} else {
			var toks []int32
			if toks, err = s.tokensOrText(field, p, true); err == nil {
				reqs[i], err = s.request(g, toks)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return reqs, nil
}

func trimJSON(raw json.RawMessage) json.RawMessage {
	return json.RawMessage(strings.TrimLeft(string(raw), " \t\r\n"))
}

func anyObject(parts []json.RawMessage) bool {
	for _, p := range parts {
		if p = trimJSON(p); len(p) > 0 && p[0] == '{' {
			return true
		}
	}
	return false
}

// multimodalRequest reads one multimodal prompt object (field names it):
// 400s for a projector-less model, a marker count other than the images',
// bad base64 and bad images, as for chat's image_url parts.
func (s *Server) multimodalRequest(ctx context.Context, g *genParams, field string, raw json.RawMessage) (*engine.Request, error) {
	var mp struct {
		PromptString   *string         `json:"prompt_string"`
		MultimodalData json.RawMessage `json:"multimodal_data"`
	}
	if err := json.Unmarshal(raw, &mp); err != nil {
		return nil, badField(field, "a multimodal prompt is {\"prompt_string\": \"...\", \"multimodal_data\": [\"base64\", ...]}: %v", err)
	}
	if mp.PromptString == nil {
		return nil, badField(field+".prompt_string", "missing")
	}
	var data []string
	if !absent(mp.MultimodalData) {
		if err := json.Unmarshal(mp.MultimodalData, &data); err != nil {
			return nil, badField(field+".multimodal_data", "expected a list of base64 strings")
		}
	}
	if n := strings.Count(*mp.PromptString, engine.MediaMarker); n != len(data) {
		return nil, badField(field+".multimodal_data", "%s, but the prompt_string has %s: each image goes where a marker is", plural(len(data), "image"), plural(n, engine.MediaMarker+" marker"))
	}
	if len(data) == 0 {
		return s.request(g, s.backend().Tokenize(*mp.PromptString, true, true))
	}
	imgs := make([]imageInput, len(data))
	for i, d := range data {
		f := fmt.Sprintf("%s.multimodal_data[%d]", field, i)
		var b []byte
		var err error
		if strings.HasPrefix(d, "data:") {
			b, err = dataURL(f, d)
		} else if b, err = base64.StdEncoding.DecodeString(d); err != nil {
			err = badField(f, "bad base64: %v", err)
		}
		if err != nil {
			return nil, err
		}
		imgs[i] = imageInput{field: f, data: b}
	}
	pr, err := s.mediaPrompt(ctx, *mp.PromptString, imgs)
	if err != nil {
		return nil, err
	}
	req, err := s.request(g, pr.Tokens)
	if err != nil {
		return nil, err
	}
	req.Media = pr.Media
	return req, nil
}

// promptText is the text of a request's prompt, each image as
// engine.MediaMarker.
func (s *Server) promptText(req *engine.Request) string {
	if len(req.Media) == 0 {
		return s.backend().Detokenize(req.Prompt)
	}
	var b strings.Builder
	toks := req.Prompt
	for i := 0; i < len(toks); {
		j := i + 1
		if engine.IsMediaToken(toks[i]) {
			b.WriteString(engine.MediaMarker)
			for j < len(toks) && engine.IsMediaToken(toks[j]) && !startsSpan(req.Media, j) {
				j++
			}
		} else {
			for j < len(toks) && !engine.IsMediaToken(toks[j]) {
				j++
			}
			b.WriteString(s.backend().Detokenize(toks[i:j]))
		}
		i = j
	}
	return b.String()
}

func startsSpan(media []engine.MediaSpan, pos int) bool {
	for _, sp := range media {
		if sp.Pos == pos {
			return true
		}
	}
	return false
}

// plural is "1 image", "2 images".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
