package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/vision"
)

// maxImageFile bounds an --image file's size, so that a wrong path (a
// disk image, say) fails at once rather than after reading gigabytes.
const maxImageFile = 64 << 20

// readImages reads the --image files (before the model loads and the
// sandbox closes the file system). Images need --mmproj.
func readImages(o *options) ([][]byte, error) {
	if len(o.images) == 0 {
		return nil, nil
	}
	if o.mmproj == "" {
		return nil, usageError{fmt.Errorf("--image %s: images need the model's vision projector: add --mmproj FILE", o.images[0])}
	}
	out := make([][]byte, len(o.images))
	for i, name := range o.images {
		st, err := os.Stat(name)
		if err != nil {
			return nil, fmt.Errorf("--image %s: %w", name, err)
		}
		if st.Size() > maxImageFile {
			return nil, fmt.Errorf("--image %s: %d bytes, more than the %d MiB an image file may have", name, st.Size(), maxImageFile>>20)
		}
		if out[i], err = os.ReadFile(name); err != nil {
			return nil, fmt.Errorf("--image %s: %w", name, err)
		}
	}
	return out, nil
}

// openVisionProjector opens --mmproj (a file, or a NAME in the
// llamafile's zip) and checks that it fits m.
func openVisionProjector(o *options, self *engine.Bundle, m *engine.Model) (*engine.Projector, error) {
	p, err := self.OpenProjector(o.mmproj, o.threads)
	if err != nil {
		return nil, err
	}
	if err := p.Check(m); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// imagePrompt encodes the images and tokenizes the prompt around them:
// each goes where the prompt says <__image__> or <__media__>, in order,
// else they all go before its text, as llama-mtmd-cli puts them.
func imagePrompt(ctx context.Context, o *options, p *engine.Projector, m *engine.Model, prompt string, data [][]byte) (engine.Prompt, error) {
	imgs := make([]*engine.Image, len(data))
	for i, b := range data {
		img, err := p.EncodeImage(ctx, b, 0)
		if errors.Is(err, vision.ErrBadImage) {
			return engine.Prompt{}, fmt.Errorf("--image %s: %w", o.images[i], err)
		}
		if err != nil {
			return engine.Prompt{}, fmt.Errorf("--image %s: encoding: %w", o.images[i], err)
		}
		imgs[i] = img
	}
	text := strings.ReplaceAll(prompt, engine.ImageMarker, engine.MediaMarker)
	n := strings.Count(text, engine.MediaMarker)
	switch {
	case n == 0:
		text = strings.Repeat(engine.MediaMarker, len(imgs)) + text
	case n != len(imgs):
		return engine.Prompt{}, usageError{fmt.Errorf("-p: the prompt has %d image markers (%s or %s) for %d --image files", n, engine.ImageMarker, engine.MediaMarker, len(imgs))}
	}
	pr, err := m.TokenizeMedia(text, imgs, true, true)
	if err != nil {
		return engine.Prompt{}, err
	}
	return pr, nil
}
