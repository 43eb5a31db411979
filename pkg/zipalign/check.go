package zipalign

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/klauspost/compress/flate"
)

// checkBuffer is how many bytes Check reads at a time.
const checkBuffer = 4 << 20

// progressMin is the smallest entry whose progress CheckFile shows (a
// variable for tests).
var progressMin uint64 = 64 << 20

// CheckError reports a damaged entry: its data does not match the size or
// CRC-32 that the central directory records, or cannot be read.
type CheckError struct {
	Path     string // the file holding the archive
	Entry    string // the entry's name
	Stored   uint32 // the CRC-32 the central directory records
	Computed uint32 // the CRC-32 of the data as read, for a mismatch
	// Err is the damage when it is not a CRC-32 mismatch (data shorter
	// or longer than recorded, a corrupt deflate stream, a read error, an
	// entry that cannot be checked); nil for a mismatch.
	Err error
}

func (e *CheckError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("zipalign: %s: entry %s: %v", e.Path, displayName(e.Entry), e.Err)
	}
	return fmt.Sprintf("zipalign: %s: entry %s: CRC-32 mismatch (stored 0x%08x, computed 0x%08x)",
		e.Path, displayName(e.Entry), e.Stored, e.Computed)
}

func (e *CheckError) Unwrap() error { return e.Err }

// displayName returns an entry name as written in messages: as is when it
// is printable and plain, quoted otherwise.
func displayName(name string) string {
	if q := strconv.Quote(name); name != "" && q[1:len(q)-1] == name {
		return name
	}
	return strconv.Quote(name)
}

// CheckStatus tells a Check callback how far the check is.
type CheckStatus struct {
	Entry *Entry // the entry being read
	Done  int64  // bytes of entry data (as stored) read so far, all entries
	Total int64  // bytes of entry data (as stored) of all entries
	// Checked is set in the one call made after an entry proved intact;
	// CRC32 is then the CRC-32 computed, the one recorded.
	Checked bool
	CRC32   uint32
}

// Check reads the data of every entry, in the order it lies in the file
// (one sequential pass, a few MiB of memory whatever the sizes), and
// compares its size and CRC-32 with what the central directory records;
// deflated entries are decompressed. It returns a *CheckError for the
// first damaged entry. progress, when not nil, is called as data is read
// (every few MiB) and once after each intact entry, with Checked set.
func (a *Archive) Check(progress func(CheckStatus)) error {
	entries := make([]*Entry, len(a.entries))
	var st CheckStatus
	for i := range a.entries {
		entries[i] = &a.entries[i]
		st.Total += int64(a.entries[i].CompressedSize)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].DataOffset < entries[j].DataOffset })
	buf := make([]byte, checkBuffer)
	for _, e := range entries {
		st.Entry, st.Checked = e, false
		start := st.Done
		report := func(n int64) {
			st.Done += n
			if progress != nil {
				progress(st)
			}
		}
		crc, err := a.checkEntry(e, buf, report)
		if err == nil && crc != e.CRC32 {
			return &CheckError{Path: a.name, Entry: e.Name, Stored: e.CRC32, Computed: crc}
		}
		if err != nil {
			return &CheckError{Path: a.name, Entry: e.Name, Stored: e.CRC32, Err: err}
		}
		st.Done = start + int64(e.CompressedSize)
		st.Checked, st.CRC32 = true, crc
		if progress != nil {
			progress(st)
		}
	}
	return nil
}

// checkEntry returns the CRC-32 of e's content, checking its size.
func (a *Archive) checkEntry(e *Entry, buf []byte, report func(int64)) (uint32, error) {
	if e.Flags&flagEncrypted != 0 {
		return 0, errors.New("encrypted: cannot be checked")
	}
	switch e.Method {
	case Store:
		if e.CompressedSize != e.UncompressedSize {
			return 0, fmt.Errorf("stored, but its compressed size %d differs from its size %d", e.CompressedSize, e.UncompressedSize)
		}
		return a.checkStored(e, buf, report)
	case Deflate:
		return a.checkDeflated(e, buf, report)
	}
	return 0, fmt.Errorf("compression method %d: cannot be checked", e.Method)
}

