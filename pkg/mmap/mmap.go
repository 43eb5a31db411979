// Package mmap maps files, or byte ranges of files, into memory read-only.
//
// On Unix systems (Linux, macOS, FreeBSD, OpenBSD, NetBSD) it uses mmap(2);
// on Windows CreateFileMapping and MapViewOfFile. Elsewhere it falls back to
// reading the range into memory, which behaves the same apart from cost.
//
// A range need not start on a page boundary: the mapping begins at the
// page-aligned offset at or below the one asked for and Bytes returns the
// requested part of it. Read gives the same view of a copy in memory
// instead, and Lock keeps either resident.
package mmap

import (
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"
)

// Mapping is a read-only view of a byte range of a file. Its bytes stay valid
// until Close; the file it came from may be closed independently.
type Mapping struct {
	data   []byte // the requested range
	sys    sysMapping
	copied bool // Read made it: data is a copy in memory, not mapped
	locked bool // Lock locked data in memory
}

// Map maps size bytes of f starting at offset. The range must lie inside the
// file. A zero-size range yields an empty mapping without a system call.
func Map(f *os.File, offset, size int64) (*Mapping, error) {
	if err := checkRange(f, offset, size); err != nil {
		return nil, err
	}
	if size == 0 {
		return &Mapping{data: []byte{}}, nil
	}
	m := &Mapping{}
	if err := m.mapRange(f, offset, int(size)); err != nil {
		return nil, fmt.Errorf("mmap: %s: %w", f.Name(), err)
	}
	return m, nil
}

// Read reads size bytes of f starting at offset into memory. The Mapping
// it returns behaves as one of Map, but owns a copy of the bytes: the
// file's pages are not shared, and changes to the file do not show
// (llama.cpp's --no-mmap).
func Read(f *os.File, offset, size int64) (*Mapping, error) {
	if err := checkRange(f, offset, size); err != nil {
		return nil, err
	}
	if size == 0 {
		return &Mapping{data: []byte{}, copied: true}, nil
	}
	m := &Mapping{copied: true}
	if err := m.readRange(f, offset, int(size)); err != nil {
		return nil, fmt.Errorf("mmap: %s: %w", f.Name(), err)
	}
	return m, nil
}

// checkRange checks that size bytes at offset lie inside f and fit in
// memory.
func checkRange(f *os.File, offset, size int64) error {
	if f == nil {
		return errors.New("mmap: nil file")
	}
	if offset < 0 || size < 0 {
		return fmt.Errorf("mmap: %s: invalid range offset %d size %d", f.Name(), offset, size)
	}
	if size == 0 {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	if offset > fi.Size() || size > fi.Size()-offset {
		return fmt.Errorf("mmap: %s: range [%d, %d+%d) exceeds file size %d", f.Name(), offset, offset, size, fi.Size())
	}
	if int64(int(size)) != size || size > maxMapSize {
		return fmt.Errorf("mmap: %s: size %d too large to map on this platform", f.Name(), size)
	}
	return nil
}

// readRange reads the range into memory.
func (m *Mapping) readRange(f *os.File, offset int64, size int) error {
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

// Lock locks the bytes in memory (mlock(2); VirtualLock on Windows), so
// that they are never paged out, as llama.cpp's --mlock does. It fails
// when the system refuses (on Linux, beyond RLIMIT_MEMLOCK without
// privilege) or has no such call; the bytes stay usable either way. Close
// unlocks them.
func (m *Mapping) Lock() error {
	if m == nil || len(m.data) == 0 || m.locked {
		return nil
	}
	if err := lock(m.data); err != nil {
		return fmt.Errorf("mmap: locking %d bytes in memory: %w", len(m.data), err)
	}
	m.locked = true
	return nil
}

// Release tells the system that the mapped bytes b (a part of Bytes) are
// not needed for now, so that their pages stop counting as the process's
// resident memory: the whole pages inside b are dropped from the mapping
// (madvise MADV_DONTNEED) and read again from the file if b is used later.
// The bytes stay valid. A copy made by Read, locked bytes, and systems
// without the call (Windows among them) release nothing.
func (m *Mapping) Release(b []byte) {
	if m == nil || m.copied || m.locked || len(b) == 0 || len(m.data) == 0 {
		return
	}
	// b must lie inside the mapping.
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p < base || p+uintptr(len(b)) > base+uintptr(len(m.data)) {
		return
	}
	ps := uintptr(os.Getpagesize())
	lo, hi := (p+ps-1)/ps*ps, (p+uintptr(len(b)))/ps*ps
	if lo >= hi {
		return
	}
	release(m.data[lo-base : hi-base])
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
	var err error
	if m.locked {
		err = unlock(m.data)
		m.locked = false
	}
	if !m.copied {
		if e := m.unmap(); e != nil {
			err = e
		}
	}
	m.data = nil
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	return nil
}
