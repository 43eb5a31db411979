// Command kquant generates kquants_packed_amd64.s, the AVX-512 kernels of
// package cpu for K-quant weights packed at load (see kquants_pack_amd64.go
// there). Run it from this directory:
//
//	go run . -dir ../..
//
// # Packed Q4_K
//
// A group of 16 weight rows is stored block column by block column (16
// blocks of 144 bytes, 2304 bytes a column), so that each 32-bit lane of
// a ZMM register belongs to one row, as in the legacy kernels:
//
//	0    the 16 rows' fp16 d
//	32   the 16 rows' fp16 dmin
//	64   the 12 bytes of packed 6-bit scales and mins, byte i of row r at
//	     64+16i+r (three registers: bytes 0-3, 4-7, 8-11, one per lane)
//	256  the quants, dword k (bytes 4k..4k+3) of row r at 256+64k+4r
//
// The scales are unpacked for all 16 rows at once with byte operations
// and spread to one dword per row by VPERMB. The quants' low nibbles
// (v & 0x0f) and high nibbles kept in place (v & 0xf0, sixteen times the
// value) are multiplied with the broadcast activation bytes by VPDPBUSD,
// one row per lane; the even sub-blocks' scales are taken sixteen times,
// so that the scaled sum is sixteen times the block's, exactly, and one
// arithmetic shift gives it back. The mins term is VPDPWSSD of each
// row's min (as two equal words) with the sub-block's two bsums. Every
// block's integer sums are exact, and the float part is done as the
// generic kernel does it (d*yd times the sum, less dmin*yd times the mins
// term, added to the row's sum), so the results are bit-identical to it.
//
// Each block's weights are read once for all the tokens of the call: its
// scales go to a scratch area, and each pair of sub-blocks is unpacked
// into 16 registers and multiplied with every token in turn, whose sums
// are kept in the scratch area. A group is one contiguous stream, which
// the hardware prefetchers follow: software prefetches 2 to 8 blocks
// ahead made one token 25-45% slower (BenchmarkMatVec, Q4_K packed).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

type gen struct{ b bytes.Buffer }

func (g *gen) i(format string, args ...any) { fmt.Fprintf(&g.b, "\t"+format+"\n", args...) }
func (g *gen) label(l string)               { fmt.Fprintf(&g.b, "%s:\n", l) }
func (g *gen) raw(s string)                 { g.b.WriteString(s) }

func (g *gen) data() {
	// kqPackIdx: VPERMB indexes that put byte 16l+r of a register in every
	// byte of dword r, for l = 0..3 (64 bytes each).
	for l := 0; l < 4; l++ {
		for q := 0; q < 64; q += 8 {
			var v uint64
			for b := 0; b < 8; b++ {
				v |= uint64(16*l+(q+b)/4) << (8 * b)
			}
			g.raw(fmt.Sprintf("DATA kqPackIdx<>+%d(SB)/8, $0x%016x\n", 64*l+q, v))
		}
	}
	g.raw("GLOBL kqPackIdx<>(SB), RODATA|NOPTR, $256\n\n")
	for _, c := range []struct {
		name string
		v    uint32
	}{{"kqPack0f", 0x0f0f0f0f}, {"kqPack3f", 0x3f3f3f3f}, {"kqPack30", 0x30303030}} {
		g.raw(fmt.Sprintf("DATA %s<>+0(SB)/4, $0x%08x\n", c.name, c.v))
		g.raw(fmt.Sprintf("GLOBL %s<>(SB), RODATA|NOPTR, $4\n\n", c.name))
	}
	// GF(2) affine matrices (VGF2P8AFFINEQB) that move bits 6 and 7 of
	// each byte to bits 0-1, 2-3 and 4-5, clearing the rest: output bit i
	// is the parity of matrix byte 7-i and the input byte.
	for _, c := range []struct {
		name string
		to   int
	}{{"kqGF67to01", 0}, {"kqGF67to23", 2}, {"kqGF67to45", 4}} {
		v := uint64(0x40)<<(8*(7-c.to)) | uint64(0x80)<<(8*(6-c.to))
		g.raw(fmt.Sprintf("DATA %s<>+0(SB)/8, $0x%016x\n", c.name, v))
		g.raw(fmt.Sprintf("GLOBL %s<>(SB), RODATA|NOPTR, $8\n\n", c.name))
	}
	// kqGFBitTo4: eight matrices, the s-th moving bit s to bit 4 and
	// clearing the rest (Q5_K's fifth bits).
	for b := 0; b < 8; b++ {
		g.raw(fmt.Sprintf("DATA kqGFBitTo4<>+%d(SB)/8, $0x%016x\n", 8*b, uint64(1)<<b<<24))
	}
	g.raw("GLOBL kqGFBitTo4<>(SB), RODATA|NOPTR, $64\n\n")
}

