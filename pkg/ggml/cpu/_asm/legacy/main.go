// Command legacy generates legacy_amd64.s (AVX-512) and legacy_avx2_amd64.s
// (AVX2 and AVX-VNNI), the amd64 tile kernels for the 32-element block
// types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) and the float types of
// package cpu. Run it from this directory:
//
//	go run . -dir ../..
//
// # Tile kernels
//
// A tile kernel multiplies a group of weight rows by up to T activation
// rows ("tokens") packed into a panel (see panel.go in package cpu). The
// integer part of each block's dot product is computed with VPDPBUSD
// (unsigned weight bytes times signed activation bytes), with the weight
// rows transposed in registers so that each 32-bit lane belongs to one
// weight row: lane r of register P_k holds elements 4k..4k+3 of row r, and
// the activation's matching four bytes are broadcast from memory. The lane
// sums are then whole-block dot products, so the float part (scale the
// block sum by d_w*d_a and add it to the row's accumulator) is done for
// all rows at once, in the same order and with the same roundings as the
// generic kernels: the results are bit-identical to them.
//
// Weights are made unsigned by an offset (Q4_0: q = v+8, Q5_0: v+16,
// Q8_0 and IQ4_NL: v+128); the offset times the activation block's sum,
// which the panel stores, starts the integer accumulator.
//
// The AVX-512 kernels take 16 rows per group (one per lane of a ZMM
// register) and up to 16 tokens (8 for the types with a min, which need a
// second accumulator per token): Z0-Z7 hold the transposed weights, Z8 the
// weight scales, Z15 the weight mins, Z16-Z31 the accumulators.
//
// The AVX2 and AVX-VNNI kernels take 8 rows per group (one per lane of a
// YMM register) and up to 4 tokens (2 for the types with a min); see
// avx2.go.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

// wtype describes one weight type.
type wtype struct {
	name       string
	blockBytes int
	act        string // activation panel: "Q8_0" or "Q8_1"
	shift      int    // log2 of the weight offset (Q8_0 panels)
	mins       bool   // has a min (Q8_1 panels)
	qsOff      int    // offset of the nibbles (or bytes for Q8_0)
	qhOff      int    // offset of the fifth bits, or -1
	iq4        bool   // IQ4_NL table lookup
	q8         bool   // 32 bytes of int8 quants
}

var types = []wtype{
	{name: "Q4_0", blockBytes: 18, act: "Q8_0", shift: 3, qsOff: 2, qhOff: -1},
	{name: "Q4_1", blockBytes: 20, act: "Q8_1", mins: true, qsOff: 4, qhOff: -1},
	{name: "Q5_0", blockBytes: 22, act: "Q8_0", shift: 4, qsOff: 6, qhOff: 2},
	{name: "Q5_1", blockBytes: 24, act: "Q8_1", mins: true, qsOff: 8, qhOff: 4},
	{name: "Q8_0", blockBytes: 34, act: "Q8_0", shift: 7, qsOff: 2, qhOff: -1, q8: true},
	{name: "IQ4_NL", blockBytes: 18, act: "Q8_0", shift: 7, qsOff: 2, qhOff: -1, iq4: true},
}

// Panel layout of one block of T tokens: T*32 quant bytes, then T float32
// scales, then T int32 values (Q8_0: minus the block's quant sum; Q8_1: the
// float32 s = d*sum). 40*T bytes.
func panelQ(T, t, k int) int { return 32*t + 4*k }
func panelD(T, t int) int    { return 32*T + 4*t }
func panelC(T, t int) int    { return 36*T + 4*t }

type gen struct {
	b bytes.Buffer
}

func (g *gen) i(format string, args ...any) {
	fmt.Fprintf(&g.b, "\t"+format+"\n", args...)
}

func (g *gen) label(l string) { fmt.Fprintf(&g.b, "%s:\n", l) }

func (g *gen) raw(s string) { g.b.WriteString(s) }

