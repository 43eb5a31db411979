package vision

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"

	"github.com/llamafile-go/llamafile/internal/synthvision"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

func encode(t *testing.T, img image.Image, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "gif":
		err = gif.Encode(&buf, img, nil)
	case "bmp":
		err = bmp.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100})
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// emptyFrameGIF is a GIF whose logical screen is 4×4 and whose first frame
// is 0×0, its LZW data a clear code and an end code.
const emptyFrameGIF = "GIF89a\x04\x00\x04\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x01\x2c\x00;"

func TestDecodeImage(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			src.Pix[src.PixOffset(x, y)+3] = uint8(40 * (x + y)) // alpha is dropped, not composited
		}
	}
	gray := image.NewGray(image.Rect(0, 0, 2, 2))
	copy(gray.Pix, []uint8{0, 50, 100, 250})
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.RGBA{10, 20, 30, 255}, color.RGBA{200, 100, 50, 255}})
	pal.Pix[1] = 1
	opaque := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	for i := range opaque.Pix {
		opaque.Pix[i] = uint8(i * 9)
		if i%4 == 3 {
			opaque.Pix[i] = 255
		}
	}
	rgbOf := func(img *image.NRGBA) []uint8 {
		var out []uint8
		for i := 0; i < len(img.Pix); i += 4 {
			out = append(out, img.Pix[i:i+3]...)
		}
		return out
	}
	tests := []struct {
		name    string
		data    []byte
		max     int
		want    []uint8 // nil: only the size is checked
		w, h    int
		wantErr string
	}{
		{name: "png rgba", data: encode(t, src, "png"), w: 5, h: 3, want: rgbOf(src)},
		{name: "png gray", data: encode(t, gray, "png"), w: 2, h: 2, want: []uint8{0, 0, 0, 50, 50, 50, 100, 100, 100, 250, 250, 250}},
		{name: "gif", data: encode(t, pal, "gif"), w: 2, h: 1, want: []uint8{10, 20, 30, 200, 100, 50}},
		{name: "bmp", data: encode(t, opaque, "bmp"), w: 4, h: 2, want: rgbOf(opaque)},
		{name: "jpeg", data: encode(t, opaque, "jpeg"), w: 4, h: 2},
		{name: "too large", data: encode(t, src, "png"), max: 14, wantErr: "larger than the limit of 14 pixels"},
		{name: "not an image", data: []byte("hello, world"), wantErr: "unknown format"},
		{name: "empty", data: nil, wantErr: "unknown format"},
		{name: "truncated png", data: encode(t, src, "png")[:60], wantErr: "bad image: png"},
		// A 4×4 logical screen whose only frame is 0×0: the header's size
		// is not the decoded image's (found by FuzzDecodeImage).
		{name: "gif empty frame", data: []byte(emptyFrameGIF), wantErr: "gif image decodes to 0x0 pixels"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := DecodeImage(tc.data, tc.max)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrBadImage) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrBadImage with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if img.W != tc.w || img.H != tc.h || len(img.Pix) != 3*tc.w*tc.h {
				t.Fatalf("got %dx%d (%d bytes), want %dx%d", img.W, img.H, len(img.Pix), tc.w, tc.h)
			}
			if tc.want != nil && !bytes.Equal(img.Pix, tc.want) {
				t.Errorf("pixels %v, want %v", img.Pix, tc.want)
			}
		})
	}
}