// Packed column sizes, Q8_K block offsets, and the scratch area.
const (
	q4kColBytes = 16 * 144
	q5kColBytes = 16 * 176
	q6kColBytes = 16 * 210
	q8kBytes    = 292
	q8kQs       = 4
	q8kBsums    = 260

	scratchSC  = 0    // sub-block j's scales, one dword per row (Q4_K: 8, even j 16 times; Q6_K: 16)
	scratchTok = 1024 // per token: 64 bytes of integer sums, 64 of mins terms, 64 of float sums
	tokBytes   = 192
	tokISum    = 0
	tokMins    = 64
	tokFSum    = 128
	maxTokens  = 16 // the most tokens a call takes (package cpu's kqTileTokens)

	// frameBytes is the kernels' stack frame: the scratch area, with room
	// to align it to 64 bytes. It lives in the frame, which is not zeroed,
	// rather than in a Go array the wrapper would clear on every call.
	frameBytes = scratchTok + tokBytes*maxTokens + 64
)

// tokenLoop emits a loop over the call's tokens: DX walks their Q8_K
// blocks (from BX), SI their scratch records, CX counts.
func (g *gen) tokenLoop(label string, body func()) {
	g.i("MOVQ BX, DX")
	g.i("LEAQ %d(DI), SI", scratchTok)
	g.i("MOVQ R10, CX")
	g.label(label)
	body()
	g.i("ADDQ R13, DX")
	g.i("ADDQ $%d, SI", tokBytes)
	g.i("DECQ CX")
	g.i("JNZ %s", label)
}

