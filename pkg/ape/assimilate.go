package ape

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/llamafile-go/llamafile/internal/atomicfile"
)

// nativeVersion replaces Version in a file Assimilate turned into a plain
// Windows executable, so that it no longer passes for a multi-platform one.
const nativeVersion = "native-windows \n"

// Assimilate rewrites the multi-platform llamafile at path into the plain
// native executable for goos/goarch, keeping the zip archive appended to it
// (weights, .args): the archive moves by a multiple of its data alignment
// (at least MinZipAlign), and its central directory and end records are
// rewritten with the new offsets. The result replaces path atomically,
// keeping its mode, unless out is not empty, in which case it is written
// there instead (mode 0755).
func Assimilate(path, goos, goarch, out string) (err error) {
	target := path
	if p, err := filepath.EvalSymlinks(path); err == nil {
		target = p
	}
	f, err := os.Open(target)
	if err != nil {
		return fmt.Errorf("ape: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("ape: %w", err)
	}
	size := fi.Size()
	m, err := Read(f, size)
	if err != nil {
		return fmt.Errorf("ape: %s: %w", path, err)
	}
	e, ok := m.Lookup(goos, goarch)
	if !ok {
		return fmt.Errorf("ape: %s: no engine for %s/%s (it has %v)", path, goos, goarch, m.Platforms())
	}
	var prefixEnd int64
	for _, x := range m.Entries {
		prefixEnd = max(prefixEnd, x.Offset+x.Length)
	}
	z, err := findZip(f, size)
	switch {
	case errors.Is(err, errNoZip):
		z = nil
	case err != nil:
		return fmt.Errorf("ape: %s: %w", path, err)
	case z.start < prefixEnd:
		return fmt.Errorf("ape: %s: zip archive at %d overlaps the engines (which end at %d)", path, z.start, prefixEnd)
	}

	mode := fi.Mode().Perm()
	dest := out
	if dest == "" {
		dest = target
	} else {
		mode = 0o755
	}
	tmp, err := atomicfile.Create(dest, "."+filepath.Base(dest)+".assimilate-*")
	if err != nil {
		return fmt.Errorf("ape: %w", err)
	}
	defer tmp.Abort()

	if e.Encoding == PE {
		err = writeNativePE(tmp, f, m, e)
	} else {
		err = Extract(tmp, f, e)
	}
	if err != nil {
		return fmt.Errorf("ape: %s: %w", path, err)
	}
	if z != nil {
		if err := writeZip(tmp.File, f, z); err != nil {
			return fmt.Errorf("ape: %s: %w", path, err)
		}
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("ape: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("ape: %w", err)
	}
	f.Close() // before the rename, which Windows needs
	if err := tmp.Commit(); err != nil {
		return fmt.Errorf("ape: %w", err)
	}
	return nil
}

// writeNativePE writes the file's own Windows executable (its headers and
// sections) with the shell prelude replaced by a script that only says what
// the file is.
func writeNativePE(w io.Writer, r io.ReaderAt, m *Manifest, e *Entry) error {
	img := make([]byte, e.Length)
	if _, err := r.ReadAt(img, 0); err != nil {
		return err
	}
	copy(img[len(Magic):], nativeVersion)
	script := img[m.ScriptStart:m.ScriptEnd]
	msg := []byte(`echo "$0: this is a Windows program" >&2;exit 1` + "\n")
	if len(msg) > len(script) {
		return errors.New("shell prelude too short to replace")
	}
	copy(script, msg)
	copy(script[len(msg):], bytes.Repeat([]byte("\n"), len(script)-len(msg)))
	_, err := w.Write(img)
	return err
}

// writeZip appends z, read from r, to f: zero padding so that the archive
// keeps its data alignment, the local records as they are, and the central
// directory and end records with their offsets adjusted.
func writeZip(f *os.File, r io.ReaderAt, z *appendedZip) error {
	end, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	// The smallest position at or after end congruent to z.start.
	newStart := end + ((z.start-end)%z.align+z.align)%z.align
	delta := newStart - z.start
	tail, err := z.shiftedTail(delta)
	if err != nil {
		return err
	}
	if err := f.Truncate(newStart); err != nil { // zero padding, sparse where possible
		return err
	}
	if _, err := f.Seek(newStart, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(f, io.NewSectionReader(r, z.start, z.cdStart-z.start)); err != nil {
		return err
	}
	_, err = f.Write(tail)
	return err
}
