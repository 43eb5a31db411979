package main

import "fmt"

// Tile kernels of the K-quants: one weight row by up to 4 tokens, whose
// Q8_K rows are the panel (token t's row at pan + t*nb*292; a Q8_K block
// is a float32 scale d, 256 quants and 16 int16 sums of 16 quants).
//
// The integer work of a super-block is done sub-block by sub-block: for
// each token, the products of a sub-block (SDOT or widening multiplies,
// four int32 lanes) are multiplied by the sub-block's scale and added to
// the token's four-lane total (MLA by element). The totals then reduce
// pairwise to one vector whose lane t holds token t's sum, so the float
// part is done for the four tokens at once.
//
// Registers: R0 the row, R1 the row stride, R2 the rows left, R3 the
// panel, R4 blocks per row, R5 tokens, R6 the row's output, R7 the output
// stride in bytes, R8 the weight block, R9 blocks left, R10 the panel's
// row stride, R12-R15 the tokens' Q8_K blocks, R16 R17 R19-R24 scratch.

const kqTokens = 4

type kqType struct {
	name string
	bb   int
}

var kqTypes = []kqType{{"Q4_K", 144}, {"Q6_K", 210}}

func (g *gen) kqTile(t kqType, s isa) {
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
	g.i("MOVD $292, R10")
	g.i("MUL R4, R10, R10")
	switch t.name {
	case "Q4_K":
		g.i("VMOVI $15, V12.B16")
	case "Q6_K":
		g.i("VMOVI $15, V27.B16")
		g.i("VMOVI $48, V28.B16")
		g.i("VMOVI $32, V29.B16")
	}
	for n := 1; n < kqTokens; n++ {
		g.i("CMP $%d, R5", n)
		g.i("BEQ nt%d", n)
	}
	g.i("B nt%d", kqTokens)
	for n := 1; n <= kqTokens; n++ {
		g.kqLoop(t, s, n)
	}
	g.raw("\n")
}

// tok is token k's Q8_K block pointer.
func tok(k int) string { return fmt.Sprintf("R%d", 12+k) }

func (g *gen) kqLoop(t kqType, s isa, n int) {
	g.label(fmt.Sprintf("nt%d", n))
	g.i("MOVD R0, R8")
	g.i("MOVD R4, R9")
	g.i("MOVD R3, R12")
	for k := 1; k < n; k++ {
		g.i("ADD R10, R%d, R%d", 11+k, 12+k)
	}
	acc := 22
	if t.name == "Q6_K" {
		acc = 25
	}
	g.i("VEOR V%d.B16, V%d.B16, V%d.B16", acc, acc, acc)
	g.label(fmt.Sprintf("nt%dblock", n))
	switch t.name {
	case "Q4_K":
		g.q4KBlock(s, n)
	case "Q6_K":
		g.q6KBlock(s, n)
	}
	g.i("ADD $%d, R8", t.bb)
	g.i("SUBS $1, R9")
	g.i("BNE nt%dblock", n)
	g.i("MOVD R6, R16")
	for k := 0; k < n; k++ {
		g.i("VST1 V%d.S[%d], (R16)", acc, k)
		if k < n-1 {
			g.i("ADD R7, R16")
		}
	}
	g.i("ADD R1, R0")
	g.i("ADD $4, R6")
	g.i("SUBS $1, R2")
	g.i("BNE nt%d", n)
	g.i("RET")
}