// q4k writes kqPackedQ4KAVX512, or with q5 kqPackedQ5KAVX512 for Q5_K
// rows packed as Q4_K's with the 16 rows' 32 bytes of fifth bits before
// the quants: dword k (bytes 4k..4k+3, the high bits of qs dword k of
// every sub-block pair) of row r at 256+64k+4r, the quants from 768. A
// column is read in order: with the fifth bits after the quants, read
// first, one token streamed at 10 GB/s a thread where Q4_K streams at 27
// (BenchmarkMatVec). Those eight registers are
// loaded once a block (Z21-Z28, after the mins); VGF2P8AFFINEQB moves
// pair p's bits 2p and 2p+1 to bit 4, and VPTERNLOGD adds them to the
// nibbles, so Q5_K takes both nibbles as values (no sixteenfold scales).
//
// Registers: AX the weights, BX token 0's Q8_K block, R8 blocks per row,
// R9 blocks left, R10 tokens, R11 the group's outputs, R12 ldo in bytes,
// R13 a token's Q8_K row bytes, R14 groups left, DI the scratch area.
// Z20 holds the byte mask 0x0f, Z29 and Z30 the block's d and dmin as
// float32, K1 selects byte 0 of each dword, K2 bytes 0 and 2.
func (g *gen) q4k(q5 bool) {
	fn, lp, col := "kqPackedQ4KAVX512", "q4kp", q4kColBytes
	if q5 {
		fn, lp, col = "kqPackedQ5KAVX512", "q5kp", q5kColBytes
	}
	g.prologue(fn)
	g.i("VPBROADCASTD kqPack0f<>(SB), Z20")
	g.i("MOVQ $0x1111111111111111, CX")
	g.i("KMOVQ CX, K1")
	g.i("MOVQ $0x5555555555555555, CX")
	g.i("KMOVQ CX, K2")

	g.groupStart(lp)

	g.label(lp + "_block")
	// Scales and mins of the 16 rows, one lane per byte index:
	// Z3 = sc 0-3, Z4 = m 0-3, Z5 = sc 4-7, Z7 = m 4-7 (byte r of lane j).
	g.i("VMOVDQU64 64(AX), Z0")
	g.i("VMOVDQU64 128(AX), Z1")
	g.i("VMOVDQU64 192(AX), Z2")
	g.i("VPANDD.BCST kqPack3f<>(SB), Z0, Z3")
	g.i("VPANDD.BCST kqPack3f<>(SB), Z1, Z4")
	g.i("VPSRLW $2, Z0, Z5")
	g.i("VPANDD.BCST kqPack30<>(SB), Z5, Z5")
	g.i("VPTERNLOGD $0xf8, Z20, Z2, Z5") // Z5 | Z2&0x0f
	g.i("VPSRLW $4, Z2, Z6")
	g.i("VPSRLW $2, Z1, Z7")
	g.i("VPANDD.BCST kqPack30<>(SB), Z7, Z7")
	g.i("VPTERNLOGD $0xf8, Z20, Z6, Z7") // Z7 | (Z2>>4)&0x0f
	for l := 0; l < 4; l++ {
		g.i("VMOVDQU64 kqPackIdx<>+%d(SB), Z%d", 64*l, 8+l)
	}
	for j := 0; j < 8; j++ {
		sc, m := 3, 4
		if j >= 4 {
			sc, m = 5, 7
		}
		idx := 8 + j%4
		g.i("VPERMB.Z Z%d, Z%d, K1, Z12", sc, idx)
		if j%2 == 0 && !q5 {
			g.i("VPSLLD $4, Z12, Z12")
		}
		g.i("VMOVDQU64 Z12, %d(DI)", scratchSC+64*j)
		g.i("VPERMB.Z Z%d, Z%d, K2, Z%d", m, idx, 21+j)
	}
	g.i("VCVTPH2PS (AX), Z29")
	g.i("VCVTPH2PS 32(AX), Z30")

	// The mins terms of every token.
	g.tokenLoop(lp+"_mins", func() {
		g.i("VPXORD Z16, Z16, Z16")
		g.i("VPXORD Z17, Z17, Z17")
		for j := 0; j < 8; j++ {
			g.i("VPDPWSSD.BCST %d(DX), Z%d, Z%d", q8kBsums+4*j, 21+j, 16+j%2)
		}
		g.i("VPADDD Z17, Z16, Z16")
		g.i("VMOVDQU64 Z16, %d(SI)", tokMins)
	})

	if q5 {
		for k := 0; k < 8; k++ {
			g.i("VMOVDQU64 %d(AX), Z%d", 256+64*k, 21+k)
		}
	}

	// Sub-blocks 2p and 2p+1 of every token.
	for p := 0; p < 4; p++ {
		for k := 0; k < 8; k++ {
			if q5 {
				g.i("VMOVDQU64 %d(AX), Z%d", 768+512*p+64*k, 8+k)
				g.i("VGF2P8AFFINEQB.BCST $0, kqGFBitTo4<>+%d(SB), Z%d, Z%d", 8*(2*p), 21+k, k)
				g.i("VPTERNLOGD $0xf8, Z20, Z%d, Z%d", 8+k, k) // bit 4 | low nibble
				g.i("VPSRLW $4, Z%d, Z%d", 8+k, 8+k)
				g.i("VGF2P8AFFINEQB.BCST $0, kqGFBitTo4<>+%d(SB), Z%d, Z16", 8*(2*p+1), 21+k)
				g.i("VPTERNLOGD $0xec, Z20, Z16, Z%d", 8+k) // high nibble | bit 4
				continue
			}
			g.i("VMOVDQU64 %d(AX), Z%d", 256+512*p+64*k, k)
			g.i("VPANDND Z%d, Z20, Z%d", k, 8+k)
			g.i("VPANDD Z20, Z%d, Z%d", k, k)
		}
		g.tokenLoop(fmt.Sprintf("%s_p%d", lp, p), func() {
			for a := 16; a < 20; a++ {
				g.i("VPXORD Z%d, Z%d, Z%d", a, a, a)
			}
			for k := 0; k < 8; k++ {
				g.i("VPDPBUSD.BCST %d(DX), Z%d, Z%d", q8kQs+64*p+4*k, k, 16+k%2)
				g.i("VPDPBUSD.BCST %d(DX), Z%d, Z%d", q8kQs+64*p+32+4*k, 8+k, 18+k%2)
			}
			g.i("VPADDD Z17, Z16, Z16")
			g.i("VPADDD Z19, Z18, Z18")
			g.i("VPMULLD %d(DI), Z16, Z16", scratchSC+64*2*p)
			g.i("VPMULLD %d(DI), Z18, Z18", scratchSC+64*(2*p+1))
			g.i("VPADDD Z18, Z16, Z16")
			if p > 0 {
				g.i("VPADDD %d(SI), Z16, Z16", tokISum)
			}
			g.i("VMOVDQU64 Z16, %d(SI)", tokISum)
		})
	}

	// The block's float part, as the generic kernel: sum += d*yd*isum - dmin*yd*mins.
	g.tokenLoop(lp+"_float", func() {
		g.i("VMOVDQU64 %d(SI), Z16", tokISum)
		if !q5 {
			g.i("VPSRAD $4, Z16, Z16")
		}
		g.i("VCVTDQ2PS Z16, Z16")
		g.i("VMULPS.BCST (DX), Z29, Z17")
		g.i("VMULPS Z17, Z16, Z16")
		g.i("VCVTDQ2PS %d(SI), Z18", tokMins)
		g.i("VMULPS.BCST (DX), Z30, Z19")
		g.i("VMULPS Z19, Z18, Z18")
		g.i("VSUBPS Z18, Z16, Z16")
		g.i("VADDPS %d(SI), Z16, Z16", tokFSum)
		g.i("VMOVDQU64 Z16, %d(SI)", tokFSum)
	})
	g.i("ADDQ $%d, AX", col)
	g.i("ADDQ $%d, BX", q8kBytes)
	g.i("DECQ R9")
	g.i("JNZ %s_block", lp)

	g.storeGroup(lp)
	g.i("VZEROUPPER")
	g.i("RET")
}

