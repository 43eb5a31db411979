//go:build !(linux || darwin || freebsd || openbsd || netbsd || windows)

package mmap

import (
	"errors"
	"os"
)

const maxMapSize = 1<<(31+(^uint(0)>>63)*31) - 1 // MaxInt

type sysMapping struct{}

// mapRange reads the range into memory: this system has no supported mmap.
func (m *Mapping) mapRange(f *os.File, offset int64, size int) error {
	return m.readRange(f, offset, size)
}

func (m *Mapping) unmap() error { return nil }

var errNoLock = errors.New("not supported on this system")

func lock([]byte) error   { return errNoLock }
func release([]byte)      {}
func unlock([]byte) error { return nil }
