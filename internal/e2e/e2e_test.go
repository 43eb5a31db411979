package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/ape"
)

// The acceptance case: the user's command line and its arguments.
const (
	modelName   = "stories260k.gguf"
	prompt      = "Once upon a time"
	userCommand = `./s.llamafile -p "Once upon a time" -n 64 --no-display-prompt`
	argsFile    = "-m\nstories260k.gguf\n--temp\n0\n...\n"
	zipAlign    = 65536
	cmdTimeout  = 2 * time.Minute
)

var runArgs = []string{"-p", prompt, "-n", "64", "--no-display-prompt"}

const host = runtime.GOOS + "/" + runtime.GOARCH

// fixture is the llamafile every test runs, built once per test binary.
type fixture struct {
	dir       string            // holds llamafile, s.llamafile and .args
	llamafile string            // absolute path of s.llamafile
	model     []byte            // the weights zipalign stored
	want      string            // llama.cpp's greedy completion
	manifest  *ape.Manifest     // s.llamafile's engines
	tools     map[string]string // zipalign, ape-loader, assimilate
}

var (
	fixMu   sync.Mutex
	fix     *fixture
	rootDir string // removed by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if rootDir != "" {
		os.RemoveAll(rootDir)
	}
	os.Exit(code)
}

// ci reports whether a missing tool is a failure rather than a skip.
func ci() bool { return os.Getenv("CI") == "true" }

// need returns the path of the first of names found in PATH; when there
// is none it skips the test, or fails it when CI=true and required.
func need(t *testing.T, required bool, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if required && ci() {
		t.Fatalf("%s not installed (required when CI=true; .ci/run installs it)", names[0])
	}
	t.Skipf("%s not installed", names[0])
	return ""
}

// setup builds the test's llamafile as a user would with make and
// zipalign: cmd/llamafile for linux/amd64, linux/arm64, windows/amd64 and
// the host, packed into one file by pkg/ape (as internal/mkape does for
// bin/llamafile), then
//
//	cp llamafile s.llamafile
//	zipalign -j0 s.llamafile ../shared/testdata/models/stories260k.gguf .args
func setup(t *testing.T) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: builds the engines")
	}
	if runtime.GOOS == "windows" || !slices.Contains(ape.Platforms, host) {
		t.Skipf("llamafiles run from a shell; %s has none the format supports", host)
	}
	need(t, true, "sh")
	model := testutil.SharedFile(t, "testdata/models/"+modelName)
	want := greedyCompletion(t)

	fixMu.Lock()
	defer fixMu.Unlock()
	if fix != nil {
		return fix
	}
	if rootDir == "" {
		d, err := os.MkdirTemp("", "llamafile-e2e-")
		if err != nil {
			t.Fatal(err)
		}
		rootDir = d
	}
	dir, err := os.MkdirTemp(rootDir, "work-")
	if err != nil {
		t.Fatal(err)
	}
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: dir, want: want, tools: map[string]string{}}
	for _, name := range []string{"zipalign", "ape-loader", "assimilate"} {
		f.tools[name] = testutil.Command(t, name)
	}

	platforms := []string{"windows/amd64", "linux/amd64", "linux/arm64"}
	if !slices.Contains(platforms, host) {
		platforms = append(platforms, host)
	}
	engines := buildEngines(t, filepath.Join(rootDir, "engines"), platforms)
	packed := filepath.Join(dir, "llamafile")
	if err := ape.Pack(packed, engines, ape.PackOptions{}); err != nil {
		t.Fatal(err)
	}

	f.llamafile = filepath.Join(dir, "s.llamafile")
	data, err := os.ReadFile(packed)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.llamafile, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".args"), []byte(argsFile), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(f.tools["zipalign"], "-j0", "s.llamafile", model, ".args")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zipalign -j0 s.llamafile %s .args: %v\n%s", model, err, out)
	}
	if f.model, err = os.ReadFile(model); err != nil {
		t.Fatal(err)
	}
	if f.manifest, err = ape.ReadFile(f.llamafile); err != nil {
		t.Fatal(err)
	}
	fix = f
	return f
}