// q6k writes kqPackedQ6KAVX512, for Q6_K rows packed as
//
//	0    the 16 rows' fp16 d
//	32   the scales, as pairs: sub-blocks 2i and 2i+1 of row r at 32+32i+2r
//	288  the 6-bit quants u (the value plus 32), three registers per
//	     sub-block g of 16 values: byte e of row r's dword in register
//	     3g+c (at 288+64(3g+c)+4r+e) holds u[16g+4c+e] in bits 0-5 and
//	     bits 2c, 2c+1 of u[16g+12+e] in bits 6-7.
//
// So the first three dwords of a sub-block are one AND each and the
// fourth gathers the three registers' top bits (three VGF2P8AFFINEQB, one
// VPTERNLOGD). Each sub-block's sum of u times the activations, times its
// scale (VPMULLD), goes into the integer sum; 32 times the scales against
// the bsums (VPDPWSSD of the scale pairs with each bsum pair) comes off it
// at the end of the block, so that the integer sum is the generic
// kernel's, and the float part is its d*yd*isum.
//
// Registers as q4k's, with Z20 the byte mask 0x3f, Z21-Z28 the scale
// pairs as words and Z29 d.
func (g *gen) q6k() {
	const fn = "kqPackedQ6KAVX512"
	g.prologue(fn)
	g.i("VPBROADCASTD kqPack3f<>(SB), Z20")

	g.groupStart("q6kp")

	g.label("q6kp_block")
	// The scales: pairs as words in Z21-Z28, one dword each in the
	// scratch area.
	for i := 0; i < 8; i++ {
		p := 21 + i
		g.i("VPMOVSXBW %d(AX), Z%d", 32+32*i, p)
		g.i("VPSLLD $16, Z%d, Z0", p)
		g.i("VPSRAD $16, Z0, Z0")
		g.i("VPSRAD $16, Z%d, Z1", p)
		g.i("VMOVDQU64 Z0, %d(DI)", scratchSC+64*(2*i))
		g.i("VMOVDQU64 Z1, %d(DI)", scratchSC+64*(2*i+1))
	}
	g.i("VCVTPH2PS (AX), Z29")

	// 32 times each token's sum of the scales against its bsums.
	g.tokenLoop("q6kp_bsums", func() {
		g.i("VPXORD Z16, Z16, Z16")
		g.i("VPXORD Z17, Z17, Z17")
		for i := 0; i < 8; i++ {
			g.i("VPDPWSSD.BCST %d(DX), Z%d, Z%d", q8kBsums+4*i, 21+i, 16+i%2)
		}
		g.i("VPADDD Z17, Z16, Z16")
		g.i("VPSLLD $5, Z16, Z16")
		g.i("VMOVDQU64 Z16, %d(SI)", tokMins)
	})

	// Sub-blocks 4q..4q+3 of every token.
	for q := 0; q < 4; q++ {
		for s := 0; s < 4; s++ {
			sb := 4*q + s
			base := 288 + 64*3*sb
			g.i("VMOVDQU64 %d(AX), Z16", base)
			g.i("VMOVDQU64 %d(AX), Z17", base+64)
			g.i("VMOVDQU64 %d(AX), Z18", base+128)
			g.i("VGF2P8AFFINEQB.BCST $0, kqGF67to01<>(SB), Z16, Z%d", 4*s+3)
			g.i("VPANDD Z20, Z16, Z%d", 4*s)
			g.i("VGF2P8AFFINEQB.BCST $0, kqGF67to23<>(SB), Z17, Z19")
			g.i("VPANDD Z20, Z17, Z%d", 4*s+1)
			g.i("VGF2P8AFFINEQB.BCST $0, kqGF67to45<>(SB), Z18, Z17")
			g.i("VPANDD Z20, Z18, Z%d", 4*s+2)
			g.i("VPTERNLOGD $0xfe, Z17, Z19, Z%d", 4*s+3)
		}
		g.tokenLoop(fmt.Sprintf("q6kp_q%d", q), func() {
			for a := 16; a < 20; a++ {
				g.i("VPXORD Z%d, Z%d, Z%d", a, a, a)
			}
			for c := 0; c < 4; c++ {
				for s := 0; s < 4; s++ {
					g.i("VPDPBUSD.BCST %d(DX), Z%d, Z%d", q8kQs+16*(4*q+s)+4*c, 4*s+c, 16+s)
				}
			}
			for s := 0; s < 4; s++ {
				g.i("VPMULLD %d(DI), Z%d, Z%d", scratchSC+64*(4*q+s), 16+s, 16+s)
			}
			g.i("VPADDD Z17, Z16, Z16")
			g.i("VPADDD Z19, Z18, Z18")
			g.i("VPADDD Z18, Z16, Z16")
			if q > 0 {
				g.i("VPADDD %d(SI), Z16, Z16", tokISum)
			}
			g.i("VMOVDQU64 Z16, %d(SI)", tokISum)
		})
	}

	// The block's float part, as the generic kernel: sum += d*yd*isum.
	g.tokenLoop("q6kp_float", func() {
		g.i("VMOVDQU64 %d(SI), Z16", tokISum)
		g.i("VPSUBD %d(SI), Z16, Z16", tokMins)
		g.i("VCVTDQ2PS Z16, Z16")
		g.i("VMULPS.BCST (DX), Z29, Z17")
		g.i("VMULPS Z17, Z16, Z16")
		g.i("VADDPS %d(SI), Z16, Z16", tokFSum)
		g.i("VMOVDQU64 Z16, %d(SI)", tokFSum)
	})
	g.i("ADDQ $%d, AX", q6kColBytes)
	g.i("ADDQ $%d, BX", q8kBytes)
	g.i("DECQ R9")
	g.i("JNZ q6kp_block")
	g.storeGroup("q6kp")
	g.i("VZEROUPPER")
	g.i("RET")
}

