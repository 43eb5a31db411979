package zipalign

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/klauspost/compress/flate"
)

// ErrNoArchive reports that a file holds no zip archive at its end.
var ErrNoArchive = errors.New("no zip archive found")

// maxCentralDir bounds the size of the central directory the reader loads
// into memory (about five million entries).
const maxCentralDir = 256 << 20

// Entry describes one file of an archive. Offsets are absolute: they count
// from the start of the file holding the archive, executable prefix included,
// whatever base the archive's own records use.
type Entry struct {
	Name             string      // name inside the archive, as stored
	Comment          string      // per-entry comment
	Method           uint16      // compression method: Store, Deflate, or another
	Flags            uint16      // general purpose bit flags
	CRC32            uint32      // CRC-32 (IEEE) of the uncompressed data
	CompressedSize   uint64      // bytes of data in the file
	UncompressedSize uint64      // bytes after decompression
	HeaderOffset     int64       // absolute offset of the local file header
	DataOffset       int64       // absolute offset of the (possibly compressed) data
	Modified         time.Time   // from the extended timestamp if any, else the MS-DOS time read as UTC
	Mode             fs.FileMode // permission and type bits, when the creator recorded them

	// Raw fields kept so that a rewrite can reproduce the entry.
	versionMadeBy uint16
	versionNeeded uint16
	dosTime       uint16
	dosDate       uint16
	internalAttr  uint16
	externalAttr  uint32
	extra         []byte // central directory extra field
	localExtra    []byte // local header extra field
}

// IsAligned reports whether the entry is stored uncompressed with its data
// starting at a multiple of align bytes from the start of the file, so that
// it can be memory-mapped in place. align must be a power of two; other
// values report false.
func (e *Entry) IsAligned(align int64) bool {
	if align <= 0 || align&(align-1) != 0 {
		return false
	}
	return e.Method == Store && e.Flags&flagEncrypted == 0 && e.DataOffset&(align-1) == 0
}

// IsDir reports whether the entry names a directory.
func (e *Entry) IsDir() bool {
	return len(e.Name) > 0 && e.Name[len(e.Name)-1] == '/' || e.Mode.IsDir()
}

// Archive is a zip archive found at the end of a file, typically appended to
// an executable. Its methods are safe for concurrent use once it is open.
type Archive struct {
	r       io.ReaderAt
	f       *os.File // set when the Archive owns an open file
	name    string   // file name for error messages
	size    int64
	entries []Entry
	index   map[string]int
	comment []byte

	// Layout, used by the writer: the archive's first local header (or its
	// central directory when empty) and the end of its records.
	start int64
	end   int64
}

