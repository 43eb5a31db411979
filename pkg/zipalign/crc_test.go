package zipalign

import (
	"hash/crc32"
	"testing"
)

func TestCRC32Zeros(t *testing.T) {
	for _, n := range []int64{0, 1, 2, 3, 7, 8, 100, 4095, 4096, 65537, 1<<20 + 3} {
		for _, crc := range []uint32{0, 1, 0xdeadbeef, 0xffffffff} {
			want := crc32.Update(crc, crc32.IEEETable, make([]byte, n))
			if got := crc32Zeros(crc, n); got != want {
				t.Errorf("crc32Zeros(%#x, %d) = %#x, want %#x", crc, n, got, want)
			}
		}
	}
}
