package model

import (
	"sync/atomic"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// Single-token evaluation (generation) of a llama network runs as one job
// on the Runner's team: every member runs the whole forward pass, taking
// work items of each step (a few dozen rows of a weight matrix, attention
// heads) and waiting at a barrier where the next step needs the results
// of all. The small steps between the matrix products are fused into the
// steps around them, so that a layer has five barriers:
//
//   - the query, key and value products, each work item a few heads: it
//     adds the biases, rotates its heads and stores its keys and values in
//     the cache;
//   - attention, by the work items of the batch kernel;
//   - the output projection, each work item adding its rows (and bias) to
//     the residual stream;
//   - the gate and up products over the same rows, with SwiGLU;
//   - the down projection, added to the residual stream.
//
// A mixture-of-experts layer has the same steps: its router's choice is
// computed by every member, the gate/up step takes rows of every chosen
// expert, and each down item sums the experts' rows.
//
// The normalizations and the activation quantizations before each
// product are computed by every member into its own buffers: they take a
// few microseconds, less than a barrier would cost.
//
// The work items form a fixed grid (matrix rows in multiples of 64, whole
// heads), whichever member computes them, so results depend neither on
// the number of threads nor on timing, and they are those of the batch
// path for one token: the same kernels, on the same rows.

// decodeChunkBytes is about the size of the weights of one work item of a
// matrix product.
const decodeChunkBytes = 96 << 10

// tileAlign is the row alignment of work items: a multiple of every tile
// kernel's group of rows, as MatMul's own row chunks are.
const tileAlign = 64

// decoder is a Runner's single-token forward pass machinery.
type decoder struct {
	team    *team
	members []decodeMember
	ctrs    []paddedCounter // [step][member]: claims within each member's share
	steps   int             // steps the counters cover
	// stopAt is 1 + the layer after which member 0 cancelled the pass, 0
	// while it runs on. Members test it for the layer they have just
	// finished, so a member still reading it for an earlier layer is not
	// misled by a later store: every member leaves after the same barrier.
	stopAt atomic.Int32
	fn     func(id int) // the Runner's decodeRun, bound once
	pos    int          // the token's position
	kv     *kvCache     // its sequence's cache
	plans  []layerPlan  // by layer
	outC   int          // rows per work item of the output matrix

	// Mixture-of-experts layers: the chosen experts' gate, up (then
	// SwiGLU) and down outputs, by rank.
	eGate, eUp, eDown []float32
}

type paddedCounter struct {
	atomic.Int32
	_ [cacheLine - 4]byte
}

// decodeMember is one member's state during a pass.
type decodeMember struct {
	id     int
	ws     *cpu.Workspace
	xn     []float32 // normalized residual stream
	acts   [3]cpu.Activations
	step   int // current step
	n      int // its work items
	region int // share being taken (0: own, then the next members')

	// Mixture-of-experts layers: the router's logits and the chosen
	// experts and weights (the same for every member, each computing its
	// own), and each chosen expert's down-projection input.
	router []float32
	sel    []int
	selW   []float32
	wsE    []cpu.Workspace
	actsE  []cpu.Activations
}

// layerPlan holds the work-item sizes (rows) of one layer's products.
type layerPlan struct {
	cq, ck, cv, co, cf, cd int
}

// paddedCounter keeps one claim counter per cache line.

// chunkRows returns the rows of a work item of w: a multiple of unit
// (itself a multiple of tileAlign or of a head) with about
// decodeChunkBytes of weights.
func chunkRows(w cpu.Matrix, unit int) int {
	c := max(1, decodeChunkBytes/max(1, unit*w.RowBytes())) * unit
	return min(c, (w.Rows+unit-1)/unit*unit)
}

// newDecoder prepares single-token passes for n with a team of threads
// members.
func (s *Runner) newDecoder(n *llama, threads int) {
	hp := n.hp
	d := &s.dec
	d.team = newTeam(threads)
	d.members = make([]decodeMember, threads)
	for i := range d.members {
		m := &d.members[i]
		m.id = i
		if i == 0 {
			m.ws, m.xn = s.ws, s.xn[:hp.Embd]
		} else {
			m.ws, m.xn = &cpu.Workspace{}, make([]float32, hp.Embd)
		}
		if hp.Experts > 0 {
			m.router = make([]float32, hp.Experts)
			m.sel = make([]int, hp.ExpertsUsed)
			m.selW = make([]float32, hp.ExpertsUsed)
			m.wsE = make([]cpu.Workspace, hp.ExpertsUsed)
			m.actsE = make([]cpu.Activations, hp.ExpertsUsed)
		}
	}
	if hp.Experts > 0 {
		d.eGate = make([]float32, hp.ExpertsUsed*hp.FF)
		d.eUp = make([]float32, hp.ExpertsUsed*hp.FF)
		d.eDown = make([]float32, hp.ExpertsUsed*hp.Embd)
	}
	d.steps = 5*len(n.layers) + 1
	d.ctrs = make([]paddedCounter, d.steps*threads)
	// Query and key items hold whole heads, aligned for the tile kernels
	// too unless that makes them too large.
	hd := hp.HeadDimK
	unit := lcm(hd, tileAlign)
	if unit > 16*tileAlign {
		unit = hd
	}
	d.plans = make([]layerPlan, len(n.layers))
	for i := range n.layers {
		L := &n.layers[i]
		wq, wk, wv := L.qkv(hp)
		gate, down := L.gate, L.down
		if hp.Experts > 0 {
			gate, down = L.gateE[0], L.downE[0]
		}
		d.plans[i] = layerPlan{
			cq: chunkRows(wq, unit), ck: chunkRows(wk, unit), cv: chunkRows(wv, unit),
			co: chunkRows(L.wo, tileAlign), cf: chunkRows(gate, tileAlign), cd: chunkRows(down, tileAlign),
		}
	}
	d.outC = chunkRows(n.output, tileAlign)
	d.fn = s.decodeRun
}

func lcm(a, b int) int {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

// qkv returns the query, key and value projections (views of the fused
// one if the layer has it).
func (L *llamaLayer) qkv(hp HParams) (wq, wk, wv cpu.Matrix) {
	if !L.fused {
		return L.wq, L.wk, L.wv
	}
	dq, dkv := hp.Heads*hp.HeadDimK, hp.HeadsKV*hp.HeadDimK
	return L.wqkv.Slice(0, dq), L.wqkv.Slice(dq, dkv), L.wqkv.Slice(dq+dkv, dkv)
}

// decode runs the single-token pass of the batch's one row, token tok.
func (n *llama) decode(s *Runner, tok int32) {
	hp := n.hp
	d := &s.dec
	pos := s.rows[0].pos
	cpu.Row(n.tokEmbd, int(tok), s.x[:hp.Embd])
	n.rotary(s.rows[0].seq.kv.size).cache(pos, s.ropeCache[:hp.RopeDims])
	s.planAttention(0, n.kqScale)
	d.pos, d.kv = pos, s.rows[0].seq.kv
	d.stopAt.Store(0)
	for i := range d.ctrs {
		d.ctrs[i].Store(0)
	}
	for i := range d.members {
		d.members[i].step = 0
	}
	d.team.run(d.fn)
}

// begin starts the member's next step, of n work items.
func (m *decodeMember) begin(n int) {
	m.n, m.region = n, 0
}

// next returns the member's next work item of the current step, or -1
// when none is left. Each member first takes the items of its own share
// (a contiguous range, in order, so that it streams through the weights)
// and then helps with the others'.
func (m *decodeMember) next(d *decoder) int {
	t := len(d.members)
	for ; m.region < t; m.region++ {
		o := m.id + m.region
		if o >= t {
			o -= t
		}
		lo, hi := o*m.n/t, (o+1)*m.n/t
		if lo == hi {
			continue
		}
		if i := lo + int(d.ctrs[m.step*t+o].Add(1)) - 1; i < hi {
			return i
		}
	}
	return -1
}

// end waits for every member to finish the step.
func (m *decodeMember) end(d *decoder) {
	m.step++
	d.team.bar.wait(m.id)
}

// quantize converts x once per vec_dot type of ws into the member's
// workspace and sets m.acts[i] to the activations for ws[i].
func (m *decodeMember) quantize(x []float32, ws ...cpu.Matrix) {
	var types [3]ggml.Type
	for i, w := range ws {
		vt, _ := cpu.VecDotType(w.Type)
		types[i] = vt
		k := 0
		for k < i && types[k] != vt {
			k++
		}
		if k < i {
			m.acts[i] = m.acts[k]
			continue
		}
		m.acts[i] = cpu.QuantizeActivations(nil, m.ws, vt, x[:w.Cols], 1, w.Cols)
	}
}

// product computes rows r0..r0+rows-1 of w times the activations a into
// out[r0:].
func (m *decodeMember) product(w cpu.Matrix, r0, rows int, a cpu.Activations, out []float32) {
	cpu.MatMulQuantized(nil, m.ws, w.Slice(r0, rows), a, out[r0:r0+rows])
}

// decodeRun is one member's part of the single-token pass.
func (s *Runner) decodeRun(id int) {
	s.m.net.(*llama).decodeMember(s, &s.dec.members[id])
}

func (n *llama) decodeMember(s *Runner, m *decodeMember) {
	hp := n.hp
	d := &s.dec
	dim, hd, nr := hp.Embd, hp.HeadDimK, hp.RopeDims
	dq, dkv, ff := hp.Heads*hd, hp.HeadsKV*hd, hp.FF
	x := s.x[:dim]
	out := s.tmp[:dim]
	q, k, v := s.q[:dq], s.k[:dkv], s.v[:dkv]
	rc := s.ropeCache[:nr]
	att := s.att[:hp.Heads*hp.HeadDimV]
	gate, up := s.gate[:ff], s.up[:ff]
	for il := range n.layers {
		L := &n.layers[il]
		p := &d.plans[il]
		// Query, key and value products, biases, RoPE, cache store.
		wq, wk, wv := L.qkv(hp)
		bq, bk, bv := L.bq, L.bk, L.bv
		if L.fused {
			bq, bk, bv = sub(L.bqkv, 0, dq), sub(L.bqkv, dq, dq+dkv), sub(L.bqkv, dq+dkv, dq+2*dkv)
		}
		cpu.RMSNorm(m.xn, x, L.attnNorm, hp.RMSEps)
		m.quantize(m.xn, wq, wk, wv)
		nq, nk := (dq+p.cq-1)/p.cq, (dkv+p.ck-1)/p.ck
		m.begin(nq + nk + (dkv+p.cv-1)/p.cv)
		for it := m.next(d); it >= 0; it = m.next(d) {
			switch {
			case it < nq:
				r0 := it * p.cq
				r1 := min(r0+p.cq, dq)
				m.product(wq, r0, r1-r0, m.acts[0], q)
				if bq != nil {
					cpu.Add(q[r0:r1], q[r0:r1], bq[r0:r1])
				}
				for h := r0 / hd; h < r1/hd; h++ {
					headNorm(q[h*hd:(h+1)*hd], L.qNorm, hp.RMSEps)
					n.rope.apply(q[h*hd:(h+1)*hd], rc)
				}
			case it < nq+nk:
				r0 := (it - nq) * p.ck
				r1 := min(r0+p.ck, dkv)
				m.product(wk, r0, r1-r0, m.acts[1], k)
				if bk != nil {
					cpu.Add(k[r0:r1], k[r0:r1], bk[r0:r1])
				}
				for h := r0 / hd; h < r1/hd; h++ {
					headNorm(k[h*hd:(h+1)*hd], L.kNorm, hp.RMSEps)
					n.rope.apply(k[h*hd:(h+1)*hd], rc)
					putRow(d.kv.kt, d.kv.keyRow(il, h, d.pos), k[h*hd:(h+1)*hd])
				}
			default:
				r0 := (it - nq - nk) * p.cv
				r1 := min(r0+p.cv, dkv)
				m.product(wv, r0, r1-r0, m.acts[2], v)
				if bv != nil {
					cpu.Add(v[r0:r1], v[r0:r1], bv[r0:r1])
				}
				for h := r0 / hd; h < r1/hd; h++ {
					putRow(d.kv.vt, d.kv.valueRow(il, h, d.pos), v[h*hd:(h+1)*hd])
				}
			}
		}
		m.end(d)

		// Attention.
		m.begin(s.attn.slots)
		for it := m.next(d); it >= 0; it = m.next(d) {
			s.attnSlots(il, it, it+1)
		}
		m.end(d)

		// Output projection, added to the residual stream.
		m.quantize(att, L.wo)
		m.begin((dim + p.co - 1) / p.co)
		for it := m.next(d); it >= 0; it = m.next(d) {
			r0 := it * p.co
			r1 := min(r0+p.co, dim)
			m.product(L.wo, r0, r1-r0, m.acts[0], out)
			if L.bo != nil {
				cpu.Add(out[r0:r1], out[r0:r1], L.bo[r0:r1])
			}
			cpu.Add(x[r0:r1], x[r0:r1], out[r0:r1])
		}
		m.end(d)

		// Feed forward: gate and up with SwiGLU, then down, added to the
		// residual stream.
		cpu.RMSNorm(m.xn, x, L.ffnNorm, hp.RMSEps)
		if hp.Experts > 0 {
			n.decodeMoE(s, m, L, p, il)
			if d.stopAt.Load() == int32(il+1) {
				return
			}
			continue
		}
		m.quantize(m.xn, L.gate, L.up)
		m.begin((ff + p.cf - 1) / p.cf)
		for it := m.next(d); it >= 0; it = m.next(d) {
			r0 := it * p.cf
			r1 := min(r0+p.cf, ff)
			m.product(L.gate, r0, r1-r0, m.acts[0], gate)
			m.product(L.up, r0, r1-r0, m.acts[1], up)
			if L.bGate != nil {
				cpu.Add(gate[r0:r1], gate[r0:r1], L.bGate[r0:r1])
			}
			if L.bUp != nil {
				cpu.Add(up[r0:r1], up[r0:r1], L.bUp[r0:r1])
			}
			cpu.SwiGLUVec(gate[r0:r1], gate[r0:r1], up[r0:r1])
		}
		m.end(d)

		m.quantize(gate, L.down)
		m.begin((dim + p.cd - 1) / p.cd)
		for it := m.next(d); it >= 0; it = m.next(d) {
			r0 := it * p.cd
			r1 := min(r0+p.cd, dim)
			m.product(L.down, r0, r1-r0, m.acts[0], out)
			if L.bDown != nil {
				cpu.Add(out[r0:r1], out[r0:r1], L.bDown[r0:r1])
			}
			cpu.Add(x[r0:r1], x[r0:r1], out[r0:r1])
		}
		if m.id == 0 && s.stopped() {
			d.stopAt.Store(int32(il + 1))
		}
		m.end(d)
		if d.stopAt.Load() == int32(il+1) {
			return // the caller sees it too and discards the pass
		}
	}
	// Output norm and logits.
	cpu.RMSNorm(m.xn, x, n.outNorm, hp.RMSEps)
	m.quantize(m.xn, n.output)
	logits := s.outRowsDst(1, hp.Vocab)
	m.begin((hp.Vocab + d.outC - 1) / d.outC)
	for it := m.next(d); it >= 0; it = m.next(d) {
		r0 := it * d.outC
		m.product(n.output, r0, min(r0+d.outC, hp.Vocab)-r0, m.acts[0], logits)
	}
	m.end(d)
}

// decodeMoE is a mixture-of-experts feed forward in a single-token pass
// (m.xn holds the normalized input), as Runner.moe computes it for one
// token: every member computes the router's choice itself; the gate/up
// step takes row chunks of every chosen expert, the down step row chunks
// of the output, each with every chosen expert's rows, weighted and
// summed in rank order and added to the residual stream.
func (n *llama) decodeMoE(s *Runner, m *decodeMember, L *llamaLayer, p *layerPlan, il int) {
	hp := n.hp
	d := &s.dec
	dim, ff, nu := hp.Embd, hp.FF, hp.ExpertsUsed
	x, out := s.x[:dim], s.tmp[:dim]
	m.quantize(m.xn, L.router)
	cpu.MatMulQuantized(nil, m.ws, L.router, m.acts[0], m.router)
	route(m.router, m.sel, m.selW, !n.v.moeRawWeights)

	m.quantize(m.xn, L.gateE[0], L.upE[0])
	nf := (ff + p.cf - 1) / p.cf
	m.begin(nu * nf)
	for it := m.next(d); it >= 0; it = m.next(d) {
		j, e := it/nf, m.sel[it/nf]
		r0 := it % nf * p.cf
		r1 := min(r0+p.cf, ff)
		g, u := d.eGate[j*ff:(j+1)*ff], d.eUp[j*ff:(j+1)*ff]
		m.product(L.gateE[e], r0, r1-r0, m.acts[0], g)
		m.product(L.upE[e], r0, r1-r0, m.acts[1], u)
		cpu.SwiGLUVec(g[r0:r1], g[r0:r1], u[r0:r1])
	}
	m.end(d)

	vt, _ := cpu.VecDotType(L.downE[0].Type)
	for j := range m.sel {
		m.actsE[j] = cpu.QuantizeActivations(nil, &m.wsE[j], vt, d.eGate[j*ff:(j+1)*ff], 1, ff)
	}
	m.begin((dim + p.cd - 1) / p.cd)
	for it := m.next(d); it >= 0; it = m.next(d) {
		r0 := it * p.cd
		r1 := min(r0+p.cd, dim)
		for j, e := range m.sel {
			m.product(L.downE[e], r0, r1-r0, m.actsE[j], d.eDown[j*dim:(j+1)*dim])
		}
		o := out[r0:r1]
		for j, w := range m.selW {
			dn := d.eDown[j*dim+r0 : j*dim+r1]
			for k := range o {
				// Each weighted output is rounded before the sum.
				if v := float32(dn[k] * w); j == 0 {
					o[k] = v
				} else {
					o[k] += v
				}
			}
		}
		cpu.Add(x[r0:r1], x[r0:r1], o)
	}
	if m.id == 0 && s.stopped() {
		d.stopAt.Store(int32(il + 1))
	}
	m.end(d)
}