// Open opens the file at path and reads the zip archive at its end. The
// archive may follow arbitrary bytes (an executable); its offsets may count
// from the start of the file or from the start of the archive. It returns an
// error wrapping ErrNoArchive when the file ends with no zip archive.
func Open(path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("zipalign: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("zipalign: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("zipalign: %s: not a regular file", path)
	}
	a, err := newArchive(f, fi.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	a.f = f
	return a, nil
}

// NewReader reads the zip archive at the end of the size bytes of r. The
// returned Archive's File method returns nil and Close does nothing.
func NewReader(r io.ReaderAt, size int64) (*Archive, error) {
	return newArchive(r, size, "zip")
}

func newArchive(r io.ReaderAt, size int64, name string) (*Archive, error) {
	a := &Archive{r: r, name: name, size: size}
	dir, err := findDirectory(r, size)
	if err != nil {
		return nil, fmt.Errorf("zipalign: %s: %w", name, err)
	}
	if err := a.readEntries(dir); err != nil {
		return nil, fmt.Errorf("zipalign: %s: %w", name, err)
	}
	return a, nil
}

// Close closes the file opened by Open.
func (a *Archive) Close() error {
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// File returns the open file holding the archive, for memory-mapping stored
// entries at their DataOffset; nil for an Archive made by NewReader.
func (a *Archive) File() *os.File { return a.f }

// Size returns the size of the file holding the archive.
func (a *Archive) Size() int64 { return a.size }

// Comment returns the archive comment.
func (a *Archive) Comment() string { return string(a.comment) }

// Entries returns the entries in central directory order. The slice is the
// Archive's own: callers must not modify it.
func (a *Archive) Entries() []Entry { return a.entries }

// Lookup returns the entry with the given name (the first one, should the
// archive hold several).
func (a *Archive) Lookup(name string) (*Entry, bool) {
	i, ok := a.index[name]
	if !ok {
		return nil, false
	}
	return &a.entries[i], true
}

// Section returns a reader of a stored entry's data, which is also its
// content. It fails for compressed or encrypted entries.
func (a *Archive) Section(e *Entry) (*io.SectionReader, error) {
	if e.Method != Store || e.Flags&flagEncrypted != 0 {
		return nil, fmt.Errorf("zipalign: %s: entry %q is not stored uncompressed (method %d)", a.name, e.Name, e.Method)
	}
	return io.NewSectionReader(a.r, e.DataOffset, int64(e.CompressedSize)), nil
}

// OpenEntry returns a reader of an entry's content, decompressing deflated
// entries. Reading to the end checks the size and CRC-32 and reports a
// mismatch as an error.
func (a *Archive) OpenEntry(e *Entry) (io.ReadCloser, error) {
	if e.Flags&flagEncrypted != 0 {
		return nil, fmt.Errorf("zipalign: %s: entry %q is encrypted", a.name, e.Name)
	}
	sec := io.NewSectionReader(a.r, e.DataOffset, int64(e.CompressedSize))
	var rc io.ReadCloser
	switch e.Method {
	case Store:
		if e.CompressedSize != e.UncompressedSize {
			return nil, fmt.Errorf("zipalign: %s: stored entry %q: compressed size %d != size %d",
				a.name, e.Name, e.CompressedSize, e.UncompressedSize)
		}
		rc = io.NopCloser(sec)
	case Deflate:
		rc = flate.NewReader(sec)
	default:
		return nil, fmt.Errorf("zipalign: %s: entry %q: unsupported compression method %d", a.name, e.Name, e.Method)
	}
	return &checkReader{rc: rc, crc: crc32.NewIEEE(), want: e.CRC32, left: e.UncompressedSize, archive: a.name, entry: e.Name}, nil
}

// ReadAll returns the whole content of an entry, decompressed and checked,
// refusing entries larger than limit bytes. It suits small entries such as
// a llamafile's .args; map large stored entries instead.
func (a *Archive) ReadAll(e *Entry, limit int64) ([]byte, error) {
	if limit < 0 || e.UncompressedSize > uint64(limit) {
		return nil, fmt.Errorf("zipalign: %s: entry %q: size %d exceeds the limit of %d bytes",
			a.name, e.Name, e.UncompressedSize, limit)
	}
	rc, err := a.OpenEntry(e)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf := make([]byte, e.UncompressedSize)
	if _, err := io.ReadFull(rc, buf); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("zipalign: %s: entry %q: data shorter than its size %d", a.name, e.Name, e.UncompressedSize)
		}
		return nil, err
	}
	// Read to the end so that the CRC is checked.
	var one [1]byte
	if _, err := rc.Read(one[:]); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("zipalign: %s: entry %q: data longer than its size %d", a.name, e.Name, e.UncompressedSize)
		}
		return nil, err
	}
	return buf, nil
}

// checkReader passes exactly left bytes through and checks their CRC-32
// at the end.
type checkReader struct {
	rc      io.ReadCloser
	crc     hash.Hash32
	want    uint32
	left    uint64
	archive string
	entry   string
	err     error
}

func (c *checkReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.left == 0 {
		// The declared size is reached: the stream must end here.
		var one [1]byte
		n, err := c.rc.Read(one[:])
		for n == 0 && err == nil {
			n, err = c.rc.Read(one[:])
		}
		switch {
		case n > 0:
			c.err = fmt.Errorf("zipalign: %s: entry %q: data longer than its declared size", c.archive, c.entry)
		case err != io.EOF:
			c.err = fmt.Errorf("zipalign: %s: entry %q: %w", c.archive, c.entry, err)
		case c.crc.Sum32() != c.want:
			c.err = fmt.Errorf("zipalign: %s: entry %q: CRC-32 %08x, want %08x", c.archive, c.entry, c.crc.Sum32(), c.want)
		default:
			c.err = io.EOF
		}
		return 0, c.err
	}
	if uint64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.crc.Write(p[:n])
	c.left -= uint64(n)
	if err == io.EOF {
		if c.left > 0 {
			c.err = fmt.Errorf("zipalign: %s: entry %q: data shorter than its declared size", c.archive, c.entry)
			return n, c.err
		}
		err = nil // checked on the next call
	} else if err != nil {
		c.err = fmt.Errorf("zipalign: %s: entry %q: %w", c.archive, c.entry, err)
		return n, c.err
	}
	return n, err
}

