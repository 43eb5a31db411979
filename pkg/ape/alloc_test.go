package ape

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// allocCeiling is what reading n hostile bytes may allocate: a fixed
// allowance (the at most 16384 candidate end records of the last 64 KiB
// cost a few small reads and an error each) and a few times the input.
func allocCeiling(n int) uint64 { return 4<<20 + 4*uint64(n) }

// zipEnd is a classic end of central directory record.
func zipEnd(records uint16, cdSize, cdOffset uint32) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, zipSigEnd)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, records)
	b = le.AppendUint16(b, records)
	b = le.AppendUint32(b, cdSize)
	b = le.AppendUint32(b, cdOffset)
	return le.AppendUint16(b, 0)
}

// manyEndRecords is prefix followed by as many end records as the last
// 64 KiB hold, each saying the central directory is everything before it
// and holds one entry: a reader loading the directory of each candidate
// in turn allocates the file's size thousands of times.
func manyEndRecords(prefix []byte) []byte {
	b := bytes.Clone(prefix)
	for range 0xffff / zipLenEnd {
		b = append(b, zipEnd(1, uint32(len(b)), 0)...)
	}
	return b
}

// TestAdversarialAllocations: files whose zip records or manifest claim
// huge sizes or repeat themselves fail with allocations bounded by a few
// times the input, never what they claim.
func TestAdversarialAllocations(t *testing.T) {
	le := binary.LittleEndian
	// A central record at offset 0 whose local header is out of bounds:
	// every candidate end record finds a central directory, none an archive.
	central := le.AppendUint32(nil, zipSigCentral)
	central = append(central, make([]byte, zipLenCentral-4)...)
	le.PutUint32(central[42:], 1<<30)
	zip64 := le.AppendUint32(nil, zipSigEnd64)
	zip64 = le.AppendUint64(zip64, zipLenEnd64-12)
	zip64 = append(zip64, make([]byte, 20)...)
	zip64 = le.AppendUint64(zip64, 1<<62) // records
	zip64 = le.AppendUint64(zip64, 1<<62) // size
	zip64 = le.AppendUint64(zip64, 0)     // offset
	zip64 = le.AppendUint32(zip64, zipSigLoc64)
	zip64 = le.AppendUint32(zip64, 0)
	zip64 = le.AppendUint64(zip64, 0)
	zip64 = le.AppendUint32(zip64, 1)
	zip64 = append(zip64, zipEnd(0xffff, 0xffffffff, 0xffffffff)...)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"2978 end records over 1 MiB of zeros", manyEndRecords(make([]byte, 1<<20))},
		{"2978 end records over a central directory", manyEndRecords(append(central, make([]byte, 1<<20)...))},
		{"zip64: 2^62 records of 2^62 bytes", zip64},
		{"16384 end signatures", bytes.Repeat([]byte("PK\x05\x06"), 1<<14)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := testutil.Allocated(func() { _, err = findZip(bytes.NewReader(tc.data), int64(len(tc.data))) })
			t.Logf("%d bytes: %d KiB allocated, err %v", len(tc.data), n>>10, err)
			if err == nil {
				t.Fatal("found a zip archive")
			}
			if ceiling := allocCeiling(len(tc.data)); n > ceiling {
				t.Errorf("allocated %d bytes for a %d-byte file (ceiling %d): %v", n, len(tc.data), ceiling, err)
			}
		})
	}

	// A header of 4096 bytes of engine lines, and of blank lines.
	lines := Magic + Version + strings.Repeat("x", dosHeaderSize-len(Magic+Version)) + "'\n"
	engines := lines + strings.Repeat("linux/amd64)x 4096 1 1 - raw;;\n", 120)
	blank := lines + strings.Repeat("\n", HeaderSize-len(lines)-len(scriptEnd)-1) + "\n" + scriptEnd
	for _, tc := range []struct{ name, head string }{
		{"engine lines", (engines + strings.Repeat("\n", HeaderSize))[:HeaderSize-len(scriptEnd)-1] + "\n" + scriptEnd},
		{"blank lines", blank},
	} {
		t.Run("manifest of "+tc.name, func(t *testing.T) {
			data := append([]byte(tc.head), make([]byte, 1<<20)...)
			var err error
			n := testutil.Allocated(func() { _, err = Read(bytes.NewReader(data), int64(len(data))) })
			t.Logf("%d KiB allocated, err %v", n>>10, err)
			if err == nil {
				t.Fatal("read a manifest")
			}
			if ceiling := uint64(1 << 20); n > ceiling {
				t.Errorf("allocated %d bytes for a %d-byte header (ceiling %d): %v", n, HeaderSize, ceiling, err)
			}
		})
	}
}
