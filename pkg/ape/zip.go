package ape

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Zip record signatures and sizes (PKWARE APPNOTE 6.3).
const (
	zipSigLocal   = 0x04034b50
	zipSigCentral = 0x02014b50
	zipSigEnd     = 0x06054b50
	zipSigEnd64   = 0x06064b50
	zipSigLoc64   = 0x07064b50

	zipLenLocal   = 30
	zipLenCentral = 46
	zipLenEnd     = 22
	zipLenEnd64   = 56
	zipLenLoc64   = 20

	zipMaxCentral = 256 << 20 // refuse larger central directories

	// MinZipAlign is the alignment Assimilate preserves at least when it
	// moves a zip archive: every page size in use divides it.
	MinZipAlign = 65536
	maxZipAlign = 1 << 30
)

// appendedZip is the zip archive found at the end of a file.
type appendedZip struct {
	start   int64 // first byte of the archive: its first local header or its central directory
	cdStart int64 // absolute offset of the central directory
	base    int64 // what the archive's offsets count from; 0 for a file-relative archive
	align   int64 // alignment of its stored entries' data, at least MinZipAlign
	cdSize  int   // bytes of the central directory, at the start of tail
	tail    []byte
	// Offsets inside tail (the bytes from cdStart to the end of the file)
	// of the records holding offsets.
	end, loc64, end64 int // -1 when absent
	records           int
}

var errNoZip = errors.New("no zip archive")

// findZip locates the zip archive at the end of the size bytes of r, or
// returns errNoZip. Every end record signature in the last 64 KiB is a
// candidate, but only its records are checked, in a few small reads: the
// central directory is loaded (and walked) for the first candidate that
// checks out, and its verdict is final. Loading it for each candidate
// would let a file of thousands of end records, each pointing at a
// central directory of the whole file, cost thousands of times its size.
func findZip(r io.ReaderAt, size int64) (*appendedZip, error) {
	n := min(size, zipLenEnd+0xffff)
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return nil, err
	}
	le := binary.LittleEndian
	var firstErr error
	for i := len(buf) - zipLenEnd; i >= 0; i-- {
		if le.Uint32(buf[i:]) != zipSigEnd {
			continue
		}
		z, err := locateZip(r, size, size-n+int64(i))
		if err == nil {
			if err := z.load(r, size); err != nil {
				return nil, fmt.Errorf("zip: %w", err)
			}
			return z, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, fmt.Errorf("zip: %w", firstErr)
	}
	return nil, errNoZip
}

