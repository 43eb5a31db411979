package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/synthvision"
	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/engine"
)

// visionFiles writes the synthetic projector of pkg/vision's goldens and
// their 97×61 test image (case f32-97x61) into dir.
func visionFiles(t *testing.T, dir string) (mmproj, png string) {
	t.Helper()
	mmproj = filepath.Join(dir, "synth.mmproj")
	if err := synthvision.WriteFile(mmproj, synthvision.Small(), 1); err != nil {
		t.Fatal(err)
	}
	b, err := synthvision.PNG(synthvision.Image(97, 61, 1))
	if err != nil {
		t.Fatal(err)
	}
	png = filepath.Join(dir, "test.png")
	if err := os.WriteFile(png, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return mmproj, png
}

const visionPrompt = "Once upon a time <__media__> there was a cat" // the golden's

// TestVisionCLI runs the golden's image prompt through -p --mmproj
// --image: the first greedy token is llama.cpp's, the rest what the
// engine generates; the markers and a llamafile carrying both GGUFs work
// alike; the errors name the flag and the file.
func TestVisionCLI(t *testing.T) {
	modelPath := testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf")
	dir := t.TempDir()
	mmproj, png := visionFiles(t, dir)

	m, err := engine.Open(modelPath, engine.Options{ContextSize: 512, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	first, err := synthvision.GoldenNext(testutil.RepoRoot(t), m.NumVocab())
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.OpenProjector(mmproj, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	data, _ := os.ReadFile(png)
	img, err := p.EncodeImage(context.Background(), data, 0)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := m.TokenizeMedia(visionPrompt, []*engine.Image{img}, true, true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EvalPrompt(context.Background(), pr, 0); err != nil {
		t.Fatal(err)
	}
	toks, err := c.Generate(nil, engine.Greedy{}, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) == 0 || toks[0] != first {
		t.Fatalf("engine's greedy tokens %v, llama.cpp's first %d", toks, first)
	}
	want := m.Detokenize(toks)
	t.Logf("greedy after the image: %v %q (llama.cpp's first token %d)", toks, want, first)

	greedy := []string{"-c", "512", "-t", "2", "--temp", "0", "-n", "8", "--no-display-prompt", "--log-disable", "--ignore-eos"}
	check := func(t *testing.T, r result) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if got := strings.TrimSuffix(r.stdout, "\n\n"); got != want {
			t.Errorf("output %q, want %q", got, want)
		}
	}
	base := append([]string{"-m", modelPath, "--mmproj", mmproj, "--image", png}, greedy...)
	t.Run("<__media__>", func(t *testing.T) {
		check(t, llamafile(t, nil, append(base, "-p", visionPrompt)...))
	})
	t.Run("<__image__>", func(t *testing.T) {
		check(t, llamafile(t, nil, append(base, "-p", strings.ReplaceAll(visionPrompt, engine.MediaMarker, engine.ImageMarker))...))
	})
	t.Run("llamafile with both GGUFs", func(t *testing.T) {
		exe := makeLlamafile(t, dir, "vision.llamafile", map[string]string{"synth.gguf": modelPath, "synth.mmproj": mmproj}, 0)
		check(t, runExe(t, exe, nil, append([]string{"-m", "synth.gguf", "--mmproj", "synth.mmproj", "--image", png}, append(greedy, "-p", visionPrompt)...)...))
	})
	t.Run("llamafile with both GGUFs, no -m, .args naming --mmproj", func(t *testing.T) {
		argsFile := filepath.Join(dir, "args")
		if err := os.WriteFile(argsFile, []byte("--mmproj\nsynth-mmproj.gguf\n...\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// The projector is a .gguf too: without -m the model is the other.
		exe := makeLlamafile(t, dir, "vision-args.llamafile", map[string]string{"synth.gguf": modelPath, "synth-mmproj.gguf": mmproj, ".args": argsFile}, 0)
		check(t, runExe(t, exe, nil, append([]string{"--image", png}, append(greedy, "-p", visionPrompt)...)...))
		bare := makeLlamafile(t, dir, "vision-bare.llamafile", map[string]string{"synth.gguf": modelPath, "synth-mmproj.gguf": mmproj}, 0)
		check(t, runExe(t, bare, nil, append([]string{"--mmproj", "synth-mmproj.gguf", "--image", png}, append(greedy, "-p", visionPrompt)...)...))
	})
	t.Run("no marker: the image first", func(t *testing.T) {
		r := llamafile(t, nil, append(base, "-p", "there was a cat")...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})

	small := synthvision.Small()
	small.OutEmbd = 128
	other := filepath.Join(dir, "other.mmproj")
	if err := synthvision.WriteFile(other, small, 1); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.png")
	os.WriteFile(junk, []byte("not an image"), 0o644)
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"--image without --mmproj", []string{"-m", modelPath, "--image", png, "-p", "x"}, []string{"--image " + png, "--mmproj"}},
		{"missing image", []string{"-m", modelPath, "--mmproj", mmproj, "--image", filepath.Join(dir, "none.png"), "-p", "x"}, []string{"--image " + filepath.Join(dir, "none.png")}},
		{"bad image", []string{"-m", modelPath, "--mmproj", mmproj, "--image", junk, "-p", "x"}, []string{"--image " + junk, "bad image"}},
		{"projector of another width", []string{"-m", modelPath, "--mmproj", other, "--image", png, "-p", "x"}, []string{"--mmproj " + other, "128", "256"}},
		{"model as projector", []string{"-m", modelPath, "--mmproj", modelPath, "--image", png, "-p", "x"}, []string{"--mmproj " + modelPath, "not a vision projector"}},
		{"markers and images disagree", []string{"-m", modelPath, "--mmproj", mmproj, "--image", png, "-p", "<__image__> and <__media__>"}, []string{"2 image markers", "1 --image"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := llamafile(t, nil, c.args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1: %s", r.code, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

// TestVisionServerClosesProjector: the server closes its --mmproj
// projector when it stops, as it closes the model: afterwards this
// process neither maps the projector's file nor holds a descriptor of it
// (Linux's /proc tells).
func TestVisionServerClosesProjector(t *testing.T) {
	if _, err := os.Stat("/proc/self/maps"); err != nil {
		t.Skip("no /proc/self/maps")
	}
	modelPath := testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf")
	mmproj, _ := visionFiles(t, t.TempDir())
	mmproj, err := filepath.EvalSymlinks(mmproj)
	if err != nil {
		t.Fatal(err)
	}
	_, stop := inProcessServer(t, "-m", modelPath, "--mmproj", mmproj, "-c", "512", "-np", "1", "-t", "2")
	if !holdsFile(t, mmproj) {
		t.Fatal("the serving process does not map or hold the projector: this test cannot tell a closed one")
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if holdsFile(t, mmproj) {
		t.Error("after the server stopped, the process still maps or holds the projector's file")
	}
}

// holdsFile reports whether this process maps path or has a descriptor
// open on it.
func holdsFile(t *testing.T, path string) bool {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(maps), "\n") {
		if strings.HasSuffix(line, " "+path) {
			return true
		}
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && target == path {
			return true
		}
	}
	return false
}

// TestVisionCLITwoImages: two --image files go where -p's two markers
// are, in order, and with no marker both go before the text: the CLI's
// greedy output is the in-process server's /completion of the same
// prompt_string and multimodal_data, and swapping the images changes it.
// Three markers for two images is an error naming both counts.
func TestVisionCLITwoImages(t *testing.T) {
	modelPath := testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf")
	dir := t.TempDir()
	mmproj, pngA := visionFiles(t, dir)
	b, err := synthvision.PNG(synthvision.Image(50, 83, 7))
	if err != nil {
		t.Fatal(err)
	}
	pngB := filepath.Join(dir, "other.png")
	if err := os.WriteFile(pngB, b, 0o644); err != nil {
		t.Fatal(err)
	}

	const twoMarkers = "Once upon a time <__image__> there was <__media__> a cat"
	const noMarker = "there was a cat"
	type run struct {
		name, prompt string
		images       []string
	}
	runs := []run{
		{"A then B", twoMarkers, []string{pngA, pngB}},
		{"B then A", twoMarkers, []string{pngB, pngA}},
		{"no marker, A then B", noMarker, []string{pngA, pngB}},
	}
	cli := make([]string, len(runs))
	for i, r := range runs {
		args := []string{"-m", modelPath, "--mmproj", mmproj, "-c", "512", "-t", "2", "--temp", "0", "-n", "8", "--no-display-prompt", "--log-disable", "--ignore-eos", "-p", r.prompt}
		for _, img := range r.images {
			args = append(args, "--image", img)
		}
		res := llamafile(t, nil, args...)
		if res.code != 0 {
			t.Fatalf("%s: exit %d: %s", r.name, res.code, res.stderr)
		}
		cli[i] = strings.TrimSuffix(res.stdout, "\n\n")
	}

	base, stop := inProcessServer(t, "-m", modelPath, "--mmproj", mmproj, "-c", "512", "-np", "1", "-t", "2")
	for i, r := range runs {
		text := strings.ReplaceAll(r.prompt, engine.ImageMarker, engine.MediaMarker)
		if !strings.Contains(text, engine.MediaMarker) {
			text = strings.Repeat(engine.MediaMarker, len(r.images)) + text
		}
		data := make([]string, len(r.images))
		for j, img := range r.images {
			b, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			data[j] = base64.StdEncoding.EncodeToString(b)
		}
		body, _ := json.Marshal(map[string]any{
			"prompt":       map[string]any{"prompt_string": text, "multimodal_data": data},
			"n_predict":    8,
			"temperature":  0,
			"ignore_eos":   true,
			"cache_prompt": false,
		})
		var comp struct{ Content string }
		if err := json.Unmarshal(postJSON(t, base+"/completion", string(body)), &comp); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: CLI %q, /completion %q", r.name, cli[i], comp.Content)
		if cli[i] != comp.Content {
			t.Errorf("%s: CLI output %q, /completion of %q with the images in that order %q", r.name, cli[i], text, comp.Content)
		}
	}
	if err := stop(); err != nil {
		t.Error(err)
	}
	if cli[0] == cli[1] {
		t.Errorf("the same output %q with the images swapped: the test cannot tell their order", cli[0])
	}

	res := llamafile(t, nil, "-m", modelPath, "--mmproj", mmproj, "-c", "512", "-t", "2", "-n", "1", "--image", pngA, "--image", pngB,
		"-p", "<__image__> one <__media__> two <__image__> three")
	if res.code != 1 {
		t.Errorf("three markers, two images: exit %d, want 1: %s", res.code, res.stderr)
	}
	for _, w := range []string{"3 image markers", "2 --image"} {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("three markers, two images: stderr does not say %q:\n%s", w, res.stderr)
		}
	}
}
