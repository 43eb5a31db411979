package model

import (
	"os"

	"golang.org/x/sys/unix"
)

// release lets the operating system reclaim the memory behind b (weights
// a packed copy replaces): on Linux, MADV_PAGEOUT drops the whole pages
// inside b from the resident set (file pages go back to the page cache,
// or are reclaimed; anonymous memory keeps its contents). It is a hint:
// errors (a kernel before 5.4) are ignored.
func release(b []byte) {
	page := os.Getpagesize()
	lo, hi := pageInner(b, page)
	if lo < hi {
		_ = unix.Madvise(b[lo:hi], unix.MADV_PAGEOUT)
	}
}