// q4KBlock: V0-V3 a pair of sub-blocks' weights (low nibbles V0 V1, high
// V2 V3), V4-V7 a token's 64 quants, V8 V9 sub-block products, V10 V11
// scratch, V12 0x0f, V13 the mins (int16), V14 V15 the scales (int32),
// V16-V19 the tokens' totals, V20 the tokens' d, V21 the row's d and dmin,
// V22 the accumulators.
func (g *gen) q4KBlock(s isa, n int) {
	// Scales and mins (see kScaleMin): bytes 0-3 of the 12 hold scales
	// 0-3 in their low six bits, bytes 4-7 mins 0-3; bytes 8-11 the low
	// four bits of scales 4-7 (low nibbles) and mins 4-7 (high nibbles),
	// whose top two bits are the top bits of bytes 0-3 and 4-7.
	g.i("MOVWU 4(R8), R16")
	g.i("MOVWU 8(R8), R17")
	g.i("MOVWU 12(R8), R19")
	g.i("MOVW $0x3f3f3f3f, R20")
	g.i("MOVW $0x0f0f0f0f, R21")
	g.i("MOVW $0x03030303, R22")
	g.i("AND R20, R16, R23") // scales 0-3
	g.i("AND R21, R19, R24")
	g.i("LSR $6, R16, R16")
	g.i("AND R22, R16, R16")
	g.i("ORR R16<<4, R24, R24") // scales 4-7
	g.i("VMOV R23, V14.S[0]")
	g.i("VMOV R24, V14.S[1]")
	g.i("AND R20, R17, R23") // mins 0-3
	g.i("LSR $4, R19, R24")
	g.i("AND R21, R24, R24")
	g.i("LSR $6, R17, R17")
	g.i("AND R22, R17, R17")
	g.i("ORR R17<<4, R24, R24") // mins 4-7
	g.i("VMOV R23, V13.S[0]")
	g.i("VMOV R24, V13.S[1]")
	g.i("VUXTL V14.B8, V14.H8")
	g.i("VUXTL2 V14.H8, V15.S4")
	g.i("VUXTL V14.H4, V14.S4")
	g.i("VUXTL V13.B8, V13.H8")
	g.i("VLD1 (R8), V21.S[0]")
	g.i("FCVTL(21, 21)")
	for k := 0; k < n; k++ {
		g.i("VLD1.P 4(%s), V20.S[%d]", tok(k), k)
	}
	for k := 0; k < kqTokens; k++ {
		g.i("VEOR V%d.B16, V%d.B16, V%d.B16", 16+k, 16+k, 16+k)
	}
	g.i("ADD $16, R8, R16")
	for p := 0; p < 4; p++ {
		g.i("VLD1.P 32(R16), [V0.B16, V1.B16]")
		g.i("VUSHR $4, V0.B16, V2.B16")
		g.i("VUSHR $4, V1.B16, V3.B16")
		g.i("VAND V12.B16, V0.B16, V0.B16")
		g.i("VAND V12.B16, V1.B16, V1.B16")
		for k := 0; k < n; k++ {
			g.i("VLD1.P 64(%s), [V4.B16, V5.B16, V6.B16, V7.B16]", tok(k))
			g.dot32(s, 8, 0, 1, 4, 5, 10, 11)
			g.dot32(s, 9, 2, 3, 6, 7, 10, 11)
			j0, j1 := 2*p, 2*p+1
			g.i("MLAE(%d, 8, %d, %d)", 16+k, 14+j0/4, j0%4)
			g.i("MLAE(%d, 9, %d, %d)", 16+k, 14+j1/4, j1%4)
		}
	}
	// Mins times the sums of the tokens' sub-blocks (pairs of bsums).
	for k := 0; k < kqTokens; k++ {
		if k < n {
			g.i("VLD1.P 32(%s), [V24.H8, V25.H8]", tok(k))
			g.i("ADDP8H(24, 24, 25)")
			g.i("SMULLH(%d, 24, 13)", k)
			g.i("SMLAL2H(%d, 24, 13)", k)
		} else {
			g.i("VEOR V%d.B16, V%d.B16, V%d.B16", k, k, k)
		}
	}
	g.i("ADDP(0, 0, 1)")
	g.i("ADDP(2, 2, 3)")
	g.i("ADDP(0, 0, 2)")
	g.i("ADDP(16, 16, 17)")
	g.i("ADDP(18, 18, 19)")
	g.i("ADDP(16, 16, 18)")
	// sum += d*isum - dmin*mins, with d*isum rounded and the rest fused,
	// as the generic kernel built for arm64.
	g.i("SCVTF4S(16, 16)")
	g.i("SCVTF4S(0, 0)")
	g.i("FMULE(24, 20, 21, 0)")
	g.i("FMULE(25, 20, 21, 1)")
	g.i("FMUL4S(16, 16, 24)")
	g.i("FMLS4S(16, 0, 25)")
	g.i("FADD4S(22, 22, 16)")
}

