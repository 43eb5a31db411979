//go:build linux || darwin || freebsd || openbsd || netbsd

package mmap

import (
	"os"

	"golang.org/x/sys/unix"
)

const maxMapSize = 1<<(31+(^uint(0)>>63)*31) - 1 // MaxInt

type sysMapping struct {
	region []byte // the whole page-aligned mapping
}

func (m *Mapping) mapRange(f *os.File, offset int64, size int) error {
	pageSize := int64(os.Getpagesize())
	start := offset &^ (pageSize - 1)
	delta := int(offset - start)
	if size > maxMapSize-delta {
		return errTooLarge
	}
	region, err := unix.Mmap(int(f.Fd()), start, size+delta, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	m.sys.region = region
	m.data = region[delta : delta+size : delta+size]
	return nil
}

func (m *Mapping) unmap() error {
	r := m.sys.region
	m.sys.region = nil
	if r == nil {
		return nil
	}
	return unix.Munmap(r)
}

func lock(b []byte) error { return unix.Mlock(b) }

// release drops the pages of b (page-aligned) from the mapping.
func release(b []byte)      { _ = unix.Madvise(b, unix.MADV_DONTNEED) }
func unlock(b []byte) error { return unix.Munlock(b) }