func (c *checkReader) Close() error { return c.rc.Close() }

// directory is where the end records say the central directory is.
type directory struct {
	records  uint64
	start    int64 // absolute offset of the central directory
	size     int64
	base     int64 // absolute offset that the archive's offsets count from
	endStart int64 // first end record (zip64 record if any, else the classic one)
	end      int64 // end of the classic record and its comment
	comment  []byte
}

// findDirectory searches the end of the file for the end of central
// directory record, reading the zip64 records when present. A candidate
// signature counts only if the records it points at check out, so that an
// executable whose last bytes happen to contain the signature is not
// mistaken for an archive.
func findDirectory(r io.ReaderAt, size int64) (*directory, error) {
	if size < lenEnd {
		return nil, ErrNoArchive
	}
	n := int64(lenEnd + maxCommentLen)
	if n > size {
		n = size
	}
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, size-n); err != nil && err != io.EOF {
		return nil, err
	}
	var firstErr error
	for i := len(tail) - lenEnd; i >= 0; i-- {
		if binary.LittleEndian.Uint32(tail[i:]) != sigEnd {
			continue
		}
		d, err := resolveDirectory(r, size, size-n+int64(i), tail[i:])
		if err == nil {
			return d, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, fmt.Errorf("%w (last candidate end record: %v)", ErrNoArchive, firstErr)
	}
	return nil, ErrNoArchive
}

// resolveDirectory checks the end record at pos (rec holds it and what
// follows up to the end of the file) and locates the central directory.
func resolveDirectory(r io.ReaderAt, size, pos int64, rec []byte) (*directory, error) {
	c := le{b: rec}
	c.u32()
	disk, cdDisk := c.u16(), c.u16()
	recordsDisk, records := c.u16(), c.u16()
	cdSize, cdOffset := c.u32(), c.u32()
	commentLen := int(c.u16())
	if commentLen > len(c.b) {
		return nil, errors.New("end record: comment runs past the end of the file")
	}
	d := &directory{
		records:  uint64(records),
		endStart: pos,
		end:      pos + lenEnd + int64(commentLen),
		comment:  c.b[:commentLen],
	}
	size64, offset64 := uint64(cdSize), uint64(cdOffset)
	zip64 := false
	if pos >= lenLoc64 {
		var loc [lenLoc64]byte
		if _, err := r.ReadAt(loc[:], pos-lenLoc64); err != nil {
			return nil, err
		}
		if binary.LittleEndian.Uint32(loc[:]) == sigLoc64 {
			e64, err := readEnd64(r, pos-lenLoc64, loc[:])
			if err != nil {
				return nil, err
			}
			d.records, size64, offset64 = e64.records, e64.size, e64.offset
			d.endStart = e64.pos
			zip64 = true
		}
	}
	if !zip64 {
		if disk != 0 || cdDisk != 0 || recordsDisk != records {
			return nil, errors.New("end record: multi-disk archives are not supported")
		}
	}
	if size64 > uint64(d.endStart) || offset64 > uint64(d.endStart) {
		return nil, fmt.Errorf("end record: central directory (offset %d, size %d) out of bounds", offset64, size64)
	}
	if size64 > maxCentralDir {
		return nil, fmt.Errorf("central directory of %d bytes is too large", size64)
	}
	if d.records > size64/lenCentral {
		return nil, fmt.Errorf("end record: %d entries cannot fit in a central directory of %d bytes", d.records, size64)
	}
	d.size = int64(size64)
	// The directory normally ends where the end records begin; the
	// difference from the recorded offset is the prefix the archive's
	// offsets do not count. Some tools do count it: try a base of 0 too.
	bases := []int64{d.endStart - d.size - int64(offset64)}
	if bases[0] != 0 {
		bases = append(bases, 0)
	}
	for _, base := range bases {
		start := base + int64(offset64)
		if base < 0 || start+d.size > d.endStart {
			continue
		}
		if d.records == 0 {
			if d.size != 0 {
				continue
			}
		} else {
			var sig [4]byte
			if _, err := r.ReadAt(sig[:], start); err != nil || binary.LittleEndian.Uint32(sig[:]) != sigCentral {
				continue
			}
		}
		d.base, d.start = base, start
		return d, nil
	}
	return nil, errors.New("end record: no central directory where it points")
}

