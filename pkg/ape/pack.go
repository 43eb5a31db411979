package ape

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/llamafile-go/llamafile/internal/atomicfile"
)

// Platforms lists every os/arch pair a llamafile may carry, in the order
// Pack stores them.
var Platforms = []string{
	"windows/amd64",
	"linux/amd64", "linux/arm64",
	"darwin/amd64", "darwin/arm64",
	"freebsd/amd64", "freebsd/arm64",
	"openbsd/amd64", "openbsd/arm64",
	"netbsd/amd64", "netbsd/arm64",
	"windows/arm64",
}

// Engine is one platform's native executable, as input to Pack.
type Engine struct {
	OS, Arch string // GOOS and GOARCH
	Path     string // the executable
}

// PackOptions control Pack. The zero value compresses engines with gzip.
type PackOptions struct {
	// Raw stores the engines uncompressed, so that the prelude needs no
	// gzip; the file grows accordingly.
	Raw bool
}

// Pack writes to out a multi-platform file holding engines, at most one per
// platform. A windows/amd64 engine becomes the file's own Windows
// executable; every other engine is stored for the prelude to extract. The
// file is written to a temporary name beside out and renamed over it, with
// mode 0755.
func Pack(out string, engines []Engine, opt PackOptions) (err error) {
	if len(engines) == 0 {
		return errors.New("ape: pack: no engines")
	}
	engines = slices.Clone(engines)
	for i := range engines {
		e := &engines[i]
		p := e.OS + "/" + e.Arch
		if !slices.Contains(Platforms, p) {
			return fmt.Errorf("ape: pack: %s: unsupported platform %s", e.Path, p)
		}
		for _, o := range engines[:i] {
			if o.OS == e.OS && o.Arch == e.Arch {
				return fmt.Errorf("ape: pack: two engines for %s (%s, %s)", p, o.Path, e.Path)
			}
		}
	}
	slices.SortFunc(engines, func(a, b Engine) int {
		return slices.Index(Platforms, a.OS+"/"+a.Arch) - slices.Index(Platforms, b.OS+"/"+b.Arch)
	})

	tmp, err := atomicfile.Create(out, "."+filepath.Base(out)+".pack-*")
	if err != nil {
		return fmt.Errorf("ape: pack: %w", err)
	}
	defer tmp.Abort()

	var (
		entries []Entry
		pe      *relocatedPE
		pos     int64 = HeaderSize
	)
	for _, eng := range engines {
		if eng.OS == "windows" && eng.Arch == "amd64" {
			data, err := os.ReadFile(eng.Path)
			if err != nil {
				return fmt.Errorf("ape: pack: %w", err)
			}
			if pe, err = relocatePE(data, machineAMD64); err != nil {
				return fmt.Errorf("ape: pack: %s: %w", eng.Path, err)
			}
			if _, err := tmp.WriteAt(pe.body, HeaderSize); err != nil {
				return fmt.Errorf("ape: pack: %w", err)
			}
			pos += int64(len(pe.body))
			entries = append(entries, Entry{OS: eng.OS, Arch: eng.Arch, Length: pos, Size: pos, Encoding: PE})
			continue
		}
		pos = (pos + BlockSize - 1) / BlockSize * BlockSize
		e, err := store(tmp.File, pos, eng, opt)
		if err != nil {
			return fmt.Errorf("ape: pack: %s: %w", eng.Path, err)
		}
		entries = append(entries, *e)
		pos += e.Length
	}

	// The header's length does not depend on e_lfanew's value, so one
	// trial run tells where the PE headers go.
	hdr, err := header(entries, 0)
	if err != nil {
		return fmt.Errorf("ape: pack: %w", err)
	}
	if pe != nil {
		if hdr, err = header(entries, uint32(len(hdr))); err != nil {
			return fmt.Errorf("ape: pack: %w", err)
		}
		hdr = append(hdr, pe.headers...)
	}
	if len(hdr) > HeaderSize {
		return fmt.Errorf("ape: pack: header of %d bytes exceeds %d", len(hdr), HeaderSize)
	}
	hdr = append(hdr, make([]byte, HeaderSize-len(hdr))...)
	if _, err := tmp.WriteAt(hdr, 0); err != nil {
		return fmt.Errorf("ape: pack: %w", err)
	}
	if err := tmp.Truncate(pos); err != nil {
		return fmt.Errorf("ape: pack: %w", err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		return fmt.Errorf("ape: pack: %w", err)
	}
	if err := tmp.Commit(); err != nil {
		return fmt.Errorf("ape: pack: %w", err)
	}
	return nil
}

// store writes eng's executable at pos in f, compressed unless opt.Raw,
// and returns its entry.
func store(f *os.File, pos int64, eng Engine, opt PackOptions) (*Entry, error) {
	in, err := os.Open(eng.Path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	var head [64]byte
	if _, err := io.ReadFull(in, head[:]); err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	if err := checkExecutable(head[:], eng.OS, eng.Arch); err != nil {
		return nil, err
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.NewOffsetWriter(f, pos)}
	e := &Entry{OS: eng.OS, Arch: eng.Arch, Offset: pos, Encoding: Gzip}
	src := io.TeeReader(in, h)
	if opt.Raw {
		e.Encoding = Raw
		e.Size, err = io.Copy(cw, src)
	} else {
		zw, _ := gzip.NewWriterLevel(cw, gzip.DefaultCompression)
		if e.Size, err = io.Copy(zw, src); err == nil {
			err = zw.Close()
		}
	}
	if err != nil {
		return nil, err
	}
	e.Length = cw.n
	e.SHA256 = hex.EncodeToString(h.Sum(nil))
	return e, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// checkExecutable checks that head, the start of an executable, is for
// goos/goarch, so that a mislabelled engine is caught when packing rather
// than on a user's machine.
func checkExecutable(head []byte, goos, goarch string) error {
	le := binary.LittleEndian
	switch goos {
	case "windows":
		if !bytes.HasPrefix(head, []byte("MZ")) {
			return fmt.Errorf("not a Windows executable (no MZ signature) for %s/%s", goos, goarch)
		}
		return nil
	case "darwin":
		want := map[string]uint32{"amd64": 0x01000007, "arm64": 0x0100000c}[goarch]
		if le.Uint32(head) != 0xfeedfacf || le.Uint32(head[4:]) != want {
			return fmt.Errorf("not a 64-bit Mach-O executable for %s/%s", goos, goarch)
		}
		return nil
	default:
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
		if !bytes.HasPrefix(head, []byte(elf.ELFMAG)) || elf.Class(head[elf.EI_CLASS]) != elf.ELFCLASS64 ||
			elf.Machine(le.Uint16(head[18:])) != want {
			return fmt.Errorf("not a 64-bit ELF executable for %s/%s", goos, goarch)
		}
		return nil
	}
}