// isa is one instruction-set flavour of the kernels.
type isa struct {
	name  string // function name suffix
	v     string // vector register prefix: "Z" or "Y"
	lanes int    // 128-bit lanes per register (rows per group / 4)
	maxT  int    // tokens per call, Q8_0 panels
	maxT1 int    // tokens per call, Q8_1 panels
	vnni  bool   // AVX-VNNI (VEX VPDPBUSD) rather than AVX2 byte products
}

var avx512 = isa{name: "AVX512", v: "Z", lanes: 4, maxT: 16, maxT1: 8}

// Row pointers: rows 4l..4l+3 of the group are at lp[l] + i*SI.
var lp = []string{"AX", "BX", "R10", "R13"}

func rowAddr(off, row int) string {
	l, i := row/4, row%4
	idx := []string{"", "(SI*1)", "(SI*2)", "(R8*1)"}[i]
	return fmt.Sprintf("%d(%s)%s", off, lp[l], idx)
}

func (s isa) reg(n int) string { return fmt.Sprintf("%s%d", s.v, n) }
func (s isa) rows() int        { return 4 * s.lanes }

// load4 loads 16 bytes at off from each row of the group into d[0..3]
// (d[i] holds rows i, 4+i, 8+i, 12+i in its 128-bit lanes) and transposes
// each lane as a 4x4 matrix of dwords, so that d[k] lane r holds dword k
// of row r. t[0..3] are scratch.
func (g *gen) load4(s isa, off int, d, t [4]int) {
	for i := 0; i < 4; i++ {
		g.i("VMOVDQU %s, X%d", rowAddr(off, i), d[i])
		for l := 1; l < s.lanes; l++ {
			if s.v == "Z" {
				g.i("VINSERTI32X4 $%d, %s, Z%d, Z%d", l, rowAddr(off, 4*l+i), d[i], d[i])
			} else {
				g.i("VINSERTI128 $%d, %s, Y%d, Y%d", l, rowAddr(off, 4*l+i), d[i], d[i])
			}
		}
	}
	r := s.reg
	g.i("VPUNPCKLDQ %s, %s, %s", r(d[1]), r(d[0]), r(t[0]))
	g.i("VPUNPCKHDQ %s, %s, %s", r(d[1]), r(d[0]), r(t[1]))
	g.i("VPUNPCKLDQ %s, %s, %s", r(d[3]), r(d[2]), r(t[2]))
	g.i("VPUNPCKHDQ %s, %s, %s", r(d[3]), r(d[2]), r(t[3]))
	g.i("VPUNPCKLQDQ %s, %s, %s", r(t[2]), r(t[0]), r(d[0]))
	g.i("VPUNPCKHQDQ %s, %s, %s", r(t[2]), r(t[0]), r(d[1]))
	g.i("VPUNPCKLQDQ %s, %s, %s", r(t[3]), r(t[1]), r(d[2]))
	g.i("VPUNPCKHQDQ %s, %s, %s", r(t[3]), r(t[1]), r(d[3]))
}

// halves gathers the fp16 at off of every row of the group into the
// float32 lanes of register dst (tmp is scratch).
func (g *gen) halves(s isa, off, dst, tmp int) {
	for j := 0; j < 8; j++ {
		g.i("VPINSRW $%d, %s, X%d, X%d", j, rowAddr(off, j), dst, dst)
	}
	if s.rows() == 16 {
		for j := 0; j < 8; j++ {
			g.i("VPINSRW $%d, %s, X%d, X%d", j, rowAddr(off, 8+j), tmp, tmp)
		}
		g.i("VINSERTI128 $1, X%d, Y%d, Y%d", tmp, dst, dst)
		g.i("VCVTPH2PS Y%d, Z%d", dst, dst)
	} else {
		g.i("VCVTPH2PS X%d, Y%d", dst, dst)
	}
}