// locateZip checks the end records of the archive whose end of central
// directory record is at pos, and that a central directory starts where
// they say, without loading it.
func locateZip(r io.ReaderAt, size, pos int64) (*appendedZip, error) {
	le := binary.LittleEndian
	var rec [zipLenEnd]byte
	if _, err := r.ReadAt(rec[:], pos); err != nil {
		return nil, err
	}
	if int64(le.Uint16(rec[20:]))+pos+zipLenEnd > size {
		return nil, errors.New("end record comment runs past the end of the file")
	}
	records := uint64(le.Uint16(rec[10:]))
	cdSize, cdOff := uint64(le.Uint32(rec[12:])), uint64(le.Uint32(rec[16:]))
	endStart := pos
	loc64, end64 := int64(-1), int64(-1)
	if pos >= zipLenLoc64 {
		var loc [zipLenLoc64]byte
		if _, err := r.ReadAt(loc[:], pos-zipLenLoc64); err != nil {
			return nil, err
		}
		if le.Uint32(loc[:]) == zipSigLoc64 {
			loc64 = pos - zipLenLoc64
			end64 = int64(le.Uint64(loc[8:]))
			if end64 < 0 || end64+zipLenEnd64 > loc64 {
				return nil, errors.New("zip64 end record out of bounds")
			}
			var e [zipLenEnd64]byte
			if _, err := r.ReadAt(e[:], end64); err != nil {
				return nil, err
			}
			if le.Uint32(e[:]) != zipSigEnd64 {
				// Offsets relative to the archive: the zip64 end
				// record sits just before the locator.
				end64 = loc64 - zipLenEnd64
				if _, err := r.ReadAt(e[:], end64); err != nil || le.Uint32(e[:]) != zipSigEnd64 {
					return nil, errors.New("no zip64 end record where the locator points")
				}
			}
			records, cdSize, cdOff = le.Uint64(e[32:]), le.Uint64(e[40:]), le.Uint64(e[48:])
			endStart = end64
		}
	}
	if cdSize > zipMaxCentral || cdSize > uint64(endStart) || cdOff > uint64(endStart) {
		return nil, fmt.Errorf("central directory (offset %d, %d bytes) out of bounds", cdOff, cdSize)
	}
	if records > cdSize/zipLenCentral {
		return nil, fmt.Errorf("%d entries cannot fit in %d bytes", records, cdSize)
	}
	z := &appendedZip{
		cdStart: endStart - int64(cdSize),
		cdSize:  int(cdSize),
		records: int(records),
		end:     int(pos - (endStart - int64(cdSize))),
		loc64:   -1, end64: -1,
	}
	z.base = z.cdStart - int64(cdOff)
	if z.base < 0 {
		return nil, errors.New("central directory offset past its position")
	}
	if loc64 >= 0 {
		z.loc64, z.end64 = int(loc64-z.cdStart), int(end64-z.cdStart)
	}
	if records > 0 {
		var sig [4]byte
		if _, err := r.ReadAt(sig[:], z.cdStart); err != nil || le.Uint32(sig[:]) != zipSigCentral {
			return nil, fmt.Errorf("no central directory at %d, where the end record puts it", z.cdStart)
		}
	}
	return z, nil
}

// load reads the bytes from the central directory to the end of the size
// bytes of r into z.tail, and walks the central directory for the first
// local header and the alignment of the data.
func (z *appendedZip) load(r io.ReaderAt, size int64) error {
	le := binary.LittleEndian
	z.tail = make([]byte, size-z.cdStart)
	if _, err := r.ReadAt(z.tail, z.cdStart); err != nil {
		return err
	}
	z.start = z.cdStart
	minBit := int64(maxZipAlign)
	c := z.tail[:z.cdSize]
	for i := 0; i < z.records; i++ {
		if len(c) < zipLenCentral || le.Uint32(c) != zipSigCentral {
			return fmt.Errorf("central directory entry %d: bad signature", i)
		}
		method := le.Uint16(c[10:])
		nameLen, extraLen, commentLen := int(le.Uint16(c[28:])), int(le.Uint16(c[30:])), int(le.Uint16(c[32:]))
		recLen := zipLenCentral + nameLen + extraLen + commentLen
		if recLen > len(c) {
			return fmt.Errorf("central directory entry %d: truncated", i)
		}
		f := centralOffsets(c[:recLen])
		if f.err != nil {
			return fmt.Errorf("central directory entry %d: %w", i, f.err)
		}
		lho := z.base + int64(f.get())
		var lh [zipLenLocal]byte
		if lho < 0 || lho+zipLenLocal > z.cdStart {
			return fmt.Errorf("central directory entry %d: local header offset out of bounds", i)
		}
		if _, err := r.ReadAt(lh[:], lho); err != nil || le.Uint32(lh[:]) != zipSigLocal {
			return fmt.Errorf("central directory entry %d: no local header at %d", i, lho)
		}
		z.start = min(z.start, lho)
		data := lho + zipLenLocal + int64(le.Uint16(lh[26:])) + int64(le.Uint16(lh[28:]))
		if method == 0 && f.compressed > 0 && data > 0 {
			minBit = min(minBit, data&-data)
		}
		c = c[recLen:]
	}
	z.align = max(minBit, MinZipAlign)
	return nil
}

