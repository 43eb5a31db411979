package vision

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"
)

// pngHeader is a PNG signature and IHDR chunk for a w×h 8-bit RGB image,
// followed by an IDAT chunk of idat (no IEND).
func pngHeader(w, h uint32, idat []byte) []byte {
	chunk := func(b []byte, typ string, data []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		b = append(b, typ...)
		b = append(b, data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	b := chunk([]byte("\x89PNG\r\n\x1a\n"), "IHDR", ihdr)
	if idat != nil {
		b = chunk(b, "IDAT", idat)
	}
	return b
}

// bmpHeader is a 24-bit BMP header for a w×h image, with no pixels.
func bmpHeader(w, h int32) []byte {
	b := []byte("BM")
	b = binary.LittleEndian.AppendUint32(b, 54)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 54)
	b = binary.LittleEndian.AppendUint32(b, 40)
	b = binary.LittleEndian.AppendUint32(b, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, uint32(h))
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 24)
	return append(b, make([]byte, 24)...)
}

// gifHeader is a GIF whose logical screen and first frame are w×h, with
// one LZW code of pixels.
func gifHeader(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = append(b, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, ',')
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 2, 2, 0x44, 0x01, 0, ';')
}

// jpegHeader is a baseline JPEG's SOI, JFIF APP0 and SOF0 for a w×h
// three-component image, and nothing after.
func jpegHeader(w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	b = append(b, 0xff, 0xc0, 0, 17, 8)
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	return append(b, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0)
}

// webpVP8L is a lossless WebP header for a w×h image (each at most 16384).
func webpVP8L(w, h uint32) []byte {
	bits := (w - 1) | (h-1)<<14
	data := append([]byte{0x2f}, binary.LittleEndian.AppendUint32(nil, bits)...)
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+8+len(data)))
	b = append(b, "WEBPVP8L"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// webpVP8X is an extended WebP header whose canvas is w×h (each at most
// 2^24), and no image.
func webpVP8X(w, h uint32) []byte {
	data := []byte{0, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16), byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+8+len(data)))
	b = append(b, "WEBPVP8X"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// TestAdversarialAllocations: images whose headers claim gigantic sizes are
// refused, naming the size and the limit, before anything their size is
// allocated; headers claiming as much as the limit allows, with no pixels
// after them, cost what those pixels would and no more.
func TestAdversarialAllocations(t *testing.T) {
	const maxPixels = 1 << 20
	for _, tc := range []struct {
		name string
		data []byte
		says string // "": decodes; else what its error says
		// ceiling on the bytes allocated
		ceiling uint64
	}{
		{"PNG of 2^31×2^31", pngHeader(1<<31-1, 1<<31-1, nil), "", 1 << 20},
		{"PNG of 65535×65535", pngHeader(65535, 65535, nil), "65535x65535 pixels is larger than the limit of 1048576", 1 << 20},
		{"BMP of 2^31×2^31", bmpHeader(1<<31-1, 1<<31-1), "", 1 << 20},
		{"BMP of 65535×65535", bmpHeader(65535, 65535), "65535x65535 pixels is larger than the limit", 1 << 20},
		{"GIF of 65535×65535", gifHeader(65535, 65535), "65535x65535 pixels is larger than the limit", 1 << 20},
		{"JPEG of 65535×65535", jpegHeader(65535, 65535), "65535x65535 pixels is larger than the limit", 1 << 20},
		{"WebP of 16384×16384", webpVP8L(16384, 16384), "16384x16384 pixels is larger than the limit", 1 << 20},
		{"WebP canvas of 40000×40000", webpVP8X(40000, 40000), "40000x40000 pixels is larger than the limit", 1 << 20},
		{"WebP canvas of 2^24×2^24", webpVP8X(1<<24, 1<<24), "", 1 << 20},
		// At the limit: the decoder may allocate the image (4 bytes a
		// pixel) and a row or two, never more.
		{"PNG of 1024×1024, no pixels", pngHeader(1024, 1024, []byte{0x78, 0x9c}), "not enough pixel data", 6 * maxPixels},
		{"GIF of 1024×1024, one code", gifHeader(1024, 1024), "", 6 * maxPixels},
		{"JPEG of 1024×1024, no scan", jpegHeader(1024, 1024), "", 6 * maxPixels},
		{"BMP of 1024×1024, no pixels", bmpHeader(1024, 1024), "", 6 * maxPixels},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			var a, b runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&a)
			_, err = DecodeImage(tc.data, maxPixels)
			runtime.ReadMemStats(&b)
			grew := b.TotalAlloc - a.TotalAlloc
			t.Logf("%d bytes: %d KiB allocated, err %v", len(tc.data), grew>>10, err)
			switch {
			case err == nil:
				t.Fatal("decoded")
			case !errors.Is(err, ErrBadImage):
				t.Errorf("error %v does not wrap ErrBadImage", err)
			case !strings.Contains(err.Error(), tc.says):
				t.Errorf("error %q does not say %q", err, tc.says)
			}
			if grew > tc.ceiling {
				t.Errorf("allocated %d bytes for a %d-byte image (ceiling %d)", grew, len(tc.data), tc.ceiling)
			}
		})
	}
}
