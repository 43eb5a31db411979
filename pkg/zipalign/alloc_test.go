package zipalign

import (
	"bytes"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// allocCeiling is what reading n hostile bytes may allocate: a fixed
// allowance and a modest factor of the input (an Entry and its index slot
// for each 46-byte central directory record).
func allocCeiling(n int) uint64 { return 1<<20 + 32*uint64(n) }

// endRecord is a classic end of central directory record.
func endRecord(records uint16, cdSize, cdOffset uint32) []byte {
	return put(nil).u32(sigEnd).u16(0).u16(0).u16(records).u16(records).u32(cdSize).u32(cdOffset).u16(0)
}

// centralRecord is a central directory record of a stored, empty entry
// whose local header is at offset.
func centralRecord(name string, offset uint32) []byte {
	p := put(nil).u32(sigCentral).u16(20).u16(20).u16(0).u16(Store).u16(0).u16(0x21)
	p = p.u32(0).u32(0).u32(0).u16(uint16(len(name))).u16(0).u16(0).u16(0).u16(0).u32(0).u32(offset)
	return p.bytes([]byte(name))
}

// sharedLocalHeader is an archive of n entries whose central records all
// point at one local header with a 64 KiB extra field: a reader keeping
// each entry's local extra field would allocate 64 KiB per 46-byte record.
func sharedLocalHeader(n int) []byte {
	p := put(nil).u32(sigLocal).u16(20).u16(0).u16(Store).u16(0).u16(0x21)
	p = p.u32(0).u32(0).u32(0).u16(1).u16(0xffff).bytes([]byte("a"))
	p = append(p, make([]byte, 0xffff)...)
	cdStart := len(p)
	for range n {
		p = p.bytes(centralRecord("a", 0))
	}
	return append(p, endRecord(uint16(n), uint32(len(p)-cdStart), uint32(cdStart))...)
}

// TestAdversarialAllocations: archives whose records claim huge counts or
// sizes, or reuse one another's bytes, fail (or open) with allocations
// bounded by a modest factor of the input, never what they claim.
func TestAdversarialAllocations(t *testing.T) {
	zip64 := put(nil).u32(sigEnd64).u64(lenEnd64 - 12).u16(45).u16(45).u32(0).u32(0).u64(1 << 62).u64(1 << 62)
	zip64 = zip64.u64(1 << 62).u64(0)
	zip64 = zip64.u32(sigLoc64).u32(0).u64(0).u32(1)
	zip64 = append(zip64, endRecord(0xffff, 0xffffffff, 0xffffffff)...)
	cdHuge := append(centralRecord("a", 0), endRecord(1, 0xffffffff, 0)...)
	for _, tc := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"65535 records in 46 bytes", append(centralRecord("a", 0), endRecord(0xffff, 46, 0)...), false},
		{"4 GiB central directory", cdHuge, false},
		{"zip64: 2^62 records of 2^62 bytes", zip64, false},
		{"16384 end signatures", bytes.Repeat([]byte("PK\x05\x06"), 1<<14), false},
		{"64 KiB comment of end signatures", append(endRecord(0, 0, 0)[:20], append([]byte{0xff, 0xff}, strings.Repeat("PK\x05\x06", 1<<14)[:0xffff]...)...), true},
		{"4000 entries sharing a 64 KiB local extra field", sharedLocalHeader(4000), false},
		{"one entry with a 64 KiB local extra field", sharedLocalHeader(1), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := testutil.Allocated(func() { _, err = NewReader(bytes.NewReader(tc.data), int64(len(tc.data))) })
			t.Logf("%d bytes: %d KiB allocated, err %v", len(tc.data), n>>10, err)
			if (err == nil) != tc.ok {
				t.Fatalf("NewReader: %v, want ok %v", err, tc.ok)
			}
			if ceiling := allocCeiling(len(tc.data)); n > ceiling {
				t.Errorf("allocated %d bytes for a %d-byte input (ceiling %d): %v", n, len(tc.data), ceiling, err)
			}
		})
	}
	if _, err := NewReader(bytes.NewReader(sharedLocalHeader(4000)), int64(len(sharedLocalHeader(4000)))); err == nil ||
		!strings.Contains(err.Error(), "local headers overlap") {
		t.Errorf("shared local header: error %v does not say the local headers overlap", err)
	}
}