// lhoField locates the local header offset inside one central directory
// record: the 32-bit field or, when that is 0xffffffff, the zip64 extra
// field.
type lhoField struct {
	rec        []byte
	at         int  // offset of the value in rec
	wide       bool // 64-bit (zip64 extra) rather than 32-bit
	compressed uint64
	err        error
}

func centralOffsets(rec []byte) lhoField {
	le := binary.LittleEndian
	f := lhoField{rec: rec, at: 42, compressed: uint64(le.Uint32(rec[20:]))}
	usize := le.Uint32(rec[24:])
	if le.Uint32(rec[42:]) != 0xffffffff && f.compressed != 0xffffffff {
		return f
	}
	nameLen, extraLen := int(le.Uint16(rec[28:])), int(le.Uint16(rec[30:]))
	extra := rec[zipLenCentral+nameLen : zipLenCentral+nameLen+extraLen]
	for len(extra) >= 4 {
		id, n := le.Uint16(extra), int(le.Uint16(extra[2:]))
		if 4+n > len(extra) {
			break
		}
		if id == 1 {
			pos := 4
			need := func() bool { return pos+8 <= 4+n }
			if usize == 0xffffffff {
				pos += 8
			}
			if f.compressed == 0xffffffff {
				if !need() {
					break
				}
				f.compressed = le.Uint64(extra[pos:])
				pos += 8
			}
			if le.Uint32(rec[42:]) != 0xffffffff {
				return f
			}
			if !need() {
				break
			}
			f.at = zipLenCentral + nameLen + (extraLen - len(extra)) + pos
			f.wide = true
			return f
		}
		extra = extra[4+n:]
	}
	f.err = errors.New("zip64 extra field missing or short")
	return f
}

func (f lhoField) get() uint64 {
	if f.wide {
		return binary.LittleEndian.Uint64(f.rec[f.at:])
	}
	return uint64(binary.LittleEndian.Uint32(f.rec[f.at:]))
}

func (f lhoField) set(v uint64) error {
	if f.wide {
		binary.LittleEndian.PutUint64(f.rec[f.at:], v)
		return nil
	}
	if v >= 0xffffffff {
		return errors.New("local header offset no longer fits in 32 bits (archive has no zip64 records)")
	}
	binary.LittleEndian.PutUint32(f.rec[f.at:], uint32(v))
	return nil
}

// shiftedTail returns the archive's central directory and end records
// with every offset adjusted for the archive moving by delta bytes. An
// archive whose offsets count from its own start needs no change.
func (z *appendedZip) shiftedTail(delta int64) ([]byte, error) {
	tail := append([]byte(nil), z.tail...)
	if z.base != 0 || delta == 0 {
		return tail, nil
	}
	le := binary.LittleEndian
	add := func(v uint64) uint64 { return uint64(int64(v) + delta) }
	c := tail
	for i := 0; i < z.records; i++ {
		nameLen, extraLen, commentLen := int(le.Uint16(c[28:])), int(le.Uint16(c[30:])), int(le.Uint16(c[32:]))
		recLen := zipLenCentral + nameLen + extraLen + commentLen
		f := centralOffsets(c[:recLen])
		if err := f.set(add(f.get())); err != nil {
			return nil, fmt.Errorf("zip: central directory entry %d: %w", i, err)
		}
		c = c[recLen:]
	}
	if v := le.Uint32(tail[z.end+16:]); v != 0xffffffff {
		if add(uint64(v)) >= 0xffffffff {
			return nil, errors.New("zip: central directory offset no longer fits in 32 bits")
		}
		le.PutUint32(tail[z.end+16:], uint32(add(uint64(v))))
	}
	if z.loc64 >= 0 {
		le.PutUint64(tail[z.loc64+8:], add(le.Uint64(tail[z.loc64+8:])))
		le.PutUint64(tail[z.end64+48:], add(le.Uint64(tail[z.end64+48:])))
	}
	return tail, nil
}