// prologue starts the packed kernel fn (w *byte, groups int, pan *byte,
// nb, nt int, out *float32, ldo int) with its arguments in the registers
// q4k describes and DI at the scratch area in its frame (not NOSPLIT: the
// frame is larger than a nosplit function may take).
func (g *gen) prologue(fn string) {
	g.raw("\n// func " + fn + "(w *byte, groups int, pan *byte, nb, nt int, out *float32, ldo int)\n")
	g.raw(fmt.Sprintf("TEXT ·%s(SB), 0, $%d-56\n", fn, frameBytes))
	g.i("MOVQ w+0(FP), AX")
	g.i("MOVQ groups+8(FP), R14")
	g.i("MOVQ nb+24(FP), R8")
	g.i("MOVQ nt+32(FP), R10")
	g.i("MOVQ out+40(FP), R11")
	g.i("MOVQ ldo+48(FP), R12")
	g.i("SHLQ $2, R12")
	g.i("LEAQ (SP), DI")
	g.i("ADDQ $63, DI")
	g.i("ANDQ $-64, DI")
	g.i("IMUL3Q $%d, R8, R13", q8kBytes)
}

// groupStart begins a group of rows (label+"_group"): the tokens' float
// sums cleared, BX at token 0's first Q8_K block, R9 counting the blocks.
func (g *gen) groupStart(label string) {
	g.label(label + "_group")
	g.i("VPXORD Z16, Z16, Z16")
	g.tokenLoop(label+"_zero", func() {
		g.i("VMOVDQU64 Z16, %d(SI)", tokFSum)
	})
	g.i("MOVQ pan+16(FP), BX")
	g.i("MOVQ R8, R9")
}

