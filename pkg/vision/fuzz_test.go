package vision

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"testing"
)

// FuzzDecodeImage feeds DecodeImage arbitrary bytes, seeded with small
// images of each format the standard library writes and with headers that
// claim huge sizes: it must return an image of the size it says, or an
// error wrapping ErrBadImage; and an image it returns must go through
// Resize and Normalize. The pixel limit is small, so that a header claiming
// a large image is refused before any pixel is decoded; decoding allocates
// at most 2 MiB and 16 bytes a pixel of the limit.
func FuzzDecodeImage(f *testing.F) {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 37)
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	f.Add(bytes.Clone(buf.Bytes()))
	buf.Reset()
	jpeg.Encode(&buf, img, nil)
	f.Add(bytes.Clone(buf.Bytes()))
	buf.Reset()
	pal := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})
	gif.Encode(&buf, pal, nil)
	f.Add(bytes.Clone(buf.Bytes()))
	// A BMP header claiming 65535×65535 pixels, and PNG's claiming 2^31.
	f.Add([]byte("BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\xff\xff\x00\x00\xff\xff\x00\x00\x01\x00\x18\x00\x00\x00\x00\x00"))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x7f\xff\xff\xff\x7f\xff\xff\xff\x08\x02\x00\x00\x00"))
	f.Add([]byte(emptyFrameGIF))
	f.Add([]byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxPixels = 1 << 16
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		rgb, err := DecodeImage(data, maxPixels)
		runtime.ReadMemStats(&ms1)
		if grew, ceiling := ms1.TotalAlloc-ms0.TotalAlloc, uint64(2<<20+16*maxPixels); grew > ceiling {
			t.Fatalf("decoding %d bytes allocated %d bytes (ceiling %d): %v", len(data), grew, ceiling, err)
		}
		if err != nil {
			if !errors.Is(err, ErrBadImage) {
				t.Fatalf("error %v does not wrap ErrBadImage", err)
			}
			return
		}
		if rgb.W <= 0 || rgb.H <= 0 || rgb.W*rgb.H > maxPixels || len(rgb.Pix) != 3*rgb.W*rgb.H {
			t.Fatalf("image %dx%d with %d bytes (limit %d pixels)", rgb.W, rgb.H, len(rgb.Pix), maxPixels)
		}
		out, err := Resize(rgb, 14, 14, Bicubic, PadCeil, [3]uint8{122, 116, 104})
		if err != nil {
			t.Fatalf("Resize of a decoded %dx%d image: %v", rgb.W, rgb.H, err)
		}
		if n := len(Normalize(out, [3]float32{0.5, 0.5, 0.5}, [3]float32{0.5, 0.5, 0.5})); n != 3*14*14 {
			t.Fatalf("Normalize: %d values", n)
		}
	})
}
