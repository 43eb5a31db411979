package main

import "fmt"

// AVX2 and AVX-VNNI tile kernels (legacy_avx2_amd64.s).
//
// They use the transposed layout of the AVX-512 kernels with YMM registers:
// 8 rows per group (lane r of Y_k holds dword k of row r), Y0-Y7 the
// weights, Y8 the weight scales, Y9-Y11 scratch, Y12-Y15 the float
// accumulators: up to 4 tokens, or 2 for the types with a min (Y14, Y15
// then hold the min accumulators and the mins go to the stack).
//
// The AVX-VNNI kernels compute each block's integer dot product with the
// VEX form of VPDPBUSD, which the Go assembler does not know (it encodes
// the EVEX form of AVX512_VNNI): the instruction is emitted as bytes.
// Weights are unsigned by an offset, as in the AVX-512 kernels.
//
// The AVX2 kernels use VPMADDUBSW (unsigned times signed bytes, pairs
// summed to int16 with saturation) and VPMADDWD with ones (pairs of int16
// summed to int32). For the 4- and 5-bit types the unsigned weights are
// small enough that no sum saturates: pair sums of 4-bit weights are at
// most 2*15*128 = 3840 in magnitude, so eight of them add up in int16
// exactly (5-bit weights: four). Q8_0 and IQ4_NL weights are signed bytes:
// as ggml does, the kernel multiplies |w| (unsigned) by a*sign(w), whose
// pair sums are at most 2*128*127 in magnitude because the activation
// quantizers produce quants in [-127, 127].
//
// The float part is the AVX-512 kernels' (and so the generic kernels'):
// the results are bit-identical to the generic kernels.

var (
	avx2    = isa{name: "AVX2", v: "Y", lanes: 2, maxT: 4, maxT1: 2}
	avxvnni = isa{name: "AVXVNNI", v: "Y", lanes: 2, maxT: 4, maxT1: 2, vnni: true}
)

// vpdpbusd emits the VEX-encoded VPDPBUSD Y<dst>, Y<u>, Y<s> (Intel
// operand order: dst += unsigned bytes of u times signed bytes of s).
func (g *gen) vpdpbusd(dst, u, s int) {
	b1 := 0x02 // 0F38 map
	if dst < 8 {
		b1 |= 0x80 // ~R
	}
	b1 |= 0x40 // ~X
	if s < 8 {
		b1 |= 0x20 // ~B
	}
	b2 := (^u&15)<<3 | 0x04 | 0x01 // W=0, ~vvvv, L=1, pp=66
	modrm := 0xc0 | (dst&7)<<3 | s&7
	g.i("BYTE $0xc4; BYTE $0x%02x; BYTE $0x%02x; BYTE $0x50; BYTE $0x%02x // VPDPBUSD (VEX) Y%d, Y%d, Y%d", b1, b2, modrm, dst, u, s)
}

