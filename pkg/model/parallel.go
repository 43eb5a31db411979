package model

import (
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
)

// The element-wise steps between matrix products (normalization, residual
// additions, RoPE, storing keys and values, SwiGLU) run on the Runner's
// pool too, split by batch row or by blocks of elements. Every element is
// computed the same way whichever thread computes it, so results do not
// depend on the thread count.

// parallelWork is the number of element operations below which a step
// runs on the calling goroutine: waking the workers would cost more.
const parallelWork = 1 << 14

// ewBlock is the number of elements one work item of a purely
// element-wise step (SwiGLU, addition) covers.
const ewBlock = 2048

// ewJob holds the parameters of the element-wise step being run, so that
// the functions handed to the pool are made once per Runner.
type ewJob struct {
	x, y, out, w []float32
	eps          float32
	d            int // row width

	// qkv step
	layer      int
	qkv        []float32 // fused projection output, or nil
	bq, bk, bv []float32 // biases, or nil
	qn, kn     []float32 // per-head query and key norms, or nil
	rope       *rope
	rc         []float32 // its cos/sin cache: [row][RopeDims]

	gelu *geluTable // geglu step
}

// ewFuncs are the Runner's element-wise steps, bound once.
type ewFuncs struct {
	addNorm, swiglu, qkv, geglu func(lo, hi int)
}

// parallel runs fn over [0, n) on the current pool, or on the calling
// goroutine when the step's total work is below parallelWork.
func (s *Runner) parallel(n, work int, fn func(lo, hi int)) {
	if n <= 1 || work < parallelWork || s.pool.Threads() == 1 {
		fn(0, n)
		return
	}
	s.pool.Run(n, fn)
}

// addNorm adds y (unless nil) to the n rows of width d of x and writes
// RMSNorm(x)·w to out.
func (s *Runner) addNorm(x, y, out, w []float32, eps float32, n, d int) {
	s.ew = ewJob{x: x, y: y, out: out, w: w, eps: eps, d: d}
	s.parallel(n, 4*n*d, s.ewFns.addNorm)
}

func (s *Runner) addNormRun(lo, hi int) {
	j := &s.ew
	d := j.d
	for i := lo; i < hi; i++ {
		x := j.x[i*d : (i+1)*d]
		if j.y != nil {
			cpu.Add(x, x, j.y[i*d:(i+1)*d])
		}
		cpu.RMSNorm(j.out[i*d:(i+1)*d], x, j.w, j.eps)
	}
}

// swiglu sets gate = silu(gate)·up for n rows of width d, each row as
// ggml's vectorized kernel does (cpu.SwiGLUVec).
func (s *Runner) swiglu(gate, up []float32, n, d int) {
	s.ew = ewJob{x: gate, y: up, d: d}
	per := (d + ewBlock - 1) / ewBlock
	s.parallel(n*per, 4*n*d, s.ewFns.swiglu)
}

func (s *Runner) swigluRun(lo, hi int) {
	g, u, d := s.ew.x, s.ew.y, s.ew.d
	per := (d + ewBlock - 1) / ewBlock
	for it := lo; it < hi; it++ {
		// Work items are blocks of ewBlock (a multiple of 16) within a
		// row, so that the kernel's blocks of 16 start where the row's do.
		i, b := it/per, it%per
		a, z := i*d+b*ewBlock, i*d+min((b+1)*ewBlock, d)
		cpu.SwiGLUVec(g[a:z], g[a:z], u[a:z])
	}
}

// geglu sets gate = GELU(gate)·up for n rows of width d with ggml's GELU
// table t.
func (s *Runner) geglu(t *geluTable, gate, up []float32, n, d int) {
	s.ew = ewJob{x: gate, y: up, d: d, gelu: t}
	per := (d + ewBlock - 1) / ewBlock
	s.parallel(n*per, 4*n*d, s.ewFns.geglu)
}

func (s *Runner) gegluRun(lo, hi int) {
	g, u, d := s.ew.x, s.ew.y, s.ew.d
	per := (d + ewBlock - 1) / ewBlock
	for it := lo; it < hi; it++ {
		i, b := it/per, it%per
		a, z := i*d+b*ewBlock, i*d+min((b+1)*ewBlock, d)
		s.ew.gelu.geglu(g[a:z], g[a:z], u[a:z])
	}
}