type end64 struct {
	pos                   int64
	records, size, offset uint64
}

// readEnd64 reads the zip64 end record that the locator at locPos points
// to. The locator's offset may count from the start of the archive rather
// than of the file; the record then sits right before the locator.
func readEnd64(r io.ReaderAt, locPos int64, loc []byte) (*end64, error) {
	c := le{b: loc[4:]}
	c.u32() // disk with the zip64 end record
	off := c.u64()
	last := locPos - lenEnd64 // the latest the record can start
	if last < 0 {
		return nil, fmt.Errorf("zip64 locator at %d: no room for a zip64 end record", locPos)
	}
	candidates := []int64{last}
	if off < uint64(last) {
		candidates = []int64{int64(off), last}
	}
	for _, p := range candidates {
		var b [lenEnd64]byte
		if _, err := r.ReadAt(b[:], p); err != nil {
			continue
		}
		c := le{b: b[:]}
		if c.u32() != sigEnd64 {
			continue
		}
		recLen := c.u64()
		if recLen < lenEnd64-12 || recLen > uint64(locPos-p-12) {
			continue
		}
		c.u16() // version made by
		c.u16() // version needed
		disk, cdDisk := c.u32(), c.u32()
		recordsDisk, records := c.u64(), c.u64()
		if disk != 0 || cdDisk != 0 || recordsDisk != records {
			return nil, errors.New("zip64 end record: multi-disk archives are not supported")
		}
		e := &end64{pos: p, records: records}
		e.size, e.offset = c.u64(), c.u64()
		if e.size > 1<<62 || e.offset > 1<<62 {
			return nil, errors.New("zip64 end record: central directory out of bounds")
		}
		return e, nil
	}
	return nil, fmt.Errorf("zip64 locator at %d: no zip64 end record where it points (%d)", locPos, off)
}

// readEntries parses the central directory and each entry's local header.
func (a *Archive) readEntries(d *directory) error {
	cd := make([]byte, d.size)
	if _, err := a.r.ReadAt(cd, d.start); err != nil {
		return fmt.Errorf("reading central directory: %w", err)
	}
	a.comment = d.comment
	a.start = d.start
	a.end = d.end
	n := min(d.records, 1024) // grown by append; records is only a claim
	a.entries = make([]Entry, 0, n)
	a.index = make(map[string]int, n)
	c := le{b: cd}
	// Local headers do not overlap in an archive, so their extra fields,
	// which the reader keeps, add up to less than what precedes the
	// central directory. Entries sharing one header with a 64 KiB extra
	// field would otherwise cost 64 KiB of memory per 46-byte record.
	extraLeft := d.start
	for i := uint64(0); i < d.records; i++ {
		e, err := parseCentral(&c, d.base)
		if err != nil {
			return fmt.Errorf("central directory entry %d: %w", i, err)
		}
		if err := a.readLocal(&e, d.start, &extraLeft); err != nil {
			return fmt.Errorf("entry %q: %w", e.Name, err)
		}
		if e.HeaderOffset < a.start {
			a.start = e.HeaderOffset
		}
		if _, dup := a.index[e.Name]; !dup {
			a.index[e.Name] = len(a.entries)
		}
		a.entries = append(a.entries, e)
	}
	return nil
}