// q6KBlock: V0-V7 the eight groups of 16 weights of a half super-block,
// V8-V11 four groups of a token's quants (raw ql while unpacking), V12
// the products (raw qh while unpacking), V13 V14 scratch, V16-V19 the
// tokens' totals, V20-V23 the 16 scales (int32), V24 the tokens' d, V25
// the accumulators, V26 the row's d, V27 0x0f, V28 0x30, V29 32.
func (g *gen) q6KBlock(s isa, n int) {
	g.i("ADD $192, R8, R16")
	g.i("VLD1.P 16(R16), [V20.B16]")
	g.i("SXTL28H(22, 20)")
	g.i("SXTL8H(20, 20)")
	g.i("SXTL24S(23, 22)")
	g.i("SXTL4S(22, 22)")
	g.i("SXTL24S(21, 20)")
	g.i("SXTL4S(20, 20)")
	g.i("VLD1 (R16), V26.H[0]")
	g.i("FCVTL(26, 26)")
	for k := 0; k < n; k++ {
		g.i("VLD1.P 4(%s), V24.S[%d]", tok(k), k)
	}
	for k := 0; k < kqTokens; k++ {
		g.i("VEOR V%d.B16, V%d.B16, V%d.B16", 16+k, 16+k, 16+k)
	}
	g.i("MOVD R8, R16")
	g.i("ADD $128, R8, R17")
	for half := 0; half < 2; half++ {
		// Group gi (16 values at 16*gi of the half) is nibbles of ql
		// register (gi%2) + 2*(gi/2%2), low for gi < 4, and bit pair gi/2
		// of qh register gi%2, minus 32.
		g.i("VLD1.P 64(R16), [V8.B16, V9.B16, V10.B16, V11.B16]")
		g.i("VLD1.P 32(R17), [V12.B16, V13.B16]")
		for gi := 0; gi < 8; gi++ {
			h, q := gi%2, gi/2
			ql, qh := 8+h+2*(q%2), 12+h
			if q < 2 {
				g.i("VAND V27.B16, V%d.B16, V%d.B16", ql, gi)
			} else {
				g.i("VUSHR $4, V%d.B16, V%d.B16", ql, gi)
			}
			switch q {
			case 0:
				g.i("VSHL $4, V%d.B16, V14.B16", qh)
			case 1:
				g.i("VSHL $2, V%d.B16, V14.B16", qh)
			case 2:
				g.i("VORR V%d.B16, V%d.B16, V14.B16", qh, qh)
			case 3:
				g.i("VUSHR $2, V%d.B16, V14.B16", qh)
			}
			g.i("VAND V28.B16, V14.B16, V14.B16")
			g.i("VORR V14.B16, V%d.B16, V%d.B16", gi, gi)
			g.i("VSUB V29.B16, V%d.B16, V%d.B16", gi, gi)
		}
		for k := 0; k < n; k++ {
			for quad := 0; quad < 2; quad++ {
				g.i("VLD1.P 64(%s), [V8.B16, V9.B16, V10.B16, V11.B16]", tok(k))
				for j := 0; j < 4; j++ {
					gi := 4*quad + j
					if s.sdot {
						g.i("DOT16SDOT(12, %d, %d, 13)", gi, 8+j)
					} else {
						g.i("DOT16NEON(12, %d, %d, 13)", gi, 8+j)
					}
					sc := 8*half + gi
					g.i("MLAE(%d, 12, %d, %d)", 16+k, 20+sc/4, sc%4)
				}
			}
		}
	}
	for k := 0; k < n; k++ {
		g.i("ADD $32, %s", tok(k)) // past the bsums
	}
	g.i("ADDP(16, 16, 17)")
	g.i("ADDP(18, 18, 19)")
	g.i("ADDP(16, 16, 18)")
	// sum += (d*yd) * isum, fused, as the generic kernel built for arm64.
	g.i("SCVTF4S(16, 16)")
	g.i("FMULE(13, 24, 26, 0)")
	g.i("FMLA4S(25, 16, 13)")
}
