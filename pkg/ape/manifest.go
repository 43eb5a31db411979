package ape

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
)

// Format constants.
const (
	// Magic starts every file this package writes: "MZ", the DOS and PE
	// signature, followed by the opening of a shell string assignment.
	Magic = "MZqFpD='\n"

	// Version names the format revision; it follows Magic.
	Version = "llamafile-ape-1\n"

	// HeaderSize is the size of the area holding the DOS header, the shell
	// prelude and the PE headers. The windows/amd64 engine's first section
	// starts here, which is why the prelude must fit in it.
	HeaderSize = 4096

	// BlockSize is the alignment of every stored engine, the block size the
	// prelude hands to dd.
	BlockSize = 4096
)

// Encodings of a stored engine.
const (
	Gzip = "gzip" // gzip stream (RFC 1952), extracted with gzip -dc
	Raw  = "raw"  // stored as is
	PE   = "pe"   // the Windows executable this file itself is (windows/amd64)
)

// ErrNotAPE reports a file that is not a multi-platform llamafile.
var ErrNotAPE = errors.New("not a multi-platform llamafile (no llamafile-ape-1 header)")

// Entry describes one engine stored in the file.
type Entry struct {
	OS, Arch string // GOOS and GOARCH names
	Offset   int64  // where the stored bytes start
	Length   int64  // number of stored bytes
	Size     int64  // size of the extracted engine
	SHA256   string // hex SHA-256 of the extracted engine; "" for PE
	Encoding string // Gzip, Raw or PE
}

// Platform returns "os/arch".
func (e *Entry) Platform() string { return e.OS + "/" + e.Arch }

// Manifest is the table of engines a file holds.
type Manifest struct {
	Entries []Entry
	// PEHeader is the offset of the PE signature (the DOS header's
	// e_lfanew), 0 when the file holds no windows/amd64 executable.
	PEHeader int64
	// Script is the byte range [ScriptStart, ScriptEnd) of the shell
	// prelude after the DOS header.
	ScriptStart, ScriptEnd int64
}

// Lookup returns the entry for goos/goarch.
func (m *Manifest) Lookup(goos, goarch string) (*Entry, bool) {
	for i := range m.Entries {
		if m.Entries[i].OS == goos && m.Entries[i].Arch == goarch {
			return &m.Entries[i], true
		}
	}
	return nil, false
}

// Platforms lists the os/arch pairs the file holds, in file order.
func (m *Manifest) Platforms() []string {
	var p []string
	for i := range m.Entries {
		p = append(p, m.Entries[i].Platform())
	}
	return p
}

// entryLine matches one row of the prelude's engine table.
var entryLine = regexp.MustCompile(`^([a-z0-9]+)/([a-z0-9]+)\)x ([0-9]{1,18}) ([0-9]{1,18}) ([0-9]{1,18}) ([0-9a-f]{64}|-) (gzip|raw|pe);;$`)

// knownPlatforms are the os/arch pairs a manifest may name.
var knownOS = map[string]bool{"linux": true, "darwin": true, "windows": true, "freebsd": true, "openbsd": true, "netbsd": true}
var knownArch = map[string]bool{"amd64": true, "arm64": true}

// IsAPE reports whether head, the first bytes of a file, start like a
// multi-platform llamafile.
func IsAPE(head []byte) bool {
	return bytes.HasPrefix(head, []byte(Magic+Version))
}

// ReadFile parses the manifest of the llamafile at path.
func ReadFile(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ape: %w", err)
	}
	defer f.Close()
	return readOpen(f, path)
}

// readOpen parses the manifest of f, the llamafile at path.
func readOpen(f *os.File, path string) (*Manifest, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ape: %w", err)
	}
	m, err := Read(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("ape: %s: %w", path, err)
	}
	return m, nil
}

// Read parses the manifest in the header of the size bytes of r, checking
// that every entry lies inside them.
func Read(r io.ReaderAt, size int64) (*Manifest, error) {
	n := int64(HeaderSize)
	if size < n {
		n = size
	}
	head := make([]byte, n)
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	if !IsAPE(head) {
		return nil, ErrNotAPE
	}
	if len(head) < dosHeaderSize+2 || string(head[dosHeaderSize:dosHeaderSize+2]) != "'\n" {
		return nil, errors.New("header: DOS header not closed by a quote at offset 64")
	}
	m := &Manifest{
		PEHeader:    int64(le32(head[0x3c:])),
		ScriptStart: dosHeaderSize + 2,
	}
	// The script ends at its "exit" line; the PE headers may follow.
	end := bytes.Index(head, []byte("\n"+scriptEnd))
	if end < 0 {
		return nil, errors.New("header: shell prelude has no end line")
	}
	m.ScriptEnd = int64(end + 1 + len(scriptEnd))
	seen := map[string]bool{}
	for _, line := range bytes.Split(head[m.ScriptStart:m.ScriptEnd], []byte("\n")) {
		if !bytes.Contains(line, []byte(")x ")) {
			continue
		}
		sub := entryLine.FindSubmatch(line)
		if sub == nil {
			return nil, fmt.Errorf("header: malformed engine line %q", line)
		}
		e := Entry{OS: string(sub[1]), Arch: string(sub[2]), Encoding: string(sub[7])}
		e.Offset, _ = strconv.ParseInt(string(sub[3]), 10, 64)
		e.Length, _ = strconv.ParseInt(string(sub[4]), 10, 64)
		e.Size, _ = strconv.ParseInt(string(sub[5]), 10, 64)
		if string(sub[6]) != "-" {
			e.SHA256 = string(sub[6])
		}
		if err := checkEntry(&e, size, m.PEHeader); err != nil {
			return nil, fmt.Errorf("header: engine %s: %w", e.Platform(), err)
		}
		if seen[e.Platform()] {
			return nil, fmt.Errorf("header: engine %s listed twice", e.Platform())
		}
		seen[e.Platform()] = true
		m.Entries = append(m.Entries, e)
	}
	if len(m.Entries) == 0 {
		return nil, errors.New("header: no engines listed")
	}
	return m, nil
}

func checkEntry(e *Entry, size, peHeader int64) error {
	if !knownOS[e.OS] || !knownArch[e.Arch] {
		return errors.New("unknown platform")
	}
	if e.Offset+e.Length > size || e.Offset+e.Length < e.Offset {
		return fmt.Errorf("bytes %d..%d lie past the end of the file (%d bytes)", e.Offset, e.Offset+e.Length, size)
	}
	switch e.Encoding {
	case PE:
		if e.OS != "windows" || e.Offset != 0 || e.Length != e.Size || peHeader == 0 {
			return errors.New("malformed in-place Windows executable entry")
		}
	case Raw:
		if e.Length != e.Size {
			return fmt.Errorf("stored length %d differs from size %d", e.Length, e.Size)
		}
		fallthrough
	case Gzip:
		if e.Offset%BlockSize != 0 || e.Offset < HeaderSize {
			return fmt.Errorf("offset %d is not a multiple of %d after the header", e.Offset, BlockSize)
		}
		if e.SHA256 == "" {
			return errors.New("no SHA-256")
		}
	}
	return nil
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
