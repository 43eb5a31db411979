package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestMmapMlockFlags checks that --no-mmap and --mlock reach the model as
// loaded, in the running server's memory: by default the model file is
// mapped (it shows in /proc/PID/maps) and nothing is locked (VmLck 0);
// with --no-mmap the file is read, not mapped; with --mlock the model's
// bytes are locked (VmLck at least the file's size), or, where the system
// refuses (an unprivileged process beyond ulimit -l), a warning says so.
func TestMmapMlockFlags(t *testing.T) {
	model := stories(t)
	fi, err := os.Stat(model)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Fatalf("no inode for %s", model)
	}
	path, err := filepath.EvalSymlinks(model)
	if err != nil {
		t.Fatal(err)
	}
	if path, err = filepath.Abs(path); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		flags          []string
		mapped, locked bool
	}{
		{nil, true, false},
		{[]string{"--no-mmap"}, false, false},
		{[]string{"--mlock"}, true, true},
		{[]string{"--mlock", "--no-mmap"}, false, true},
	} {
		t.Run(strings.Join(append([]string{"flags"}, tt.flags...), " "), func(t *testing.T) {
			base, stop := startServer(t, append([]string{"-m", model}, tt.flags...)...)
			waitHealthy(t, base)
			pid := serverPID(t, base)
			if got := mapsFile(t, pid, st.Ino, path); got != tt.mapped {
				t.Errorf("%v: the model file is mapped: %v, want %v", tt.flags, got, tt.mapped)
			}
			lockedKB := vmLckKB(t, pid)
			code, stderr := stop()
			if code != 0 {
				t.Errorf("exit %d after SIGTERM:\n%s", code, stderr)
			}
			refused := strings.Contains(stderr, "warning: --mlock:")
			switch {
			case !tt.locked && (lockedKB != 0 || refused):
				t.Errorf("%v: VmLck %d kB, mlock warning %v; want nothing locked:\n%s", tt.flags, lockedKB, refused, stderr)
			case tt.locked && !refused && lockedKB*1024 < fi.Size():
				t.Errorf("%v: VmLck %d kB, less than the model's %d bytes, and no warning:\n%s", tt.flags, lockedKB, fi.Size(), stderr)
			case tt.locked && refused:
				t.Logf("%v: the system refused to lock (as an unprivileged process may): %s", tt.flags, stderr)
			}
		})
	}
}

// mapsFile says whether the process maps the file with inode ino or at
// path (an overlay file system may show either as the underlying file's).
func mapsFile(t *testing.T, pid int, ino uint64, path string) bool {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) >= 6 && (fields[4] == strconv.FormatUint(ino, 10) || strings.Join(fields[5:], " ") == path) {
			return true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return false
}

// vmLckKB returns the process's locked memory, in kB.
func vmLckKB(t *testing.T, pid int) int64 {
	t.Helper()
	v := procStatus(t, pid, "VmLck")
	n, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	if err != nil {
		t.Fatalf("VmLck %q: %v", v, err)
	}
	return n
}
