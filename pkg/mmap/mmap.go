// Package mmap maps files, or byte ranges of files, into memory read-only.
//
// On Unix systems (Linux, macOS, FreeBSD, OpenBSD, NetBSD) it uses mmap(2);
// on Windows CreateFileMapping and MapViewOfFile. Elsewhere it falls back to
// reading the range into memory, which behaves the same apart from cost.
//
// A range need not start on a page boundary: the mapping begins at the
// page-aligned offset at or below the one asked for and Bytes returns the
// requested part of it.
package mmap

import (
	"errors"
	"fmt"
	"os"
)

// Mapping is a read-only view of a byte range of a file. Its bytes stay valid
// until Close; the file it came from may be closed independently.
type Mapping struct {
	data []byte // the requested range
	sys  sysMapping
}

// Map maps size bytes of f starting at offset. The range must lie inside the
// file. A zero-size range yields an empty mapping without a system call.
func Map(f *os.File, offset, size int64) (*Mapping, error) {
	if f == nil {
		return nil, errors.New("mmap: nil file")
	}
	if offset < 0 || size < 0 {
		return nil, fmt.Errorf("mmap: %s: invalid range offset %d size %d", f.Name(), offset, size)
	}
	if size == 0 {
		return &Mapping{data: []byte{}}, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	if offset > fi.Size() || size > fi.Size()-offset {
		return nil, fmt.Errorf("mmap: %s: range [%d, %d+%d) exceeds file size %d", f.Name(), offset, offset, size, fi.Size())
	}
	if int64(int(size)) != size || size > maxMapSize {
		return nil, fmt.Errorf("mmap: %s: size %d too large to map on this platform", f.Name(), size)
	}
	m := &Mapping{}
	if err := m.mapRange(f, offset, int(size)); err != nil {
		return nil, fmt.Errorf("mmap: %s: %w", f.Name(), err)
	}
	return m, nil
}

// Bytes returns the mapped bytes. They must not be modified, and must not be
// used after Close.
func (m *Mapping) Bytes() []byte {
	if m == nil {
		return nil
	}
	return m.data
}

// Close releases the mapping. Closing twice is harmless.
func (m *Mapping) Close() error {
	if m == nil || m.data == nil {
		return nil
	}
	err := m.unmap()
	m.data = nil
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	return nil
}
