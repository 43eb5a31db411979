package zipalign

import (
	"bytes"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"

	"github.com/llamafile-go/llamafile/internal/atomicfile"
)

const (
	// DefaultAlign is the alignment of stored entries' data when
	// Options.Align is 0: 64 KiB, a multiple of every page size in use.
	DefaultAlign = 65536

	// MaxAlign is the largest alignment Append accepts.
	MaxAlign = 1 << 30

	// fixedTime is the modification time recorded for new entries unless
	// Options.KeepModTime is set (2023-11-14 22:13:20 UTC, as llamafile's
	// zipalign uses), so that the same inputs give the same bytes.
	fixedTime = 1700000000

	copyBuffer = 1 << 20
)

// File is a file to add to an archive.
type File struct {
	Name string // entry name: relative, slash-separated, as made by EntryName
	Path string // path of the file to read
}

// Options control how Append writes entries. The zero value stores entries
// uncompressed, aligned to DefaultAlign, with a fixed modification time.
type Options struct {
	// Align is the power of two, at most MaxAlign, that the data offset of
	// every non-empty stored entry is a multiple of, counted from the start
	// of the file. 0 means DefaultAlign.
	Align int64

	// Level is the deflate level: 0 stores entries uncompressed; 1 (fastest)
	// to 9 (smallest) deflates them, except those deflate does not make
	// smaller, which are stored (and aligned) instead.
	Level int

	// KeepModTime records the files' modification times; otherwise every
	// new entry gets the same fixed time and the output is reproducible.
	KeepModTime bool

	// Verbose, when not nil, receives a line for each entry written.
	Verbose io.Writer
}

// EntryName returns the archive entry name for the file at p: its base name
// when junk is set (zip -j), otherwise the slash-separated path with any
// volume name and leading slashes removed and "." and ".." elements
// resolved. It fails for paths that would name nothing or escape the root.
func EntryName(p string, junk bool) (string, error) {
	s := filepath.ToSlash(strings.TrimPrefix(p, filepath.VolumeName(p)))
	if junk {
		s = path.Base(strings.TrimRight(s, "/"))
	}
	s = path.Clean(strings.TrimLeft(s, "/"))
	if s == "." || s == ".." || s == "/" || strings.HasPrefix(s, "../") {
		return "", fmt.Errorf("zipalign: %s: path does not make a valid entry name (try -j to use the base name)", p)
	}
	return s, nil
}

// checkName reports whether name is a valid name for a new entry.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty entry name")
	case len(name) > 0xffff:
		return fmt.Errorf("entry name of %d bytes is too long", len(name))
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("entry name %q contains a NUL byte", name)
	case path.Clean(name) != name || name[0] == '/' || name == "." || name == ".." || strings.HasPrefix(name, "../"):
		return fmt.Errorf("entry name %q is not a clean relative path", name)
	}
	return nil
}

