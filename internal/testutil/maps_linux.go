package testutil

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// Mapping is one line of a Linux /proc/PID/maps listing.
type Mapping struct {
	Start, End uint64 // the addresses [Start, End)
	Offset     int64  // the file offset mapped at Start
	Path       string // the mapped file; "" for an anonymous mapping
}

// ParseMaps parses a /proc/PID/maps listing ("start-end perms offset dev
// inode path" a line). It fails on a line it cannot read, naming it.
func ParseMaps(maps []byte) ([]Mapping, error) {
	var out []Mapping
	for _, line := range strings.Split(string(maps), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		bad := func() ([]Mapping, error) {
			return nil, fmt.Errorf("maps line %q: not start-end perms offset dev inode [path]", line)
		}
		if len(fields) < 5 {
			return bad()
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			return bad()
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		off, err3 := strconv.ParseInt(fields[2], 16, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return bad()
		}
		out = append(out, Mapping{Start: start, End: end, Offset: off, Path: strings.Join(fields[5:], " ")})
	}
	return out, nil
}

// MappedFile returns the file whose mapping in this process holds p's first
// byte, from /proc/self/maps, or "" when p is not in a file mapping (the Go
// heap, say). It skips the test when /proc/self/maps cannot be read.
func MappedFile(tb testing.TB, p []byte) string {
	tb.Helper()
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		tb.Skip(err)
	}
	maps, err := ParseMaps(data)
	if err != nil {
		tb.Fatalf("/proc/self/maps: %v", err)
	}
	addr := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(p))))
	for _, m := range maps {
		if m.Start <= addr && addr < m.End {
			return m.Path
		}
	}
	return ""
}
