package ape

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/pe"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

const hostPlatform = runtime.GOOS + "/" + runtime.GOARCH

// needHostShell skips tests that run the prelude when this host is not a
// Unix the format supports.
func needHostShell(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" || !slices.Contains(Platforms, hostPlatform) {
		t.Skipf("the shell prelude does not run on %s", hostPlatform)
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPackLayoutAndPE(t *testing.T) {
	dir := t.TempDir()
	out := packTest(t, dir, "multi", []string{"windows/amd64"}, PackOptions{})
	data := mustRead(t, out)
	if !bytes.HasPrefix(data, []byte("MZqFpD='\nllamafile-ape-1\n")) {
		t.Fatalf("file starts with %q", data[:32])
	}
	if i := bytes.IndexByte(data[8:dosHeaderSize], '\''); i >= 0 {
		t.Errorf("quote inside the DOS header at %d", 8+i)
	}
	m, err := ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Platforms(); !slices.Equal(got, Platforms) {
		t.Errorf("platforms %v, want %v", got, Platforms)
	}
	if !bytes.Contains(data[m.ScriptStart:m.ScriptEnd], []byte("exec \"$b\" \"$@\"\n")) || bytes.IndexByte(data[m.ScriptStart:m.ScriptEnd], 0) >= 0 {
		t.Error("prelude lacks its exec line or holds a NUL byte")
	}
	if m.PEHeader < m.ScriptEnd || m.PEHeader%8 != 0 {
		t.Errorf("PE header at %d, prelude ends at %d", m.PEHeader, m.ScriptEnd)
	}
	for _, e := range m.Entries {
		if e.Encoding == PE {
			continue
		}
		var buf bytes.Buffer
		if err := Extract(&buf, bytes.NewReader(data), &e); err != nil {
			t.Fatal(err)
		}
		want := mustRead(t, fakeEngine(t, t.TempDir(), e.OS, e.Arch))
		if !bytes.Equal(buf.Bytes(), want) || e.SHA256 != sha(want) || e.Size != int64(len(want)) {
			t.Errorf("%s: extracted engine differs from the packed one", e.Platform())
		}
	}

	// The Windows executable survives the move of its headers.
	orig, err := pe.Open(buildHello(t, "windows/amd64")["windows/amd64"])
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	moved, err := pe.Open(out)
	if err != nil {
		t.Fatalf("debug/pe cannot read the packed file: %v", err)
	}
	defer moved.Close()
	oh, mh := orig.OptionalHeader.(*pe.OptionalHeader64), moved.OptionalHeader.(*pe.OptionalHeader64)
	if mh.AddressOfEntryPoint != oh.AddressOfEntryPoint || mh.ImageBase != oh.ImageBase || mh.SizeOfImage != oh.SizeOfImage {
		t.Errorf("entry %#x base %#x image %#x, want %#x %#x %#x", mh.AddressOfEntryPoint, mh.ImageBase, mh.SizeOfImage,
			oh.AddressOfEntryPoint, oh.ImageBase, oh.SizeOfImage)
	}
	if mh.SizeOfHeaders != HeaderSize || mh.DataDirectory != oh.DataDirectory {
		t.Errorf("SizeOfHeaders %#x or data directories changed", mh.SizeOfHeaders)
	}
	if len(moved.Sections) != len(orig.Sections) {
		t.Fatalf("%d sections, want %d", len(moved.Sections), len(orig.Sections))
	}
	for i, s := range moved.Sections {
		o := orig.Sections[i]
		a, _ := s.Data()
		b, _ := o.Data()
		if s.Name != o.Name || s.VirtualAddress != o.VirtualAddress || s.VirtualSize != o.VirtualSize || !bytes.Equal(a, b) {
			t.Errorf("section %s differs after the move", o.Name)
		}
		if s.Size > 0 && (s.Offset < HeaderSize || s.Offset%mh.FileAlignment != 0) {
			t.Errorf("section %s at file offset %#x", s.Name, s.Offset)
		}
	}
	li, _ := orig.ImportedSymbols()
	lm, err := moved.ImportedSymbols()
	if err != nil || !slices.Equal(li, lm) {
		t.Errorf("imports differ: %v", err)
	}
}

func TestPackRejects(t *testing.T) {
	dir := t.TempDir()
	amd := fakeEngine(t, dir, "linux", "amd64")
	mac := fakeEngine(t, dir, "darwin", "arm64")
	notPE := fakeEngine(t, dir, "windows", "amd64") // MZ, but no PE headers
	for _, tc := range []struct {
		name    string
		engines []Engine
		want    string
	}{
		{"none", nil, "no engines"},
		{"duplicate", []Engine{{"linux", "amd64", amd}, {"linux", "amd64", amd}}, "two engines"},
		{"platform", []Engine{{"plan9", "amd64", amd}}, "unsupported platform"},
		{"arch", []Engine{{"linux", "arm64", amd}}, "not a 64-bit ELF"},
		{"os", []Engine{{"linux", "arm64", mac}}, "not a 64-bit ELF"},
		{"macho", []Engine{{"darwin", "amd64", mac}}, "Mach-O"},
		{"pe", []Engine{{"windows", "amd64", notPE}}, "PE"},
		{"missing", []Engine{{"linux", "amd64", filepath.Join(dir, "nope")}}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name)
			err := Pack(out, tc.engines, PackOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Pack: %v, want an error containing %q", err, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("output written despite the error")
			}
		})
	}
}

