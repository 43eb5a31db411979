package main

import "fmt"

// Tile kernels of the 32-element block types, with Q8_0 or Q8_1 panels
// (see legacy_panel.go in package cpu): per block, the nt tokens' 32 quants,
// their float32 scales, then per token minus the quant sum (Q8_0, unused
// here) or the float32 s = d*sum (Q8_1), 40*nt bytes.
//
// Registers: R0 the weight rows of the group, R1 the row stride, R2 the
// rows left, R3 the panel, R4 blocks per row, R5 tokens, R6 the output of
// the group, R7 the output stride in bytes, R8-R11 the four rows' blocks,
// R12 the panel block, R13 blocks left, R14 R15 R20 scratch, R19 four
// rows' stride.
//
// V0-V7 the unpacked weights (row i in V2i, V2i+1), V8 the rows' scales
// d, V19 their mins m (Q8_1), V9 (and V10 for tokens 4-7) the tokens'
// scales, V10 their sums s (Q8_1), V11 V12 a token's quants, V13-V16 the
// rows' block sums, V17 V18 scratch, V20-V27 the accumulators (Q8_1:
// V20-V23 the sums, V24-V27 the mins' products), V28-V31 constants.

type legacyType struct {
	name  string
	bb    int  // bytes per block
	q8_1  bool // Q8_1 panels (weights with a min)
	kind  string
	maxT  int
	qhOff bool
}

var legacyTypes = []legacyType{
	{name: "Q4_0", bb: 18, kind: "q4", maxT: 8},
	{name: "Q8_0", bb: 34, kind: "q8", maxT: 8},
	{name: "IQ4_NL", bb: 18, kind: "iq4", maxT: 8},
	{name: "Q5_0", bb: 22, kind: "q5", maxT: 8},
	{name: "Q4_1", bb: 20, kind: "q4", q8_1: true, maxT: 4},
	{name: "Q5_1", bb: 24, kind: "q5", q8_1: true, maxT: 4},
}

func (g *gen) legacyTables() {
	g.raw(`// The 16 levels of IQ4_NL.
DATA neonTileIQ4NL<>+0(SB)/8, $0xf6eaddcfbfad9881
DATA neonTileIQ4NL<>+8(SB)/8, $0x7159453526190d01
GLOBL neonTileIQ4NL<>(SB), RODATA|NOPTR, $16

// Bit j%8 in byte j, and the byte index j/8, for spreading 16 bits of
// fifth bits (Q5_0, Q5_1) over 16 bytes.
DATA neonTileBits<>+0(SB)/8, $0x8040201008040201
DATA neonTileBits<>+8(SB)/8, $0x8040201008040201
DATA neonTileBits<>+16(SB)/8, $0x0000000000000000
DATA neonTileBits<>+24(SB)/8, $0x0101010101010101
GLOBL neonTileBits<>(SB), RODATA|NOPTR, $32

`)
}

// unpack loads block row i (pointer register p, advanced past the block)
// into V2i (elements 0-15) and V2i+1 (16-31) as signed bytes, its scale
// into lane i of V8 and its min into lane i of V19.
func (g *gen) legacyUnpack(t legacyType, i int) {
	p := fmt.Sprintf("R%d", 8+i)
	lo, hi := 2*i, 2*i+1
	g.i("VLD1.P 2(%s), V8.H[%d]", p, i)
	if t.q8_1 {
		g.i("VLD1.P 2(%s), V19.H[%d]", p, i)
	}
	switch t.kind {
	case "q8":
		g.i("VLD1.P 32(%s), [V%d.B16, V%d.B16]", p, lo, hi)
		return
	case "q5":
		g.i("MOVWU.P 4(%s), R20", p)
		g.i("VMOV R20, V17.S[0]")
		g.i("LSR $16, R20, R20")
		g.i("VMOV R20, V18.S[0]")
		g.i("VTBL V31.B16, [V17.B16], V17.B16")
		g.i("VTBL V31.B16, [V18.B16], V18.B16")
		g.i("VCMTST V30.B16, V17.B16, V17.B16")
		g.i("VCMTST V30.B16, V18.B16, V18.B16")
		g.i("VAND V29.B16, V17.B16, V17.B16")
		g.i("VAND V29.B16, V18.B16, V18.B16")
	}
	g.i("VLD1.P 16(%s), [V%d.B16]", p, lo)
	g.i("VUSHR $4, V%d.B16, V%d.B16", lo, hi)
	g.i("VAND V28.B16, V%d.B16, V%d.B16", lo, lo)
	switch t.kind {
	case "q4":
		if !t.q8_1 {
			g.i("VSUB V29.B16, V%d.B16, V%d.B16", lo, lo)
			g.i("VSUB V29.B16, V%d.B16, V%d.B16", hi, hi)
		}
	case "iq4":
		g.i("VTBL V%d.B16, [V29.B16], V%d.B16", lo, lo)
		g.i("VTBL V%d.B16, [V29.B16], V%d.B16", hi, hi)
	case "q5":
		g.i("VORR V17.B16, V%d.B16, V%d.B16", lo, lo)
		g.i("VORR V18.B16, V%d.B16, V%d.B16", hi, hi)
		if !t.q8_1 {
			g.i("VSUB V29.B16, V%d.B16, V%d.B16", lo, lo)
			g.i("VSUB V29.B16, V%d.B16, V%d.B16", hi, hi)
		}
	}
}

