package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/synthvision"
	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/zipalign"
)

// TestBundleSkipsProjector: a llamafile holding a model and its vision
// projector, both .gguf, runs the model without -m (and as -m of another
// llamafile), and opens the projector for --mmproj; projectors are never
// counted as models in the errors.
func TestBundleSkipsProjector(t *testing.T) {
	model := testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf")
	dir := t.TempDir()
	mmproj := filepath.Join(dir, "mmproj.gguf")
	if err := synthvision.WriteFile(mmproj, synthvision.Small(), 1); err != nil {
		t.Fatal(err)
	}
	bundle := func(name string, files map[string]string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		var list []zipalign.File
		for entry, p := range files {
			list = append(list, zipalign.File{Name: entry, Path: p})
		}
		if err := zipalign.Append(path, list, zipalign.Options{}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// The projector's name sorts first, as llama.cpp's "mmproj-..." often does.
	both := bundle("both.llamafile", map[string]string{"llava-v1.5-7b-Q4_K.gguf": model, "llava-v1.5-7b-mmproj-Q4_0.gguf": mmproj})
	b, err := OpenBundle(both)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.CheckModel(""); err != nil {
		t.Fatalf("CheckModel without -m: %v", err)
	}
	m, err := b.OpenModel("", Options{ContextSize: 64, Threads: 1})
	if err != nil {
		t.Fatalf("OpenModel without -m: %v", err)
	}
	defer m.Close()
	if !strings.HasSuffix(m.Name(), ":llava-v1.5-7b-Q4_K.gguf") {
		t.Errorf("without -m the model is %s", m.Name())
	}
	p, err := b.OpenProjector("llava-v1.5-7b-mmproj-Q4_0.gguf", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Check(m); err != nil {
		t.Error(err)
	}
	// -m another llamafile: its model too.
	m2, err := (&Bundle{}).OpenModel(both, Options{ContextSize: 64, Threads: 1})
	if err != nil {
		t.Fatalf("-m %s: %v", both, err)
	}
	m2.Close()

	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"two models", map[string]string{"a.gguf": model, "b.gguf": model, "mmproj.gguf": mmproj}, "several models (a.gguf, b.gguf)"},
		{"only a projector", map[string]string{"mmproj.gguf": mmproj}, "holds no model, only the vision projector mmproj.gguf"},
	} {
		path := bundle(strings.ReplaceAll(c.name, " ", "-"), c.files)
		b, err := OpenBundle(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.CheckModel(""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: CheckModel: %v, want %q", c.name, err, c.want)
		}
		b.Close()
		if _, err := (&Bundle{}).OpenModel(path, Options{ContextSize: 64, Threads: 1}); err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(c.want, "holds ")) {
			t.Errorf("%s: -m the llamafile: %v, want %q", c.name, err, c.want)
		}
	}
}
