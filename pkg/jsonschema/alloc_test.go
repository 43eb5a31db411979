package jsonschema

import (
	"runtime"
	"strings"
	"testing"
)

// TestDeepNestingAllocations: schemas nested thousands of levels deep
// (arrays of arrays, objects of objects, anyOf of anyOf, JSON nesting
// that is no schema) convert or fail with allocations bounded by a
// modest factor of the input, and without exhausting the stack.
func TestDeepNestingAllocations(t *testing.T) {
	const depth = 5000
	for _, tc := range []struct{ name, open, close string }{
		{"items", `{"type":"array","items":`, `}`},
		{"properties", `{"type":"object","properties":{"a":`, `}}`},
		{"anyOf", `{"anyOf":[`, `]}`},
		{"arrays", `[`, `]`},
		{"enum", `{"enum":[`, `]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			schema := []byte(strings.Repeat(tc.open, depth) + "{}" + strings.Repeat(tc.close, depth))
			var a, b runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&a)
			g, err := Convert(schema, Options{})
			runtime.ReadMemStats(&b)
			grew := b.TotalAlloc - a.TotalAlloc
			t.Logf("%d-byte schema: %d-byte grammar, %d KiB allocated, err %v", len(schema), len(g), grew>>10, err)
			if ceiling := uint64(16<<20 + 64*len(schema)); grew > ceiling {
				t.Errorf("allocated %d bytes for a %d-byte schema (ceiling %d)", grew, len(schema), ceiling)
			}
		})
	}
}