// Packed weights (see legacy_pack_amd64.go in package cpu) hold each
// group of 16 rows block column by block column, already in the layout
// the registers need: the 16 fp16 scales d, for the types with a min the
// 16 fp16 mins, for Q5_0 and Q5_1 the 16 32-bit qh, then the quants as
// the transposed registers (for Q8_0 eight of 64 bytes, else four: dword
// k of row r at 64k+4r). That is 16 blocks' bytes, so a packed group
// occupies the same bytes as its rows did.
type packedOffsets struct{ d, m, qh, qs, size int }

func (w wtype) packed() packedOffsets {
	o := packedOffsets{d: 0, m: -1, qh: -1}
	off := 32
	if w.mins {
		o.m = off
		off += 32
	}
	if w.qhOff >= 0 {
		o.qh = off
		off += 64
	}
	o.qs = off
	if w.q8 {
		off += 512
	} else {
		off += 256
	}
	o.size = off
	if off != 16*w.blockBytes {
		panic("packed block size of " + w.name)
	}
	return o
}

// prepPacked is prep for packed weights at AX.
func (g *gen) prepPacked(s isa, w wtype) {
	r := s.reg
	o := w.packed()
	if w.q8 {
		for k := 0; k < 8; k++ {
			g.i("VPXORD %d(AX), %s, %s", o.qs+64*k, r(9), r(k))
		}
	} else {
		for k := 0; k < 4; k++ {
			g.i("VMOVDQU32 %d(AX), %s", o.qs+64*k, r(k))
		}
		for k := 0; k < 4; k++ {
			g.i("VPSRLD $4, %s, %s", r(k), r(k+4))
			g.i("VPANDD %s, %s, %s", r(9), r(k), r(k))
			g.i("VPANDD %s, %s, %s", r(9), r(k+4), r(k+4))
		}
		if w.iq4 {
			for k := 0; k < 8; k++ {
				g.i("VPSHUFB %s, %s, %s", r(k), r(14), r(k))
			}
		}
		if w.qhOff >= 0 {
			g.i("VMOVDQU32 %d(AX), %s", o.qh, r(10))
			for k := 0; k < 8; k++ {
				g.i("VPSHUFB q5ctrl<>+%d(SB), %s, %s", 64*(k/2), r(10), r(11))
				g.i("VPTESTMB q5bits<>+%d(SB), %s, K1", 64*(k%2), r(11))
				g.i("VPADDB %s, %s, K1, %s", r(14), r(k), r(k))
			}
		}
	}
	g.i("VCVTPH2PS %d(AX), %s", o.d, r(8))
	if w.mins {
		g.i("VCVTPH2PS %d(AX), %s", o.m, r(15))
	}
}

