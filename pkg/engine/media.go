package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
)

// MediaMarker is the text that stands for an image in a prompt, as
// llama.cpp's mtmd writes it (mtmd_default_marker).
const MediaMarker = "<__media__>"

// ImageMarker is the original llamafile's marker for an image in a
// prompt; the command line takes it as MediaMarker.
const ImageMarker = "<__image__>"

// Image is an image encoded for a prompt: one row of input embeddings a
// position, and the hash that tells it from other images in caches.
type Image struct {
	Embd []float32 // Rows rows of the model's width
	Rows int
	Hash [32]byte // SHA-256 of the image file's bytes
}

// MediaSpan is a run of prompt positions whose inputs are embeddings (an
// image's) in place of tokens' embeddings.
type MediaSpan struct {
	Pos  int       // the first position: an index into the prompt's tokens
	Embd []float32 // one row of the model's width a position
}

// Prompt is a prompt of tokens and images. Tokens holds an id for every
// position; an image's positions hold MediaTokens, placeholders (negative,
// outside every vocabulary) derived from the image's hash, so that the
// longest common prefix of two prompts, as the prompt cache and slot
// reuse compute it, runs through an image only when it is the same one.
type Prompt struct {
	Tokens []int32
	Media  []MediaSpan
}

// AddTokens appends text tokens.
func (p *Prompt) AddTokens(t ...int32) { p.Tokens = append(p.Tokens, t...) }

// AddImage appends an image's positions.
func (p *Prompt) AddImage(img *Image) {
	p.Media = append(p.Media, MediaSpan{Pos: len(p.Tokens), Embd: img.Embd})
	p.Tokens = append(p.Tokens, MediaTokens(img.Hash, img.Rows)...)
}

// IsMediaToken reports whether id is an image position's placeholder.
func IsMediaToken(id int32) bool { return id < 0 }

// MediaTokens returns the placeholders of the n positions of an image
// whose hash is hash: -1 - (a 31-bit mix of the hash and the position).
func MediaTokens(hash [32]byte, n int) []int32 {
	h := binary.LittleEndian.Uint64(hash[:8])
	out := make([]int32, n)
	for i := range out {
		x := h + uint64(i)*0x9e3779b97f4a7c15
		x ^= x >> 30
		x *= 0xbf58476d1ce4e5b9
		x ^= x >> 27
		x *= 0x94d049bb133111eb
		x ^= x >> 31
		out[i] = -1 - int32(x>>33)
	}
	return out
}

// mediaRow returns the input embedding of prompt position pos: the row of
// the span that holds it, or nil.
func mediaRow(media []MediaSpan, pos, width int) []float32 {
	for _, sp := range media {
		if pos >= sp.Pos && pos < sp.Pos+len(sp.Embd)/width {
			k := pos - sp.Pos
			return sp.Embd[k*width : (k+1)*width]
		}
	}
	return nil
}

// checkMedia checks that every placeholder of tokens has an embedding row
// in media, and the model takes them.
func (m *Model) checkMedia(tokens []int32, media []MediaSpan) error {
	if len(media) == 0 {
		return nil
	}
	if m.m == nil || !m.m.TakesEmbeddings() {
		return fmt.Errorf("engine: the model's architecture %s does not take image embeddings", m.arch)
	}
	d := m.m.Params.Embd
	for i, sp := range media {
		if len(sp.Embd) == 0 || len(sp.Embd)%d != 0 {
			return fmt.Errorf("engine: image %d: %d embedding values are not rows of the model's width %d (is the projector made for this model?)", i, len(sp.Embd), d)
		}
		if sp.Pos < 0 || sp.Pos+len(sp.Embd)/d > len(tokens) {
			return fmt.Errorf("engine: image %d: positions %d to %d are outside the prompt's %d", i, sp.Pos, sp.Pos+len(sp.Embd)/d, len(tokens))
		}
	}
	for i, t := range tokens {
		if IsMediaToken(t) && mediaRow(media, i, d) == nil {
			return fmt.Errorf("engine: prompt position %d holds an image placeholder but no image covers it", i)
		}
	}
	return nil
}

// TokenizeMedia tokenizes text in which every MediaMarker stands for the
// next of images, as llama.cpp's mtmd_tokenize does: the text between
// markers is tokenized without special tokens (parseSpecial as given),
// and with addSpecial the model's BOS starts the whole prompt. The
// number of markers must be the number of images.
func (m *Model) TokenizeMedia(text string, images []*Image, addSpecial, parseSpecial bool) (Prompt, error) {
	var p Prompt
	parts := strings.Split(text, MediaMarker)
	if len(parts)-1 != len(images) {
		return p, fmt.Errorf("engine: the prompt has %d image markers (%s) for %d images", len(parts)-1, MediaMarker, len(images))
	}
	if addSpecial && m.tok.AddBOS() {
		p.AddTokens(m.tok.BOS())
	}
	for i, part := range parts {
		if part != "" {
			p.AddTokens(m.tok.Encode(part, false, parseSpecial)...)
		}
		if i < len(images) {
			p.AddImage(images[i])
		}
	}
	if addSpecial && m.tok.AddEOS() {
		p.AddTokens(m.tok.EOS())
	}
	return p, nil
}

// EvalPrompt evaluates the positions of p from from on (the cache must
// hold from positions: Pos() == from, a prefix of p reused) and computes
// the last one's logits, as EvalLastContext does for tokens: text runs as
// tokens, image runs as input embeddings. When ctx ends it early, the
// passes completed stay in the cache.
func (c *Context) EvalPrompt(ctx context.Context, p Prompt, from int) error {
	if from != len(c.tokens) || from > len(p.Tokens) {
		return fmt.Errorf("engine: EvalPrompt from position %d: the cache holds %d positions", from, len(c.tokens))
	}
	if err := c.m.checkMedia(p.Tokens, p.Media); err != nil {
		return err
	}
	d := c.m.m.Params.Embd
	toks := p.Tokens
	for i := from; i < len(toks); {
		j := i
		if !IsMediaToken(toks[i]) {
			for j < len(toks) && !IsMediaToken(toks[j]) {
				j++
			}
			if err := c.eval(ctx, toks[i:j], true); err != nil {
				return err
			}
			i = j
			continue
		}
		// One image's run: rows from the same span, consecutive.
		row := mediaRow(p.Media, i, d)
		for j < len(toks) && IsMediaToken(toks[j]) && mediaRow(p.Media, j, d) != nil && sameRun(p.Media, i, j, d) {
			j++
		}
		embd := row[:0:0]
		for k := i; k < j; k++ {
			embd = append(embd, mediaRow(p.Media, k, d)...)
		}
		if err := c.st.EvalEmbd(ctx, embd, i, j == len(toks)); err != nil {
			if n := c.st.Pos() - i; n > 0 && n <= j-i {
				c.tokens = append(c.tokens, toks[i:i+n]...)
			} else {
				c.tokens = c.tokens[:min(len(c.tokens), c.st.Pos())]
			}
			return fmt.Errorf("engine: %w", err)
		}
		c.tokens = append(c.tokens, toks[i:j]...)
		i = j
	}
	return nil
}

// sameRun reports whether positions i and j are in the same span.
func sameRun(media []MediaSpan, i, j, width int) bool {
	for _, sp := range media {
		in := func(p int) bool { return p >= sp.Pos && p < sp.Pos+len(sp.Embd)/width }
		if in(i) {
			return in(j)
		}
	}
	return false
}