func TestRelocatePERejectsSigned(t *testing.T) {
	data := mustRead(t, buildHello(t, "windows/amd64")["windows/amd64"])
	lfanew := int(binary.LittleEndian.Uint32(data[0x3c:]))
	sec := lfanew + 4 + coffSize + 112 + 8*dirSecurity
	signed := slices.Clone(data)
	binary.LittleEndian.PutUint32(signed[sec:], 0x1000)
	binary.LittleEndian.PutUint32(signed[sec+4:], 0x100)
	if _, err := relocatePE(signed, machineAMD64); err == nil || !strings.Contains(err.Error(), "signed") {
		t.Errorf("signed PE: %v", err)
	}
	if _, err := relocatePE(data, machineARM64); err == nil {
		t.Error("amd64 PE accepted as arm64")
	}
	if _, err := relocatePE(data[:300], machineAMD64); err == nil {
		t.Error("truncated PE accepted")
	}
}

func TestReadMalformed(t *testing.T) {
	good := Entry{OS: "linux", Arch: "amd64", Offset: 4096, Length: 100, Size: 200, SHA256: strings.Repeat("ab", 32), Encoding: Gzip}
	file := func(entries ...Entry) []byte {
		h, err := header(entries, 0)
		if err != nil {
			t.Fatal(err)
		}
		return append(h, make([]byte, 8192-len(h))...)
	}
	if m, err := Read(bytes.NewReader(file(good)), 8192); err != nil || len(m.Entries) != 1 || m.Entries[0] != good {
		t.Fatalf("Read of a good header: %+v, %v", m, err)
	}
	bad := func(f func(*Entry)) []byte { e := good; f(&e); return file(e) }
	edit := func(old, new string) []byte {
		return bytes.Replace(file(good), []byte(old), []byte(new), 1)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a multi-platform"},
		{"elf", []byte("\x7fELF\x02\x01\x01"), "not a multi-platform"},
		{"truncated", file(good)[:40], "DOS header"},
		{"no engines", file(), "no engines"},
		{"past end", bad(func(e *Entry) { e.Offset = 8192 }), "past the end"},
		{"huge", bad(func(e *Entry) { e.Offset, e.Length = 4096, 999999999999999999 }), "past the end"},
		{"too many digits", bad(func(e *Entry) { e.Offset, e.Length = 4096, 1<<62 }), "malformed"},
		{"unaligned", bad(func(e *Entry) { e.Offset = 4100 }), "multiple of"},
		{"in header", bad(func(e *Entry) { e.Offset = 0 }), "multiple of"},
		{"platform", bad(func(e *Entry) { e.OS = "plan9" }), "unknown platform"},
		{"raw size", bad(func(e *Entry) { e.Encoding = Raw }), "differs from size"},
		{"no hash", bad(func(e *Entry) { e.SHA256 = "" }), "no SHA-256"},
		{"pe", bad(func(e *Entry) { e.Encoding = PE }), "Windows executable"},
		{"twice", file(good, good), "listed twice"},
		{"garbled", edit(" gzip;;", " zip;;"), "malformed engine line"},
		{"no end", edit("exit 127", "exit 128"), "no end line"},
		{"unquoted", edit("'\n[", "\"\n["), "not closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Read: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// run runs a command with the test cache directory and returns its
// combined output.
func run(t *testing.T, cache, dir string, name string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), EnvCache+"="+cache, EnvSelf+"=", EnvEngine+"=")
	return cmd.CombinedOutput()
}

// Arguments that a prelude must pass on verbatim.
var trickyArgs = []string{"--help", "a b", "-x", "*", "", "$HOME", "'"}

func wantArgs() string { return fmt.Sprintf("%q", trickyArgs) }

func TestPreludeShells(t *testing.T) {
	needHostShell(t)
	dir := t.TempDir()
	for _, opt := range []PackOptions{{}, {Raw: true}} {
		out := packTest(t, dir, fmt.Sprintf("multi-raw-%v", opt.Raw), []string{hostPlatform}, opt)
		engine := mustRead(t, buildHello(t, hostPlatform)[hostPlatform])
		shells := [][]string{{"sh"}, {"dash"}, {"bash"}, {"zsh"}, {"busybox", "sh"}}
		ran := 0
		for _, sh := range shells {
			if _, err := exec.LookPath(sh[0]); err != nil {
				t.Logf("%s not installed; skipped", sh[0])
				continue
			}
			ran++
			name := strings.Join(sh, " ")
			cache := filepath.Join(t.TempDir(), "cache")
			// As a script: "sh FILE ARGS".
			b, err := run(t, cache, dir, sh[0], append(append(sh[1:], out), trickyArgs...)...)
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", name, out, err, b)
			}
			h := parseHello(t, b)
			if h.platform != hostPlatform || h.args != wantArgs() || h.self != out {
				t.Errorf("%s FILE: platform %s args %s self %s; want %s %s %s", name, h.platform, h.args, h.self, hostPlatform, wantArgs(), out)
			}
			// Run by name: the kernel refuses the file (ENOEXEC) and the
			// shell runs it as a script.
			b, err = run(t, cache, dir, sh[0], append(append(sh[1:], "-c", `./"$0" "$@"`, filepath.Base(out)), trickyArgs...)...)
			if err != nil {
				t.Fatalf("%s -c ./FILE: %v\n%s", name, err, b)
			}
			if h := parseHello(t, b); h.args != wantArgs() || h.self != out {
				t.Errorf("%s -c ./FILE: args %s self %s", name, h.args, h.self)
			}
			checkCache(t, cache, hostPlatform, engine)
		}
		if ran < 2 {
			t.Errorf("only %d shells ran", ran)
		}
	}
}

