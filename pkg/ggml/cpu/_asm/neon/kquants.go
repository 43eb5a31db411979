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

var kqTypes = []kqType{
	{"Q4_K", 144}, {"Q5_K", 176}, {"IQ4_XS", 136},
	{"Q6_K", 210}, {"Q3_K", 110}, {"Q2_K", 84},
}

// g16 reports whether t has groups of 16 with int32 scales in V20-V23
// (accumulators in V25) rather than sub-blocks of 32 (accumulators in
// V22).
func (t kqType) g16() bool { return t.name == "Q6_K" || t.name == "Q3_K" || t.name == "Q2_K" }

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
	case "Q5_K":
		g.i("VMOVI $15, V12.B16")
		g.i("VMOVI $16, V23.B16")
	case "IQ4_XS":
		g.i("VMOVI $15, V12.B16")
		g.i("MOVD $neonTileIQ4NL<>(SB), R16")
		g.i("VLD1 (R16), [V13.B16]")
	case "Q6_K":
		g.i("VMOVI $15, V27.B16")
		g.i("VMOVI $48, V28.B16")
		g.i("VMOVI $32, V29.B16")
	case "Q3_K":
		g.i("VMOVI $3, V27.B16")
		g.i("VMOVI $4, V28.B16")
		g.i("VMOVI $32, V29.B16")
		g.i("VMOVI $15, V15.B16")
	case "Q2_K":
		g.i("VMOVI $3, V27.B16")
		g.i("VMOVI $15, V15.B16")
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
	if t.g16() {
		acc = 25
	}
	g.i("VEOR V%d.B16, V%d.B16, V%d.B16", acc, acc, acc)
	g.label(fmt.Sprintf("nt%dblock", n))
	switch t.name {
	case "Q4_K", "Q5_K":
		g.q4KBlock(s, n, t.name == "Q5_K")
	case "IQ4_XS":
		g.iq4XSBlock(s, n)
	case "Q6_K":
		g.q6KBlock(s, n)
	case "Q3_K":
		g.q3KBlock(s, n)
	case "Q2_K":
		g.q2KBlock(s, n)
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
// V22 the accumulators. Q5_K: V26 V27 its fifth bits (shifted down by two
// a pair), V23 0x10, V24 V25 scratch.
func (g *gen) q4KBlock(s isa, n int, q5 bool) {
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
	if q5 {
		g.i("VLD1.P 32(R16), [V26.B16, V27.B16]")
	}
	for p := 0; p < 4; p++ {
		g.i("VLD1.P 32(R16), [V0.B16, V1.B16]")
		g.i("VUSHR $4, V0.B16, V2.B16")
		g.i("VUSHR $4, V1.B16, V3.B16")
		g.i("VAND V12.B16, V0.B16, V0.B16")
		g.i("VAND V12.B16, V1.B16, V1.B16")
		if q5 {
			for i, sh := range []int{4, 4, 3, 3} {
				g.i("VSHL $%d, V%d.B16, V24.B16", sh, 26+i%2)
				g.i("VAND V23.B16, V24.B16, V24.B16")
				g.i("VORR V24.B16, V%d.B16, V%d.B16", i, i)
			}
			g.i("VUSHR $2, V26.B16, V26.B16")
			g.i("VUSHR $2, V27.B16, V27.B16")
		}
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
	g.widenScales()
	g.i("VLD1 (R16), V26.H[0]")
	g.i("FCVTL(26, 26)")
	g.loadTokenScales(n, 24)
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
		g.g16Tokens(s, n, half)
	}
	g.g16Finish(n)
}

// g16Tokens multiplies the eight groups of half a super-block (V0-V7)
// with each token's quants and adds the products times the groups' scales
// to the tokens' totals.
func (g *gen) g16Tokens(s isa, n, half int) {
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

// g16Finish ends a super-block of a type without mins (Q6_K, Q3_K): sum
// += (d*yd) * isum, fused, as the generic kernels built for arm64.
func (g *gen) g16Finish(n int) {
	for k := 0; k < n; k++ {
		g.i("ADD $32, %s", tok(k)) // past the bsums
	}
	g.i("ADDP(16, 16, 17)")
	g.i("ADDP(18, 18, 19)")
	g.i("ADDP(16, 16, 18)")
	g.i("SCVTF4S(16, 16)")
	g.i("FMULE(13, 24, 26, 0)")
	g.i("FMLA4S(25, 16, 13)")
}

// loadTokenScales loads the tokens' d into lanes of vd and zeroes the
// four totals V16-V19.
func (g *gen) loadTokenScales(n, vd int) {
	for k := 0; k < n; k++ {
		g.i("VLD1.P 4(%s), V%d.S[%d]", tok(k), vd, k)
	}
	for k := 0; k < kqTokens; k++ {
		g.i("VEOR V%d.B16, V%d.B16, V%d.B16", 16+k, 16+k, 16+k)
	}
}

// widenScales sign-extends 16 scale bytes in V20 to int32 in V20-V23.
func (g *gen) widenScales() {
	g.i("SXTL28H(22, 20)")
	g.i("SXTL8H(20, 20)")
	g.i("SXTL24S(23, 22)")
	g.i("SXTL4S(22, 22)")
	g.i("SXTL24S(21, 20)")
	g.i("SXTL4S(20, 20)")
}

// q3KBlock is q6KBlock's layout for Q3_K: V8 V9 the half's two-bit quants,
// V10 V11 the high bits (hmask), V14 scratch, V15 0x0f, V27 3, V28 4, V29
// 32.
func (g *gen) q3KBlock(s isa, n int) {
	// Scales (see q3KScales): low four bits from the nibbles of bytes
	// 0-7 (low nibbles scales 0-7, high 8-15), high two bits from bytes
	// 8-11, shifted by 2*(i/4) for scale i, minus 32.
	g.i("MOVD 96(R8), R16")
	g.i("MOVWU 104(R8), R17")
	g.i("VMOV R16, V20.D[0]")
	g.i("VUSHR $4, V20.B16, V21.B16")
	g.i("VAND V15.B16, V20.B16, V20.B16")
	g.i("VZIP1 V21.D2, V20.D2, V20.D2")
	g.i("MOVW $0x03030303, R19")
	g.i("AND R19, R17, R20")
	g.i("LSR $2, R17, R21")
	g.i("AND R19, R21, R21")
	g.i("ORR R21<<32, R20, R20")
	g.i("LSR $4, R17, R21")
	g.i("AND R19, R21, R21")
	g.i("LSR $6, R17, R22")
	g.i("AND R19, R22, R22")
	g.i("ORR R22<<32, R21, R21")
	g.i("VMOV R20, V21.D[0]")
	g.i("VMOV R21, V21.D[1]")
	g.i("VSHL $4, V21.B16, V21.B16")
	g.i("VORR V21.B16, V20.B16, V20.B16")
	g.i("VSUB V29.B16, V20.B16, V20.B16")
	g.widenScales()
	g.i("ADD $108, R8, R16")
	g.i("VLD1 (R16), V26.H[0]")
	g.i("FCVTL(26, 26)")
	g.loadTokenScales(n, 24)
	g.i("ADD $32, R8, R16")
	for half := 0; half < 2; half++ {
		g.i("VLD1.P 32(R16), [V8.B16, V9.B16]")
		g.i("VLD1 (R8), [V10.B16, V11.B16]")
		// Group 2j+b of the half: bits 2j of quant byte 16b+l, high bit
		// 4*half+j of hmask byte 16b+l (set: +0, clear: -4).
		for j := 0; j < 4; j++ {
			for b := 0; b < 2; b++ {
				gi, q, hm := 2*j+b, 8+b, 10+b
				if j == 0 {
					g.i("VAND V27.B16, V%d.B16, V%d.B16", q, gi)
				} else {
					g.i("VUSHR $%d, V%d.B16, V%d.B16", 2*j, q, gi)
					g.i("VAND V27.B16, V%d.B16, V%d.B16", gi, gi)
				}
				switch sh := 4*half + j; {
				case sh > 2:
					g.i("VUSHR $%d, V%d.B16, V14.B16", sh-2, hm)
				case sh < 2:
					g.i("VSHL $%d, V%d.B16, V14.B16", 2-sh, hm)
				default:
					g.i("VORR V%d.B16, V%d.B16, V14.B16", hm, hm)
				}
				g.i("VAND V28.B16, V14.B16, V14.B16")
				g.i("VORR V14.B16, V%d.B16, V%d.B16", gi, gi)
				g.i("VSUB V28.B16, V%d.B16, V%d.B16", gi, gi)
			}
		}
		g.g16Tokens(s, n, half)
	}
	g.g16Finish(n)
}

// q2KBlock is q6KBlock's layout for Q2_K: V8 V9 the half's two-bit quants,
// V30 V31 the mins (int16), V15 0x0f, V27 3; the row's d and dmin in V26.
func (g *gen) q2KBlock(s isa, n int) {
	g.i("VLD1 (R8), [V30.B16]")
	g.i("VAND V15.B16, V30.B16, V20.B16")
	g.i("VUSHR $4, V30.B16, V30.B16")
	g.i("VUXTL2 V30.B16, V31.H8")
	g.i("VUXTL V30.B8, V30.H8")
	g.i("VUXTL2 V20.B16, V22.H8")
	g.i("VUXTL V20.B8, V20.H8")
	g.i("VUXTL2 V22.H8, V23.S4")
	g.i("VUXTL V22.H4, V22.S4")
	g.i("VUXTL2 V20.H8, V21.S4")
	g.i("VUXTL V20.H4, V20.S4")
	g.i("ADD $80, R8, R16")
	g.i("VLD1 (R16), V26.S[0]")
	g.i("FCVTL(26, 26)")
	g.loadTokenScales(n, 24)
	g.i("ADD $16, R8, R16")
	for half := 0; half < 2; half++ {
		g.i("VLD1.P 32(R16), [V8.B16, V9.B16]")
		for j := 0; j < 4; j++ {
			for b := 0; b < 2; b++ {
				gi, q := 2*j+b, 8+b
				if j == 0 {
					g.i("VAND V27.B16, V%d.B16, V%d.B16", q, gi)
				} else {
					g.i("VUSHR $%d, V%d.B16, V%d.B16", 2*j, q, gi)
					g.i("VAND V27.B16, V%d.B16, V%d.B16", gi, gi)
				}
			}
		}
		g.g16Tokens(s, n, half)
	}
	// Mins times the tokens' group sums.
	for k := 0; k < kqTokens; k++ {
		if k < n {
			g.i("VLD1.P 32(%s), [V8.H8, V9.H8]", tok(k))
			g.i("SMULLH(%d, 8, 30)", k)
			g.i("SMLAL2H(%d, 8, 30)", k)
			g.i("SMLALH(%d, 9, 31)", k)
			g.i("SMLAL2H(%d, 9, 31)", k)
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
	// sum += dall*isum - dmin*mins as in q4KBlock.
	g.i("SCVTF4S(16, 16)")
	g.i("SCVTF4S(0, 0)")
	g.i("FMULE(8, 24, 26, 0)")
	g.i("FMULE(9, 24, 26, 1)")
	g.i("FMUL4S(16, 16, 8)")
	g.i("FMLS4S(16, 0, 9)")
	g.i("FADD4S(25, 25, 16)")
}

// iq4XSBlock is q4KBlock's layout for IQ4_XS (no mins): V13 the IQ4_NL
// levels, V14 V15 the eight sub-block scales (int32).
func (g *gen) iq4XSBlock(s isa, n int) {
	// Scale i: nibble i of the 32 bits at 4 (low four bits) and bit pair
	// i of the 16 bits at 2 (high two), minus 32. Spread both to a byte
	// per scale.
	g.i("MOVHU 2(R8), R16")
	g.i("MOVWU 4(R8), R17")
	g.i("ORR R17<<16, R17, R17")
	g.i("AND $0x0000ffff0000ffff, R17, R17")
	g.i("ORR R17<<8, R17, R17")
	g.i("AND $0x00ff00ff00ff00ff, R17, R17")
	g.i("ORR R17<<4, R17, R17")
	g.i("AND $0x0f0f0f0f0f0f0f0f, R17, R17")
	g.i("ORR R16<<24, R16, R16")
	g.i("AND $0x000000ff000000ff, R16, R16")
	g.i("ORR R16<<12, R16, R16")
	g.i("AND $0x000f000f000f000f, R16, R16")
	g.i("ORR R16<<6, R16, R16")
	g.i("AND $0x0303030303030303, R16, R16")
	g.i("ORR R16<<4, R17, R17")
	g.i("VMOV R17, V14.D[0]")
	g.i("VMOVI $32, V15.B16")
	g.i("VSUB V15.B16, V14.B16, V14.B16")
	g.i("SXTL8H(14, 14)")
	g.i("SXTL24S(15, 14)")
	g.i("SXTL4S(14, 14)")
	g.i("VLD1 (R8), V21.H[0]")
	g.i("FCVTL(21, 21)")
	g.loadTokenScales(n, 20)
	g.i("ADD $8, R8, R16")
	for p := 0; p < 4; p++ {
		// Sub-block 2p: V0 (low nibbles) and V2 (high); 2p+1: V1, V3.
		g.i("VLD1.P 32(R16), [V0.B16, V1.B16]")
		g.i("VUSHR $4, V0.B16, V2.B16")
		g.i("VUSHR $4, V1.B16, V3.B16")
		g.i("VAND V12.B16, V0.B16, V0.B16")
		g.i("VAND V12.B16, V1.B16, V1.B16")
		for i := 0; i < 4; i++ {
			g.i("VTBL V%d.B16, [V13.B16], V%d.B16", i, i)
		}
		for k := 0; k < n; k++ {
			g.i("VLD1.P 64(%s), [V4.B16, V5.B16, V6.B16, V7.B16]", tok(k))
			g.dot32(s, 8, 0, 2, 4, 5, 10, 11)
			g.dot32(s, 9, 1, 3, 6, 7, 10, 11)
			j0, j1 := 2*p, 2*p+1
			g.i("MLAE(%d, 8, %d, %d)", 16+k, 14+j0/4, j0%4)
			g.i("MLAE(%d, 9, %d, %d)", 16+k, 14+j1/4, j1%4)
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
	g.i("FMULE(24, 20, 21, 0)")
	g.i("FMLA4S(22, 16, 24)")
}
