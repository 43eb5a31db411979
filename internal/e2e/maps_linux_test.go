package e2e

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// fSetPipeSize is Linux's F_SETPIPE_SZ fcntl.
const fSetPipeSize = 1031

// checkMapped starts s.llamafile with its output going into a one-page pipe
// that nobody reads, so that it blocks while generating, with the model
// loaded, and cannot exit before /proc/PID/maps has been read. The weights
// must be mapped from s.llamafile itself, where zipalign stored them.
func checkMapped(t *testing.T, f *fixture, sb *sandbox) {
	t.Helper()
	start, end := modelRange(t, f)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, w.Fd(), fSetPipeSize, 4096); errno != 0 {
		w.Close()
		t.Fatalf("F_SETPIPE_SZ: %v", errno)
	}
	// Some 4000 tokens of output, far more than the pipe holds.
	cmd := exec.Command("sh", "./s.llamafile", "-p", prompt, "-c", "4096", "-n", "4000", "--ignore-eos")
	cmd.Dir = f.dir
	cmd.Env = sb.env()
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()

	maps := fmt.Sprintf("/proc/%d/maps", cmd.Process.Pid)
	deadline := time.Now().Add(cmdTimeout)
	var last []byte
	for {
		select {
		case <-exited:
			t.Fatalf("s.llamafile exited while its output was blocked: %v\n%s", waitErr, stderr.Bytes())
		default:
		}
		if data, err := os.ReadFile(maps); err == nil {
			last = data
			if mapsFile(data, f.llamafile, start, end) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine never mapped %s [%d, %d); its last maps:\n%s", f.llamafile, start, end, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// modelRange returns where the model's bytes lie in s.llamafile.
func modelRange(t *testing.T, f *fixture) (start, end int64) {
	t.Helper()
	zr, err := zip.OpenReader(f.llamafile)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name == modelName {
			off, err := zf.DataOffset()
			if err != nil {
				t.Fatal(err)
			}
			return off, off + int64(zf.UncompressedSize64)
		}
	}
	t.Fatalf("no %s in s.llamafile", modelName)
	return 0, 0
}

// mapsFile reports whether a /proc/PID/maps listing maps bytes of path
// between file offsets start and end (false for a listing it cannot read).
func mapsFile(maps []byte, path string, start, end int64) bool {
	ms, err := testutil.ParseMaps(maps)
	if err != nil {
		return false
	}
	for _, m := range ms {
		if m.Path == path && m.Offset < end && m.Offset+int64(m.End-m.Start) > start {
			return true
		}
	}
	return false
}

func TestMapsFile(t *testing.T) {
	maps := []byte(`00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/engine
7f0000000000-7f0000120000 r--s 00010000 08:02 22       /tmp/a b/s.llamafile
7f0000200000-7f0000201000 r--p 00000000 00:00 0
`)
	for _, tc := range []struct {
		path       string
		start, end int64
		want       bool
	}{
		{"/tmp/a b/s.llamafile", 0x10000, 0x20000, true},
		{"/tmp/a b/s.llamafile", 0x12ffff, 0x140000, true},
		{"/tmp/a b/s.llamafile", 0x130000, 0x140000, false},
		{"/tmp/a b/s.llamafile", 0, 0x10000, false},
		{"/tmp/other", 0x10000, 0x20000, false},
		{"/usr/bin/engine", 0, 1, true},
	} {
		if got := mapsFile(maps, tc.path, tc.start, tc.end); got != tc.want {
			t.Errorf("mapsFile(%s, %#x, %#x) = %v, want %v", tc.path, tc.start, tc.end, got, tc.want)
		}
	}
}
