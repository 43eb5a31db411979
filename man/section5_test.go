package man

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	manPath, err := exec.LookPath("man")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("man not installed (required when CI=true)")
		}
		t.Skip("man not installed; not rendering the pages")
	}
	for _, page := range pages {
		cmd := exec.Command(manPath, "-l", page)
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("man -l %s: %v\n%s", page, err, out)
		}
		text := string(out)
		if !strings.Contains(text, "NAME") || !strings.Contains(text, "DESCRIPTION") {
			t.Errorf("%s lacks NAME or DESCRIPTION", page)
		}
		if strings.Contains(text, "warning:") {
			t.Errorf("%s renders with warnings:\n%s", page, text)
		}
	}
}