// ropeStore finishes the attention projections of the n batch rows for
// layer l: it splits a fused QKV output (qkv, unless nil) into s.q, s.k
// and s.v, adds the biases, rotates queries and keys with r (each row at
// its position) and stores keys and values in each row's sequence's
// cache. With qn and kn, each head of the queries and keys is
// RMS-normalized with those weights before its rotation (qwen3).
func (s *Runner) ropeStore(l, n int, qkv, bq, bk, bv, qn, kn []float32, r *rope) {
	s.ropeStoreCache(l, n, qkv, bq, bk, bv, qn, kn, r, s.ropeCache)
}

// ropeStoreCache is ropeStore with the rows' cos/sin cache for r in rc
// (networks whose layers rotate with different RoPE parameters).
func (s *Runner) ropeStoreCache(l, n int, qkv, bq, bk, bv, qn, kn []float32, r *rope, rc []float32) {
	hp := s.m.Params
	s.ew = ewJob{layer: l, qkv: qkv, bq: bq, bk: bk, bv: bv, qn: qn, kn: kn, eps: hp.RMSEps, rope: r, rc: rc}
	per := hp.Heads*hp.HeadDimK + 2*hp.HeadsKV*hp.HeadDimK
	s.parallel(n, 4*n*per, s.ewFns.qkv)
}

func (s *Runner) ropeStoreRun(lo, hi int) {
	hp := s.m.Params
	j := &s.ew
	hd, nr := hp.HeadDimK, hp.RopeDims
	dq, dk, dv := hp.Heads*hd, hp.HeadsKV*hd, hp.HeadsKV*hp.HeadDimV
	for i := lo; i < hi; i++ {
		q, k, v := s.q[i*dq:(i+1)*dq], s.k[i*dk:(i+1)*dk], s.v[i*dv:(i+1)*dv]
		if j.qkv != nil {
			row := j.qkv[i*(dq+dk+dv) : (i+1)*(dq+dk+dv)]
			copy(q, row[:dq])
			copy(k, row[dq:dq+dk])
			copy(v, row[dq+dk:])
		}
		if j.bq != nil {
			cpu.Add(q, q, j.bq)
		}
		if j.bk != nil {
			cpu.Add(k, k, j.bk)
		}
		if j.bv != nil {
			cpu.Add(v, v, j.bv)
		}
		c := j.rc[i*nr : (i+1)*nr]
		for h := 0; h < hp.Heads; h++ {
			headNorm(q[h*hd:(h+1)*hd], j.qn, j.eps)
			j.rope.apply(q[h*hd:(h+1)*hd], c)
		}
		for h := 0; h < hp.HeadsKV; h++ {
			headNorm(k[h*hd:(h+1)*hd], j.kn, j.eps)
			j.rope.apply(k[h*hd:(h+1)*hd], c)
		}
		row := &s.rows[i]
		row.seq.kv.store(j.layer, row.pos, k, v)
	}
}

// matmul computes out = w·x for n input rows of x.
func (s *Runner) matmul(w cpu.Matrix, x []float32, n int, out []float32) {
	cpu.MatMul(s.pool, s.ws, w, x[:n*w.Cols], n, out[:n*w.Rows])
}

// matmuls computes outs[i] = ws[i]·x for n input rows of x, matrices that
// share their input (the query, key and value projections; gate and up),
// converting x once per vec_dot type rather than once per matrix.
func (s *Runner) matmuls(x []float32, n int, ws []cpu.Matrix, outs [][]float32) {
	var types [4]ggml.Type
	var acts [4]cpu.Activations
	done := 0
	for i, w := range ws {
		vt, _ := cpu.VecDotType(w.Type)
		k := 0
		for k < done && types[k] != vt {
			k++
		}
		if k == done {
			types[k] = vt
			acts[k] = cpu.QuantizeActivations(s.pool, s.ws, vt, x[:n*w.Cols], n, w.Cols)
			done++
		}
		cpu.MatMulQuantized(s.pool, s.ws, w, acts[k], outs[i][:n*w.Rows])
	}
}

// headNorm RMS-normalizes one head's query or key in place with weight w
// (a no-op for nil w).
func headNorm(x, w []float32, eps float32) {
	if w != nil {
		cpu.RMSNorm(x, x, w, eps)
	}
}