// checkCache checks that cache is private and holds exactly the engine
// for platform, under its hash.
func checkCache(t *testing.T, cache, platform string, engine []byte) {
	t.Helper()
	fi, err := os.Stat(cache)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("cache directory mode %v, want 0700", fi.Mode().Perm())
	}
	names, _ := filepath.Glob(filepath.Join(cache, "*"))
	hidden, _ := filepath.Glob(filepath.Join(cache, ".*"))
	want := filepath.Join(cache, strings.ReplaceAll(platform, "/", "-")+"-"+sha(engine))
	if len(names) != 1 || names[0] != want || len(hidden) != 0 {
		t.Fatalf("cache holds %v %v, want only %s", names, hidden, want)
	}
	if got := mustRead(t, want); !bytes.Equal(got, engine) {
		t.Error("cached engine differs from the packed one")
	}
}

func TestPreludeConcurrentStart(t *testing.T) {
	needHostShell(t)
	dir := t.TempDir()
	out := packTest(t, dir, "multi", []string{hostPlatform}, PackOptions{})
	engine := mustRead(t, buildHello(t, hostPlatform)[hostPlatform])
	cache := filepath.Join(t.TempDir(), "fresh", "cache")
	var wg sync.WaitGroup
	outs := make([][]byte, 8)
	errs := make([]error, 8)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				outs[i], errs[i] = run(t, cache, dir, "sh", out, fmt.Sprint(i))
			} else {
				outs[i], errs[i] = run(t, cache, dir, "sh", "-c", `./"$0" "$@"`, filepath.Base(out), fmt.Sprint(i))
			}
		}()
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil {
			t.Fatalf("start %d: %v\n%s", i, errs[i], outs[i])
		}
		if h := parseHello(t, outs[i]); h.args != fmt.Sprintf("[%q]", fmt.Sprint(i)) {
			t.Errorf("start %d: args %s", i, h.args)
		}
	}
	checkCache(t, cache, hostPlatform, engine)
}

