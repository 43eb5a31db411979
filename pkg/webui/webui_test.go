package webui

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestSelfContained: the page names no other host, and every file that
// index.html loads is embedded.
func TestSelfContained(t *testing.T) {
	page := FS()
	index, err := fs.ReadFile(page, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(index), -1) {
		if _, err := fs.Stat(page, m[1]); err != nil {
			t.Errorf("index.html loads %q: %v", m[1], err)
		}
	}
	err = fs.WalkDir(page, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(page, path)
		if err != nil {
			return err
		}
		// XML namespace names are URLs that nothing fetches.
		text := strings.ReplaceAll(string(data), "http://www.w3.org/1998/Math/MathML", "")
		for _, s := range []string{"http://", "https://", "//cdn", "@import"} {
			if strings.Contains(text, s) {
				t.Errorf("%s holds %q: the page must need no other host", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
