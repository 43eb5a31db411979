package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/llamafile-go/llamafile/internal/synthvision"
	"github.com/llamafile-go/llamafile/internal/testutil"
)

// visionGolden is llama.cpp's mtmd run of pkg/vision's reference case
// f32-97x61: the synthetic mmproj (synthvision.Small, seed 1), a 97×61
// test image (seed 1) and the synthetic llama.
type visionGolden struct {
	Prompt string `json:"prompt"`
	Chunks []struct {
		Type    string  `json:"type"`
		Tokens  []int32 `json:"tokens"`
		NTokens int     `json:"n_tokens"`
	} `json:"chunks"`
	NVocab int `json:"n_vocab"`
	logits []float32
}

func loadVisionGolden(t *testing.T) visionGolden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), synthvision.GoldenPrefix+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g visionGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if g.logits, err = synthvision.GoldenLogits(testutil.RepoRoot(t)); err != nil {
		t.Fatal(err)
	}
	return g
}

// openVision opens the synthetic llama and writes and opens the
// synthetic projector; it returns the test image too.
func openVision(t *testing.T) (*Model, *Projector, []byte) {
	t.Helper()
	m, err := Open(testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf"), Options{ContextSize: 512, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	path := filepath.Join(t.TempDir(), "mmproj.gguf")
	if err := synthvision.WriteFile(path, synthvision.Small(), 1); err != nil {
		t.Fatal(err)
	}
	p, err := OpenProjector(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if err := p.Check(m); err != nil {
		t.Fatal(err)
	}
	png, err := synthvision.PNG(synthvision.Image(97, 61, 1))
	if err != nil {
		t.Fatal(err)
	}
	return m, p, png
}

func argmax32(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}

// TestVisionPrompt evaluates the golden's image prompt through a Context
// and a Scheduler: the tokens around the image are mtmd's, the last
// position's logits llama.cpp's, and the greedy first token its arg max.
func TestVisionPrompt(t *testing.T) {
	g := loadVisionGolden(t)
	m, p, png := openVision(t)
	img, err := p.EncodeImage(context.Background(), png, 0)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := m.TokenizeMedia(g.Prompt, []*Image{img}, true, true)
	if err != nil {
		t.Fatal(err)
	}
	var want []int32
	for _, ch := range g.Chunks {
		if ch.Type == "image" {
			want = append(want, MediaTokens(img.Hash, ch.NTokens)...)
		} else {
			want = append(want, ch.Tokens...)
		}
	}
	if !equalTokens(pr.Tokens, want) {
		t.Fatalf("prompt positions\n%v\nmtmd's\n%v", pr.Tokens, want)
	}
	nv := g.NVocab
	ref := g.logits[len(g.logits)-nv:]
	wantTok := argmax32(ref)

	c, err := m.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EvalPrompt(context.Background(), pr, 0); err != nil {
		t.Fatal(err)
	}
	got := c.LastLogits()
	var num, den float64
	for i := range ref {
		d := float64(got[i] - ref[i])
		num += d * d
		den += float64(ref[i]) * float64(ref[i])
	}
	t.Logf("Context: last position's logits nmse %.3g, arg max %d (llama.cpp %d)", num/den, argmax32(got), wantTok)
	if num/den > 1e-6 || argmax32(got) != wantTok {
		t.Errorf("logits after the image prompt: nmse %.3g, arg max %d, llama.cpp's %d", num/den, argmax32(got), wantTok)
	}

	s := newScheduler(t, m, ServeOptions{Slots: 1})
	gen := func(pr Prompt) *Result {
		t.Helper()
		res, err := s.Generate(context.Background(), &Request{Prompt: pr.Tokens, Media: pr.Media, MaxTokens: 4, Sampling: greedyParams(), CachePrompt: true, Slot: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := gen(pr)
	if len(first.Tokens) == 0 || first.Tokens[0] != wantTok {
		t.Errorf("Scheduler: generated %v, llama.cpp's greedy first token %d", first.Tokens, wantTok)
	}
	// Generate on the Context too: the same tokens.
	out, err := c.Generate(nil, Greedy{}, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !equalTokens(out, first.Tokens) {
		t.Errorf("Context generated %v, Scheduler %v", out, first.Tokens)
	}

	// The same prompt again reuses the image's positions; another image
	// at the same place does not.
	again := gen(pr)
	if again.CachedTokens != len(pr.Tokens)-1 {
		t.Errorf("the same image prompt again reused %d of %d positions", again.CachedTokens, len(pr.Tokens))
	}
	png2, err := synthvision.PNG(synthvision.Image(97, 61, 7))
	if err != nil {
		t.Fatal(err)
	}
	img2, err := p.EncodeImage(context.Background(), png2, 0)
	if err != nil {
		t.Fatal(err)
	}
	pr2, err := m.TokenizeMedia(g.Prompt, []*Image{img2}, true, true)
	if err != nil {
		t.Fatal(err)
	}
	other := gen(pr2)
	if start := pr.Media[0].Pos; other.CachedTokens != start {
		t.Errorf("another image at the same place reused %d positions, want the %d before the image", other.CachedTokens, start)
	}
	c2, err := m.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := c2.Generate(nil, Greedy{}, 4, nil)
	if err == nil {
		t.Errorf("Generate with nothing evaluated gave %v", fresh)
	}
	if err := c2.EvalPrompt(context.Background(), pr2, 0); err != nil {
		t.Fatal(err)
	}
	if fresh, err = c2.Generate(nil, Greedy{}, 4, nil); err != nil {
		t.Fatal(err)
	}
	if !equalTokens(fresh, other.Tokens) {
		t.Errorf("second image: Scheduler (after a reused prefix) %v, fresh Context %v", other.Tokens, fresh)
	}
}

// TestVisionErrors: markers and images must agree, placeholders need
// embeddings, and a projector must fit the model.
func TestVisionErrors(t *testing.T) {
	m, p, png := openVision(t)
	img, err := p.EncodeImage(context.Background(), png, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.TokenizeMedia("no marker", []*Image{img}, true, true); err == nil {
		t.Error("TokenizeMedia: one image, no marker: no error")
	}
	s := newScheduler(t, m, ServeOptions{Slots: 1})
	pr, _ := m.TokenizeMedia(MediaMarker+" hi", []*Image{img}, true, true)
	if _, err := s.Generate(context.Background(), &Request{Prompt: pr.Tokens, MaxTokens: 1, Slot: -1}, nil); err == nil {
		t.Error("Scheduler: image placeholders without Media: no error")
	}
	if _, err := p.EncodeImage(context.Background(), []byte("not an image"), 0); err == nil {
		t.Error("EncodeImage of junk: no error")
	}
	if _, err := p.EncodeImage(context.Background(), png, 100); err == nil {
		t.Error("EncodeImage past the pixel limit: no error")
	}
}

// TestProjectorClose: Close waits for an encode in progress, EncodeImage
// after it is ErrProjectorClosed, and a second Close is harmless (the
// server closes its projector at shutdown, a test's cleanup again).
func TestProjectorClose(t *testing.T) {
	_, p, png := openVision(t)
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		close(started)
		_, err := p.EncodeImage(context.Background(), png, 0)
		done <- err
	}()
	<-started
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Either the encode ran before Close took the projector, or it
	// came after and was refused: never a crash on a closed pool.
	if err := <-done; err != nil && !errors.Is(err, ErrProjectorClosed) {
		t.Errorf("EncodeImage racing Close: %v", err)
	}
	if _, err := p.EncodeImage(context.Background(), png, 0); !errors.Is(err, ErrProjectorClosed) {
		t.Errorf("EncodeImage after Close: %v, want ErrProjectorClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func equalTokens(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