// buildEngines builds cmd/llamafile for each platform, concurrently, as
// the Makefile does.
func buildEngines(t *testing.T, dir string, platforms []string) []ape.Engine {
	t.Helper()
	root := testutil.RepoRoot(t)
	engines := make([]ape.Engine, len(platforms))
	errs := make([]error, len(platforms))
	var wg sync.WaitGroup
	for i, p := range platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		out := filepath.Join(dir, "llamafile-"+goos+"-"+goarch)
		engines[i] = ape.Engine{OS: goos, Arch: goarch, Path: out}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/llamafile")
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
			if b, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("building cmd/llamafile for %s: %v\n%s", p, err, b)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return engines
}

// greedyCompletion returns llama.cpp's greedy completion of the prompt.
func greedyCompletion(t *testing.T) string {
	t.Helper()
	for _, c := range testutil.GreedyCases(t) {
		if c.Prompt == prompt && c.NPredict == 64 && c.BackendsAgree {
			return c.Completion
		}
	}
	t.Fatalf("stories260k-greedy.json has no agreed case for %q with n_predict 64", prompt)
	return ""
}

// sandbox is a fresh HOME, TMPDIR and llamafile cache for the runs of one
// test, so that every file a run writes is found under it.
type sandbox struct {
	root, home, tmp, cache string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &sandbox{
		root:  root,
		home:  filepath.Join(root, "home"),
		tmp:   filepath.Join(root, "tmp"),
		cache: filepath.Join(root, "fresh", "cache"), // created by the first run
	}
	for _, d := range []string{s.home, s.tmp} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// env is the test's environment without what would steer a llamafile,
// pointed at the sandbox, plus extra.
func (s *sandbox) env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "TMPDIR", "XDG_CACHE_HOME", ape.EnvCache, ape.EnvSelf, ape.EnvEngine:
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+s.home, "TMPDIR="+s.tmp, ape.EnvCache+"="+s.cache)
	return append(env, extra...)
}

type result struct {
	stdout, stderr string
	err            error
}

// run runs name with args in dir, in the sandbox. Its output goes to
// files, not pipes, so that a daemon it leaves behind (wineserver) holding
// them does not keep run waiting.
func (s *sandbox) run(dir string, extraEnv []string, name string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = s.env(extraEnv...)
	var files [2]*os.File
	for i := range files {
		f, err := os.CreateTemp(s.root, "output-")
		if err != nil {
			return result{err: err}
		}
		defer os.Remove(f.Name())
		defer f.Close()
		files[i] = f
	}
	cmd.Stdout, cmd.Stderr = files[0], files[1]
	err := cmd.Run()
	var out [2][]byte
	for i, f := range files {
		b, rerr := os.ReadFile(f.Name())
		if err == nil {
			err = rerr
		}
		out[i] = b
	}
	return result{string(out[0]), string(out[1]), err}
}

// check reports whether r is a successful run that printed llama.cpp's
// completion, followed by the blank line llama.cpp's tool prints.
func (f *fixture) check(t *testing.T, what string, r result) bool {
	t.Helper()
	if r.err != nil {
		t.Errorf("%s: %v\nstdout: %q\nstderr:\n%s", what, r.err, r.stdout, r.stderr)
		return false
	}
	got, ok := strings.CutSuffix(r.stdout, "\n\n")
	got = strings.TrimSuffix(got, " [end of text]\n")
	if !ok || got != f.want {
		t.Errorf("%s: stdout\n %q\nwant llama.cpp's greedy completion\n %q\nand a blank line; stderr:\n%s", what, r.stdout, f.want, r.stderr)
		return false
	}
	return true
}