func TestResize(t *testing.T) {
	src := &RGB{W: 4, H: 2, Pix: bytes.Repeat([]uint8{200, 100, 50}, 8)}
	tests := []struct {
		name  string
		w, h  int
		style PadStyle
		check func(t *testing.T, r *RGB)
	}{
		{"same size copies", 4, 2, PadCeil, func(t *testing.T, r *RGB) {
			if !bytes.Equal(r.Pix, src.Pix) {
				t.Errorf("pixels changed")
			}
		}},
		{"pad to square", 8, 8, PadCeil, func(t *testing.T, r *RGB) {
			// 4x2 scales to 8x4, centred: rows 0-1 and 6-7 are padding.
			if got := r.Pix[:3]; !bytes.Equal(got, []uint8{1, 2, 3}) {
				t.Errorf("corner %v, want the pad colour", got)
			}
			if got := r.Pix[3*(3*8+3) : 3*(3*8+3)+3]; !bytes.Equal(got, []uint8{200, 100, 50}) {
				t.Errorf("centre %v, want the image's colour", got)
			}
		}},
		{"stretch", 3, 3, PadNone, func(t *testing.T, r *RGB) {
			if !bytes.Equal(r.Pix, bytes.Repeat([]uint8{200, 100, 50}, 9)) {
				t.Errorf("a flat image resampled to %v", r.Pix)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Resize(src, tc.w, tc.h, Bicubic, tc.style, [3]uint8{1, 2, 3})
			if err != nil {
				t.Fatal(err)
			}
			if r.W != tc.w || r.H != tc.h {
				t.Fatalf("%dx%d, want %dx%d", r.W, r.H, tc.w, tc.h)
			}
			tc.check(t, r)
		})
	}
	if _, err := Resize(&RGB{W: 2, H: 2}, 4, 4, Bicubic, PadCeil, [3]uint8{}); err == nil {
		t.Error("Resize of an image without pixels: no error")
	}
}

// writeMMProj writes a synthetic mmproj with its metadata edited by edit.
func writeMMProj(t *testing.T, edit func(kv []gguf.KV) []gguf.KV) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mmproj.gguf")
	if err := synthvision.WriteFile(path, synthvision.Small(), 1); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kv := edit(append([]gguf.KV(nil), f.KV...))
	out := filepath.Join(t.TempDir(), "edited.gguf")
	var buf bytes.Buffer
	if err := gguf.Write(&buf, kv, f.Tensors, func(i int) ([]byte, error) { return f.TensorData(&f.Tensors[i]), nil }); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(out, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	return out
}

func setKV(kv []gguf.KV, key string, v any) []gguf.KV {
	val := gguf.MustValueOf(v)
	for i := range kv {
		if kv[i].Key == key {
			kv[i].Value = val
			return kv
		}
	}
	return append(kv, gguf.KV{Key: key, Value: val})
}

func dropKV(kv []gguf.KV, key string) []gguf.KV {
	out := kv[:0]
	for _, e := range kv {
		if e.Key != key {
			out = append(out, e)
		}
	}
	return out
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func([]gguf.KV) []gguf.KV
		is      error
		wantErr string
	}{
		{"ok", func(kv []gguf.KV) []gguf.KV { return kv }, nil, ""},
		{"unknown projector", func(kv []gguf.KV) []gguf.KV { return setKV(kv, "clip.projector_type", "resampler") }, ErrUnsupported, `projector type "resampler"`},
		{"no embedding length", func(kv []gguf.KV) []gguf.KV { return dropKV(kv, "clip.vision.embedding_length") }, ErrNotVision, "clip.vision.embedding_length"},
		{"heads do not divide", func(kv []gguf.KV) []gguf.KV { return setKV(kv, "clip.vision.attention.head_count", uint32(3)) }, nil, "bad hyperparameters"},
		{"pinpoints", func(kv []gguf.KV) []gguf.KV {
			return setKV(kv, "clip.vision.image_grid_pinpoints", []int32{336, 672})
		}, ErrUnsupported, "image_grid_pinpoints"},
		{"wrong patch size", func(kv []gguf.KV) []gguf.KV { return setKV(kv, "clip.vision.patch_size", uint32(16)) }, ErrTensor, "v.patch_embd.weight"},
		{"not vision", func(kv []gguf.KV) []gguf.KV { return setKV(kv, "clip.has_vision_encoder", false) }, ErrNotVision, "has_vision_encoder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeMMProj(t, tc.edit)
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			e, err := Load(f, "mmproj.gguf")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if e.P.Tokens != 64 || e.P.OutEmbd != 256 || e.runLayers != 2 {
					t.Errorf("tokens %d, out %d, layers run %d", e.P.Tokens, e.P.OutEmbd, e.runLayers)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "mmproj.gguf") ||
				tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v with %q naming the file", err, tc.is, tc.wantErr)
			}
		})
	}
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }
