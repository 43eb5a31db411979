package zipalign

import (
	"encoding/binary"
	"time"
)

// Record signatures and fixed sizes of the zip format (PKWARE APPNOTE 6.3).
const (
	sigLocal   = 0x04034b50 // local file header
	sigCentral = 0x02014b50 // central directory file header
	sigEnd     = 0x06054b50 // end of central directory record
	sigEnd64   = 0x06064b50 // zip64 end of central directory record
	sigLoc64   = 0x07064b50 // zip64 end of central directory locator
	sigDesc    = 0x08074b50 // data descriptor

	lenLocal   = 30
	lenCentral = 46
	lenEnd     = 22
	lenEnd64   = 56
	lenLoc64   = 20

	// maxCommentLen is the longest archive comment, which bounds how far
	// from the end of the file the end of central directory record can be.
	maxCommentLen = 0xffff

	extraZip64     = 0x0001 // zip64 extended information
	extraTimestamp = 0x5455 // extended timestamp ("UT")
	extraAndroid   = 0xd935 // Android zipalign padding

	flagEncrypted  = 1 << 0
	flagDescriptor = 1 << 3
	flagUTF8       = 1 << 11

	versionZip64 = 45 // "version needed to extract" for zip64 records
	creatorUnix  = 3  // high byte of "version made by": Unix
	creatorMacOS = 19 // high byte of "version made by": OS X (Darwin)
	creatorDOS   = 0  // high byte of "version made by": MS-DOS/FAT

	unixTypeMask = 0o170000
	unixRegular  = 0o100000
	unixDir      = 0o040000
	unixSymlink  = 0o120000
)

// Compression methods an entry may use.
const (
	Store   uint16 = 0 // stored (uncompressed); the data can be memory-mapped
	Deflate uint16 = 8 // raw deflate (RFC 1951)
)

// le is a little-endian cursor over a byte slice. Reads past the end yield
// zeros and set short, so parsers check short once instead of every field.
type le struct {
	b     []byte
	short bool
}

func (r *le) take(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.short = true
		r.b = nil
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *le) u8() uint8 {
	if p := r.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *le) u16() uint16 {
	if p := r.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (r *le) u32() uint32 {
	if p := r.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (r *le) u64() uint64 {
	if p := r.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

// put appends little-endian fields to a byte slice.
type put []byte

func (p put) u16(v uint16) put { return binary.LittleEndian.AppendUint16(p, v) }
func (p put) u32(v uint32) put { return binary.LittleEndian.AppendUint32(p, v) }
func (p put) u64(v uint64) put { return binary.LittleEndian.AppendUint64(p, v) }
func (p put) bytes(b []byte) put {
	return append(p, b...)
}

// extraField is one record of an extra field: a tag and its data.
type extraField struct {
	tag  uint16
	data []byte
}

// parseExtra splits an extra field into its records. A truncated trailing
// record is dropped, as other zip readers do.
func parseExtra(b []byte) []extraField {
	var out []extraField
	for len(b) >= 4 {
		tag := binary.LittleEndian.Uint16(b)
		n := int(binary.LittleEndian.Uint16(b[2:]))
		if 4+n > len(b) {
			break
		}
		out = append(out, extraField{tag: tag, data: b[4 : 4+n]})
		b = b[4+n:]
	}
	return out
}

// keepExtra re-encodes the records of an extra field, leaving out the ones
// the writer rewrites itself (zip64 sizes and alignment padding).
func keepExtra(b []byte) []byte {
	var out put
	for _, f := range parseExtra(b) {
		if f.tag == extraZip64 || f.tag == extraAndroid {
			continue
		}
		out = out.u16(f.tag).u16(uint16(len(f.data))).bytes(f.data)
	}
	return out
}

// dosTime converts t, in its own location, to MS-DOS date and time fields,
// clamped to the range they can represent (1980 to 2107).
func dosTime(t time.Time) (dtime, ddate uint16) {
	switch {
	case t.Year() < 1980:
		return 0, 1<<5 | 1 // 1980-01-01 00:00:00
	case t.Year() > 2107:
		return 23<<11 | 59<<5 | 29, 127<<9 | 12<<5 | 31 // 2107-12-31 23:59:58
	}
	dtime = uint16(t.Hour()<<11 | t.Minute()<<5 | t.Second()>>1)
	ddate = uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day())
	return dtime, ddate
}

// fromDOSTime converts MS-DOS date and time fields to a time in UTC, the
// convention of Go's archive/zip for entries without a timestamp extra.
func fromDOSTime(dtime, ddate uint16) time.Time {
	return time.Date(
		int(ddate>>9)+1980, time.Month(ddate>>5&0xf), int(ddate&0x1f),
		int(dtime>>11), int(dtime>>5&0x3f), int(dtime&0x1f)*2, 0, time.UTC)
}
