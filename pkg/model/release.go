package model

import "unsafe"

// pageInner returns the range [lo, hi) of b that covers whole pages of
// size page (lo >= hi when there is none).
func pageInner(b []byte, page int) (lo, hi int) {
	if len(b) == 0 {
		return 0, 0
	}
	start := uintptr(unsafe.Pointer(&b[0]))
	lo = int((uintptr(page) - start%uintptr(page)) % uintptr(page))
	hi = len(b) - int((start+uintptr(len(b)))%uintptr(page))
	return lo, hi
}
