package tokenizer

import (
	"bytes"
	"runtime"
	"testing"
)

// invalidUTF8 is n bytes that are no valid UTF-8: stray continuation
// bytes, truncated sequences, overlongs, surrogates and 0xff.
func invalidUTF8(n int) string {
	pat := []byte("\x80\xbf\xc0\xaf\xe0\x80\xaf\xed\xa0\x80\xf4\x90\x80\x80\xff\xfe\xc3 a\xe4\xb8")
	return string(bytes.Repeat(pat, n/len(pat)+1)[:n])
}

// TestInvalidUTF8Allocations encodes 10 MB of invalid UTF-8 with each
// kind of tokenizer: it must finish, and allocate in proportion to the
// input (a bounded factor of it), not without bound.
func TestInvalidUTF8Allocations(t *testing.T) {
	if testing.Short() {
		t.Skip("10 MB per tokenizer")
	}
	const size = 10 << 20
	text := invalidUTF8(size)
	seen := map[string]bool{}
	for _, tok := range fuzzVocabs(t, nil) {
		if seen[tok.model] {
			continue // one of each model: the BPE pre-tokenizers share it
		}
		seen[tok.model] = true
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		ids := tok.Encode(text, false, false)
		runtime.ReadMemStats(&b)
		grew := b.TotalAlloc - a.TotalAlloc
		t.Logf("%s: %d tokens, %d MiB allocated", tok.model, len(ids), grew>>20)
		if len(ids) == 0 || len(ids) > 4*size {
			t.Errorf("%s: %d tokens for %d bytes", tok.model, len(ids), size)
		}
		if grew > 200*size {
			t.Errorf("%s: allocated %d bytes for a %d-byte input", tok.model, grew, size)
		}
	}
}
