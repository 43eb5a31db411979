//go:build !(linux || darwin || freebsd || openbsd || netbsd || windows)

package mmap

import (
	"fmt"
	"io"
	"os"
)

const maxMapSize = 1<<(31+(^uint(0)>>63)*31) - 1 // MaxInt

type sysMapping struct{}

// mapRange reads the range into memory: this system has no supported mmap.
func (m *Mapping) mapRange(f *os.File, offset int64, size int) error {
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, offset); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read: %w", err)
	}
	m.data = buf
	return nil
}

func (m *Mapping) unmap() error { return nil }