// TestArchive checks the zip that zipalign appended: unzip accepts it, and
// every stored entry's data starts at a multiple of 65536 from the start of
// the file.
func TestArchive(t *testing.T) {
	f := setup(t)
	head := make([]byte, len(ape.Magic))
	if fh, err := os.Open(f.llamafile); err != nil {
		t.Fatal(err)
	} else {
		_, err = io.ReadFull(fh, head)
		fh.Close()
		if err != nil || string(head) != ape.Magic {
			t.Errorf("s.llamafile starts with %q, want %q", head, ape.Magic)
		}
	}
	for _, p := range []string{"windows/amd64", "linux/amd64", "linux/arm64", host} {
		goos, goarch, _ := strings.Cut(p, "/")
		if _, ok := f.manifest.Lookup(goos, goarch); !ok {
			t.Errorf("s.llamafile has no %s engine (it has %v)", p, f.manifest.Platforms())
		}
	}

	zr, err := zip.OpenReader(f.llamafile)
	if err != nil {
		t.Fatalf("archive/zip: %v", err)
	}
	defer zr.Close()
	want := map[string][]byte{modelName: f.model, ".args": []byte(argsFile)}
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
		off, err := zf.DataOffset()
		if err != nil {
			t.Errorf("%s: %v", zf.Name, err)
			continue
		}
		if zf.Method != zip.Store {
			t.Errorf("%s: method %d, want stored (%d)", zf.Name, zf.Method, zip.Store)
		} else if off%zipAlign != 0 {
			t.Errorf("%s: data at offset %d, not a multiple of %d", zf.Name, off, zipAlign)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Errorf("%s: %v", zf.Name, err)
			continue
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, want[zf.Name]) {
			t.Errorf("%s: content differs from the file added (%d bytes, %v)", zf.Name, len(got), err)
		}
	}
	sort.Strings(names)
	if !slices.Equal(names, []string{".args", modelName}) {
		t.Errorf("zip entries %q, want .args and %s", names, modelName)
	}

	unzip := need(t, true, "unzip")
	out, err := exec.Command(unzip, "-t", f.llamafile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No errors detected") {
		t.Errorf("unzip -t s.llamafile: %v\n%s", err, out)
	}
}

// TestShells runs ./s.llamafile from each shell, as a command and as a
// script given to the shell.
func TestShells(t *testing.T) {
	f := setup(t)
	sb := newSandbox(t)
	for _, sh := range [][]string{{"sh"}, {"dash"}, {"bash"}, {"zsh"}, {"busybox", "sh"}} {
		name := strings.Join(sh, " ")
		t.Run(name, func(t *testing.T) {
			exe := need(t, true, sh[0])
			args := append(slices.Clone(sh[1:]), "-c", userCommand)
			f.check(t, name+" -c '"+userCommand+"'", sb.run(f.dir, nil, exe, args...))
			args = append(append(slices.Clone(sh[1:]), "./s.llamafile"), runArgs...)
			f.check(t, name+" ./s.llamafile", sb.run(f.dir, nil, exe, args...))
		})
	}
}

// TestApeLoader starts the llamafile through ape-loader, without a shell.
func TestApeLoader(t *testing.T) {
	f := setup(t)
	sb := newSandbox(t)
	args := append([]string{"s.llamafile"}, runArgs...)
	f.check(t, "ape-loader s.llamafile", sb.run(f.dir, nil, f.tools["ape-loader"], args...))
}

