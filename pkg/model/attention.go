package model

import (
	"encoding/binary"
	"math"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// Attention over the key/value cache, computed the way ggml's CPU flash
// attention (ggml_compute_forward_flash_attn_ext) does, which llama.cpp
// uses by default:
//
//   - The vector kernel (batches of fewer than faTile queries, and any
//     batch whose cache is Q8_0 or whose key and value types differ)
//     converts each query to the vec_dot type of the key type (F16
//     rounding for an F16 cache, Q8_0 quantization for a Q8_0 cache), takes
//     dot products with the key rows, and runs an online softmax over the
//     keys, accumulating the weighted values in an F16 vector when the
//     values are F16 (rounded after every update, each a fused
//     multiply-add, as ggml_vec_mad_f16 with FMA) and in float32
//     otherwise.
//   - The tiled kernel (batches of at least faTile queries, F16 keys and
//     values) uses float32 queries and keys widened to float32,
//     and rescales a float32 accumulator once per tile of faTile keys.
//   - A single query over a cache view of at least 512 cells (F16 keys
//     and values) is split into as many key ranges as there are threads;
//     each range is attended as by the vector kernel and the partial
//     results are merged in float32. This depends on the thread count, as
//     it does in llama.cpp.
//
// llama.cpp casts an F32 key or value cache to F16 before flash attention,
// so an F32 cache attends exactly like an F16 one: its rows are rounded to
// F16 as they are read (attnType).
//
// Work is spread over the Runner's pool in "slots": each slot owns scratch
// memory and takes every slots-th work item, so that results do not depend
// on which thread runs what.

// faTile is the number of queries (and keys) ggml's tiled flash-attention
// kernel handles at once; batches of at least faTile queries take that
// kernel, smaller ones the one-query-at-a-time kernel.
const faTile = 64

// kvChunk is the number of cache cells whose scores the vector kernel
// computes with one matrix product.
const kvChunk = 256

// attnSlot is the scratch memory of one attention worker. Buffers are
// sized for a whole group of query heads sharing a key/value head (g =
// Heads/HeadsKV), the most one work item takes.
type attnSlot struct {
	ws     cpu.Workspace // the converted queries
	scores []float32     // [g][kvChunk] scores
	k16    []byte        // kvChunk F16 key rows cast from an F32 cache
	k32r   []float32     // DK: one F32 key row
	acc    []float32     // [g][DV] value accumulators (vector kernel)
	ms, vs []float32     // [kvChunk][g] online softmax factors (F16 values)
	v16    []byte        // kvChunk F16 value rows cast from an F32 cache
	v32r   []float32     // DV: one F32 value row
	part   []float32     // [g][DV] merged partial results (split kernel)
	v32    []float32     // DV: one value row widened to float32
	m, sum []float32     // [g] running maxima and sums (vector kernel)
	mP, sP []float32     // [g] merged maxima and sums (split kernel)

	// Tiled kernel: blocks of up to faTile queries of up to g heads
	// against tiles of faTile keys; rows are (head, query) pairs.
	wsP    cpu.Workspace // the softmax weights
	q32    []float32     // [g*faTile][DK] queries
	row    []float32     // max(DK, DV): one key or value row
	kT     []byte        // [faTile][DK] F32 keys
	vT     []byte        // [DV][faTile] F32 values, transposed
	kq     []float32     // [g*faTile][faTile] scores, then weights
	pv     []float32     // [g*faTile][DV] weighted values of one tile
	accT   []float32     // [g*faTile][DV] accumulators
	mT, sT []float32     // [g*faTile] running maxima and sums
}

func newAttnSlot(g, dk, dv int) attnSlot {
	return attnSlot{
		scores: make([]float32, g*kvChunk),
		acc:    make([]float32, g*dv),
		ms:     make([]float32, kvChunk*g),
		vs:     make([]float32, kvChunk*g),
		part:   make([]float32, g*dv),
		v32:    make([]float32, dv),
		m:      make([]float32, g),
		sum:    make([]float32, g),
		mP:     make([]float32, g),
		sP:     make([]float32, g),
	}
}

// attnType is the type attention reads a cache of type t as: ggml's flash
// attention gets an F32 cache cast to F16.
func attnType(t ggml.Type) ggml.Type {
	if t == ggml.TypeF32 {
		return ggml.TypeF16
	}
	return t
}

// readRow widens a key or value row of cache type t to float32 in dst,
// rounded to F16 for an F32 cache, as attention sees it.
func readRow(t ggml.Type, dst []float32, row []byte) {
	getRow(t, dst, row)
	if t == ggml.TypeF32 {
		for i, x := range dst {
			dst[i] = roundF16(x)
		}
	}
}

// tiledScratch allocates the tiled kernel's buffers on first use.
func (sc *attnSlot) tiledScratch(g, dk, dv int) {
	if sc.q32 == nil {
		r := g * faTile
		sc.q32 = make([]float32, r*dk)
		sc.row = make([]float32, max(dk, dv))
		sc.kT = make([]byte, 4*faTile*dk)
		sc.vT = make([]byte, 4*faTile*dv)
		sc.kq = make([]float32, r*faTile)
		sc.pv = make([]float32, r*dv)
		sc.accT = make([]float32, r*dv)
		sc.mT = make([]float32, r)
		sc.sT = make([]float32, r)
	}
}

// attnJob holds the parameters of the attention pass being run, so that
// the function handed to the pool is made once per Runner.
type attnJob struct {
	layer        int
	scale        float32 // score scale (divided by mods.softcap when set)
	mods         attnMods
	gs           int // query heads per work item, within one key/value head's group
	items, slots int
	segs         []attnSeg // by batch segment
}

// attnMods are departures from plain causal attention: soft-capped
// scores and a sliding window (Gemma 2 and 3), no causal mask (BERT).
type attnMods struct {
	// softcap, when not 0, replaces each scaled score s by
	// softcap·tanh(s/softcap), as ggml's flash attention does with its
	// logit_softcap (the scale divided by softcap, then tanh, then the
	// product by softcap).
	softcap float32
	// window, when not 0, is a sliding window: the query at position p
	// sees the keys at positions p-window+1..p (llama.cpp's "standard"
	// SWA, which masks keys window or more positions back).
	window int
	// nonCausal lets every query of a segment see all the segment's keys,
	// those after it too (BERT's encoders, which llama.cpp runs without
	// the causal mask).
	nonCausal bool
}

// end returns the number of cache cells row i of segment sg sees: those
// up to its own position, or, non-causal, up to the segment's last.
func (m attnMods) end(sg *attnSeg, i int) int {
	if m.nonCausal {
		return sg.pos + sg.n
	}
	return sg.pos + i + 1
}

// first returns the first cache cell the query at position pos sees.
func (m attnMods) first(pos int) int {
	if m.window > 0 {
		return max(0, pos-m.window+1)
	}
	return 0
}

// firstSeen returns the first position the query at pos sees in layer l
// of kv: the window's first, or the first the layer's ring still holds.
func (s *Runner) firstSeen(kv *kvCache, l, pos int) int {
	return max(s.attn.mods.first(pos), kv.lowest(l))
}

// capScore soft-caps a score already scaled by the job's scale.
func (m attnMods) capScore(s float32) float32 {
	if m.softcap != 0 {
		return m.softcap * float32(math.Tanh(float64(s)))
	}
	return s
}

// attnSeg is the attention work of one batch segment: the rows of one
// sequence, at consecutive positions. Each segment is attended as it
// would be alone in the batch, so that a sequence's results do not
// depend on the others'.
type attnSeg struct {
	kv         *kvCache
	i0, n, pos int // batch rows i0..i0+n-1 at positions pos..
	tiled      bool
	split, pad int // key ranges and padded cache cells (split > 0)
	units      int // batch rows (vector kernel) or query blocks (tiled)
	item0      int // its first work item
}

// attention computes the attention output of the batch's rows for layer
// l, whose queries are in s.q and keys and values already in the caches,
// into s.att.
//
// A work item is a batch row (or, tiled, a block of faTile rows of one
// segment) and gs query heads that read the same key/value head, so that
// each key and value row is converted once for all of them and their
// scores are one matrix product. gs is the whole group of
// Heads/HeadsKV heads unless that leaves too few items for the threads.
// Each head's result is the same whichever items it is computed in.
func (s *Runner) attention(l int, scale float32) {
	s.planAttention(l, scale)
	s.pool.Run(s.attn.slots, s.attnFn)
}

// attentionMods is attention with soft-capping or a sliding window.
func (s *Runner) attentionMods(l int, scale float32, m attnMods) {
	s.planAttention(l, scale)
	s.setAttnMods(m)
	s.pool.Run(s.attn.slots, s.attnFn)
}

// setAttnMods sets the planned attention's mods.
func (s *Runner) setAttnMods(m attnMods) {
	s.attn.mods = m
	if m.softcap != 0 {
		s.attn.scale /= m.softcap
	}
}

// planAttention sets s.attn to the work of attention over the batch's
// segments for layer l.
func (s *Runner) planAttention(l int, scale float32) {
	hp := s.m.Params
	j := &s.attn
	j.layer, j.scale, j.mods = l, scale, attnMods{}
	j.segs = j.segs[:0]
	units := 0
	for _, sg := range s.segs {
		kv := sg.seq.kv
		sameF := attnType(kv.kt) == ggml.TypeF16 && attnType(kv.vt) == ggml.TypeF16
		n := sg.i1 - sg.i0
		// ggml's tiled kernel needs a batch of faTile queries and a value
		// length that fills whole SIMD vectors (16 floats with AVX-512,
		// which the reference outputs use).
		a := attnSeg{kv: kv, i0: sg.i0, n: n, pos: sg.pos, tiled: sameF && n >= faTile && hp.HeadDimV%16 == 0}
		if n == 1 && sameF {
			// For one token ggml splits a cache view of at least 512
			// cells across its threads. The view covers the used cells
			// rounded up to 256, within the cache size, itself rounded
			// up to 256. The split follows the single-token thread count
			// whichever pool runs the batch, so that a sequence's result
			// does not depend on the others in the batch.
			size := (kv.size + 255) / 256 * 256
			if pad := min(size, max(256, (sg.pos+1+255)/256*256)); pad >= 512 {
				a.split, a.pad = s.opts.Threads, pad
			}
		}
		a.units = n
		if a.tiled {
			a.units = (n + faTile - 1) / faTile
		}
		units += a.units
		j.segs = append(j.segs, a)
	}
	g := hp.Heads / hp.HeadsKV
	j.gs = g
	for k := 1; k <= g; k++ {
		if g%k == 0 {
			j.gs = g / k
			if units*hp.HeadsKV*k >= 2*s.pool.Threads() {
				break
			}
		}
	}
	groups := hp.Heads / j.gs
	j.items = 0
	for i := range j.segs {
		j.segs[i].item0 = j.items
		j.items += j.segs[i].units * groups
	}
	j.slots = min(j.items, len(s.slots))
}

// attnRun runs attention slots lo..hi-1 of s.attn.
func (s *Runner) attnRun(lo, hi int) { s.attnSlots(s.attn.layer, lo, hi) }

// attnSlots runs attention slots lo..hi-1 of s.attn for layer l: slot i
// takes work items i, i+slots, i+2·slots, ...
func (s *Runner) attnSlots(l, lo, hi int) {
	hp := s.m.Params
	j := &s.attn
	groups := hp.Heads / j.gs
	for slot := lo; slot < hi; slot++ {
		sc := &s.slots[slot]
		k := 0
		for it := slot; it < j.items; it += j.slots {
			for k+1 < len(j.segs) && j.segs[k+1].item0 <= it {
				k++
			}
			sg := &j.segs[k]
			u, h0 := (it-sg.item0)/groups, (it-sg.item0)%groups*j.gs
			switch {
			case sg.tiled:
				s.attendTiled(sc, sg, l, h0, u*faTile, min((u+1)*faTile, sg.n))
			case sg.split > 0:
				s.attendSplit(sc, sg, l, u, h0)
			default:
				s.attendVec(sc, sg, l, u, h0)
			}
		}
	}
}

// queries returns the queries of batch row i, heads h0..h0+gs-1 (adjacent
// in s.q).
func (s *Runner) queries(i, h0, gs int) []float32 {
	dk := s.m.Params.HeadDimK
	off := i*s.m.Params.Heads*dk + h0*dk
	return s.q[off : off+gs*dk]
}

// output returns the attention output of batch row i, head h.
func (s *Runner) output(i, h int) []float32 {
	dv := s.m.Params.HeadDimV
	off := i*s.m.Params.Heads*dv + h*dv
	return s.att[off : off+dv]
}

// kvHead returns the key/value head that query head h reads.
func (s *Runner) kvHead(h int) int { return h / (s.m.Params.Heads / s.m.Params.HeadsKV) }

// attendVec computes softmax(q·K/√d)·V for the queries of row i of
// segment sg, heads h0..h0+gs-1, against cells 0..pos+i, as ggml's
// one-query kernel does for each.
func (s *Runner) attendVec(sc *attnSlot, sg *attnSeg, l, i, h0 int) {
	kv, gs := sg.kv, s.attn.gs
	vt, _ := cpu.VecDotType(attnType(kv.kt))
	qa := cpu.QuantizeActivations(nil, &sc.ws, vt, s.queries(sg.i0+i, h0, gs), gs, kv.dk)
	s.attendRange(sc, qa, kv, l, s.kvHead(h0), s.firstSeen(kv, l, sg.pos+i), s.attn.mods.end(sg, i))
	for r := 0; r < gs; r++ {
		inv := float32(0)
		if sc.sum[r] != 0 {
			inv = 1 / sc.sum[r]
		}
		out := s.output(sg.i0+i, h0+r)
		for d, a := range sc.acc[r*kv.dv : (r+1)*kv.dv] {
			out[d] = a * inv
		}
	}
}

// attendSplit is attendVec for a single token against a long cache, as
// ggml computes it when it splits the keys across threads (one token, at
// least 512 cache cells): the padded cache of pad cells is cut into split
// ranges of ceil(pad/split) cells, each range is attended as by attendVec
// to a partial (max, sum, float32 vector), and the partials are merged in
// float32.
func (s *Runner) attendSplit(sc *attnSlot, sg *attnSeg, l, i, h0 int) {
	kv, gs, dv := sg.kv, s.attn.gs, sg.kv.dv
	vt, _ := cpu.VecDotType(attnType(kv.kt))
	qa := cpu.QuantizeActivations(nil, &sc.ws, vt, s.queries(sg.i0+i, h0, gs), gs, kv.dk)
	nKV := s.attn.mods.end(sg, i)
	size := (sg.pad + sg.split - 1) / sg.split
	clear(sc.part[:gs*dv])
	for r := 0; r < gs; r++ {
		sc.mP[r], sc.sP[r] = float32(math.Inf(-1)), 0
	}
	first := s.firstSeen(kv, l, sg.pos+i)
	for c := 0; c < sg.split; c++ {
		lo, hi := max(c*size, first), min((c+1)*size, nKV)
		if lo >= hi {
			continue
		}
		s.attendRange(sc, qa, kv, l, s.kvHead(h0), lo, hi)
		for r := 0; r < gs; r++ {
			mc, sc2 := sc.m[r], sc.sum[r]
			if sc2 == 0 {
				continue
			}
			m := sc.mP[r]
			mnew := max(m, mc)
			so, sn := expf(m-mnew), expf(mc-mnew)
			out := sc.part[r*dv : (r+1)*dv]
			for d, a := range sc.acc[r*dv : (r+1)*dv] {
				out[d] = out[d]*so + a*sn
			}
			sc.sP[r] = sc.sP[r]*so + sc2*sn
			sc.mP[r] = mnew
		}
	}
	for r := 0; r < gs; r++ {
		out := sc.part[r*dv : (r+1)*dv]
		if sc.sP[r] != 0 {
			cpu.Scale(out, 1/sc.sP[r])
		}
		copy(s.output(sg.i0+i, h0+r), out)
	}
}

// attendRange runs ggml's one-query online softmax for the qa.N queries of
// qa (heads sharing key/value head kvh of layer l) over cache cells
// lo..hi-1, leaving in sc.acc each query's weighted sum of values
// (F16-rounded for an F16 value cache), in sc.m its maximum score and in
// sc.sum its sum of exponentials. Each value row is converted once for all
// the queries.
func (s *Runner) attendRange(sc *attnSlot, qa cpu.Activations, kv *kvCache, l, kvh, lo, hi int) {
	scale, mods := s.attn.scale, s.attn.mods
	gs, dv := qa.N, kv.dv
	acc, v32 := sc.acc[:gs*dv], sc.v32
	f16 := attnType(kv.vt) == ggml.TypeF16
	clear(acc)
	for r := 0; r < gs; r++ {
		sc.m[r], sc.sum[r] = float32(math.Inf(-1)), 0
	}
	for c0, c1 := lo, 0; c0 < hi; c0 = c1 {
		c1 = kv.runEnd(l, c0, min(c0+kvChunk, hi))
		nc := c1 - c0
		keys := kv.keys(l, kvh, c0, c1)
		if kv.kt == ggml.TypeF32 {
			keys = sc.castKeys(keys)
		}
		cpu.MatMulQuantized(nil, &sc.ws, keys, qa, sc.scores[:gs*nc])
		if f16 {
			// The online softmax's factors for every key first, then the
			// F16 accumulators' updates in one pass over the values.
			ms, vs := sc.ms[:nc*gs], sc.vs[:nc*gs]
			for jj := 0; jj < nc; jj++ {
				for r := 0; r < gs; r++ {
					score := mods.capScore(sc.scores[r*nc+jj] * scale)
					m := sc.m[r]
					fm, fv := float32(1), float32(1)
					if score > m {
						fm = expf(m - score)
						sc.m[r] = score
					} else {
						fv = expf(score - m)
					}
					ms[jj*gs+r], vs[jj*gs+r] = fm, fv
					sc.sum[r] = sc.sum[r]*fm + fv
				}
			}
			cpu.AttnAccumulateF16(acc, gs, sc.valuesF16(kv, l, kvh, c0, c1), nc, ms, vs)
			continue
		}
		for jj := 0; jj < nc; jj++ {
			readRow(kv.vt, v32, kv.valueRow(l, kvh, c0+jj))
			for r := 0; r < gs; r++ {
				score := mods.capScore(sc.scores[r*nc+jj] * scale)
				a := acc[r*dv : (r+1)*dv]
				m := sc.m[r]
				ms, vs := float32(1), float32(1)
				if score > m {
					ms = expf(m - score)
					sc.m[r] = score
					cpu.Scale(a, ms)
				} else {
					vs = expf(score - m)
				}
				cpu.AddScaled(a, v32, vs)
				sc.sum[r] = sc.sum[r]*ms + vs
			}
		}
	}
}

// valuesF16 returns the value rows of cells c0..c1-1 of head kvh of layer
// l as F16 rows, cast from an F32 cache into sc.v16 as llama.cpp's cast
// before flash attention does.
func (sc *attnSlot) valuesF16(kv *kvCache, l, kvh, c0, c1 int) []byte {
	rows := kv.values(l, kvh, c0, c1)
	if kv.vt == ggml.TypeF16 {
		return rows
	}
	dv := kv.dv
	if sc.v16 == nil {
		sc.v16 = make([]byte, 2*kvChunk*dv)
		sc.v32r = make([]float32, dv)
	}
	for r := 0; r < c1-c0; r++ {
		getRow(ggml.TypeF32, sc.v32r, rows[r*kv.vRow:(r+1)*kv.vRow])
		cpu.FP32ToFP16Row(sc.v16[2*r*dv:2*(r+1)*dv], sc.v32r)
	}
	return sc.v16[:2*(c1-c0)*dv]
}

// castKeys converts F32 key rows to F16 in sc.k16, as llama.cpp's cast of
// an F32 cache before flash attention does.
func (sc *attnSlot) castKeys(keys cpu.Matrix) cpu.Matrix {
	dk := keys.Cols
	if sc.k16 == nil {
		sc.k16 = make([]byte, 2*kvChunk*dk)
		sc.k32r = make([]float32, dk)
	}
	rb := keys.RowBytes()
	for r := 0; r < keys.Rows; r++ {
		getRow(ggml.TypeF32, sc.k32r, keys.Data[r*rb:(r+1)*rb])
		cpu.FP32ToFP16Row(sc.k16[2*r*dk:2*(r+1)*dk], sc.k32r)
	}
	return cpu.Matrix{Type: ggml.TypeF16, Rows: keys.Rows, Cols: dk, Data: sc.k16[:2*keys.Rows*dk]}
}

// attendTiled computes attention for the queries of batch rows i0..i1-1
// (at most faTile) of heads h0..h0+gs-1 the way ggml's tiled
// flash-attention kernel does: float32 queries, keys and values widened to
// float32 a tile of faTile cells at a time, scores in float32, and a
// float32 accumulator per query rescaled once per tile. Like ggml's, the
// kernel multiplies whole tiles: the scores of the block of queries (of
// all gs heads) with a tile of keys, and the softmax weights with the
// tile's values, are matrix products (F32 matrices through package cpu).
func (s *Runner) attendTiled(sc *attnSlot, sg *attnSeg, l, h0, i0, i1 int) {
	kv, j, gs := sg.kv, &s.attn, s.attn.gs
	dk, dv := kv.dk, kv.dv
	sc.tiledScratch(s.m.Params.Heads/s.m.Params.HeadsKV, dk, dv)
	nq := i1 - i0
	rows := gs * nq // row r*nq+t: head h0+r, batch row i0+t
	kvh := s.kvHead(h0)
	for r := 0; r < gs; r++ {
		for t := 0; t < nq; t++ {
			copy(sc.q32[(r*nq+t)*dk:(r*nq+t+1)*dk], s.queries(sg.i0+i0+t, h0+r, 1))
		}
	}
	for x := 0; x < rows; x++ {
		sc.mT[x], sc.sT[x] = float32(math.Inf(-1)), 0
	}
	qa := cpu.QuantizeActivations(nil, &sc.ws, ggml.TypeF32, sc.q32[:rows*dk], rows, dk)
	acc := sc.accT[:rows*dv]
	clear(acc)
	end := j.mods.end(sg, i1-1) // cells the last query sees
	// Tiles that no query of the block sees (behind a sliding window)
	// are skipped, as ggml skips wholly masked tiles.
	for c0 := s.firstSeen(kv, l, sg.pos+i0) / faTile * faTile; c0 < end; c0 += faTile {
		nk := min(faTile, end-c0)
		// The tile's keys as rows, its values transposed (one row per
		// value element), both F32.
		for t := 0; t < nk; t++ {
			readRow(kv.kt, sc.row[:dk], kv.keyRow(l, kvh, c0+t))
			putRow(ggml.TypeF32, sc.kT[4*t*dk:4*(t+1)*dk], sc.row[:dk])
			readRow(kv.vt, sc.row[:dv], kv.valueRow(l, kvh, c0+t))
			for d, x := range sc.row[:dv] {
				binary.LittleEndian.PutUint32(sc.vT[4*(d*nk+t):], math.Float32bits(x))
			}
		}
		kq := sc.kq[:rows*nk]
		cpu.MatMulQuantized(nil, &sc.ws, cpu.Matrix{Type: ggml.TypeF32, Rows: nk, Cols: dk, Data: sc.kT[:4*nk*dk]}, qa, kq)
		for x := 0; x < rows; x++ {
			// Batch row i0+t sees cells 0..pos+i0+t (causal) or all
			// the segment's; the others are masked (weight 0).
			t := x % nq
			row := kq[x*nk : (x+1)*nk]
			valid := max(0, min(nk, j.mods.end(sg, i0+t)-c0))
			clear(row[valid:])
			if valid == 0 {
				continue
			}
			row = row[:valid]
			// Cells behind the sliding window are masked: -Inf, which
			// the softmax turns into exact zeros.
			lo := max(0, min(valid, s.firstSeen(kv, l, sg.pos+i0+t)-c0))
			if lo == valid {
				clear(row)
				continue
			}
			tmax := float32(math.Inf(-1))
			for k, v := range row {
				if k < lo {
					row[k] = float32(math.Inf(-1))
					continue
				}
				v = j.mods.capScore(v * j.scale)
				row[k] = v
				if v > tmax { // not max(): no NaN and signed-zero handling
					tmax = v
				}
			}
			if mnew := max(sc.mT[x], tmax); mnew > sc.mT[x] {
				ms := expf(sc.mT[x] - mnew)
				cpu.Scale(acc[x*dv:(x+1)*dv], ms)
				sc.sT[x] *= ms
				sc.mT[x] = mnew
			}
			// ggml_vec_soft_max_f32 over the tile, whose masked scores
			// (past row) are -Inf and so contribute exact zeros.
			sc.sT[x] = float32(float64(sc.sT[x]) + cpu.SoftMaxExp(row, sc.mT[x]))
		}
		pa := cpu.QuantizeActivations(nil, &sc.wsP, ggml.TypeF32, kq, rows, nk)
		pv := sc.pv[:rows*dv]
		cpu.MatMulQuantized(nil, &sc.wsP, cpu.Matrix{Type: ggml.TypeF32, Rows: dv, Cols: nk, Data: sc.vT[:4*dv*nk]}, pa, pv)
		cpu.Add(acc, acc, pv)
	}
	for x := 0; x < rows; x++ {
		inv := float32(0)
		if sc.sT[x] != 0 {
			inv = 1 / sc.sT[x]
		}
		out := s.output(sg.i0+i0+x%nq, h0+x/nq)
		for d, a := range acc[x*dv : (x+1)*dv] {
			out[d] = a * inv
		}
	}
}

// roundF16 rounds x to the nearest F16 value (ties to even), as a
// conversion to F16 and back does: F16's 10-bit mantissa for normal
// values, multiples of 2^-24 below 2^-14, infinity from 65520 on.
func roundF16(x float32) float32 {
	b := math.Float32bits(x)
	if b&0x7fffffff-0x38800000 < 0x477ff000-0x38800000 {
		// Normal F16: round away the 13 low mantissa bits, nearest even
		// (a carry into the exponent is right; it cannot reach the sign).
		b += 0xfff + (b>>13)&1
		return math.Float32frombits(b &^ 0x1fff)
	}
	return roundF16Special(x)
}

// roundF16Special is roundF16 outside F16's normal range (kept out of
// line).
//
//go:noinline
func roundF16Special(x float32) float32 {
	b := math.Float32bits(x)
	sign, abs := b&0x80000000, b&0x7fffffff
	switch {
	case abs < 0x38800000:
		// Subnormal F16 (or zero): adding 0.5, whose unit in the last
		// place is 2^-24, rounds to a multiple of 2^-24.
		v := math.Float32frombits(abs) + 0.5
		return math.Float32frombits(sign | math.Float32bits(v-0.5))
	case abs <= 0x7f800000:
		return math.Float32frombits(sign | 0x7f800000)
	}
	return math.Float32frombits(sign | 0x7fc00000) // NaN, as F16's quiet NaN
}