// prep2 loads the current block of the row group: the transposed weight
// bytes into Y0-Y7 (unsigned with the offset for AVX-VNNI, signed for the
// AVX2 Q8_0 and IQ4_NL kernels), the scales into Y8 and the mins onto the
// stack. The accumulators Y12-Y15 are left alone.
func (g *gen) prep2(s isa, w wtype) {
	if w.q8 {
		g.load4(s, w.qsOff, [4]int{0, 1, 2, 3}, [4]int{4, 5, 6, 7})
		g.load4(s, w.qsOff+16, [4]int{4, 5, 6, 7}, [4]int{8, 9, 10, 11})
		if s.vnni {
			for k := 0; k < 8; k++ {
				g.i("VPXOR c80<>(SB), Y%d, Y%d", k, k)
			}
		}
	} else {
		g.load4(s, w.qsOff, [4]int{0, 1, 2, 3}, [4]int{4, 5, 6, 7})
		for k := 0; k < 4; k++ {
			g.i("VPSRLW $4, Y%d, Y%d", k, k+4)
			g.i("VPAND c0f<>(SB), Y%d, Y%d", k, k)
			g.i("VPAND c0f<>(SB), Y%d, Y%d", k+4, k+4)
		}
		if w.iq4 {
			if s.vnni {
				g.i("VMOVDQU iq4nl2<>(SB), Y9")
			} else {
				g.i("VMOVDQU iq4nls<>(SB), Y9")
			}
			for k := 0; k < 8; k++ {
				g.i("VPSHUFB Y%d, Y9, Y%d", k, k)
			}
		}
		if w.qhOff >= 0 {
			// The 32-bit qh of each row in Y10's lanes; element 4k+i
			// of a row is bit 4k+i: replicate byte k/2 over each dword,
			// test bit (4k+i)%8 in byte i and add 16 where it is set.
			for j := 0; j < 4; j++ {
				g.i("VPINSRD $%d, %s, X10, X10", j, rowAddr(w.qhOff, j))
			}
			for j := 0; j < 4; j++ {
				g.i("VPINSRD $%d, %s, X11, X11", j, rowAddr(w.qhOff, 4+j))
			}
			g.i("VINSERTI128 $1, X11, Y10, Y10")
			for k := 0; k < 8; k++ {
				g.i("VPSHUFB q5ctrl<>+%d(SB), Y10, Y11", 64*(k/2))
				g.i("VPAND q5bits<>+%d(SB), Y11, Y11", 64*(k%2))
				g.i("VPCMPEQB q5bits<>+%d(SB), Y11, Y11", 64*(k%2))
				g.i("VPAND c10<>(SB), Y11, Y11")
				g.i("VPOR Y11, Y%d, Y%d", k, k)
			}
		}
	}
	g.halves(s, 0, 8, 10)
	if w.mins {
		g.halves(s, 2, 9, 10)
		g.i("VMOVUPS Y9, mins-32(SP)")
	}
}

// intDot2 leaves in Y9 the int32 block dot products of the group's rows
// with token t (of T), including the offset correction.
func (g *gen) intDot2(s isa, w wtype, T, t int) {
	q := func(k int) string { return fmt.Sprintf("%d(DX)", panelQ(T, t, k)) }
	if s.vnni {
		if w.mins {
			g.i("VPXOR Y9, Y9, Y9")
		} else {
			g.i("VPBROADCASTD %d(DX), Y9", panelC(T, t))
			g.i("VPSLLD $%d, Y9, Y9", w.shift)
		}
		for k := 0; k < 8; k++ {
			g.i("VPBROADCASTD %s, Y10", q(k))
			g.vpdpbusd(9, k, 10)
		}
		return
	}
	if w.q8 || w.iq4 {
		// |w| times a*sign(w), pairs to int16, then to int32.
		for k := 0; k < 8; k++ {
			g.i("VPBROADCASTD %s, Y10", q(k))
			g.i("VPSIGNB Y%d, Y10, Y10", k)
			g.i("VPABSB Y%d, Y11", k)
			g.i("VPMADDUBSW Y10, Y11, Y11")
			if k == 0 {
				g.i("VPMADDWD ones<>(SB), Y11, Y9")
			} else {
				g.i("VPMADDWD ones<>(SB), Y11, Y11")
				g.i("VPADDD Y11, Y9, Y9")
			}
		}
		return
	}
	// Unsigned 4- or 5-bit weights: int16 sums over groups of k.
	group := 8
	if w.qhOff >= 0 {
		group = 4
	}
	if !w.mins {
		g.i("VPBROADCASTD %d(DX), Y9", panelC(T, t))
		g.i("VPSLLD $%d, Y9, Y9", w.shift)
	}
	for k0 := 0; k0 < 8; k0 += group {
		for k := k0; k < k0+group; k++ {
			g.i("VPBROADCASTD %s, Y10", q(k))
			if k == k0 {
				g.i("VPMADDUBSW Y10, Y%d, Y11", k)
			} else {
				g.i("VPMADDUBSW Y10, Y%d, Y10", k)
				g.i("VPADDW Y10, Y11, Y11")
			}
		}
		if w.mins && k0 == 0 {
			g.i("VPMADDWD ones<>(SB), Y11, Y9")
		} else {
			g.i("VPMADDWD ones<>(SB), Y11, Y11")
			g.i("VPADDD Y11, Y9, Y9")
		}
	}
}

