package vision

import (
	"fmt"
	"math"
)

// ResizeAlgo is a resampling filter of llama.cpp's Pillow-compatible
// resize (mtmd-image.cpp, resize_pillow).
type ResizeAlgo int

// The filters.
const (
	Bicubic ResizeAlgo = iota // Pillow's bicubic, a = -0.5 (llama.cpp's default)
	Bilinear
	Lanczos
)

// support is the filter's radius.
func (a ResizeAlgo) support() float64 {
	switch a {
	case Bilinear:
		return 1
	case Lanczos:
		return 3
	}
	return 2
}

// weight is the filter's value at distance x from a pixel centre.
func (a ResizeAlgo) weight(x float64) float64 {
	switch a {
	case Lanczos:
		if -3 <= x && x < 3 {
			return sinc(x) * sinc(x/3)
		}
		return 0
	case Bilinear:
		x = math.Abs(x)
		if x < 1 {
			return 1 - x
		}
		return 0
	}
	x = math.Abs(x)
	const c = -0.5
	if x < 1 {
		return ((c+2)*x-(c+3))*x*x + 1
	}
	if x < 2 {
		return (((x-5)*x+8)*x - 4) * c
	}
	return 0
}

func sinc(v float64) float64 {
	if v == 0 {
		return 1
	}
	pv := v * 3.141592653589793238462643383279502884
	return math.Sin(pv) / pv
}

// PadStyle is how an image is fitted into a target size (llama.cpp's
// pad_style).
type PadStyle int

// The styles.
const (
	PadNone    PadStyle = iota // stretch to the target size
	PadCeil                    // keep the aspect ratio, round the scaled size up, pad (llama.cpp's default)
	PadNearest                 // keep the aspect ratio, round to nearest, pad
)

// precision is the fixed-point precision of the filter weights: 32 bits
// less 8 for the pixel values and 2 of headroom.
const precision = 32 - 8 - 2