func (g *gen) legacyTile(t legacyType, s isa) {
	fn := "tile" + t.name + s.name
	g.raw(fmt.Sprintf("// func %s(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)\n", fn))
	g.raw(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-64\n", fn))
	g.i("MOVD w+0(FP), R0")
	g.i("MOVD ws+8(FP), R1")
	g.i("MOVD rows+16(FP), R2")
	g.i("MOVD pan+24(FP), R3")
	g.i("MOVD nb+32(FP), R4")
	g.i("MOVD nt+40(FP), R5")
	g.i("MOVD out+48(FP), R6")
	g.i("MOVD ldo+56(FP), R7")
	g.i("LSL $2, R7, R7")
	g.i("LSL $2, R1, R19")
	switch t.kind {
	case "q4":
		g.i("VMOVI $15, V28.B16")
		g.i("VMOVI $8, V29.B16")
	case "iq4":
		g.i("VMOVI $15, V28.B16")
		g.i("MOVD $neonTileIQ4NL<>(SB), R14")
		g.i("VLD1 (R14), [V29.B16]")
	case "q5":
		g.i("VMOVI $15, V28.B16")
		g.i("VMOVI $16, V29.B16")
		g.i("MOVD $neonTileBits<>(SB), R14")
		g.i("VLD1 (R14), [V30.B16, V31.B16]")
	}
	for n := 1; n < t.maxT; n++ {
		g.i("CMP $%d, R5", n)
		g.i("BEQ nt%d", n)
	}
	g.i("B nt%d", t.maxT)
	for n := 1; n <= t.maxT; n++ {
		g.legacyLoop(t, s, n)
	}
	g.raw("\n")
}

func (g *gen) legacyLoop(t legacyType, s isa, n int) {
	acc := func(k int) int { return 20 + k }
	mins := func(k int) int { return 24 + k }
	g.label(fmt.Sprintf("nt%d", n))
	g.i("MOVD R0, R8")
	g.i("ADD R1, R8, R9")
	g.i("ADD R1, R9, R10")
	g.i("ADD R1, R10, R11")
	g.i("MOVD R3, R12")
	g.i("MOVD R4, R13")
	for k := 0; k < n; k++ {
		g.i("VEOR V%d.B16, V%d.B16, V%d.B16", acc(k), acc(k), acc(k))
		if t.q8_1 {
			g.i("VEOR V%d.B16, V%d.B16, V%d.B16", mins(k), mins(k), mins(k))
		}
	}
	g.label(fmt.Sprintf("nt%dblock", n))
	for i := 0; i < 4; i++ {
		g.legacyUnpack(t, i)
	}
	g.i("FCVTL(8, 8)")
	if t.q8_1 {
		g.i("FCVTL(19, 19)")
	}
	g.i("ADD $%d, R12, R14", 32*n)
	g.loadF32s("R14", n, 9, 10)
	if t.q8_1 {
		g.i("ADD $%d, R12, R14", 36*n)
		g.loadF32s("R14", n, 10, -1)
	}
	g.i("MOVD R12, R14")
	for k := 0; k < n; k++ {
		g.i("VLD1.P 32(R14), [V11.B16, V12.B16]")
		for i := 0; i < 4; i++ {
			g.dot32(s, 13+i, 2*i, 2*i+1, 11, 12, 17, 18)
		}
		g.i("ADDP(13, 13, 14)")
		g.i("ADDP(15, 15, 16)")
		g.i("ADDP(13, 13, 15)")
		g.i("SCVTF4S(13, 13)")
		g.i("FMULE(14, 8, %d, %d)", 9+k/4, k%4)
		g.i("FMLA4S(%d, 13, 14)", acc(k))
		if t.q8_1 {
			g.i("FMLAE(%d, 19, 10, %d)", mins(k), k)
		}
	}
	g.i("ADD $%d, R12", 40*n)
	g.i("SUBS $1, R13")
	g.i("BNE nt%dblock", n)
	g.i("MOVD R6, R14")
	for k := 0; k < n; k++ {
		if t.q8_1 {
			g.i("FADD4S(%d, %d, %d)", acc(k), acc(k), mins(k))
		}
		g.i("VST1 [V%d.S4], (R14)", acc(k))
		if k < n-1 {
			g.i("ADD R7, R14")
		}
	}
	g.i("ADD R19, R0")
	g.i("ADD $16, R6")
	g.i("SUBS $4, R2")
	g.i("BNE nt%d", n)
	g.i("RET")
}