// checkStored reads a stored entry's data. Holes of a sparse file (as
// zipalign writes runs of zeros) are not read: they enter the CRC
// arithmetically.
func (a *Archive) checkStored(e *Entry, buf []byte, report func(int64)) (uint32, error) {
	crc := uint32(0)
	off, end := e.DataOffset, e.DataOffset+int64(e.CompressedSize)
	for off < end {
		start, stop := off, end
		if a.f != nil {
			start, stop = nextData(a.f, off, end)
		}
		if start > off {
			crc = crc32Zeros(crc, start-off)
			report(start - off)
			off = start
		}
		for off < stop {
			p := buf[:min(int64(len(buf)), stop-off)]
			k, err := a.r.ReadAt(p, off)
			if k < len(p) {
				if err == nil || err == io.EOF {
					return 0, fmt.Errorf("data ends at offset %d, before its end at %d (the file is truncated)", off+int64(k), end)
				}
				return 0, fmt.Errorf("reading at offset %d: %w", off+int64(k), err)
			}
			crc = crc32.Update(crc, crc32.IEEETable, p)
			off += int64(k)
			report(int64(k))
		}
	}
	if a.f != nil {
		// A hole found by seeking may also be a file that shrank.
		if fi, err := a.f.Stat(); err == nil && fi.Size() < end {
			return 0, fmt.Errorf("the file shrank to %d bytes while being checked, before the data's end at %d", fi.Size(), end)
		}
	}
	return crc, nil
}

// checkDeflated decompresses a deflated entry's data.
func (a *Archive) checkDeflated(e *Entry, buf []byte, report func(int64)) (uint32, error) {
	in := &countingReader{r: io.NewSectionReader(a.r, e.DataOffset, int64(e.CompressedSize)), report: report}
	fr := flate.NewReader(in)
	defer fr.Close()
	crc := uint32(0)
	size := uint64(0)
	for {
		k, err := fr.Read(buf)
		crc = crc32.Update(crc, crc32.IEEETable, buf[:k])
		size += uint64(k)
		if size > e.UncompressedSize {
			return 0, fmt.Errorf("decompressed data longer than its recorded size %d", e.UncompressedSize)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, fmt.Errorf("deflate stream cut short after %d of %d compressed bytes", in.n, e.CompressedSize)
			}
			return 0, fmt.Errorf("corrupt deflate stream: %w", err)
		}
	}
	if size != e.UncompressedSize {
		return 0, fmt.Errorf("decompressed data is %d bytes, shorter than its recorded size %d", size, e.UncompressedSize)
	}
	return crc, nil
}

// countingReader reports the bytes read through it.
type countingReader struct {
	r      io.Reader
	n      int64
	report func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	c.report(int64(k))
	return k, err
}

// CheckFile checks the archive at the end of the file at path as Check
// does, for the commands: one line per intact entry on w (its CRC-32, its
// size and its name) and a summary line. When status is not nil (a
// terminal), the progress through large entries is shown there on one
// line, rewritten in place and erased at the end. A file without an
// archive is an error saying so, which wraps ErrNoArchive.
func CheckFile(path string, w, status io.Writer) error {
	a, err := Open(path)
	if errors.Is(err, ErrNoArchive) {
		return fmt.Errorf("zipalign: %s: %w at its end: it is not a llamafile or zip file, or it is truncated (the zip directory comes last, so a download cut short loses it)", path, ErrNoArchive)
	}
	if err != nil {
		return err
	}
	defer a.Close()
	began := time.Now()
	var last time.Time
	shown := false
	clear := func() {
		if shown {
			fmt.Fprint(status, "\r\033[K")
			shown = false
		}
	}
	err = a.Check(func(st CheckStatus) {
		if st.Checked {
			clear()
			fmt.Fprintf(w, "ok  %08x %14d  %s\n", st.CRC32, st.Entry.UncompressedSize, displayName(st.Entry.Name))
			return
		}
		if status == nil || st.Entry.CompressedSize < progressMin || time.Since(last) < 200*time.Millisecond {
			return
		}
		last = time.Now()
		pct := float64(st.Done) / float64(max(st.Total, 1)) * 100
		fmt.Fprintf(status, "\r\033[Kchecking %s: %.0f%% of %s", displayName(st.Entry.Name), pct, humanBytes(st.Total))
		shown = true
	})
	clear()
	if err != nil {
		return err
	}
	total, n := int64(0), len(a.Entries())
	for _, e := range a.Entries() {
		total += int64(e.CompressedSize)
	}
	secs := time.Since(began).Seconds()
	rate := ""
	if secs > 0.001 && total >= 1e6 {
		rate = fmt.Sprintf(", %s/s", humanBytes(int64(float64(total)/secs)))
	}
	entries := "entries"
	if n == 1 {
		entries = "entry"
	}
	fmt.Fprintf(w, "%s: %d %s, %s of data, all intact (CRC-32s verified in %.2f s%s)\n", path, n, entries, humanBytes(total), secs, rate)
	return nil
}

// humanBytes writes n in B, kB, MB or GB (powers of 1000).
func humanBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
