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
// its image appended to imgs.
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
	for i, p := range parts {
		pf := fmt.Sprintf("%s[%d]", field, i)
		switch p.Type {
		case "text", "input_text":
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(p.Text)
		case "image_url":
			if p.ImageURL == nil {
				return "", badField(pf+".image_url", "missing")
			}
			data, err := dataURL(pf+".image_url.url", p.ImageURL.URL)
			if err != nil {
				return "", err
			}
			*imgs = append(*imgs, imageInput{field: pf + ".image_url.url", data: data})
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(engine.MediaMarker)
		default:
			return "", badField(pf+".type", "content of type %q is not supported (text, image_url)", p.Type)
		}
	}
	return b.String(), nil
}

// mediaPrompt encodes imgs and tokenizes prompt around them; an error
// (a 400) when the model has no projector or an image is bad.
func (s *Server) mediaPrompt(ctx context.Context, prompt string, imgs []imageInput) (engine.Prompt, error) {
	vb, ok := s.backend().(VisionBackend)
	if !ok || !vb.Vision() {
		return engine.Prompt{}, badField(imgs[0].field, "the request has an image, but this model has no vision projector: start the server with --mmproj FILE")
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
