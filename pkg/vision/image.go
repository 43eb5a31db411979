package vision

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"

	// The decoders image.Decode knows: llama.cpp's stb_image reads JPEG,
	// PNG, GIF and BMP (and mtmd WebP through ffmpeg).
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/webp"
)

// ErrBadImage is wrapped by the errors of DecodeImage: the data is not an
// image of a supported format, or it is too large.
var ErrBadImage = errors.New("bad image")

// DefaultMaxPixels is the largest image (width × height) DecodeImage
// accepts when no limit is given: 32 megapixels, about 128 MiB while
// decoding.
const DefaultMaxPixels = 32 << 20

// RGB is an 8-bit RGB image, its pixels row-major and interleaved (R, G,
// B), as llama.cpp's clip_image_u8 holds them.
type RGB struct {
	W, H int
	Pix  []uint8 // len 3*W*H
}

// DecodeImage decodes a JPEG, PNG, GIF (its first frame), BMP or WebP image
// into 8-bit RGB, as stb_image does with 3 channels requested: alpha is
// dropped (not composited), grey is replicated, 16-bit samples keep their
// high byte. The dimensions are checked before the pixels are decoded:
// an image of more than maxPixels pixels (DefaultMaxPixels when
// maxPixels <= 0), or of a zero dimension, is an error wrapping
// ErrBadImage, and so is data in no supported format. JPEG pixels may
// differ from stb_image's by a few levels (the two decoders' inverse DCT
// and chroma upsampling differ); the lossless formats decode exactly.
func DecodeImage(data []byte, maxPixels int) (*RGB, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: %s image of %dx%d pixels", ErrBadImage, format, cfg.Width, cfg.Height)
	}
	if cfg.Width > maxPixels/cfg.Height {
		return nil, fmt.Errorf("%w: %s image of %dx%d pixels is larger than the limit of %d pixels",
			ErrBadImage, format, cfg.Width, cfg.Height, maxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadImage, format, err)
	}
	// The decoded image need not have the size its header gave (a GIF's
	// first frame may be empty or lie outside the logical screen), so it
	// is checked again.
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 || b.Dx() > maxPixels/b.Dy() {
		return nil, fmt.Errorf("%w: %s image decodes to %dx%d pixels", ErrBadImage, format, b.Dx(), b.Dy())
	}
	return toRGB(img), nil
}

// toRGB converts img to RGB without alpha, non-premultiplied.
func toRGB(img image.Image) *RGB {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := &RGB{W: w, H: h, Pix: make([]uint8, 3*w*h)}
	p := out.Pix
	switch m := img.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				copy(p[3*(y*w+x):3*(y*w+x)+3], row[4*x:4*x+3])
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				v := row[x]
				p[3*(y*w+x)], p[3*(y*w+x)+1], p[3*(y*w+x)+2] = v, v, v
			}
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := m.YCbCrAt(b.Min.X+x, b.Min.Y+y)
				r, g, bb := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				p[3*(y*w+x)], p[3*(y*w+x)+1], p[3*(y*w+x)+2] = r, g, bb
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var r, g, bb uint8
				switch c := img.At(b.Min.X+x, b.Min.Y+y).(type) {
				case color.NRGBA:
					r, g, bb = c.R, c.G, c.B
				case color.NRGBA64:
					r, g, bb = uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8)
				default:
					n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
					r, g, bb = uint8(n.R>>8), uint8(n.G>>8), uint8(n.B>>8)
				}
				p[3*(y*w+x)], p[3*(y*w+x)+1], p[3*(y*w+x)+2] = r, g, bb
			}
		}
	}
	return out
}