// tileFunc2 emits the AVX2 or AVX-VNNI kernel for weight type w:
//
//	func tile<w><isa>(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)
func (g *gen) tileFunc2(s isa, w wtype) {
	fn := fmt.Sprintf("tile%s%s", w.name, s.name)
	maxT := s.maxT
	frame := 0
	if w.mins {
		maxT = s.maxT1
		frame = 32
	}
	g.raw(fmt.Sprintf("\n// func %s(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)\n", fn))
	g.raw(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $%d-64\n", fn, frame))
	g.i("MOVQ nt+40(FP), R9")
	for T := 1; T <= maxT; T++ {
		g.i("CMPQ R9, $%d", T)
		g.i("JEQ %s_t%d", fn, T)
	}
	g.i("RET")
	for T := 1; T <= maxT; T++ {
		g.tileBody2(s, w, fn, T)
	}
}

func (g *gen) tileBody2(s isa, w wtype, fn string, T int) {
	L := fmt.Sprintf("%s_t%d", fn, T)
	acc := func(t int) int { return 12 + t }
	macc := func(t int) int { return 14 + t }
	g.label(L)
	g.i("MOVQ w+0(FP), DI")
	g.i("MOVQ ws+8(FP), SI")
	g.i("LEAQ (SI)(SI*2), R8")
	g.i("MOVQ out+48(FP), R11")
	g.i("MOVQ rows+16(FP), R12")
	g.i("SHRQ $3, R12")
	g.label(L + "_group")
	g.i("MOVQ DI, AX")
	g.i("LEAQ (DI)(SI*4), BX")
	g.i("MOVQ pan+24(FP), DX")
	g.i("MOVQ nb+32(FP), CX")
	// R14 walks the next row group (see the AVX-512 kernels).
	g.i("MOVQ SI, R14")
	g.i("SHLQ $3, R14")
	g.i("ADDQ DI, R14")
	for t := 0; t < T; t++ {
		g.i("VPXOR Y%d, Y%d, Y%d", acc(t), acc(t), acc(t))
		if w.mins {
			g.i("VPXOR Y%d, Y%d, Y%d", macc(t), macc(t), macc(t))
		}
	}
	g.label(L + "_block")
	stride := 8 * w.blockBytes
	g.prefetchNextGroup(stride, stride+63)
	g.prep2(s, w)
	for t := 0; t < T; t++ {
		g.intDot2(s, w, T, t)
		g.i("VCVTDQ2PS Y9, Y9")
		g.i("VBROADCASTSS %d(DX), Y10", panelD(T, t))
		g.i("VMULPS Y8, Y10, Y10")
		g.i("VMULPS Y10, Y9, Y9")
		g.i("VADDPS Y9, Y%d, Y%d", acc(t), acc(t))
		if w.mins {
			g.i("VBROADCASTSS %d(DX), Y10", panelC(T, t))
			g.i("VMULPS mins-32(SP), Y10, Y10")
			g.i("VADDPS Y10, Y%d, Y%d", macc(t), macc(t))
		}
	}
	g.i("ADDQ $%d, AX", w.blockBytes)
	g.i("ADDQ $%d, BX", w.blockBytes)
	g.i("ADDQ $%d, DX", 40*T)
	g.i("DECQ CX")
	g.i("JNZ %s_block", L)
	g.i("MOVQ ldo+56(FP), R9")
	g.i("SHLQ $2, R9")
	g.i("MOVQ R11, CX")
	for t := 0; t < T; t++ {
		if w.mins {
			g.i("VADDPS Y%d, Y%d, Y%d", macc(t), acc(t), acc(t))
		}
		g.i("VMOVUPS Y%d, (CX)", acc(t))
		if t < T-1 {
			g.i("ADDQ R9, CX")
		}
	}
	g.i("ADDQ $32, R11")
	g.i("MOVQ SI, R9")
	g.i("SHLQ $3, R9")
	g.i("ADDQ R9, DI")
	g.i("DECQ R12")
	g.i("JNZ %s_group", L)
	g.i("VZEROUPPER")
	g.i("RET")
}

// data2 emits the constant tables of the AVX2 kernels.
func (g *gen) data2() {
	rep := func(v byte) []byte {
		b := make([]byte, 32)
		for i := range b {
			b[i] = v
		}
		return b
	}
	g.bytesData("c0f", rep(0x0f))
	g.bytesData("c10", rep(0x10))
	g.bytesData("c80", rep(0x80))
	ones := make([]byte, 32)
	for i := 0; i < 32; i += 2 {
		ones[i] = 1
	}
	g.bytesData("ones", ones)
	iq4 := []int{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}
	var u, s []byte
	for l := 0; l < 2; l++ {
		for _, v := range iq4 {
			u = append(u, byte(v+128))
			s = append(s, byte(int8(v)))
		}
	}
	g.bytesData("iq4nl2", u)
	g.bytesData("iq4nls", s)
	g.data()
}

// Float tiles with AVX2 and FMA: groups of 3 rows by up to 4 tokens, one
// YMM accumulator of 8 lanes per (row, token) pair: lane l sums the
// products of elements 8i+l over whole steps of 8 with FMA; the lanes are
// then reduced by hsum8. The elements past the last whole step are left to
// the Go wrapper, which adds them in order. vecDot does the same for one
// pair, so its results are the tile's bit for bit.
const (
	floatRows2   = 3
	floatTokens2 = 4
)

// floatStep2 emits one step of 8 elements for R rows and T tokens: the
// weights in Y0-Y2, each token's activations in Y15 in turn, the
// accumulators from Y3 on.
func (g *gen) floatStep2(f16 bool, R, T int) {
	for r := 0; r < R; r++ {
		if f16 {
			g.i("VCVTPH2PS %s, Y%d", rowAddrF(r), r)
		} else {
			g.i("VMOVUPS %s, Y%d", rowAddrF(r), r)
		}
	}
	for t := 0; t < T; t++ {
		g.i("VMOVUPS %s, Y15", tokAddr[t])
		for r := 0; r < R; r++ {
			g.i("VFMADD231PS Y15, Y%d, Y%d", r, facc2(r, t))
		}
	}
}

// facc2 is the accumulator of row r and token t.
func facc2(r, t int) int { return 3 + r*floatTokens2 + t }

// hsum8 reduces Y<n> to its lane sum in the low lane of X0 (X1 is
// scratch).
func (g *gen) hsum8(n int) {
	g.i("VEXTRACTF128 $1, Y%d, X0", n)
	g.i("VADDPS X0, X%d, X0", n)
	g.i("VPERMILPS $0x4e, X0, X1")
	g.i("VADDPS X1, X0, X0")
	g.i("VPERMILPS $0xb1, X0, X1")
	g.i("VADDSS X1, X0, X0")
}

// func tileF16AVX2(w *byte, ws, rows int, pan *byte, cols, nt int, out *float32, ldo int)
func (g *gen) floatTile2(f16 bool) {
	name, eb := "F32", 4
	if f16 {
		name, eb = "F16", 2
	}
	fn := "tile" + name + "AVX2"
	g.raw(fmt.Sprintf("\n// func %s(w *byte, ws, rows int, pan *byte, cols, nt int, out *float32, ldo int)\n", fn))
	g.raw(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-64\n", fn))
	g.i("MOVQ nt+40(FP), R9")
	for T := 1; T <= floatTokens2; T++ {
		g.i("CMPQ R9, $%d", T)
		g.i("JEQ %s_t%d", fn, T)
	}
	g.i("RET")
	for T := 1; T <= floatTokens2; T++ {
		L := fmt.Sprintf("%s_t%d", fn, T)
		g.label(L)
		g.i("MOVQ w+0(FP), DI")
		g.i("MOVQ ws+8(FP), SI")
		g.i("MOVQ cols+32(FP), BX")
		g.i("SHLQ $2, BX")
		g.i("LEAQ (BX)(BX*2), R9")
		g.i("MOVQ out+48(FP), R11")
		g.label(L + "_group")
		g.i("MOVQ DI, AX")
		g.i("LEAQ (SI)(SI*2), R14") // the next group, floatRows2 rows on
		g.i("ADDQ DI, R14")
		g.i("MOVQ pan+24(FP), DX")
		g.i("MOVQ cols+32(FP), CX")
		g.i("SHRQ $3, CX")
		for r := 0; r < floatRows2; r++ {
			for t := 0; t < T; t++ {
				n := facc2(r, t)
				g.i("VXORPS Y%d, Y%d, Y%d", n, n, n)
			}
		}
		g.i("TESTQ CX, CX")
		g.i("JZ %s_sum", L)
		g.label(L + "_loop")
		g.prefetchNextGroup(floatRows2*8*eb, floatRows2*8*eb)
		g.floatStep2(f16, floatRows2, T)
		g.i("ADDQ $%d, AX", 8*eb)
		g.i("ADDQ $32, DX")
		g.i("DECQ CX")
		g.i("JNZ %s_loop", L)
		g.label(L + "_sum")
		g.i("MOVQ ldo+56(FP), CX")
		g.i("SHLQ $2, CX")
		g.i("MOVQ R11, DX")
		for t := 0; t < T; t++ {
			for r := 0; r < floatRows2; r++ {
				g.hsum8(facc2(r, t))
				g.i("VMOVSS X0, %d(DX)", 4*r)
			}
			g.i("ADDQ CX, DX")
		}
		g.i("ADDQ $%d, R11", 4*floatRows2)
		g.i("LEAQ (DI)(SI*2), DI")
		g.i("ADDQ SI, DI")
		g.i("SUBQ $%d, rows+16(FP)", floatRows2)
		g.i("JNZ %s_group", L)
		g.i("VZEROUPPER")
		g.i("RET")
	}
}

// func vecDotF16AVX2(n int, w, a *byte) float32
func (g *gen) floatDot2(f16 bool) {
	name, eb := "F32", 4
	if f16 {
		name, eb = "F16", 2
	}
	fn := "vecDot" + name + "AVX2"
	g.raw(fmt.Sprintf("\n// func %s(n int, w, a *byte) float32\n", fn))
	g.raw(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-28\n", fn))
	g.i("MOVQ n+0(FP), CX")
	g.i("MOVQ w+8(FP), AX")
	g.i("MOVQ a+16(FP), DX")
	g.i("SHRQ $3, CX")
	g.i("VXORPS Y3, Y3, Y3")
	g.i("TESTQ CX, CX")
	g.i("JZ %s_sum", fn)
	g.label(fn + "_loop")
	g.floatStep2(f16, 1, 1)
	g.i("ADDQ $%d, AX", 8*eb)
	g.i("ADDQ $32, DX")
	g.i("DECQ CX")
	g.i("JNZ %s_loop", fn)
	g.label(fn + "_sum")
	g.hsum8(3)
	g.i("VMOVSS X0, ret+24(FP)")
	g.i("VZEROUPPER")
	g.i("RET")
}
