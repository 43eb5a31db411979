// Package procstat reads what the leak checks of the server's tests and
// soak watch in this process: resident memory and goroutines settling
// back to a baseline.
package procstat

import (
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// RSS returns this process's resident memory in bytes, from
// /proc/self/statm; 0 where there is no such file.
func RSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// Settle closes the client's idle connections (tr may be nil) and waits,
// up to 10 s, for the goroutines to fall to want (0: a short settle of
// their count), then returns their number and the resident memory.
func Settle(tr *http.Transport, want int) (goroutines int, rss int64) {
	if tr != nil {
		tr.CloseIdleConnections()
	}
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		runtime.GC()
		if n = runtime.NumGoroutine(); want == 0 || n <= want {
			break
		}
	}
	if want == 0 {
		time.Sleep(200 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n, RSS()
}