func TestPreludeTamperedCacheAndDamagedFile(t *testing.T) {
	needHostShell(t)
	dir := t.TempDir()
	out := packTest(t, dir, "multi", []string{hostPlatform}, PackOptions{})
	engine := mustRead(t, buildHello(t, hostPlatform)[hostPlatform])
	cache := filepath.Join(t.TempDir(), "cache")
	if b, err := run(t, cache, dir, "sh", out); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	cached := filepath.Join(cache, strings.ReplaceAll(hostPlatform, "/", "-")+"-"+sha(engine))
	// A cached engine that no longer matches its hash is replaced.
	if err := os.WriteFile(cached, []byte("#!/bin/sh\necho tampered\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := run(t, cache, dir, "sh", out, "again")
	if err != nil || strings.Contains(string(b), "tampered") {
		t.Fatalf("tampered cache ran: %v\n%s", err, b)
	}
	checkCache(t, cache, hostPlatform, engine)

	// The same through the Go side.
	if err := os.WriteFile(cached, []byte("garbage"), 0o700); err != nil {
		t.Fatal(err)
	}
	m, err := ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := m.Lookup(runtime.GOOS, runtime.GOARCH)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := Cached(cache, f, e); err != nil || p != cached {
		t.Fatalf("Cached: %s, %v", p, err)
	}
	f.Close()
	checkCache(t, cache, hostPlatform, engine)

	// A llamafile whose engine bytes are damaged is refused, and nothing
	// is left in the cache.
	data := mustRead(t, out)
	data[e.Offset+e.Length/2] ^= 0x55
	damaged := filepath.Join(dir, "damaged")
	if err := os.WriteFile(damaged, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cache2 := filepath.Join(t.TempDir(), "cache")
	b, err = run(t, cache2, dir, "sh", damaged)
	if err == nil || !strings.Contains(string(b), "cannot extract") {
		t.Errorf("damaged file: %v\n%s", err, b)
	}
	if _, err := Prepare(damaged, runtime.GOOS, runtime.GOARCH); err == nil {
		t.Error("Prepare accepted a damaged engine")
	}
	if left, _ := filepath.Glob(filepath.Join(cache2, "*")); len(left) != 0 {
		t.Errorf("damaged file left %v in the cache", left)
	}
	if left, _ := filepath.Glob(filepath.Join(cache2, ".*")); len(left) != 0 {
		t.Errorf("damaged file left %v in the cache", left)
	}
}

func TestCacheDirPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("ownership and modes are Unix checks")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	fallback := filepath.Join(tmp, fmt.Sprintf("llamafile-%d", os.Geteuid()))

	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777)
	t.Setenv(EnvCache, open)
	if d, err := CacheDir(); err != nil || d != open {
		t.Fatalf("CacheDir = %s, %v; want %s", d, err, open)
	}
	if fi, _ := os.Stat(open); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", fi.Mode().Perm())
	}

	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(open, link); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvCache, link)
	if d, err := CacheDir(); err != nil || d != fallback {
		t.Errorf("symlinked cache: CacheDir = %s, %v; want the fallback %s", d, err, fallback)
	}

	if os.Geteuid() == 0 {
		other := filepath.Join(t.TempDir(), "other")
		os.Mkdir(other, 0o700)
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		t.Setenv(EnvCache, other)
		if d, err := CacheDir(); err != nil || d != fallback {
			t.Errorf("foreign cache: CacheDir = %s, %v; want the fallback %s", d, err, fallback)
		}
		// The prelude makes the same choice.
		needHostShell(t)
		dir := t.TempDir()
		out := packTest(t, dir, "multi", []string{hostPlatform}, PackOptions{})
		cmd := exec.Command("sh", out)
		cmd.Env = append(os.Environ(), EnvCache+"="+other)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		if left, _ := filepath.Glob(filepath.Join(other, "*")); len(left) != 0 {
			t.Errorf("prelude wrote %v into a directory of another user", left)
		}
		if got, _ := filepath.Glob(filepath.Join(fallback, "*")); len(got) != 1 {
			t.Errorf("prelude's fallback cache holds %v", got)
		}
	}
}