// storeGroup writes the group's 16 sums of every token to out and moves
// R11 to the next group's, looping back to label+"_group" while groups
// are left.
func (g *gen) storeGroup(label string) {
	g.i("MOVQ R11, BX") // token 0's outputs; BX is free until the next group
	g.i("LEAQ %d(DI), SI", scratchTok)
	g.i("MOVQ R10, CX")
	g.label(label + "_store")
	g.i("VMOVDQU64 %d(SI), Z16", tokFSum)
	g.i("VMOVUPS Z16, (BX)")
	g.i("ADDQ R12, BX")
	g.i("ADDQ $%d, SI", tokBytes)
	g.i("DECQ CX")
	g.i("JNZ %s_store", label)
	g.i("ADDQ $64, R11")
	g.i("DECQ R14")
	g.i("JNZ %s_group", label)
}

func main() {
	dir := flag.String("dir", ".", "directory to write the .s file to")
	flag.Parse()
	g := &gen{}
	g.raw("// Code generated by _asm/kquant; DO NOT EDIT.\n\n//go:build !noasm\n\n#include \"textflag.h\"\n\n")
	g.data()
	g.q4k(false)
	g.q4k(true)
	g.q6k()
	if err := os.WriteFile(filepath.Join(*dir, "kquants_packed_amd64.s"), g.b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