// prep loads block data of the current block of the row group: the eight
// transposed unsigned-byte registers 0..7, the scales in 8, the mins in 15.
func (g *gen) prep(s isa, w wtype) {
	r := s.reg
	if w.q8 {
		g.load4(s, w.qsOff, [4]int{0, 1, 2, 3}, [4]int{4, 5, 6, 7})
		g.load4(s, w.qsOff+16, [4]int{4, 5, 6, 7}, [4]int{10, 11, 12, 13})
		for k := 0; k < 8; k++ {
			g.i("VPXORD %s, %s, %s", r(9), r(k), r(k))
		}
	} else {
		g.load4(s, w.qsOff, [4]int{0, 1, 2, 3}, [4]int{4, 5, 6, 7})
		for k := 0; k < 4; k++ {
			g.i("VPSRLD $4, %s, %s", r(k), r(k+4))
			g.i("VPANDD %s, %s, %s", r(9), r(k), r(k))
			g.i("VPANDD %s, %s, %s", r(9), r(k+4), r(k+4))
		}
		if w.iq4 {
			for k := 0; k < 8; k++ {
				g.i("VPSHUFB %s, %s, %s", r(k), r(14), r(k))
			}
		}
		if w.qhOff >= 0 {
			// Gather the 32-bit qh of each row into register 10's lanes.
			for x := 0; x < s.lanes; x++ {
				for j := 0; j < 4; j++ {
					g.i("VPINSRD $%d, %s, X%d, X%d", j, rowAddr(w.qhOff, 4*x+j), 10+x, 10+x)
				}
			}
			g.i("VINSERTI128 $1, X11, Y10, Y10")
			if s.lanes == 4 {
				g.i("VINSERTI128 $1, X13, Y12, Y12")
				g.i("VINSERTI64X4 $1, Y12, Z10, Z10")
			}
			// Element 4k+i of a row is bit 4k+i of its qh: replicate qh
			// byte k/2 over each dword, test bit (4k+i)%8 of byte i, and
			// add 16 where it is set.
			for k := 0; k < 8; k++ {
				g.i("VPSHUFB q5ctrl<>+%d(SB), %s, %s", 64*(k/2), r(10), r(11))
				g.i("VPTESTMB q5bits<>+%d(SB), %s, K1", 64*(k%2), r(11))
				g.i("VPADDB %s, %s, K1, %s", r(14), r(k), r(k))
			}
		}
	}
	g.halves(s, 0, 8, 10)
	if w.mins {
		g.halves(s, 2, 15, 11)
	}
}

