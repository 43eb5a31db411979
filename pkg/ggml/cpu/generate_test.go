//go:build amd64 && !noasm

package cpu

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedAssemblyFresh runs each generator in _asm into a temporary
// directory and compares what it writes with the committed files, so that
// an edit to a generator without go generate (or a hand edit of its
// output) fails. It runs on amd64 without noasm: one run of make test is
// enough, and the arm64 binaries under qemu have no go command to call.
func TestGeneratedAssemblyFresh(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no go command to run the generators: %v", err)
		}
		t.Skipf("no go command to run the generators: %v", err)
	}
	for _, gen := range []struct {
		dir   string
		files []string
	}{
		{"_asm/legacy", []string{"legacy_amd64.s", "legacy_avx2_amd64.s"}},
		{"_asm/kquant", []string{"kquants_packed_amd64.s"}},
		{"_asm/neon", []string{"neon_tile_arm64.s"}},
	} {
		out := t.TempDir()
		cmd := exec.Command(goCmd, "run", ".", "-dir", out)
		cmd.Dir = gen.dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: go run: %v\n%s", gen.dir, err, b)
		}
		for _, name := range gen.files {
			want, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatalf("%s did not write %s: %v", gen.dir, name, err)
			}
			have, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(have, want) {
				t.Errorf("%s is stale: run go generate ./pkg/ggml/cpu (it differs from what %s writes)", name, gen.dir)
			}
		}
	}
}
