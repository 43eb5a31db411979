//go:build windows

package mmap

import (
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

const maxMapSize = 1<<(31+(^uint(0)>>63)*31) - 1 // MaxInt

// allocationGranularity is the alignment MapViewOfFile requires of offsets
// (64 KiB on every Windows release).
const allocationGranularity = 64 << 10

type sysMapping struct {
	handle windows.Handle
	addr   uintptr
}

func (m *Mapping) mapRange(f *os.File, offset int64, size int) error {
	start := offset &^ (allocationGranularity - 1)
	delta := int(offset - start)
	if size > maxMapSize-delta {
		return errTooLarge
	}
	h, err := windows.CreateFileMapping(windows.Handle(f.Fd()), nil, windows.PAGE_READONLY, 0, 0, nil)
	if err != nil {
		return os.NewSyscallError("CreateFileMapping", err)
	}
	length := size + delta
	addr, err := windows.MapViewOfFile(h, windows.FILE_MAP_READ, uint32(uint64(start)>>32), uint32(start), uintptr(length))
	if err != nil {
		windows.CloseHandle(h)
		return os.NewSyscallError("MapViewOfFile", err)
	}
	m.sys.handle = h
	m.sys.addr = addr
	// Convert the address without a uintptr-to-Pointer conversion that vet
	// would flag: the memory is outside the Go heap.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	region := unsafe.Slice((*byte)(p), length)
	m.data = region[delta : delta+size : delta+size]
	return nil
}

func (m *Mapping) unmap() error {
	var err error
	if m.sys.addr != 0 {
		if e := windows.UnmapViewOfFile(m.sys.addr); e != nil {
			err = os.NewSyscallError("UnmapViewOfFile", e)
		}
		m.sys.addr = 0
	}
	if m.sys.handle != 0 {
		if e := windows.CloseHandle(m.sys.handle); e != nil && err == nil {
			err = os.NewSyscallError("CloseHandle", e)
		}
		m.sys.handle = 0
	}
	return err
}

func lock(b []byte) error {
	return windows.VirtualLock(uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
}

func unlock(b []byte) error {
	return windows.VirtualUnlock(uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
}

// release does nothing on Windows: the mapped view's pages stay in the
// working set until the system trims it.
func release([]byte) {}
