//go:build unix

package quant

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestQuantizeFileMode checks that the output gets mode 0666 less the
// umask, as with a file created directly, whatever the mode of a file it
// replaces.
func TestQuantizeFileMode(t *testing.T) {
	dir := t.TempDir()
	inPath := filepath.Join(dir, "in.gguf")
	if err := os.WriteFile(inPath, synthModels[3].file(t, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	outPath := filepath.Join(dir, "out.gguf")
	for _, tt := range []struct{ umask, want os.FileMode }{{0o022, 0o644}, {0o077, 0o600}, {0o002, 0o664}} {
		old := syscall.Umask(int(tt.umask))
		_, err := QuantizeFile(context.Background(), inPath, outPath, Options{FileType: FileTypeQ8_0})
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(outPath)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tt.want {
			t.Errorf("umask %#o: output mode %#o, want %#o", tt.umask, got, tt.want)
		}
	}
}
