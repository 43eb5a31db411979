//go:build linux || darwin || freebsd

package zipalign

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// nextData returns where the data region at or after off starts and where
// it ends (the next hole), both clamped to end. Without support from the
// system or file system, the whole range is data.
func nextData(f *os.File, off, end int64) (start, stop int64) {
	start, err := f.Seek(off, unix.SEEK_DATA)
	if errors.Is(err, syscall.ENXIO) {
		return end, end // only a hole up to the end of the file
	}
	if err != nil || start < off {
		return off, end
	}
	if start >= end {
		return end, end
	}
	stop, err = f.Seek(start, unix.SEEK_HOLE)
	if err != nil || stop <= start || stop > end {
		stop = end
	}
	return start, stop
}