func parseCentral(c *le, base int64) (Entry, error) {
	var e Entry
	if c.u32() != sigCentral {
		if c.short {
			return e, errors.New("truncated")
		}
		return e, errors.New("bad signature")
	}
	e.versionMadeBy = c.u16()
	e.versionNeeded = c.u16()
	e.Flags = c.u16()
	e.Method = c.u16()
	e.dosTime = c.u16()
	e.dosDate = c.u16()
	e.CRC32 = c.u32()
	csize, usize := c.u32(), c.u32()
	nameLen, extraLen, commentLen := int(c.u16()), int(c.u16()), int(c.u16())
	diskStart := c.u16()
	e.internalAttr = c.u16()
	e.externalAttr = c.u32()
	offset := c.u32()
	name := c.take(nameLen)
	e.extra = c.take(extraLen)
	comment := c.take(commentLen)
	if c.short {
		return e, errors.New("truncated")
	}
	e.Name, e.Comment = string(name), string(comment)
	e.CompressedSize, e.UncompressedSize = uint64(csize), uint64(usize)
	off := uint64(offset)
	e.Modified = fromDOSTime(e.dosTime, e.dosDate)
	for _, f := range parseExtra(e.extra) {
		switch f.tag {
		case extraZip64:
			z := le{b: f.data}
			if usize == 0xffffffff {
				e.UncompressedSize = z.u64()
			}
			if csize == 0xffffffff {
				e.CompressedSize = z.u64()
			}
			if offset == 0xffffffff {
				off = z.u64()
			}
			if z.short {
				return e, fmt.Errorf("entry %q: zip64 extra field too short", e.Name)
			}
		case extraTimestamp:
			z := le{b: f.data}
			if z.u8()&1 != 0 {
				if t := int32(z.u32()); !z.short {
					e.Modified = time.Unix(int64(t), 0).UTC()
				}
			}
		}
	}
	if diskStart != 0 && diskStart != 0xffff {
		return e, fmt.Errorf("entry %q: on disk %d; multi-disk archives are not supported", e.Name, diskStart)
	}
	if off > 1<<62 || e.CompressedSize > 1<<62 || e.UncompressedSize > 1<<62 {
		return e, fmt.Errorf("entry %q: offset or size out of range", e.Name)
	}
	e.HeaderOffset = base + int64(off)
	e.Mode = fileMode(e.versionMadeBy>>8, e.externalAttr, e.Name)
	return e, nil
}

// readLocal reads an entry's local header to find where its data starts,
// and checks that the data lies before the central directory at cdStart.
// The local extra field it keeps is taken from *extraLeft, the bytes that
// the extra fields of the entries not read yet may still total.
func (a *Archive) readLocal(e *Entry, cdStart int64, extraLeft *int64) error {
	if e.HeaderOffset+lenLocal > cdStart {
		return fmt.Errorf("local header offset %d out of bounds", e.HeaderOffset)
	}
	var h [lenLocal]byte
	if _, err := a.r.ReadAt(h[:], e.HeaderOffset); err != nil {
		return fmt.Errorf("reading local header: %w", err)
	}
	c := le{b: h[:]}
	if c.u32() != sigLocal {
		return fmt.Errorf("bad local header signature at offset %d", e.HeaderOffset)
	}
	c.take(22)
	nameLen, extraLen := int64(c.u16()), int64(c.u16())
	e.DataOffset = e.HeaderOffset + lenLocal + nameLen + extraLen
	if e.DataOffset > cdStart || e.CompressedSize > uint64(cdStart-e.DataOffset) {
		return fmt.Errorf("data (offset %d, %d bytes) runs into the central directory at %d",
			e.DataOffset, e.CompressedSize, cdStart)
	}
	if extraLen > 0 {
		if extraLen > *extraLeft {
			return fmt.Errorf("local header at offset %d: the local extra fields add up to more than the %d bytes "+
				"before the central directory (local headers overlap)", e.HeaderOffset, cdStart)
		}
		*extraLeft -= extraLen
		e.localExtra = make([]byte, extraLen)
		if _, err := a.r.ReadAt(e.localExtra, e.HeaderOffset+lenLocal+nameLen); err != nil {
			return fmt.Errorf("reading local extra field: %w", err)
		}
	}
	return nil
}

// fileMode derives permission and type bits from the external attributes
// as the creator's operating system defines them.
func fileMode(creator uint16, attr uint32, name string) fs.FileMode {
	var m fs.FileMode
	switch creator {
	case creatorUnix, creatorMacOS:
		u := attr >> 16
		m = fs.FileMode(u & 0o777)
		switch u & unixTypeMask {
		case unixDir:
			m |= fs.ModeDir
		case unixSymlink:
			m |= fs.ModeSymlink
		}
		if u&0o4000 != 0 {
			m |= fs.ModeSetuid
		}
		if u&0o2000 != 0 {
			m |= fs.ModeSetgid
		}
		if u&0o1000 != 0 {
			m |= fs.ModeSticky
		}
		if u != 0 {
			break
		}
		fallthrough
	default:
		m = 0o666
		if attr&0x01 != 0 {
			m = 0o444
		}
		if attr&0x10 != 0 {
			m |= fs.ModeDir | 0o111
		}
	}
	if bytes.HasSuffix([]byte(name), []byte("/")) {
		m |= fs.ModeDir
	}
	return m
}