// TestAssimilate runs the host's native executable that assimilate makes,
// keeping the zip.
func TestAssimilate(t *testing.T) {
	f := setup(t)
	sb := newSandbox(t)
	before := fileHash(t, f.llamafile)
	native := filepath.Join(sb.root, "native")
	r := sb.run(f.dir, nil, f.tools["assimilate"], "-o", native, "s.llamafile")
	if r.err != nil {
		t.Fatalf("assimilate -o native s.llamafile: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if fileHash(t, f.llamafile) != before {
		t.Error("assimilate -o changed s.llamafile")
	}
	if _, err := ape.ReadFile(native); !errors.Is(err, ape.ErrNotAPE) {
		t.Errorf("the assimilated file still reads as multi-platform: %v", err)
	}
	f.check(t, "assimilated ./native", sb.run(sb.root, nil, native, runArgs...))
}

// TestQemuArm64 runs the linux/arm64 engine under qemu-user: extracted from
// s.llamafile and started as the prelude starts it, and assimilated.
func TestQemuArm64(t *testing.T) {
	f := setup(t)
	if host != "linux/amd64" {
		t.Skipf("runs on linux/amd64 (here %s)", host)
	}
	qemu := need(t, true, "qemu-aarch64-static", "qemu-aarch64")
	sb := newSandbox(t)
	e, ok := f.manifest.Lookup("linux", "arm64")
	if !ok {
		t.Fatal("no linux/arm64 engine")
	}
	if err := os.MkdirAll(sb.cache, 0o700); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(f.llamafile)
	if err != nil {
		t.Fatal(err)
	}
	engine, err := ape.Cached(sb.cache, fh, e)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{ape.EnvSelf + "=" + f.llamafile, ape.EnvEngine + "=" + engine}
	f.check(t, "qemu linux/arm64 engine of s.llamafile", sb.run(f.dir, env, qemu, append([]string{engine}, runArgs...)...))

	arm := filepath.Join(sb.root, "arm64")
	if r := sb.run(f.dir, nil, f.tools["assimilate"], "--os", "linux", "--arch", "arm64", "-o", arm, "s.llamafile"); r.err != nil {
		t.Fatalf("assimilate --arch arm64: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	f.check(t, "qemu assimilated arm64", sb.run(sb.root, nil, qemu, append([]string{arm}, runArgs...)...))
}

// TestConcurrentStart starts eight copies at once on an empty cache: all
// must run, and the cache must end with one engine and no leftovers.
func TestConcurrentStart(t *testing.T) {
	f := setup(t)
	sb := newSandbox(t)
	const n = 8
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if i%2 == 0 {
				results[i] = sb.run(f.dir, nil, "sh", "-c", userCommand)
			} else {
				results[i] = sb.run(f.dir, nil, "sh", append([]string{"./s.llamafile"}, runArgs...)...)
			}
		}()
	}
	close(start)
	wg.Wait()
	for i, r := range results {
		f.check(t, fmt.Sprintf("copy %d", i), r)
	}
	e, _ := f.manifest.Lookup(runtime.GOOS, runtime.GOARCH)
	names, err := os.ReadDir(sb.cache)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0].Name() != ape.CachedName(e) {
		var got []string
		for _, d := range names {
			got = append(got, d.Name())
		}
		t.Errorf("cache holds %q, want only %s", got, ape.CachedName(e))
	}
}

// TestNoCopyOfWeights runs the llamafile and checks that nothing it wrote
// (under HOME, TMPDIR and the cache) holds the weights: the cache holds
// only engines, and the running engine maps the weights from s.llamafile.
func TestNoCopyOfWeights(t *testing.T) {
	f := setup(t)
	sb := newSandbox(t)
	f.check(t, "sh -c ./s.llamafile", sb.run(f.dir, nil, "sh", "-c", userCommand))
	f.check(t, "ape-loader s.llamafile", sb.run(f.dir, nil, f.tools["ape-loader"], append([]string{"s.llamafile"}, runArgs...)...))
	checkMapped(t, f, sb)

	engines := map[string]int64{}
	for _, e := range f.manifest.Entries {
		if e.Encoding != ape.PE {
			engines[ape.CachedName(&e)] = e.Size
		}
	}
	cached, err := os.ReadDir(sb.cache)
	if err != nil {
		t.Fatal(err)
	}
	if len(cached) == 0 {
		t.Error("the cache is empty after a run")
	}
	for _, d := range cached {
		fi, err := d.Info()
		if err != nil {
			t.Fatal(err)
		}
		if size, ok := engines[d.Name()]; !ok || fi.Size() != size {
			t.Errorf("cache holds %s (%d bytes), which is not an engine of s.llamafile", d.Name(), fi.Size())
		}
	}

	// A piece of the weights from the middle of the model.
	probe := f.model[len(f.model)/2 : len(f.model)/2+4096]
	for _, dir := range []string{sb.home, sb.tmp, filepath.Dir(sb.cache)} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if fi.Size() == int64(len(f.model)) {
				t.Errorf("%s has the size of the model", path)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Contains(data, probe) {
				t.Errorf("%s holds a copy of the weights", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func fileHash(t *testing.T, path string) [sha256.Size]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}
