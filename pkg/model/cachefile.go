package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// cacheMagic starts what Seq.WriteCache writes.
const cacheMagic = "LFKVCACH"

// cacheHeader describes a cache written by WriteCache: its layout, which
// must match the Seq that reads it, and the positions it holds.
type cacheHeader struct {
	Version              uint32
	Layers, Heads        uint32
	HeadDimK             uint32
	HeadDimV             uint32
	TypeK, TypeV         uint32 // ggml types
	Positions            uint32
	RowBytesK, RowBytesV uint32 // bytes of one key row, of one value row
}

// cacheVersion is the version of the layout WriteCache writes. Version
// 2: each layer's rows are preceded by the first position they hold (not
// 0 in a sliding-window layer's ring).
const cacheVersion = 2

func (q *Seq) header(n int) cacheHeader {
	kv := q.kv
	return cacheHeader{
		Version: cacheVersion, Layers: uint32(len(kv.k)), Heads: uint32(kv.heads),
		HeadDimK: uint32(kv.dk), HeadDimV: uint32(kv.dv), TypeK: uint32(kv.kt), TypeV: uint32(kv.vt),
		Positions: uint32(n), RowBytesK: uint32(kv.kRow), RowBytesV: uint32(kv.vRow),
	}
}

// WriteCache writes the keys and values of the sequence's first n cached
// positions to w, in the cache's own types, so that ReadCache can restore
// them without evaluating those tokens again (llama.cpp's state files; the
// command line's --prompt-cache). Sliding-window layers write the
// positions their rings hold.
func (q *Seq) WriteCache(w io.Writer, n int) error {
	kv := q.kv
	if n < 0 || n > kv.nUsed {
		return fmt.Errorf("model: writing %d cached positions of %d", n, kv.nUsed)
	}
	if n < kv.nUsed && !kv.windowHeld(n) {
		return fmt.Errorf("model: writing %d cached positions: %w (the sliding-window layers hold positions from %d on)", n, ErrWindowGone, kv.ringLo)
	}
	if _, err := io.WriteString(w, cacheMagic); err != nil {
		return err
	}
	if err := binary.Write(w, binary.LittleEndian, q.header(n)); err != nil {
		return err
	}
	for l := range kv.k {
		lo := min(kv.lowest(l), n)
		if err := binary.Write(w, binary.LittleEndian, uint32(lo)); err != nil {
			return err
		}
		for h := 0; h < kv.heads; h++ {
			if err := kv.eachRun(l, lo, n, func(p0, p1 int) error {
				_, err := w.Write(kv.keys(l, h, p0, p1).Data)
				return err
			}); err != nil {
				return err
			}
			if err := kv.eachRun(l, lo, n, func(p0, p1 int) error {
				_, err := w.Write(kv.values(l, h, p0, p1))
				return err
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrCacheMismatch reports a cache that another model, or another cache
// type, wrote: ReadCache cannot use it.
var ErrCacheMismatch = errors.New("cache layout differs")

// ReadCache replaces the sequence's cache with what WriteCache wrote and
// returns the number of positions it holds (evaluation continues there).
// A cache of another layout (another model, other cache types) is an error
// wrapping ErrCacheMismatch, one of more positions than the sequence holds
// an error too. If reading fails, the sequence is left empty.
func (q *Seq) ReadCache(r io.Reader) (int, error) {
	kv := q.kv
	var magic [len(cacheMagic)]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return 0, fmt.Errorf("model: reading the cache: %w", err)
	}
	if string(magic[:]) != cacheMagic {
		return 0, errors.New("model: not a key/value cache (bad magic)")
	}
	var h cacheHeader
	if err := binary.Read(r, binary.LittleEndian, &h); err != nil {
		return 0, fmt.Errorf("model: reading the cache header: %w", err)
	}
	n := int(h.Positions)
	want := q.header(n)
	switch {
	case h.Version != cacheVersion:
		return 0, fmt.Errorf("model: cache version %d, want %d", h.Version, cacheVersion)
	case h.TypeK != want.TypeK || h.TypeV != want.TypeV:
		return 0, fmt.Errorf("model: %w: key/value cache types %s/%s, this cache's are %s/%s", ErrCacheMismatch, ggml.Type(h.TypeK), ggml.Type(h.TypeV), kv.kt, kv.vt)
	case h != want:
		return 0, fmt.Errorf("model: %w: %d layers × %d heads of %d/%d, this model has %d × %d of %d/%d",
			ErrCacheMismatch, h.Layers, h.Heads, h.HeadDimK, h.HeadDimV, want.Layers, want.Heads, want.HeadDimK, want.HeadDimV)
	case n > kv.size:
		return 0, fmt.Errorf("model: the cache holds %d positions, the context only %d", n, kv.size)
	}
	kv.nUsed, kv.ringLo = 0, 0
	ringLo := 0
	for l := range kv.k {
		var lo32 uint32
		if err := binary.Read(r, binary.LittleEndian, &lo32); err != nil {
			return 0, fmt.Errorf("model: reading the cache: %w", err)
		}
		lo := int(lo32)
		// A ring keeps the last positions that fit; a full layer needs
		// them all.
		keepFrom := lo
		switch {
		case lo > n:
			return 0, fmt.Errorf("model: reading the cache: layer %d starts at position %d of %d", l, lo, n)
		case kv.isRing(l):
			keepFrom = max(lo, n-kv.cells[l])
			ringLo = max(ringLo, keepFrom)
		case lo > 0:
			return 0, fmt.Errorf("model: %w: layer %d holds positions from %d on only (a sliding-window cache); this context keeps them all", ErrCacheMismatch, l, lo)
		}
		for hd := 0; hd < kv.heads; hd++ {
			for _, part := range []struct {
				row  int
				rows func(p0, p1 int) []byte
			}{
				{kv.kRow, func(p0, p1 int) []byte { return kv.keys(l, hd, p0, p1).Data }},
				{kv.vRow, func(p0, p1 int) []byte { return kv.values(l, hd, p0, p1) }},
			} {
				// Rows of positions before keepFrom are read and dropped.
				if _, err := io.CopyN(io.Discard, r, int64((keepFrom-lo)*part.row)); err != nil {
					return 0, fmt.Errorf("model: reading the cache: %w", err)
				}
				if err := kv.eachRun(l, keepFrom, n, func(p0, p1 int) error {
					_, err := io.ReadFull(r, part.rows(p0, p1))
					return err
				}); err != nil {
					return 0, fmt.Errorf("model: reading the cache: %w", err)
				}
			}
		}
	}
	kv.ringLo = ringLo
	kv.nUsed = n
	return n, nil
}
