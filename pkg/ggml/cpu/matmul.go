package cpu

import (
	"fmt"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// Tiling of MatMul: the output is cut into tiles of tileRows weight rows by
// tileTokens tokens; threads take tiles, and inside a tile each weight row
// is reused for every token of the tile.
const (
	tileRows   = 16
	tileTokens = 16
	// tileGroups is the number of row groups of a tile kernel in one unit
	// of work.
	tileGroups = 4
	// serialWork is the number of multiply-adds below which MatMul runs on
	// the calling goroutine: waking workers would cost more than it saves.
	serialWork = 1 << 15
)

// Workspace is reusable scratch memory for MatMul: the converted
// activations and the state handed to the pool's threads. The zero value is
// ready to use and grows as needed, after which MatMul does not allocate. A
// Workspace must not be used by two goroutines at once.
type Workspace struct {
	bufs   [maxType][]byte // converted activations, by vec_dot type
	panels [maxType][]byte // the same packed for tile kernels

	// The tasks handed to the pool, with their run methods bound once so
	// that calls do not allocate. self detects a copied Workspace, whose
	// bound methods would still point into the original.
	mm   mmTask
	mmFn func(lo, hi int)
	cv   convTask
	cvFn func(lo, hi int)
	self *Workspace
}

// bind (re)binds the task methods to this Workspace.
func (ws *Workspace) bind() {
	if ws.self != ws {
		ws.self = ws
		ws.mmFn = ws.mm.run
		ws.cvFn = ws.cv.run
	}
}

// Activations is a batch of N activation rows of Cols elements converted to
// a vec_dot type, ready to be multiplied by every matrix whose weight type
// has that vec_dot type (see [VecDotType]). It refers to memory owned by the
// Workspace that produced it and stays valid until that Workspace converts
// another batch to the same type.
type Activations struct {
	Type    ggml.Type // the vec_dot type
	N, Cols int
	data    []byte
	rowSize int

	// The rows packed for tile kernels in groups of panelTokens tokens of
	// tokenBytes bytes each (nil if the vec_dot type has no packer).
	panel       []byte
	panelTokens int
	tokenBytes  int
}

// group returns the panel of the token group starting at token k0 and the
// number of tokens in it.
func (a *Activations) group(k0 int) ([]byte, int) {
	nt := min(a.panelTokens, a.N-k0)
	return a.panel[k0*a.tokenBytes : (k0+nt)*a.tokenBytes], nt
}

// QuantizeActivations converts n rows of cols float32 activations in x
// (row i is x[i*cols:(i+1)*cols]) to the vec_dot type vt: F32, F16, BF16,
// Q8_0, Q8_1 or Q8_K, as ggml-cpu's from_float does. Use it to convert one
// batch once and multiply it by several matrices with [MatMulQuantized] (the
// query, key and value projections share an input, as do the gate and up
// projections). cols must be a whole number of vt's blocks. It panics on a
// bad type or shape (a programming error). A nil pool runs on the calling
// goroutine; a nil ws uses a fresh Workspace (and so allocates).
func QuantizeActivations(p *Pool, ws *Workspace, vt ggml.Type, x []float32, n, cols int) Activations {
	return quantizeActivations(kern, p, ws, vt, x, n, cols)
}

// quantizeActivations is QuantizeActivations with the kernels of k.
func quantizeActivations(k *kernelSet, p *Pool, ws *Workspace, vt ggml.Type, x []float32, n, cols int) Activations {
	if ws == nil {
		ws = new(Workspace)
	}
	if uint(vt) >= maxType || k.convert[vt] == nil {
		panic(fmt.Sprintf("cpu: QuantizeActivations: %v is not a vec_dot type", vt))
	}
	rs, err := actRowBytes(vt, cols)
	if err != nil {
		panic(fmt.Sprintf("cpu: QuantizeActivations: %v", err))
	}
	if n < 0 || len(x) < n*cols {
		panic(fmt.Sprintf("cpu: QuantizeActivations: %d rows of %d need %d values, have %d", n, cols, n*cols, len(x)))
	}
	size := n * int(rs)
	buf := ws.bufs[vt]
	if cap(buf) < size {
		buf = make([]byte, size)
		ws.bufs[vt] = buf
	}
	buf = buf[:size]
	a := Activations{Type: vt, N: n, Cols: cols, data: buf, rowSize: int(rs)}
	ws.cv = convTask{conv: k.convert[vt], x: x, cols: cols, dst: buf, rowSize: int(rs), n: n, group: 1}
	if pk := k.panel[vt]; pk.tokens > 0 && pk.pack == nil && cols > 0 && n > 0 {
		// The converted rows are the panel.
		a.panel, a.panelTokens, a.tokenBytes = buf, pk.tokens, a.rowSize
	} else if pk.pack != nil && cols > 0 && n > 0 {
		tb := pk.tokenBytes(cols)
		pan := ws.panels[vt]
		if cap(pan) < n*tb {
			pan = make([]byte, n*tb)
			ws.panels[vt] = pan
		}
		a.panel, a.panelTokens, a.tokenBytes = pan[:n*tb], pk.tokens, tb
		// Each unit of work converts a group's rows and packs them.
		ws.cv.pack, ws.cv.group, ws.cv.panel, ws.cv.tokenBytes = pk.pack, pk.tokens, a.panel, tb
	}
	ws.bind()
	units := (n + ws.cv.group - 1) / ws.cv.group
	if n == 1 || n*cols < serialWork {
		ws.cvFn(0, units)
	} else {
		p.Run(units, ws.cvFn)
	}
	ws.cv = convTask{}
	return a
}

// actRowBytes is the size of one converted activation row. It is the
// type's row size, except for F16: F16 activations are kept as float32
// values rounded to F16 (the same numbers, but the kernels need not convert
// them again for every weight row).
func actRowBytes(vt ggml.Type, cols int) (int64, error) {
	if vt == ggml.TypeF16 {
		vt = ggml.TypeF32
	}
	return vt.RowBytes(int64(cols))
}

// convTask converts n activation rows in units of group rows, and packs
// each unit's rows into the panel when pack is set.
type convTask struct {
	conv       convertFunc
	x          []float32
	cols       int
	dst        []byte
	rowSize    int
	n, group   int
	pack       panelFunc
	panel      []byte
	tokenBytes int
}

func (t *convTask) run(lo, hi int) {
	for u := lo; u < hi; u++ {
		r0, r1 := u*t.group, min((u+1)*t.group, t.n)
		for i := r0; i < r1; i++ {
			t.conv(t.dst[i*t.rowSize:(i+1)*t.rowSize], t.x[i*t.cols:(i+1)*t.cols])
		}
		if t.pack != nil {
			t.pack(t.panel[r0*t.tokenBytes:r1*t.tokenBytes], t.dst[r0*t.rowSize:], t.rowSize, r1-r0, t.cols)
		}
	}
}

// MatMul multiplies the weight matrix w by n activation rows:
// out[i*w.Rows + r] = dot(row r of w, x[i*w.Cols : (i+1)*w.Cols]) for i in
// [0, n). n == 1 is generation (matrix-vector); n > 1 a batch of prompt
// tokens. The activations are first converted to w's vec_dot type in ws.
// Results do not depend on the number of threads. It panics if x or out is
// too short (a programming error). A nil pool runs on the calling
// goroutine; a nil ws uses a fresh Workspace (and so allocates).
func MatMul(p *Pool, ws *Workspace, w Matrix, x []float32, n int, out []float32) {
	matMul(kern, p, ws, w, x, n, out)
}

// matMul is MatMul with the kernels of k.
func matMul(k *kernelSet, p *Pool, ws *Workspace, w Matrix, x []float32, n int, out []float32) {
	vt, ok := VecDotType(w.Type)
	if !ok {
		panic(fmt.Sprintf("cpu: MatMul: unsupported weight type %v", w.Type))
	}
	if ws == nil {
		ws = new(Workspace)
	}
	a := quantizeActivations(k, p, ws, vt, x, n, w.Cols)
	matMulQuantized(k, p, ws, w, a, out)
}

// MatMulQuantized is [MatMul] with activations already converted by
// [QuantizeActivations] to w's vec_dot type: out[i*w.Rows + r] is the dot
// product of row r of w with activation row i.
func MatMulQuantized(p *Pool, ws *Workspace, w Matrix, a Activations, out []float32) {
	matMulQuantized(kern, p, ws, w, a, out)
}

// matMulQuantized is MatMulQuantized with the kernels of k.
func matMulQuantized(k *kernelSet, p *Pool, ws *Workspace, w Matrix, a Activations, out []float32) {
	if ws == nil {
		ws = new(Workspace)
	}
	if vt, ok := VecDotType(w.Type); !ok || vt != a.Type {
		panic(fmt.Sprintf("cpu: MatMulQuantized: %v weights need %v activations, have %v", w.Type, vt, a.Type))
	}
	if a.Cols != w.Cols {
		panic(fmt.Sprintf("cpu: MatMulQuantized: %d activation columns for a matrix of %d", a.Cols, w.Cols))
	}
	if len(out) < a.N*w.Rows {
		panic(fmt.Sprintf("cpu: MatMulQuantized: out has %d values, want %d", len(out), a.N*w.Rows))
	}
	if a.N == 0 || w.Rows == 0 {
		return
	}
	ws.mm = mmTask{
		dot: k.vecDot[w.Type], w: w, rowBytes: w.RowBytes(),
		a: a, out: out,
		chunkRows: tileRows, chunkTokens: tileTokens,
	}
	if pk := k.packed[w.Type]; w.packed != nil && pk.layout == w.layout && a.panel != nil {
		// The packed rows go through the packed kernel, the rest
		// through dot.
		ws.mm.tile, ws.mm.tileData = pk.tile, w.packed
		ws.mm.tileRows = len(w.packed) / ws.mm.rowBytes
		ws.mm.chunkRows = pk.tile.rows * tileGroups
		ws.mm.chunkTokens = a.panelTokens
	} else if tk := k.tileFor(w.Type, a.N); tk.fn != nil && a.panel != nil && w.Rows >= tk.rows {
		ws.mm.tile, ws.mm.tileData, ws.mm.tileRows = tk, w.Data, w.Rows
		ws.mm.chunkRows = tk.rows * tileGroups
		ws.mm.chunkTokens = a.panelTokens
	}
	nRB := (w.Rows + ws.mm.chunkRows - 1) / ws.mm.chunkRows
	ws.mm.nTB = (a.N + ws.mm.chunkTokens - 1) / ws.mm.chunkTokens
	ws.bind()
	if w.Rows*w.Cols*a.N < serialWork {
		ws.mmFn(0, nRB*ws.mm.nTB)
	} else {
		p.Run(nRB*ws.mm.nTB, ws.mmFn)
	}
	ws.mm = mmTask{} // drop references to the caller's data
}

// mmTask is one MatMul split into units of chunkRows weight rows by
// chunkTokens tokens; unit u is row chunk u/nTB, token chunk u%nTB, so
// consecutive units share weight rows.
type mmTask struct {
	dot         vecDotFunc
	tile        tileKernel // fn is nil if the dot products go through dot
	tileData    []byte     // the weights the tile kernel reads
	tileRows    int        // the rows it may take: those before tileRows
	w           Matrix
	rowBytes    int
	a           Activations
	out         []float32
	chunkRows   int
	chunkTokens int
	nTB         int
}

func (t *mmTask) run(lo, hi int) {
	rows, cols := t.w.Rows, t.w.Cols
	for u := lo; u < hi; u++ {
		r0, k0 := u/t.nTB*t.chunkRows, u%t.nTB*t.chunkTokens
		r1, k1 := min(r0+t.chunkRows, rows), min(k0+t.chunkTokens, t.a.N)
		if t.nTB == 1 {
			// One token chunk: units lo..hi-1 are consecutive rows, done
			// in one pass (the tile kernels prefetch ahead within it).
			r1 = min((hi-lo)*t.chunkRows+r0, rows)
			u = hi
		}
		if t.tile.fn != nil {
			// Whole groups of rows go through the tile kernel, the
			// rest (at the end of the matrix) through dot.
			panel, nt := t.a.group(k0)
			if full := (min(r1, t.tileRows) - r0) / t.tile.rows * t.tile.rows; full > 0 {
				t.tile.fn(t.tileData[r0*t.rowBytes:], t.rowBytes, full, panel, nt, cols, t.out[k0*rows+r0:], rows)
				r0 += full
			}
		}
		for r := r0; r < r1; r++ {
			wr := t.w.Data[r*t.rowBytes : (r+1)*t.rowBytes]
			for k := k0; k < k1; k++ {
				t.out[k*rows+r] = t.dot(cols, wr, t.a.data[k*t.a.rowSize:(k+1)*t.a.rowSize])
			}
		}
	}
}
