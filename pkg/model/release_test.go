package model

import (
	"testing"
	"unsafe"
)

// TestPageInner checks the whole-page range of slices starting and ending
// on and off page boundaries.
func TestPageInner(t *testing.T) {
	const page = 4096
	buf := make([]byte, 5*page)
	base := int(page - uintptr(unsafe.Pointer(&buf[0]))%page) // first page boundary in buf
	for _, c := range []struct {
		off, n int // the slice buf[base+off : base+off+n]
		lo, hi int // the whole pages in it, relative to it (none: lo == hi)
	}{
		{0, 2 * page, 0, 2 * page},
		{0, 2*page + 10, 0, 2 * page},
		{10, 2 * page, page - 10, 2*page - 10},
		{10, 2*page - 10, page - 10, 2*page - 10},
		{10, page, 0, 0},
		{10, 100, 0, 0},
		{0, 0, 0, 0},
	} {
		b := buf[base+c.off : base+c.off+c.n]
		lo, hi := pageInner(b, page)
		if c.lo == c.hi {
			if lo < hi {
				t.Errorf("off %d, len %d: [%d, %d), want no whole page", c.off, c.n, lo, hi)
			}
			continue
		}
		if lo != c.lo || hi != c.hi {
			t.Errorf("off %d, len %d: [%d, %d), want [%d, %d)", c.off, c.n, lo, hi, c.lo, c.hi)
		}
	}
}