// filterWeights computes the fixed-point weights of resampling inSize
// pixels to outSize: for output pixel i, the input pixels
// bounds[2i]..bounds[2i]+bounds[2i+1]-1 weighted by w[i*ksize:].
func filterWeights(algo ResizeAlgo, inSize, outSize int) (ksize int, bounds []int, w []int32) {
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1)
	support := algo.support() * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	pre := make([]float64, outSize*ksize)
	bounds = make([]int, 2*outSize)
	for xx := 0; xx < outSize; xx++ {
		center := (float64(xx) + 0.5) * scale
		ww := 0.0
		ss := 1 / filterscale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		k := pre[xx*ksize : (xx+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := algo.weight((float64(x+xmin) - center + 0.5) * ss)
			k[x] = v
			ww += v
		}
		if ww != 0 {
			for x := 0; x < xmax; x++ {
				k[x] /= ww
			}
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	w = make([]int32, len(pre))
	fxp := math.Ldexp(1, precision)
	for i, v := range pre {
		r := 0.5
		if v < 0 {
			r = -0.5
		}
		w[i] = int32(v*fxp + r)
	}
	return ksize, bounds, w
}

func clip8(v int32) uint8 {
	v >>= precision
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// resizePillow resamples src to w×h with the two separable passes of
// llama.cpp's resize_pillow (horizontal first), in the same integer
// arithmetic.
func resizePillow(src *RGB, w, h int, algo ResizeAlgo) *RGB {
	cur := src
	if w != src.W {
		ks, bounds, wt := filterWeights(algo, src.W, w)
		out := &RGB{W: w, H: cur.H, Pix: make([]uint8, 3*w*cur.H)}
		for y := 0; y < cur.H; y++ {
			in := cur.Pix[3*y*cur.W:]
			dst := out.Pix[3*y*w:]
			for xx := 0; xx < w; xx++ {
				xmin, xcnt := bounds[2*xx], bounds[2*xx+1]
				k := wt[xx*ks:]
				s0, s1, s2 := int32(1)<<(precision-1), int32(1)<<(precision-1), int32(1)<<(precision-1)
				for x := 0; x < xcnt; x++ {
					p := in[3*(xmin+x):]
					s0 += int32(p[0]) * k[x]
					s1 += int32(p[1]) * k[x]
					s2 += int32(p[2]) * k[x]
				}
				dst[3*xx], dst[3*xx+1], dst[3*xx+2] = clip8(s0), clip8(s1), clip8(s2)
			}
		}
		cur = out
	}
	if h != src.H {
		ks, bounds, wt := filterWeights(algo, src.H, h)
		n := 3 * cur.W
		out := &RGB{W: cur.W, H: h, Pix: make([]uint8, n*h)}
		acc := make([]int32, n)
		for yy := 0; yy < h; yy++ {
			ymin, ycnt := bounds[2*yy], bounds[2*yy+1]
			k := wt[yy*ks:]
			for i := range acc {
				acc[i] = 1 << (precision - 1)
			}
			for y := 0; y < ycnt; y++ {
				row := cur.Pix[(ymin+y)*n : (ymin+y+1)*n]
				wy := k[y]
				for i, v := range row {
					acc[i] += int32(v) * wy
				}
			}
			dst := out.Pix[yy*n : (yy+1)*n]
			for i, a := range acc {
				dst[i] = clip8(a)
			}
		}
		cur = out
	}
	if cur == src {
		cur = &RGB{W: src.W, H: src.H, Pix: append([]uint8(nil), src.Pix...)}
	}
	return cur
}

// Resize fits src into w×h as llama.cpp's img_tool::resize does: an
// image already of that size is copied; with PadNone it is stretched;
// otherwise it is scaled (float32 arithmetic, as there) to fit, keeping
// its aspect ratio, and centred on a canvas of color pad.
func Resize(src *RGB, w, h int, algo ResizeAlgo, style PadStyle, pad [3]uint8) (*RGB, error) {
	if w <= 0 || h <= 0 || src.W <= 0 || src.H <= 0 || len(src.Pix) != 3*src.W*src.H {
		return nil, fmt.Errorf("vision: resize %dx%d image to %dx%d: bad size", src.W, src.H, w, h)
	}
	if src.W == w && src.H == h {
		return &RGB{W: w, H: h, Pix: append([]uint8(nil), src.Pix...)}, nil
	}
	if style == PadNone {
		return resizePillow(src, w, h, algo), nil
	}
	scale := min(float32(w)/float32(src.W), float32(h)/float32(src.H))
	round := func(v float32) float64 { return math.Ceil(float64(v)) }
	if style == PadNearest {
		round = func(v float32) float64 { return math.Round(float64(v)) }
	}
	nw := min(int(round(float32(src.W)*scale)), w)
	nh := min(int(round(float32(src.H)*scale)), h)
	if nw <= 0 || nh <= 0 {
		return nil, fmt.Errorf("vision: resize %dx%d image to %dx%d: scaled to nothing", src.W, src.H, w, h)
	}
	r := resizePillow(src, nw, nh, algo)
	dst := &RGB{W: w, H: h, Pix: make([]uint8, 3*w*h)}
	for i := 0; i < w*h; i++ {
		copy(dst.Pix[3*i:3*i+3], pad[:])
	}
	ox, oy := (w-nw)/2, (h-nh)/2
	if style == PadNearest {
		ox = int(math.Round(float64(float32(w-nw) / 2)))
		oy = int(math.Round(float64(float32(h-nh) / 2)))
	}
	for y := 0; y < nh; y++ {
		copy(dst.Pix[3*((y+oy)*w+ox):3*((y+oy)*w+ox+nw)], r.Pix[3*y*nw:3*(y+1)*nw])
	}
	return dst, nil
}

// Normalize converts img to float32 as clip_image_f32::from_u8 and
// normalize do: v/255, then (v - mean[c]) / std[c]; the result is
// interleaved like img.
func Normalize(img *RGB, mean, std [3]float32) []float32 {
	out := make([]float32, len(img.Pix))
	for i, v := range img.Pix {
		c := i % 3
		out[i] = (float32(v)/255 - mean[c]) / std[c]
	}
	return out
}
