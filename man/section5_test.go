package man

import (
	"path/filepath"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// TestFileFormatPagesRender renders the section 5 pages (file formats),
// which belong to no command.
func TestFileFormatPagesRender(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join(testutil.RepoRoot(t), "man", "*.5"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no section 5 pages: %v", err)
	}
	manPath := lookMan(t)
	for _, page := range pages {
		render(t, manPath, page, "NAME", "DESCRIPTION")
	}
}
