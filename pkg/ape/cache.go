package ape

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/llamafile-go/llamafile/internal/atomicfile"
)

// Environment variables the prelude and Prepare set for the engine, and
// the one that overrides the cache directory.
const (
	EnvSelf   = "LLAMAFILE_SELF"   // absolute path of the multi-platform file
	EnvEngine = "LLAMAFILE_ENGINE" // path of the extracted engine started
	EnvCache  = "LLAMAFILE_CACHE"  // cache directory to use instead of the default
)

// CacheDir returns the private directory that engines are extracted to,
// creating it when needed, chosen as the prelude chooses it:
// $LLAMAFILE_CACHE when set; otherwise on macOS
// $HOME/Library/Caches/llamafile, on Windows %LocalAppData%\llamafile, and
// elsewhere ${XDG_CACHE_HOME:-$HOME/.cache}/llamafile. When that directory
// cannot be created, is a symbolic link or belongs to another user, it
// falls back to ${TMPDIR:-/tmp}/llamafile-UID under the same checks. The
// directory is made mode 0700.
func CacheDir() (string, error) {
	dir := defaultCacheDir()
	err := makePrivate(dir)
	if err == nil {
		return dir, nil
	}
	fallback := fallbackCacheDir()
	if err2 := makePrivate(fallback); err2 != nil {
		return "", fmt.Errorf("ape: no private cache directory (set %s): %v; %v", EnvCache, err, err2)
	}
	return fallback, nil
}

func defaultCacheDir() string {
	if d := os.Getenv(EnvCache); d != "" {
		return d
	}
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "llamafile")
		}
		return filepath.Join(os.TempDir(), "llamafile")
	case "darwin":
		return os.Getenv("HOME") + "/Library/Caches/llamafile"
	}
	d := os.Getenv("XDG_CACHE_HOME")
	if d == "" {
		d = os.Getenv("HOME") + "/.cache"
	}
	return d + "/llamafile"
}

func fallbackCacheDir() string {
	if runtime.GOOS == "windows" {
		return filepath.Join(os.TempDir(), "llamafile")
	}
	tmp := os.Getenv("TMPDIR")
	if tmp == "" {
		tmp = "/tmp"
	}
	return tmp + "/llamafile-" + strconv.Itoa(os.Geteuid())
}

// makePrivate creates dir with mode 0700 if needed and checks that it is a
// directory, not a symbolic link, owned by the current user; then it sets
// its mode to 0700.
func makePrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link", dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if err := checkOwner(fi); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if fi.Mode().Perm() != 0o700 {
		return os.Chmod(dir, 0o700)
	}
	return nil
}

// Extract writes the engine e describes, read from r (the llamafile), to w
// and checks its size and SHA-256.
func Extract(w io.Writer, r io.ReaderAt, e *Entry) error {
	if e.Encoding == PE {
		return fmt.Errorf("ape: %s engine is the file itself and is not extracted", e.Platform())
	}
	var src io.Reader = io.NewSectionReader(r, e.Offset, e.Length)
	if e.Encoding == Gzip {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return fmt.Errorf("ape: %s engine: %w", e.Platform(), err)
		}
		zr.Multistream(false)
		src = zr
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(src, e.Size+1))
	if err != nil {
		return fmt.Errorf("ape: %s engine: %w", e.Platform(), err)
	}
	if n != e.Size {
		return fmt.Errorf("ape: %s engine: extracted %d bytes, want %d", e.Platform(), n, e.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
		return fmt.Errorf("ape: %s engine: SHA-256 %s, want %s (damaged file)", e.Platform(), got, e.SHA256)
	}
	return nil
}

// CachedName returns the name, inside the cache directory, of e's engine.
func CachedName(e *Entry) string {
	name := e.OS + "-" + e.Arch + "-" + e.SHA256
	if e.OS == "windows" {
		name += ".exe"
	}
	return name
}

// Cached returns the path of e's engine in dir, extracting it from r first
// unless a file with the right SHA-256 is already there. A new file is
// written under a temporary name and renamed into place, so concurrent
// callers (and preludes) never see a partial engine.
func Cached(dir string, r io.ReaderAt, e *Entry) (string, error) {
	path := filepath.Join(dir, CachedName(e))
	if ok, _ := fileHasHash(path, e.SHA256); ok {
		return path, nil
	}
	tmp, err := atomicfile.Create(path, "."+e.SHA256+".*")
	if err != nil {
		return "", fmt.Errorf("ape: %w", err)
	}
	defer tmp.Abort()
	err = Extract(tmp, r, e)
	if err == nil {
		err = tmp.Chmod(0o700)
	}
	if err == nil {
		err = tmp.Commit()
	}
	if err != nil {
		return "", fmt.Errorf("ape: caching %s engine: %w", e.Platform(), err)
	}
	return path, nil
}

func fileHasHash(path, sum string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == sum, nil
}

// Launch says how to start a llamafile's engine.
type Launch struct {
	Self   string   // absolute path of the llamafile
	Engine string   // native executable to run (the llamafile itself for an in-place PE)
	Env    []string // the environment, with LLAMAFILE_SELF and LLAMAFILE_ENGINE set
}

// Prepare readies the llamafile at path to run on goos/goarch as its
// prelude would: it extracts (or finds in the cache) that platform's engine
// and returns the executable to start and the environment to give it.
func Prepare(path, goos, goarch string) (*Launch, error) {
	self, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("ape: %w", err)
	}
	f, err := os.Open(self)
	if err != nil {
		return nil, fmt.Errorf("ape: %w", err)
	}
	defer f.Close()
	m, err := readOpen(f, path)
	if err != nil {
		return nil, err
	}
	e, ok := m.Lookup(goos, goarch)
	if !ok {
		return nil, fmt.Errorf("ape: %s: no engine for %s/%s (it has %v)", path, goos, goarch, m.Platforms())
	}
	l := &Launch{Self: self, Engine: self}
	if e.Encoding != PE {
		dir, err := CacheDir()
		if err != nil {
			return nil, err
		}
		if l.Engine, err = Cached(dir, f, e); err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, path)
		}
	}
	l.Env = setEnv(os.Environ(), EnvSelf, l.Self)
	l.Env = setEnv(l.Env, EnvEngine, l.Engine)
	return l, nil
}

func setEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if len(kv) > len(key) && kv[:len(key)] == key && kv[len(key)] == '=' {
			continue
		}
		out = append(out, kv)
	}
	return append(out, key+"="+value)
}

// SelfPath returns the path of the file a llamafile engine was started
// from, where its zip archive (weights, .args) is: $LLAMAFILE_SELF when the
// prelude or ape-loader started this process, otherwise os.Executable().
// LLAMAFILE_SELF is ignored when LLAMAFILE_ENGINE names an executable other
// than this one, which happens when a llamafile starts another, native,
// llamafile that inherits its environment.
func SelfPath() (string, error) {
	exe, exeErr := os.Executable()
	if self := os.Getenv(EnvSelf); self != "" {
		eng := os.Getenv(EnvEngine)
		if eng == "" || exeErr != nil || sameFile(eng, exe) {
			return self, nil
		}
	}
	if exeErr != nil {
		return "", fmt.Errorf("ape: locating the executable: %w", exeErr)
	}
	return exe, nil
}

func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}
