package gguf

import (
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// TestAdversarialAllocations: headers claiming huge counts or lengths fail
// without allocating what they claim (a few MiB at most).
func TestAdversarialAllocations(t *testing.T) {
	const ceiling = 4 << 20
	manyTensors := newRaw(3, 1<<60, 0)
	manyKV := newRaw(3, 0, 1<<60)
	hugeKey := newRaw(3, 0, 1)
	hugeKey.count(1 << 62)
	hugeString := newRaw(3, 0, 1)
	hugeString.str("k")
	hugeString.u32(uint32(TypeString))
	hugeString.count(1<<40 + 7)
	hugeArray := newRaw(3, 0, 1)
	hugeArray.str("a")
	hugeArray.u32(uint32(TypeArray))
	hugeArray.u32(uint32(TypeUint64))
	hugeArray.count(1 << 58)
	nestedArrays := newRaw(3, 0, 1)
	nestedArrays.str("n")
	nestedArrays.u32(uint32(TypeArray))
	for range 1000 {
		nestedArrays.u32(uint32(TypeArray))
		nestedArrays.count(1 << 30)
	}
	manyDims := newRaw(3, 1, 0)
	manyDims.str("t")
	manyDims.u32(1 << 31)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"2^60 tensors", manyTensors.Bytes()},
		{"2^60 keys", manyKV.Bytes()},
		{"2^62-byte key", hugeKey.Bytes()},
		{"2^40-byte string", hugeString.Bytes()},
		{"2^58-element array", hugeArray.Bytes()},
		{"nested arrays", nestedArrays.Bytes()},
		{"2^31 dimensions", manyDims.Bytes()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := testutil.Allocated(func() { _, err = Parse(tc.data) })
			if err == nil {
				t.Fatal("parsed")
			}
			if n > ceiling {
				t.Errorf("allocated %d bytes (ceiling %d): %v", n, ceiling, err)
			}
		})
	}
}
