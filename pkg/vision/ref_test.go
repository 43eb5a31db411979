package vision

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/llamafile-go/llamafile/internal/synthvision"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
	"github.com/llamafile-go/llamafile/pkg/gguf"
	"github.com/llamafile-go/llamafile/pkg/model"
)

// refCase is one reference output of tools/visionref (llama.cpp's mtmd):
// a synthetic mmproj (synthvision.Small with a matrix type, seed 1) and a
// synthetic test image.
type refCase struct {
	name       string
	mat        ggml.Type
	imgW, imgH int
	imgSeed    uint64
	preproc    string // the golden of the preprocessed image (the same image's)
}

var refCases = []refCase{
	{"f32-97x61", ggml.TypeF32, 97, 61, 1, "f32-97x61"},
	{"f32-200x300", ggml.TypeF32, 200, 300, 2, "f32-200x300"},
	{"f16-200x300", ggml.TypeF16, 200, 300, 2, "f32-200x300"},
}

// refMeta is the JSON tools/visionref/gen.sh writes beside the tensors.
type refMeta struct {
	MMProjSHA256 string `json:"mmproj_sha256"`
	ImageSHA256  string `json:"image_sha256"`
	Chunks       []struct {
		Type    string  `json:"type"`
		Tokens  []int32 `json:"tokens"`
		NTokens int     `json:"n_tokens"`
	} `json:"chunks"`
	NVocab int `json:"n_vocab"`
	NEmbd  int `json:"n_embd"`
	NX     int `json:"image_nx"`
	NY     int `json:"image_ny"`
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func nmse(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return num / den
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// loadRef writes the case's mmproj and image and reads its golden.
func loadRef(t *testing.T, c refCase) (*Encoder, []byte, refMeta, string) {
	t.Helper()
	dir := t.TempDir()
	s := synthvision.Small()
	s.MatType = c.mat
	path := filepath.Join(dir, "mmproj.gguf")
	if err := synthvision.WriteFile(path, s, 1); err != nil {
		t.Fatal(err)
	}
	png, err := synthvision.PNG(synthvision.Image(c.imgW, c.imgH, c.imgSeed))
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join("testdata", c.name)
	var meta refMeta
	b, err := os.ReadFile(prefix + ".json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	mm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := sha(mm); got != meta.MMProjSHA256 {
		t.Fatalf("synthetic mmproj sha256 %s, the golden was made from %s: regenerate with tools/visionref/gen.sh", got, meta.MMProjSHA256)
	}
	if got := sha(png); got != meta.ImageSHA256 {
		t.Fatalf("test image sha256 %s, the golden was made from %s: regenerate with tools/visionref/gen.sh", got, meta.ImageSHA256)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	e, err := Load(f, path)
	if err != nil {
		t.Fatal(err)
	}
	return e, png, meta, prefix
}

// TestReference compares the preprocessed image and the image
// embeddings with llama.cpp's.
func TestReference(t *testing.T) {
	pool := cpu.NewPool(2)
	defer pool.Close()
	for _, c := range refCases {
		t.Run(c.name, func(t *testing.T) {
			e, png, meta, prefix := loadRef(t, c)
			img, err := DecodeImage(png, 0)
			if err != nil {
				t.Fatal(err)
			}
			pix, err := e.Preprocess(img)
			if err != nil {
				t.Fatal(err)
			}
			// The golden is planar ([3][ny][nx]), as the graph reads it.
			want := readF32(t, filepath.Join("testdata", c.preproc+".preproc.f32"))
			s := e.P.ImageSize
			if meta.NX != s || meta.NY != s || len(want) != 3*s*s {
				t.Fatalf("golden image %dx%d (%d values), encoder %d", meta.NX, meta.NY, len(want), s)
			}
			maxDiff, diffs := 0.0, 0
			for ch := 0; ch < 3; ch++ {
				for i := 0; i < s*s; i++ {
					d := math.Abs(float64(pix[3*i+ch] - want[ch*s*s+i]))
					if d > 0 {
						diffs++
					}
					maxDiff = max(maxDiff, d)
				}
			}
			t.Logf("preprocessed: %d of %d values differ, max |diff| %g", diffs, len(want), maxDiff)
			if maxDiff > 1e-6 {
				t.Errorf("preprocessed image differs from llama.cpp's by up to %g", maxDiff)
			}
			got, err := e.EncodePixels(context.Background(), pool, pix)
			if err != nil {
				t.Fatal(err)
			}
			wantE := readF32(t, prefix+".embd.f32")
			if len(got) != len(wantE) {
				t.Fatalf("%d embedding values, llama.cpp %d", len(got), len(wantE))
			}
			n := nmse(got, wantE)
			t.Logf("embeddings: nmse %.3g over %d tokens", n, len(got)/e.P.OutEmbd)
			if limit := 1e-6; n > limit {
				t.Errorf("embeddings nmse %.3g > %g", n, limit)
			}
		})
	}
}

// TestReferenceLogits runs the golden's image prompt through the
// synthetic llama of ../shared, the image's rows given as input
// embeddings, chunk by chunk as mtmd evaluates it, and compares the
// logits of every text token with llama.cpp's.
func TestReferenceLogits(t *testing.T) {
	mpath := filepath.Join("..", "..", "..", "shared", "testdata", "models", "synth-llama-f32.gguf")
	mf, err := gguf.Open(mpath)
	if err != nil {
		t.Skipf("no shared test model: %v", err)
	}
	defer mf.Close()
	m, err := model.Load(mf)
	if err != nil {
		t.Fatal(err)
	}
	pool := cpu.NewPool(2)
	defer pool.Close()
	for _, c := range refCases {
		t.Run(c.name, func(t *testing.T) {
			e, png, meta, prefix := loadRef(t, c)
			if e.P.OutEmbd != m.Params.Embd {
				t.Fatalf("projector width %d, text model %d", e.P.OutEmbd, m.Params.Embd)
			}
			img, err := DecodeImage(png, 0)
			if err != nil {
				t.Fatal(err)
			}
			emb, err := e.Encode(context.Background(), pool, img)
			if err != nil {
				t.Fatal(err)
			}
			r, err := m.NewRunner(model.RunnerOptions{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			seq, err := r.NewSeq(512)
			if err != nil {
				t.Fatal(err)
			}
			var got []float32
			pos := 0
			for _, ch := range meta.Chunks {
				var batch []model.BatchEntry
				if ch.Type == "image" {
					d := e.P.OutEmbd
					for i := 0; i < ch.NTokens; i++ {
						batch = append(batch, model.BatchEntry{Seq: seq, Pos: pos + i, Embd: emb[i*d : (i+1)*d]})
					}
				} else {
					for i, tok := range ch.Tokens {
						batch = append(batch, model.BatchEntry{Seq: seq, Pos: pos + i, Token: tok, Output: true})
					}
				}
				if err := r.Decode(context.Background(), batch, false); err != nil {
					t.Fatal(err)
				}
				for j := 0; ch.Type != "image" && j < len(batch); j++ {
					got = append(got, r.Output(j)...)
				}
				pos += len(batch)
			}
			want := readF32(t, prefix+".logits.f32")
			if len(got) != len(want) {
				t.Fatalf("%d logits, llama.cpp %d", len(got), len(want))
			}
			top1 := 0
			nv := meta.NVocab
			for i := 0; i < len(want)/nv; i++ {
				if argmax(got[i*nv:(i+1)*nv]) == argmax(want[i*nv:(i+1)*nv]) {
					top1++
				}
			}
			n := nmse(got, want)
			t.Logf("logits after the image: nmse %.3g, top-1 %d/%d", n, top1, len(want)/nv)
			if n > 1e-6 || top1 < len(want)/nv*9/10 {
				t.Errorf("logits nmse %.3g (limit 1e-6), top-1 %d of %d", n, top1, len(want)/nv)
			}
		})
	}
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// BenchmarkEncode encodes one image (preprocessing and encoding, as
// Encoder.Encode does) with the mmproj file named by
// $LLAMAFILE_VISION_MMPROJ (for example a LLaVA-1.5-sized synthetic one:
// go run ./internal/synthvision/cmd/mksynthvision -shape llava15
// -o /tmp/llava15.gguf; make bench-vision writes one and times it side
// by side with llama.cpp), on $LLAMAFILE_VISION_THREADS threads (default
// 2). The image is $LLAMAFILE_VISION_IMAGE, else synthvision's 640×480
// test image of seed 1. One untimed encode first faults the weights in
// from the memory map (llama.cpp reads them at load and runs a warmup).
func BenchmarkEncode(b *testing.B) {
	path := os.Getenv("LLAMAFILE_VISION_MMPROJ")
	if path == "" {
		b.Skip("set LLAMAFILE_VISION_MMPROJ to an mmproj file")
	}
	threads := 2
	if v := os.Getenv("LLAMAFILE_VISION_THREADS"); v != "" {
		fmt.Sscan(v, &threads)
	}
	f, err := gguf.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	e, err := Load(f, path)
	if err != nil {
		b.Fatal(err)
	}
	var data []byte
	if p := os.Getenv("LLAMAFILE_VISION_IMAGE"); p != "" {
		data, err = os.ReadFile(p)
	} else {
		data, err = synthvision.PNG(synthvision.Image(640, 480, 1))
	}
	if err != nil {
		b.Fatal(err)
	}
	img, err := DecodeImage(data, 0)
	if err != nil {
		b.Fatal(err)
	}
	pool := cpu.NewPool(threads)
	defer pool.Close()
	if _, err := e.Encode(context.Background(), pool, img); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := e.Encode(context.Background(), pool, img); err != nil {
			b.Fatal(err)
		}
	}
}
