package args

import (
	"runtime"
	"strings"
	"testing"
)

// TestAdversarialAllocations: hostile .args files (a million short words,
// unterminated quotes, every escape, "$VAR" repeated with VAR long) parse
// or fail with allocations bounded by a modest factor of the file and
// MaxExpansion, never by how often a variable is repeated.
func TestAdversarialAllocations(t *testing.T) {
	long := strings.Repeat("v", 4<<10)
	getenv := func(name string) string {
		if name == "LONG" {
			return long
		}
		return ""
	}
	const size = 1 << 20
	for _, tc := range []struct {
		name, content string
		ok            bool
		errText       string
	}{
		{"short words", strings.Repeat("ab\n", size/3), true, ""},
		{"empty quotes", strings.Repeat("'' ", size/3), true, ""},
		{"escapes", strings.Repeat(`"\x41\101\e\n" \a\ `, size/18), true, ""},
		{"placeholders", strings.Repeat("...\n", size/4), true, ""},
		{"unterminated double quote", `"` + strings.Repeat(`\x41`, size/4), false, "unterminated double quote"},
		{"unterminated ${", "${" + strings.Repeat("A", size), false, "unterminated ${"},
		{"$LONG repeated", strings.Repeat("$LONG ", size/6), false, "expand to more than"},
		{"${LONG} in one word", `"` + strings.Repeat("${LONG}", size/7) + `"`, false, "expand to more than"},
		{"$LONG within the bound", strings.Repeat("$LONG ", MaxExpansion/len(long)), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a, b runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&a)
			got, err := ParseFunc([]byte(tc.content), getenv)
			runtime.ReadMemStats(&b)
			grew := b.TotalAlloc - a.TotalAlloc
			t.Logf("%d bytes: %d arguments, %d KiB allocated, err %v", len(tc.content), len(got), grew>>10, err)
			if (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("err %v, want ok %v or an error saying %q", err, tc.ok, tc.errText)
			}
			if ceiling := uint64(4*MaxExpansion + 64*len(tc.content)); grew > ceiling {
				t.Errorf("allocated %d bytes for a %d-byte file (ceiling %d)", grew, len(tc.content), ceiling)
			}
		})
	}
}