func TestSelfPath(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	other := filepath.Join(t.TempDir(), "other")
	os.WriteFile(other, []byte("x"), 0o755)
	for _, tc := range []struct{ self, engine, want string }{
		{"", "", exe},
		{"/x/model.llamafile", "", "/x/model.llamafile"},
		{"/x/model.llamafile", exe, "/x/model.llamafile"},
		{"/x/model.llamafile", other, exe}, // inherited from another llamafile
	} {
		t.Setenv(EnvSelf, tc.self)
		t.Setenv(EnvEngine, tc.engine)
		if got, err := SelfPath(); err != nil || got != tc.want {
			t.Errorf("SelfPath with %s=%q %s=%q = %q, %v; want %q", EnvSelf, tc.self, EnvEngine, tc.engine, got, err, tc.want)
		}
	}
}

func TestApeLoader(t *testing.T) {
	needHostShell(t)
	loader := testutil.Command(t, "ape-loader")
	dir := t.TempDir()
	out := packTest(t, dir, "multi", []string{hostPlatform}, PackOptions{})
	engine := mustRead(t, buildHello(t, hostPlatform)[hostPlatform])
	cache := filepath.Join(t.TempDir(), "cache")
	b, err := run(t, cache, dir, loader, append([]string{"multi"}, trickyArgs...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if h := parseHello(t, b); h.platform != hostPlatform || h.args != wantArgs() || h.self != out {
		t.Errorf("ape-loader: platform %s args %s self %s", h.platform, h.args, h.self)
	}
	checkCache(t, cache, hostPlatform, engine)
	// The prelude finds the engine ape-loader cached (and vice versa).
	if b, err := run(t, cache, dir, "sh", out); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	checkCache(t, cache, hostPlatform, engine)

	for _, args := range [][]string{{}, {"--bogus"}, {"--"}, {"nonexistent"}, {loader}} {
		b, err := run(t, cache, dir, loader, args...)
		if err == nil || len(b) == 0 {
			t.Errorf("ape-loader %q: %v, output %q; want an error", args, err, b)
		}
	}
}

func TestAssimilate(t *testing.T) {
	needHostShell(t)
	real := []string{hostPlatform, "windows/amd64"}
	qemu, qerr := exec.LookPath("qemu-aarch64-static")
	if qerr == nil && !testing.Short() && runtime.GOARCH == "amd64" {
		real = append(real, "linux/arm64")
	}
	dir := t.TempDir()
	out := packTest(t, dir, "multi", real, PackOptions{})
	weights := bytes.Repeat([]byte("weights!"), 20000)
	contents := map[string][]byte{".args": []byte("-m\nweights.bin\n"), "weights.bin": weights}
	appendZip(t, out, []string{".args", "weights.bin"}, contents, MinZipAlign)
	prefix := mustRead(t, out)

	checkZip := func(t *testing.T, h helloOutput, path string) {
		t.Helper()
		data := mustRead(t, path)
		off := h.entryOffset(t, "weights.bin")
		if off%MinZipAlign != 0 || !bytes.Equal(data[off:off+int64(len(weights))], weights) {
			t.Errorf("%s: weights at %d not aligned or not there", path, off)
		}
		if !strings.Contains(strings.Join(h.entries, "\n"), `.args offset=`) {
			t.Errorf("%s: no .args entry in %q", path, h.entries)
		}
	}
	cache := filepath.Join(t.TempDir(), "cache")
	b, err := run(t, cache, dir, "sh", out, "x")
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	checkZip(t, parseHello(t, b), out)

	tool := testutil.Command(t, "assimilate")
	// In place, for the host: a native executable keeping its mode.
	native := filepath.Join(dir, "native")
	if err := os.WriteFile(native, prefix, 0o751); err != nil {
		t.Fatal(err)
	}
	os.Chmod(native, 0o751)
	if b, err := run(t, cache, dir, tool, native); err != nil {
		t.Fatalf("assimilate: %v\n%s", err, b)
	}
	fi, err := os.Stat(native)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o751 || fi.Size() >= int64(len(prefix)) {
		t.Errorf("assimilated file: mode %v size %d (was %d)", fi.Mode().Perm(), fi.Size(), len(prefix))
	}
	if runtime.GOOS == "linux" {
		if f, err := elf.Open(native); err != nil {
			t.Errorf("assimilated file is not ELF: %v", err)
		} else {
			f.Close()
		}
	}
	b, err = run(t, cache, dir, native, "y")
	if err != nil {
		t.Fatalf("running the assimilated file: %v\n%s", err, b)
	}
	h := parseHello(t, b)
	if h.platform != hostPlatform || h.self != native {
		t.Errorf("assimilated: platform %s self %s", h.platform, h.self)
	}
	checkZip(t, h, native)
	if b, err := run(t, cache, dir, tool, native); err == nil || !strings.Contains(string(b), "not a multi-platform") {
		t.Errorf("assimilating twice: %v\n%s", err, b)
	}
	if b, err := run(t, cache, dir, tool, "--os", "plan9", out); err == nil {
		t.Errorf("assimilate --os plan9: no error\n%s", b)
	}

	// To Windows: the file's own PE with the zip, readable by archive/zip.
	win := filepath.Join(dir, "win.exe")
	if b, err := run(t, cache, dir, tool, "--os", "windows", "--arch", "amd64", "-o", win, out); err != nil {
		t.Fatalf("assimilate --os windows: %v\n%s", err, b)
	}
	if !bytes.Equal(mustRead(t, out), prefix) {
		t.Error("assimilate -o changed its input")
	}
	pf, err := pe.Open(win)
	if err != nil {
		t.Fatalf("windows result: %v", err)
	}
	pf.Close()
	if _, err := ReadFile(win); !errors.Is(err, ErrNotAPE) {
		t.Errorf("windows result still reads as multi-platform: %v", err)
	}
	zr, err := zip.OpenReader(win)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		off, _ := f.DataOffset()
		rc, _ := f.Open()
		got, err := io.ReadAll(rc)
		if err != nil || !bytes.Equal(got, contents[f.Name]) || (f.Name == "weights.bin" && off%MinZipAlign != 0) {
			t.Errorf("windows result: entry %s at %d: %v", f.Name, off, err)
		}
	}
	zr.Close()

	// To linux/arm64, run under qemu when available.
	if slices.Contains(real, "linux/arm64") {
		arm := filepath.Join(dir, "arm")
		if b, err := run(t, cache, dir, tool, "--os", "linux", "--arch", "arm64", "-o", arm, out); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		b, err := run(t, cache, dir, qemu, arm, "z")
		if err != nil {
			t.Fatalf("qemu: %v\n%s", err, b)
		}
		h := parseHello(t, b)
		if h.platform != "linux/arm64" {
			t.Errorf("arm64 result reports %s", h.platform)
		}
		checkZip(t, h, arm)
	} else {
		t.Log("qemu-aarch64-static not found (or -short): linux/arm64 not run")
	}
}

// TestZip64Shift moves a zip64 archive, as zipalign writes them, and
// checks that archive/zip reads the result with its data aligned.
func TestZip64Shift(t *testing.T) {
	data := bytes.Repeat([]byte{1, 2, 3, 4, 5}, 3000)
	name := "weights.bin"
	le := binary.LittleEndian
	var f bytes.Buffer
	f.Write(make([]byte, 3*MinZipAlign+1234)) // some prefix
	lho := int64(f.Len())
	// Local header: zip64 extra, padding so that the data is aligned.
	pad := MinZipAlign - (lho+zipLenLocal+int64(len(name))+20)%MinZipAlign
	local := le.AppendUint32(nil, zipSigLocal)
	local = le.AppendUint16(local, 45)
	local = le.AppendUint16(local, 0)
	local = le.AppendUint16(local, 0)
	local = le.AppendUint32(local, 0)
	local = le.AppendUint32(local, crc(data))
	local = le.AppendUint32(local, 0xffffffff)
	local = le.AppendUint32(local, 0xffffffff)
	local = le.AppendUint16(local, uint16(len(name)))
	local = le.AppendUint16(local, uint16(20+pad))
	local = append(local, name...)
	local = le.AppendUint16(local, 1)
	local = le.AppendUint16(local, 16)
	local = le.AppendUint64(local, uint64(len(data)))
	local = le.AppendUint64(local, uint64(len(data)))
	local = le.AppendUint16(local, 0xd935)
	local = le.AppendUint16(local, uint16(pad-4))
	local = append(local, make([]byte, pad-4)...)
	f.Write(local)
	if f.Len()%MinZipAlign != 0 {
		t.Fatalf("test archive misaligned: %d", f.Len())
	}
	f.Write(data)
	cd := int64(f.Len())
	c := le.AppendUint32(nil, zipSigCentral)
	c = le.AppendUint16(c, 3<<8|45)
	c = le.AppendUint16(c, 45)
	c = append(c, make([]byte, 8)...) // flags, method, time, date
	c = le.AppendUint32(c, crc(data))
	c = le.AppendUint32(c, 0xffffffff)
	c = le.AppendUint32(c, 0xffffffff)
	c = le.AppendUint16(c, uint16(len(name)))
	c = le.AppendUint16(c, 28)
	c = append(c, make([]byte, 6)...) // comment length, disk, internal attributes
	c = le.AppendUint32(c, 0o100644<<16)
	c = le.AppendUint32(c, 0xffffffff)
	c = append(c, name...)
	c = le.AppendUint16(c, 1)
	c = le.AppendUint16(c, 24)
	c = le.AppendUint64(c, uint64(len(data)))
	c = le.AppendUint64(c, uint64(len(data)))
	c = le.AppendUint64(c, uint64(lho))
	f.Write(c)
	end64 := int64(f.Len())
	e := le.AppendUint32(nil, zipSigEnd64)
	e = le.AppendUint64(e, zipLenEnd64-12)
	e = le.AppendUint16(e, 45)
	e = le.AppendUint16(e, 45)
	e = append(e, make([]byte, 8)...)
	e = le.AppendUint64(e, 1)
	e = le.AppendUint64(e, 1)
	e = le.AppendUint64(e, uint64(len(c)))
	e = le.AppendUint64(e, uint64(cd))
	e = le.AppendUint32(e, zipSigLoc64)
	e = le.AppendUint32(e, 0)
	e = le.AppendUint64(e, uint64(end64))
	e = le.AppendUint32(e, 1)
	e = le.AppendUint32(e, zipSigEnd)
	e = append(e, make([]byte, 4)...)
	e = le.AppendUint16(e, 0xffff)
	e = le.AppendUint16(e, 0xffff)
	e = le.AppendUint32(e, 0xffffffff)
	e = le.AppendUint32(e, 0xffffffff)
	e = le.AppendUint16(e, 0)
	f.Write(e)

	src := f.Bytes()
	readBack := func(t *testing.T, b []byte) {
		t.Helper()
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		off, _ := zr.File[0].DataOffset()
		rc, err := zr.File[0].Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		if err != nil || !bytes.Equal(got, data) || off%MinZipAlign != 0 || !bytes.Equal(b[off:off+int64(len(data))], data) {
			t.Errorf("entry at %d unreadable or misaligned: %v", off, err)
		}
	}
	readBack(t, src)
	z, err := findZip(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	if z.start != lho || z.base != 0 || z.align != 4*MinZipAlign || z.loc64 < 0 { // the data sits at 4*65536
		t.Fatalf("findZip: start %d base %d align %d loc64 %d", z.start, z.base, z.align, z.loc64)
	}
	for _, engineLen := range []int64{10, MinZipAlign + 5, 5*MinZipAlign + 7} {
		t.Run(fmt.Sprint(engineLen), func(t *testing.T) {
			out, err := os.CreateTemp(t.TempDir(), "shift")
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			out.Write(bytes.Repeat([]byte{0xee}, int(engineLen)))
			if err := writeZip(out, bytes.NewReader(src), z); err != nil {
				t.Fatal(err)
			}
			b := mustRead(t, out.Name())
			readBack(t, b)
			if !bytes.Equal(b[:engineLen], bytes.Repeat([]byte{0xee}, int(engineLen))) {
				t.Error("engine bytes overwritten")
			}
			if int64(len(b)) > engineLen+int64(len(src))-lho+z.align {
				t.Errorf("result of %d bytes wastes space", len(b))
			}
		})
	}
}

func crc(b []byte) uint32 {
	h := zipCRC()
	h.Write(b)
	return h.Sum32()
}