// tileFunc emits the kernel for weight type w:
//
//	func tile<w><isa>(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)
func (g *gen) tileFunc(s isa, w wtype, packed bool) {
	fn := fmt.Sprintf("tile%s%s", w.name, s.name)
	if packed {
		fn += "P"
	}
	maxT := s.maxT
	if w.mins {
		maxT = s.maxT1
	}
	g.raw(fmt.Sprintf("\n// func %s(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)\n", fn))
	g.raw(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-64\n", fn))
	g.i("MOVQ nt+40(FP), R9")
	for T := 1; T <= maxT; T++ {
		g.i("CMPQ R9, $%d", T)
		g.i("JEQ %s_t%d", fn, T)
	}
	g.i("RET")
	for T := 1; T <= maxT; T++ {
		g.tileBody(s, w, fn, T, packed)
	}
}

func (g *gen) tileBody(s isa, w wtype, fn string, T int, packed bool) {
	r := s.reg
	L := fmt.Sprintf("%s_t%d", fn, T)
	g.label(L)
	g.i("MOVQ w+0(FP), DI")
	g.i("MOVQ ws+8(FP), SI")
	g.i("LEAQ (SI)(SI*2), R8")
	g.i("MOVQ out+48(FP), R11")
	g.i("MOVQ rows+16(FP), R12")
	g.i("SHRQ $%d, R12", map[int]int{8: 3, 16: 4}[s.rows()])
	switch {
	case w.q8:
		g.i("MOVL $0x80808080, R9")
	default:
		g.i("MOVL $0x0f0f0f0f, R9")
	}
	g.i("VPBROADCASTD R9, %s", r(9))
	switch {
	case w.iq4:
		g.i("VBROADCASTI32X4 iq4nl<>(SB), %s", r(14))
	case w.qhOff >= 0:
		g.i("MOVL $0x10101010, R9")
		g.i("VPBROADCASTD R9, %s", r(14))
	}
	g.label(L + "_group")
	g.i("MOVQ DI, AX")
	if !packed {
		g.i("LEAQ (DI)(SI*4), BX")
		if s.lanes == 4 {
			g.i("LEAQ (DI)(SI*8), R10")
			g.i("LEAQ (BX)(SI*8), R13")
		}
	}
	g.i("MOVQ pan+24(FP), DX")
	g.i("MOVQ nb+32(FP), CX")
	// R14 walks the next row group's memory, which is contiguous when the
	// rows are, prefetching it while this group runs: the group's rows are
	// read as 16 streams that the hardware prefetchers do not follow well.
	// A packed group is one stream, which they do follow: there the same
	// prefetches made one token of Q4_0 10-25% slower (BenchmarkMatVec,
	// 5632x2048 and 2048x5632 on 1 and 2 threads; Q8_0 the same).
	if !packed {
		g.i("MOVQ SI, R14")
		g.i("SHLQ $%d, R14", map[int]int{8: 3, 16: 4}[s.rows()])
		g.i("ADDQ DI, R14")
	}
	acc := func(t int) int { return 16 + t }
	macc := func(t int) int { return 24 + t }
	for t := 0; t < T; t++ {
		g.i("VPXORD %s, %s, %s", r(acc(t)), r(acc(t)), r(acc(t)))
		if w.mins {
			g.i("VPXORD %s, %s, %s", r(macc(t)), r(macc(t)), r(macc(t)))
		}
	}
	g.label(L + "_block")
	stride := s.rows() * w.blockBytes
	if !packed {
		g.prefetchNextGroup(stride, stride+63)
	}
	if packed {
		g.prepPacked(s, w)
	} else {
		g.prep(s, w)
	}
	for t := 0; t < T; t++ {
		a, tmp := 10+2*(t%2), 11+2*(t%2)
		if w.mins {
			g.i("VPXORD %s, %s, %s", r(a), r(a), r(a))
		} else {
			g.i("VPBROADCASTD %d(DX), %s", panelC(T, t), r(a))
			g.i("VPSLLD $%d, %s, %s", w.shift, r(a), r(a))
		}
		for k := 0; k < 8; k++ {
			g.i("VPDPBUSD.BCST %d(DX), %s, %s", panelQ(T, t, k), r(k), r(a))
		}
		g.i("VCVTDQ2PS %s, %s", r(a), r(a))
		g.i("VMULPS.BCST %d(DX), %s, %s", panelD(T, t), r(8), r(tmp))
		g.i("VMULPS %s, %s, %s", r(tmp), r(a), r(a))
		g.i("VADDPS %s, %s, %s", r(a), r(acc(t)), r(acc(t)))
		if w.mins {
			g.i("VMULPS.BCST %d(DX), %s, %s", panelC(T, t), r(15), r(tmp))
			g.i("VADDPS %s, %s, %s", r(tmp), r(macc(t)), r(macc(t)))
		}
	}
	if packed {
		g.i("ADDQ $%d, AX", stride)
	} else {
		for _, p := range lp[:s.lanes] {
			g.i("ADDQ $%d, %s", w.blockBytes, p)
		}
	}
	g.i("ADDQ $%d, DX", 40*T)
	g.i("DECQ CX")
	g.i("JNZ %s_block", L)
	g.i("MOVQ ldo+56(FP), R9")
	g.i("SHLQ $2, R9")
	g.i("MOVQ R11, CX")
	for t := 0; t < T; t++ {
		if w.mins {
			g.i("VADDPS %s, %s, %s", r(macc(t)), r(acc(t)), r(acc(t)))
		}
		g.i("VMOVUPS %s, (CX)", r(acc(t)))
		if t < T-1 {
			g.i("ADDQ R9, CX")
		}
	}
	g.i("ADDQ $%d, R11", 4*s.rows())
	g.i("MOVQ SI, R9")
	g.i("SHLQ $%d, R9", map[int]int{8: 3, 16: 4}[s.rows()])
	g.i("ADDQ R9, DI")
	g.i("DECQ R12")
	g.i("JNZ %s_group", L)
	g.i("VZEROUPPER")
	g.i("RET")
}

// data emits the constant tables.
func (g *gen) data() {
	// IQ4_NL levels plus 128, as unsigned bytes.
	iq4 := []int{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}
	var b []byte
	for _, v := range iq4 {
		b = append(b, byte(v+128))
	}
	g.bytesData("iq4nl", b)
	// q5ctrl: for k/2 = 0..3, 64 bytes: every dword takes byte k/2 of itself.
	b = b[:0]
	for h := 0; h < 4; h++ {
		for d := 0; d < 16; d++ {
			for i := 0; i < 4; i++ {
				b = append(b, byte(4*(d%4)+h))
			}
		}
	}
	g.bytesData("q5ctrl", b)
	// q5bits: for k even and odd, byte i of every dword tests bit (4k+i)%8.
	b = b[:0]
	for odd := 0; odd < 2; odd++ {
		for d := 0; d < 16; d++ {
			for i := 0; i < 4; i++ {
				b = append(b, byte(1)<<(4*odd+i))
			}
		}
	}
	g.bytesData("q5bits", b)
}

func (g *gen) bytesData(name string, b []byte) {
	for i := 0; i < len(b); i += 8 {
		var v uint64
		for j := 0; j < 8 && i+j < len(b); j++ {
			v |= uint64(b[i+j]) << (8 * j)
		}
		n := min(8, len(b)-i)
		g.raw(fmt.Sprintf("DATA %s<>+%d(SB)/%d, $0x%0*x\n", name, i, n, 2*n, v))
	}
	g.raw(fmt.Sprintf("GLOBL %s<>(SB), RODATA|NOPTR, $%d\n\n", name, len(b)))
}

func main() {
	dir := flag.String("dir", ".", "directory to write the .s files to")
	flag.Parse()
	const header = "// Code generated by _asm/legacy; DO NOT EDIT.\n\n//go:build !noasm\n\n#include \"textflag.h\"\n\n"
	g := &gen{}
	g.raw(header)
	g.data()
	for _, w := range types {
		g.tileFunc(avx512, w, false)
	}
	for _, w := range types {
		g.tileFunc(avx512, w, true)
	}
	for _, f16 := range []bool{true, false} {
		g.floatTile(f16, false)
		g.floatDot(f16)
	}
	for _, f16 := range []bool{true, false} {
		g.floatTile(f16, true)
	}
	write(filepath.Join(*dir, "legacy_amd64.s"), g.b.Bytes())

	g = &gen{}
	g.raw(header)
	g.data2()
	for _, s := range []isa{avx2, avxvnni} {
		for _, w := range types {
			g.tileFunc2(s, w)
		}
	}
	for _, f16 := range []bool{true, false} {
		g.floatTile2(f16)
		g.floatDot2(f16)
	}
	write(filepath.Join(*dir, "legacy_avx2_amd64.s"), g.b.Bytes())
}

func write(name string, src []byte) {
	if err := os.WriteFile(name, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// Float tiles: F16 or F32 weights times float32 activations (F16
// activations are float32 values rounded to F16). Each (row, token) pair
// has its own ZMM accumulator of 16 lanes: lane l sums the products of
// elements 16i+l with FMA, the last partial step masked; the lanes are then
// reduced by hsum16. Groups of floatRows rows by up to floatTokens tokens;
// vecDot uses the same sequence for one pair, so its results are the
// tile's bit for bit.
const (
	floatRows   = 4
	floatTokens = 6
)

var tokAddr = []string{"(DX)", "(DX)(BX*1)", "(DX)(BX*2)", "(DX)(R9*1)", "(DX)(BX*4)", "(DX)(R10*1)"}

func rowAddrF(r int) string {
	return []string{"(AX)", "(AX)(SI*1)", "(AX)(SI*2)", "(AX)(R8*1)"}[r]
}

// prefetchNextGroup emits the prefetches of one step of an unpacked tile:
// R14 walks the next row group's memory (contiguous when the rows are) at
// the pace this step consumes the current group (stride bytes), so that
// the group's rows, which the hardware prefetchers follow poorly as
// separate streams, arrive as one sequential stream. Generation (one
// token) reads the weights at memory speed, so this is most of its time.
// The step prefetches the lines starting in its first span bytes: stride
// for the float tiles, stride+63 for the block types, whose steps are not
// whole lines.
func (g *gen) prefetchNextGroup(stride, span int) {
	for off := 0; off < span; off += 64 {
		g.i("PREFETCHT0 %d(R14)", off)
	}
	g.i("ADDQ $%d, R14", stride)
}

// floatStep emits one step of 16 elements for R rows and T tokens; masked
// uses K1 for a partial step.
func (g *gen) floatStep(f16 bool, R, T int, masked bool, wAddr func(int) string, aAddr func(int) string) {
	z := ""
	k := ""
	if masked {
		z, k = ".Z", " K1,"
	}
	for r := 0; r < R; r++ {
		if f16 {
			g.i("VCVTPH2PS%s %s,%s Z%d", z, wAddr(r), k, r)
		} else {
			g.i("VMOVUPS%s %s,%s Z%d", z, wAddr(r), k, r)
		}
	}
	for t := 0; t < T; t++ {
		a := 4 + t%4
		g.i("VMOVUPS%s %s,%s Z%d", z, aAddr(t), k, a)
		for r := 0; r < R; r++ {
			g.i("VFMADD231PS Z%d, Z%d, Z%d", a, r, 8+r*floatTokens+t)
		}
	}
}

// hsum16 reduces Z to its lane sum in the low lane of X (Y is its YMM
// name); Z1 is scratch.
func (g *gen) hsum16(n int) {
	g.i("VEXTRACTF64X4 $1, Z%d, Y1", n)
	g.i("VADDPS Y1, Y%d, Y1", n)
	g.i("VEXTRACTF128 $1, Y1, X0")
	g.i("VADDPS X0, X1, X1")
	g.i("VPERMILPS $0x4e, X1, X0")
	g.i("VADDPS X0, X1, X1")
	g.i("VPERMILPS $0xb1, X1, X0")
	g.i("VADDSS X0, X1, X1")
}

// floatMask sets K1 to the low n%16 bits (n in CX) and CX to n/16.
func (g *gen) floatMask() {
	g.i("MOVQ CX, R13")
	g.i("ANDQ $15, R13")
	g.i("MOVL $1, R12")
	g.i("SHLXL R13, R12, R12")
	g.i("DECL R12")
	g.i("KMOVW R12, K1")
	g.i("SHRQ $4, CX")
}

// func tileF16AVX512(w *byte, ws, rows int, pan *byte, cols, nt int, out *float32, ldo int)
//
// The packed variant (suffix P) reads groups of floatRows rows packed in
// steps of 16 elements: the rows' 16 elements of a step follow each other
// (64 or 32 bytes each), so that a group is one contiguous stream. It
// needs cols to be a multiple of 16.
func (g *gen) floatTile(f16, packed bool) {
	name := "F32"
	eb := 4
	if f16 {
		name, eb = "F16", 2
	}
	fn := "tile" + name + "AVX512"
	wAddr := rowAddrF
	if packed {
		fn += "P"
		wAddr = func(r int) string { return fmt.Sprintf("%d(AX)", 16*eb*r) }
	}
	g.raw(fmt.Sprintf("\n// func %s(w *byte, ws, rows int, pan *byte, cols, nt int, out *float32, ldo int)\n", fn))
	g.raw(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-64\n", fn))
	g.i("MOVQ nt+40(FP), R9")
	for T := 1; T <= floatTokens; T++ {
		g.i("CMPQ R9, $%d", T)
		g.i("JEQ %s_t%d", fn, T)
	}
	g.i("RET")
	for T := 1; T <= floatTokens; T++ {
		L := fmt.Sprintf("%s_t%d", fn, T)
		g.label(L)
		g.i("MOVQ w+0(FP), DI")
		g.i("MOVQ ws+8(FP), SI")
		g.i("LEAQ (SI)(SI*2), R8")
		g.i("MOVQ cols+32(FP), BX")
		g.i("SHLQ $2, BX")
		g.i("LEAQ (BX)(BX*2), R9")
		g.i("LEAQ (BX)(BX*4), R10")
		g.i("MOVQ out+48(FP), R11")
		g.label(L + "_group")
		g.i("MOVQ DI, AX")
		if !packed {
			g.i("LEAQ (DI)(SI*4), R14") // the next group, floatRows rows on
		}
		g.i("MOVQ pan+24(FP), DX")
		g.i("MOVQ cols+32(FP), CX")
		g.floatMask()
		for r := 0; r < floatRows; r++ {
			for t := 0; t < T; t++ {
				n := 8 + r*floatTokens + t
				g.i("VPXORD Z%d, Z%d, Z%d", n, n, n)
			}
		}
		g.i("TESTQ CX, CX")
		g.i("JZ %s_tail", L)
		g.label(L + "_loop")
		if !packed {
			g.prefetchNextGroup(floatRows*16*eb, floatRows*16*eb)
		}
		g.floatStep(f16, floatRows, T, false, wAddr, func(t int) string { return tokAddr[t] })
		if packed {
			g.i("ADDQ $%d, AX", 16*eb*floatRows)
		} else {
			g.i("ADDQ $%d, AX", 16*eb)
		}
		g.i("ADDQ $64, DX")
		g.i("DECQ CX")
		g.i("JNZ %s_loop", L)
		g.label(L + "_tail")
		g.i("KORTESTW K1, K1")
		g.i("JZ %s_sum", L)
		g.floatStep(f16, floatRows, T, true, wAddr, func(t int) string { return tokAddr[t] })
		g.label(L + "_sum")
		g.i("MOVQ ldo+56(FP), CX")
		g.i("SHLQ $2, CX")
		g.i("MOVQ R11, DX")
		for t := 0; t < T; t++ {
			for r := 0; r < floatRows; r++ {
				g.hsum16(8 + r*floatTokens + t)
				g.i("VMOVSS X1, %d(DX)", 4*r)
			}
			g.i("ADDQ CX, DX")
		}
		g.i("ADDQ $%d, R11", 4*floatRows)
		g.i("LEAQ (DI)(SI*4), DI")
		g.i("SUBQ $%d, rows+16(FP)", floatRows)
		g.i("JNZ %s_group", L)
		g.i("VZEROUPPER")
		g.i("RET")
	}
}

// func vecDotF16AVX512(n int, w, a *byte) float32
func (g *gen) floatDot(f16 bool) {
	name := "F32"
	eb := 4
	if f16 {
		name, eb = "F16", 2
	}
	fn := "vecDot" + name + "AVX512"
	g.raw(fmt.Sprintf("\n// func %s(n int, w, a *byte) float32\n", fn))
	g.raw(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-28\n", fn))
	g.i("MOVQ n+0(FP), CX")
	g.i("MOVQ w+8(FP), AX")
	g.i("MOVQ a+16(FP), DX")
	g.floatMask()
	g.i("VPXORD Z8, Z8, Z8")
	L := fn
	g.i("TESTQ CX, CX")
	g.i("JZ %s_tail", L)
	g.label(L + "_loop")
	g.floatStep(f16, 1, 1, false, rowAddrF, func(t int) string { return tokAddr[t] })
	g.i("ADDQ $%d, AX", 16*eb)
	g.i("ADDQ $64, DX")
	g.i("DECQ CX")
	g.i("JNZ %s_loop", L)
	g.label(L + "_tail")
	g.i("KORTESTW K1, K1")
	g.i("JZ %s_sum", L)
	g.floatStep(f16, 1, 1, true, rowAddrF, func(t int) string { return tokAddr[t] })
	g.label(L + "_sum")
	g.hsum16(8)
	g.i("VMOVSS X1, ret+24(FP)")
	g.i("VZEROUPPER")
	g.i("RET")
}
