package ape

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// Test engines are built once per test binary.
var (
	helloMu    sync.Mutex
	helloDir   string
	helloBuilt = map[string]string{}
)

// buildHello builds testdata/hello for each platform (concurrently) and
// returns their paths by "os/arch".
func buildHello(t *testing.T, platforms ...string) map[string]string {
	t.Helper()
	helloMu.Lock()
	defer helloMu.Unlock()
	if helloDir == "" {
		d, err := os.MkdirTemp("", "ape-hello-")
		if err != nil {
			t.Fatal(err)
		}
		helloDir = d
	}
	var wg sync.WaitGroup
	errs := make([]error, len(platforms))
	for i, p := range platforms {
		if helloBuilt[p] != "" {
			continue
		}
		goos, goarch, _ := strings.Cut(p, "/")
		out := filepath.Join(helloDir, "hello-"+goos+"-"+goarch)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./pkg/ape/testdata/hello")
			cmd.Dir = testutil.RepoRoot(t)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
			if b, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("building hello for %s: %v\n%s", p, err, b)
			}
		}()
	}
	wg.Wait()
	for i, p := range platforms {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		helloBuilt[p] = filepath.Join(helloDir, "hello-"+strings.ReplaceAll(p, "/", "-"))
	}
	res := map[string]string{}
	for _, p := range platforms {
		res[p] = filepath.Join(helloDir, "hello-"+strings.ReplaceAll(p, "/", "-"))
	}
	return res
}

// fakeEngine writes an executable header for goos/goarch followed by
// random bytes: enough for Pack, never run.
func fakeEngine(t *testing.T, dir, goos, goarch string) string {
	t.Helper()
	head := make([]byte, 64)
	le := binary.LittleEndian
	switch goos {
	case "windows":
		copy(head, "MZ")
	case "darwin":
		le.PutUint32(head, 0xfeedfacf)
		le.PutUint32(head[4:], map[string]uint32{"amd64": 0x01000007, "arm64": 0x0100000c}[goarch])
	default:
		copy(head, "\x7fELF\x02\x01\x01")
		le.PutUint16(head[18:], map[string]uint16{"amd64": 62, "arm64": 183}[goarch])
	}
	r := rand.New(rand.NewPCG(uint64(len(goos)), uint64(len(goarch))))
	body := make([]byte, 50000+r.IntN(9000))
	for i := range body {
		body[i] = byte(r.IntN(16)) // compressible, like code
	}
	p := filepath.Join(dir, "fake-"+goos+"-"+goarch)
	if err := os.WriteFile(p, append(head, body...), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// packTest packs real engines for the given platforms and fake ones for
// every other platform into dir/name.
func packTest(t *testing.T, dir, name string, real []string, opt PackOptions) string {
	t.Helper()
	if !slices.Contains(real, "windows/amd64") {
		real = append(real, "windows/amd64") // a fake one has no PE headers
	}
	built := buildHello(t, real...)
	var engines []Engine
	for _, p := range Platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		path := built[p]
		if path == "" {
			path = fakeEngine(t, dir, goos, goarch)
		}
		engines = append(engines, Engine{OS: goos, Arch: goarch, Path: path})
	}
	out := filepath.Join(dir, name)
	if err := Pack(out, engines, opt); err != nil {
		t.Fatal(err)
	}
	return out
}

// appendZip appends a zip archive with files to path, its offsets counted
// from the start of the file and each stored entry's data aligned to align,
// as zipalign does, using archive/zip with alignment padding.
func appendZip(t *testing.T, path string, names []string, contents map[string][]byte, align int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	cw := &countWriter{w: f}
	bw := bufio.NewWriter(cw)
	zw := zip.NewWriter(bw)
	zw.SetOffset(fi.Size())
	for _, name := range names {
		data := contents[name]
		if err := zw.Flush(); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
		pos := fi.Size() + cw.n + zipLenLocal + int64(len(name))
		pad := (align - pos%align) % align
		if pad < 4 {
			pad += align
		}
		extra := make([]byte, pad)
		binary.LittleEndian.PutUint16(extra, 0xd935)
		binary.LittleEndian.PutUint16(extra[2:], uint16(pad-4))
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: name, Method: zip.Store, Extra: extra,
			CRC32: crc32.ChecksumIEEE(data), CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data)),
		})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// helloOutput parses hello's key=value lines.
type helloOutput struct {
	platform, args, self string
	entries              []string // "name offset size text" lines
}

func parseHello(t *testing.T, out []byte) helloOutput {
	t.Helper()
	var h helloOutput
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "platform":
			h.platform = v
		case "args":
			h.args = v
		case "self":
			h.self = v
		case "entry":
			h.entries = append(h.entries, v)
		}
	}
	if h.platform == "" {
		t.Fatalf("unexpected engine output:\n%s", out)
	}
	return h
}

// entryOffset returns the data offset hello reported for name.
func (h helloOutput) entryOffset(t *testing.T, name string) int64 {
	t.Helper()
	for _, e := range h.entries {
		var n string
		var off int64
		if _, err := fmt.Sscanf(e, "%s offset=%d", &n, &off); err == nil && n == name {
			return off
		}
	}
	t.Fatalf("no entry %s in %q", name, h.entries)
	return 0
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func zipCRC() hash.Hash32 { return crc32.NewIEEE() }