// Append adds files to the zip archive at the end of the file zipPath,
// creating the file if it does not exist. zipPath may hold any bytes (an
// executable) before its archive, or no archive yet: those bytes are kept
// exactly. An existing entry with the same name as a new one is dropped.
//
// The archive is rewritten: kept entries follow the prefix in their
// original order, then the new ones; the data of every non-empty stored
// entry starts at a multiple of opt.Align from the start of the file, so it
// can be memory-mapped in place. Offsets in the result count from the start
// of the file and every record has its zip64 form, so entries may exceed
// 4 GiB.
//
// The result is written to a temporary file beside zipPath that is renamed
// over it, keeping its permission bits; on error zipPath is left as it was
// and the temporary file is removed.
func Append(zipPath string, files []File, opt Options) (err error) {
	align := opt.Align
	if align == 0 {
		align = DefaultAlign
	}
	if align < 1 || align > MaxAlign || align&(align-1) != 0 {
		return fmt.Errorf("zipalign: alignment %d is not a power of two from 1 to %d", opt.Align, MaxAlign)
	}
	if opt.Level < 0 || opt.Level > 9 {
		return fmt.Errorf("zipalign: compression level %d is not in 0..9", opt.Level)
	}
	newNames := make(map[string]bool, len(files))
	for _, f := range files {
		if err := checkName(f.Name); err != nil {
			return fmt.Errorf("zipalign: %s: %w", f.Path, err)
		}
		if newNames[f.Name] {
			return fmt.Errorf("zipalign: %s: entry name %q given more than once", f.Path, f.Name)
		}
		newNames[f.Name] = true
		// Fail before writing anything when an input is missing.
		fi, err := os.Stat(f.Path)
		if err != nil {
			return fmt.Errorf("zipalign: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("zipalign: %s: not a regular file", f.Path)
		}
	}

	// Write beside the file a symbolic link points to, not over the link.
	target := zipPath
	if p, err := filepath.EvalSymlinks(zipPath); err == nil {
		target = p
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("zipalign: %w", err)
	}

	var (
		src     *os.File
		srcSize int64
		old     *Archive
		mode    fs.FileMode = 0o644
	)
	src, err = os.Open(target)
	switch {
	case err == nil:
		defer src.Close()
		fi, err := src.Stat()
		if err != nil {
			return fmt.Errorf("zipalign: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("zipalign: %s: not a regular file", zipPath)
		}
		mode = fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
		srcSize = fi.Size()
		old, err = newArchive(src, srcSize, zipPath)
		if errors.Is(err, ErrNoArchive) {
			old = nil
		} else if err != nil {
			return err
		}
	case errors.Is(err, fs.ErrNotExist):
		src = nil
	default:
		return fmt.Errorf("zipalign: %w", err)
	}

	tmp, err := atomicfile.Create(target, "."+filepath.Base(target)+".zipalign-*")
	if err != nil {
		return fmt.Errorf("zipalign: creating temporary file: %w", err)
	}
	defer tmp.Abort()
	w := &writer{
		f:       tmp.File,
		name:    zipPath,
		buf:     make([]byte, copyBuffer),
		zero:    make([]byte, copyBuffer),
		align:   align,
		opt:     opt,
		verbose: opt.Verbose,
	}

	// The prefix: everything before the archive's first local header, or
	// the whole file when it holds no archive.
	prefix := srcSize
	if old != nil {
		prefix = old.start
	}
	if prefix > 0 {
		if err := w.copyRange(src, zipPath, 0, prefix, nil); err != nil {
			return err
		}
	}
	w.logf("%s: %d bytes before the archive", zipPath, prefix)

	var kept []*Entry
	if old != nil {
		for i := range old.entries {
			e := &old.entries[i]
			if newNames[e.Name] {
				w.logf("%s: replacing %s", zipPath, e.Name)
				continue
			}
			kept = append(kept, e)
		}
	}
	for _, e := range kept {
		if err := w.copyEntry(src, e); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := w.addFile(f); err != nil {
			return err
		}
	}
	var comment []byte
	if old != nil {
		comment = old.comment
	}
	if err := w.finish(comment); err != nil {
		return err
	}

	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("zipalign: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("zipalign: %w", err)
	}
	if src != nil {
		src.Close() // before the rename, which Windows needs
	}
	if err := tmp.Commit(); err != nil {
		return fmt.Errorf("zipalign: %w", err)
	}
	return nil
}

// writer writes the new file sequentially, leaving holes where the data is
// all zeros so that sparse inputs stay sparse and padding costs no space.
type writer struct {
	f       *os.File
	name    string // the zip file, for error messages
	off     int64  // current end of the output
	buf     []byte
	zero    []byte
	align   int64
	opt     Options
	verbose io.Writer

	cd    []byte // central directory records written so far
	count uint64
}

func (w *writer) logf(format string, args ...any) {
	if w.verbose != nil {
		fmt.Fprintf(w.verbose, format+"\n", args...)
	}
}

// Write appends p to the output, skipping over it when it is all zeros.
func (w *writer) Write(p []byte) (int, error) {
	for rest := p; len(rest) > 0; {
		chunk := rest[:min(len(rest), len(w.zero))]
		if !bytes.Equal(chunk, w.zero[:len(chunk)]) {
			if _, err := w.f.WriteAt(chunk, w.off); err != nil {
				return len(p) - len(rest), err
			}
		}
		w.off += int64(len(chunk))
		rest = rest[len(chunk):]
	}
	return len(p), nil
}

// copy copies src to dst through the shared buffer, feeding crc when not
// nil, and tells read errors from write errors.
func (w *writer) copy(dst io.Writer, src io.Reader, crc hash.Hash32) (n int64, rerr, werr error) {
	for {
		k, err := src.Read(w.buf)
		if k > 0 {
			if crc != nil {
				crc.Write(w.buf[:k])
			}
			if _, werr := dst.Write(w.buf[:k]); werr != nil {
				return n, nil, werr
			}
			n += int64(k)
		}
		if err == io.EOF {
			return n, nil, nil
		}
		if err != nil {
			return n, err, nil
		}
	}
}

// copyRange copies n bytes of src from off to the output, updating *crc
// when crc is not nil. Holes in src are neither read nor written: they stay
// holes in the output and enter the CRC arithmetically.
func (w *writer) copyRange(src *os.File, name string, off, n int64, crc *uint32) error {
	end := off + n
	for off < end {
		start, stop := nextData(src, off, end)
		if start > off {
			if crc != nil {
				*crc = crc32Zeros(*crc, start-off)
			}
			w.off += start - off
			off = start
		}
		for off < stop {
			p := w.buf[:min(int64(len(w.buf)), stop-off)]
			k, err := src.ReadAt(p, off)
			if k < len(p) {
				if err == nil || err == io.EOF {
					err = fmt.Errorf("file ended at %d bytes, before %d (changed while being read?)", off+int64(k), end)
				}
				return fmt.Errorf("zipalign: %s: reading: %w", name, err)
			}
			if crc != nil {
				*crc = crc32.Update(*crc, crc32.IEEETable, p)
			}
			if _, err := w.Write(p); err != nil {
				return fmt.Errorf("zipalign: %s: writing: %w", w.name, err)
			}
			off += int64(k)
		}
	}
	// A hole found by seeking may also be a file that shrank meanwhile.
	if fi, err := src.Stat(); err == nil && fi.Size() < end {
		return fmt.Errorf("zipalign: %s: reading: file shrank to %d bytes, before %d (changed while being read?)", name, fi.Size(), end)
	}
	return nil
}

// fail wraps a copy error with the name of the file it concerns.
func (w *writer) fail(input string, rerr, werr error) error {
	if werr != nil {
		return fmt.Errorf("zipalign: %s: writing: %w", w.name, werr)
	}
	return fmt.Errorf("zipalign: %s: reading: %w", input, rerr)
}

// padFor moves the output forward so that data following a local header of
// hdrLen bytes starts at a multiple of the alignment.
func (w *writer) padFor(hdrLen int) {
	data := w.off + int64(hdrLen)
	w.off += (w.align - data&(w.align-1)) & (w.align - 1)
}

// zip64Extra returns the zip64 extra field record holding the given values.
func zip64Extra(values ...uint64) []byte {
	p := put{}.u16(extraZip64).u16(uint16(8 * len(values)))
	for _, v := range values {
		p = p.u64(v)
	}
	return p
}

// header holds what the local and central records of an entry share.
type header struct {
	name          []byte
	versionMadeBy uint16
	versionNeeded uint16
	flags         uint16
	method        uint16
	dosTime       uint16
	dosDate       uint16
	crc           uint32
	csize, usize  uint64
	offset        int64 // absolute offset of the local header
	localExtra    []byte
	extra         []byte
	comment       []byte
	internalAttr  uint16
	externalAttr  uint32
}

// local encodes the local file header. The sizes live in its zip64 extra.
func (h *header) local() ([]byte, error) {
	extra := append(zip64Extra(h.usize, h.csize), h.localExtra...)
	if len(extra) > 0xffff {
		return nil, fmt.Errorf("entry %q: local extra field too long", h.name)
	}
	p := make(put, 0, lenLocal+len(h.name)+len(extra))
	p = p.u32(sigLocal).u16(h.versionNeeded).u16(h.flags).u16(h.method).
		u16(h.dosTime).u16(h.dosDate).u32(h.crc).u32(0xffffffff).u32(0xffffffff).
		u16(uint16(len(h.name))).u16(uint16(len(extra))).bytes(h.name).bytes(extra)
	return p, nil
}

// localLen is the length local will encode.
func (h *header) localLen() int { return lenLocal + len(h.name) + 20 + len(h.localExtra) }

// central appends the central directory record.
func (h *header) central(cd []byte) ([]byte, error) {
	extra := append(zip64Extra(h.usize, h.csize, uint64(h.offset)), h.extra...)
	if len(extra) > 0xffff {
		return nil, fmt.Errorf("entry %q: extra field too long", h.name)
	}
	p := put(cd).u32(sigCentral).u16(h.versionMadeBy).u16(h.versionNeeded).u16(h.flags).
		u16(h.method).u16(h.dosTime).u16(h.dosDate).u32(h.crc).u32(0xffffffff).u32(0xffffffff).
		u16(uint16(len(h.name))).u16(uint16(len(extra))).u16(uint16(len(h.comment))).
		u16(0).u16(h.internalAttr).u32(h.externalAttr).u32(0xffffffff).
		bytes(h.name).bytes(extra).bytes(h.comment)
	return p, nil
}

// copyEntry copies an entry of the old archive unchanged but for its
// position, its zip64 records and the alignment of stored data.
func (w *writer) copyEntry(src *os.File, e *Entry) error {
	h := &header{
		name:          []byte(e.Name),
		versionMadeBy: e.versionMadeBy,
		versionNeeded: max(e.versionNeeded, versionZip64),
		flags:         e.Flags,
		method:        e.Method,
		dosTime:       e.dosTime,
		dosDate:       e.dosDate,
		crc:           e.CRC32,
		csize:         e.CompressedSize,
		usize:         e.UncompressedSize,
		localExtra:    keepExtra(e.localExtra),
		extra:         keepExtra(e.extra),
		comment:       []byte(e.Comment),
		internalAttr:  e.internalAttr,
		externalAttr:  e.externalAttr,
	}
	// Sizes and CRC now precede the data, so a data descriptor is not
	// needed, except by traditional encryption, whose password check
	// depends on the flag.
	descriptor := h.flags&flagDescriptor != 0 && h.flags&flagEncrypted != 0
	if !descriptor {
		h.flags &^= flagDescriptor
	}
	if len(h.comment) > 0xffff {
		return fmt.Errorf("zipalign: %s: entry %q: comment too long", w.name, e.Name)
	}
	if h.method == Store && h.flags&flagEncrypted == 0 && h.csize > 0 {
		w.padFor(h.localLen())
	}
	h.offset = w.off
	loc, err := h.local()
	if err != nil {
		return fmt.Errorf("zipalign: %s: %w", w.name, err)
	}
	if _, err := w.Write(loc); err != nil {
		return fmt.Errorf("zipalign: %s: writing: %w", w.name, err)
	}
	if err := w.copyRange(src, w.name, e.DataOffset, int64(e.CompressedSize), nil); err != nil {
		return err
	}
	if descriptor {
		d := put{}.u32(sigDesc).u32(h.crc).u64(h.csize).u64(h.usize)
		if _, err := w.Write(d); err != nil {
			return fmt.Errorf("zipalign: %s: writing: %w", w.name, err)
		}
	}
	if w.cd, err = h.central(w.cd); err != nil {
		return fmt.Errorf("zipalign: %s: %w", w.name, err)
	}
	w.count++
	w.logf("%s: keeping %s (%s, %d bytes at offset %d)", w.name, e.Name, methodName(h.method), h.csize, h.offset+int64(len(loc)))
	return nil
}

// addFile writes a new entry with the content of f.Path.
func (w *writer) addFile(f File) error {
	in, err := os.Open(f.Path)
	if err != nil {
		return fmt.Errorf("zipalign: %w", err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return fmt.Errorf("zipalign: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("zipalign: %s: not a regular file", f.Path)
	}
	h := &header{
		name:          []byte(f.Name),
		versionMadeBy: creatorUnix<<8 | versionZip64,
		versionNeeded: versionZip64,
		externalAttr:  uint32(unixRegular|fi.Mode().Perm()) << 16,
	}
	if !isASCII(f.Name) && utf8.ValidString(f.Name) {
		h.flags |= flagUTF8
	}
	mtime := time.Unix(fixedTime, 0).UTC()
	if w.opt.KeepModTime {
		// MS-DOS times are local; the timestamp extra field gives the
		// exact time in UTC.
		mtime = fi.ModTime().Local()
		if u := fi.ModTime().Unix(); u >= -1<<31 && u < 1<<31 {
			ut := put{}.u16(extraTimestamp).u16(5)
			ut = append(ut, 1)
			ut = ut.u32(uint32(int32(u)))
			h.localExtra, h.extra = ut, ut
		}
	}
	h.dosTime, h.dosDate = dosTime(mtime)

	start := w.off
	if w.opt.Level > 0 {
		ok, err := w.deflate(h, in, f.Path)
		if err != nil {
			return err
		}
		if ok {
			return w.entryDone(h, f.Path)
		}
		// Deflate did not make it smaller: store it instead.
		if err := w.f.Truncate(start); err != nil {
			return fmt.Errorf("zipalign: %s: %w", w.name, err)
		}
		w.off = start
		if _, err := in.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("zipalign: %w", err)
		}
	}
	h.method = Store
	if fi.Size() > 0 {
		w.padFor(h.localLen())
	}
	h.offset = w.off
	w.off += int64(h.localLen())
	var crc uint32
	if err := w.copyRange(in, f.Path, 0, fi.Size(), &crc); err != nil {
		return err
	}
	h.crc, h.usize, h.csize = crc, uint64(fi.Size()), uint64(fi.Size())
	return w.entryDone(h, f.Path)
}

// deflate writes f compressed after room for its local header, and reports
// whether that made it smaller.
func (w *writer) deflate(h *header, in io.Reader, inPath string) (bool, error) {
	h.method = Deflate
	h.offset = w.off
	w.off += int64(h.localLen())
	dataStart := w.off
	fw, err := flate.NewWriter(w, w.opt.Level)
	if err != nil {
		return false, fmt.Errorf("zipalign: %w", err)
	}
	crc := crc32.NewIEEE()
	n, rerr, werr := w.copy(fw, in, crc)
	if rerr != nil || werr != nil {
		return false, w.fail(inPath, rerr, werr)
	}
	if err := fw.Close(); err != nil {
		return false, fmt.Errorf("zipalign: %s: writing: %w", w.name, err)
	}
	h.crc, h.usize, h.csize = crc.Sum32(), uint64(n), uint64(w.off-dataStart)
	return h.csize < h.usize, nil
}

// entryDone writes the local header of a new entry, whose data is already
// written, and records its central directory entry.
func (w *writer) entryDone(h *header, inPath string) error {
	loc, err := h.local()
	if err != nil {
		return fmt.Errorf("zipalign: %s: %w", w.name, err)
	}
	if _, err := w.f.WriteAt(loc, h.offset); err != nil {
		return fmt.Errorf("zipalign: %s: writing: %w", w.name, err)
	}
	if w.cd, err = h.central(w.cd); err != nil {
		return fmt.Errorf("zipalign: %s: %w", w.name, err)
	}
	w.count++
	w.logf("%s -> %s (%s, %d bytes at offset %d)", inPath, h.name, methodName(h.method), h.csize, h.offset+int64(len(loc)))
	return nil
}

// finish writes the central directory and the end records, zip64 ones
// included, with offsets counted from the start of the file.
func (w *writer) finish(comment []byte) error {
	cdStart := w.off
	end64 := cdStart + int64(len(w.cd))
	count16 := uint16(min(w.count, 0xffff))
	size32 := uint32(min(uint64(len(w.cd)), 0xffffffff))
	p := put(w.cd).
		u32(sigEnd64).u64(lenEnd64 - 12).u16(creatorUnix<<8 | versionZip64).u16(versionZip64).
		u32(0).u32(0).u64(w.count).u64(w.count).u64(uint64(len(w.cd))).u64(uint64(cdStart)).
		u32(sigLoc64).u32(0).u64(uint64(end64)).u32(1).
		u32(sigEnd).u16(0).u16(0).u16(count16).u16(count16).u32(size32).u32(0xffffffff).
		u16(uint16(len(comment))).bytes(comment)
	if _, err := w.Write(p); err != nil {
		return fmt.Errorf("zipalign: %s: writing: %w", w.name, err)
	}
	// The file must end where the records do even if they end in zeros.
	if err := w.f.Truncate(w.off); err != nil {
		return fmt.Errorf("zipalign: %s: %w", w.name, err)
	}
	return nil
}

func methodName(m uint16) string {
	switch m {
	case Store:
		return "stored"
	case Deflate:
		return "deflated"
	}
	return fmt.Sprintf("method %d", m)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
