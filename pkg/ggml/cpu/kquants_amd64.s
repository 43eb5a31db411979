//go:build !noasm

#include "textflag.h"

// Dot products (vecDot) and tile kernels of K-quant weight rows with Q8_K
// activation rows, for AVX2 (with F16C; BMI2 for IQ4_XS) and AVX-512 (F,
// BW, VL, VNNI). A vecDot function takes the number of 256-element blocks,
// a pointer to the weight blocks and one to the Q8_K blocks, and returns
// the float32 dot product. Integer sums inside a block are exact, and the
// blocks are combined in float32 in the generic kernels' order (see
// KFINISH2), so every kernel of a type gives the same results.
//
// The tile kernels at the end (AVX-512: KT* macros, AVX2: A2* macros)
// multiply one weight row at a time with a group of tokens, unpacking each
// weight block once for all of them.
//
// Q8_K block (292 bytes): d float32 at 0, 256 int8 quants at 4, 16 int16
// group sums (bsums) at 260.

// kqShufQ4K<> row k (32 bytes) broadcasts int16 lane k of each 128-bit half.
DATA kqShufQ4K<>+0(SB)/8, $0x0100010001000100
DATA kqShufQ4K<>+8(SB)/8, $0x0100010001000100
DATA kqShufQ4K<>+16(SB)/8, $0x0100010001000100
DATA kqShufQ4K<>+24(SB)/8, $0x0100010001000100
DATA kqShufQ4K<>+32(SB)/8, $0x0302030203020302
DATA kqShufQ4K<>+40(SB)/8, $0x0302030203020302
DATA kqShufQ4K<>+48(SB)/8, $0x0302030203020302
DATA kqShufQ4K<>+56(SB)/8, $0x0302030203020302
DATA kqShufQ4K<>+64(SB)/8, $0x0504050405040504
DATA kqShufQ4K<>+72(SB)/8, $0x0504050405040504
DATA kqShufQ4K<>+80(SB)/8, $0x0504050405040504
DATA kqShufQ4K<>+88(SB)/8, $0x0504050405040504
DATA kqShufQ4K<>+96(SB)/8, $0x0706070607060706
DATA kqShufQ4K<>+104(SB)/8, $0x0706070607060706
DATA kqShufQ4K<>+112(SB)/8, $0x0706070607060706
DATA kqShufQ4K<>+120(SB)/8, $0x0706070607060706
DATA kqShufQ4K<>+128(SB)/8, $0x0908090809080908
DATA kqShufQ4K<>+136(SB)/8, $0x0908090809080908
DATA kqShufQ4K<>+144(SB)/8, $0x0908090809080908
DATA kqShufQ4K<>+152(SB)/8, $0x0908090809080908
DATA kqShufQ4K<>+160(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kqShufQ4K<>+168(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kqShufQ4K<>+176(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kqShufQ4K<>+184(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kqShufQ4K<>+192(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kqShufQ4K<>+200(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kqShufQ4K<>+208(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kqShufQ4K<>+216(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kqShufQ4K<>+224(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kqShufQ4K<>+232(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kqShufQ4K<>+240(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kqShufQ4K<>+248(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL kqShufQ4K<>(SB), RODATA|NOPTR, $256

// kqShufQ6K<> row i puts int16 lane 2i in the low 128-bit half and lane 2i+1
// in the high half (each repeated 8 times).
DATA kqShufQ6K<>+0(SB)/8, $0x0100010001000100
DATA kqShufQ6K<>+8(SB)/8, $0x0100010001000100
DATA kqShufQ6K<>+16(SB)/8, $0x0302030203020302
DATA kqShufQ6K<>+24(SB)/8, $0x0302030203020302
DATA kqShufQ6K<>+32(SB)/8, $0x0504050405040504
DATA kqShufQ6K<>+40(SB)/8, $0x0504050405040504
DATA kqShufQ6K<>+48(SB)/8, $0x0706070607060706
DATA kqShufQ6K<>+56(SB)/8, $0x0706070607060706
DATA kqShufQ6K<>+64(SB)/8, $0x0908090809080908
DATA kqShufQ6K<>+72(SB)/8, $0x0908090809080908
DATA kqShufQ6K<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kqShufQ6K<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kqShufQ6K<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kqShufQ6K<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kqShufQ6K<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kqShufQ6K<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL kqShufQ6K<>(SB), RODATA|NOPTR, $128

// Every kernel computes each block's integer sums exactly, reduces them
// to scalars and adds the block's float32 result to X0 in the order the
// generic kernels use: sum += d*float32(isum) - dmin*float32(mins), with d
// and dmin the weight block's fp16 scales times the Q8_K scale, each
// operation rounded to float32 (no FMA). The tile kernels use the same
// order, so results do not depend on which kernel computed them.

// KFINISH2 adds d*float32(sum of Y7's int32 lanes) - dmin*float32(sum of
// X4's four lanes) to X0; X5 holds d, dmin in lanes 0 and 1.
#define KFINISH2 \
	VEXTRACTI128 $1, Y7, X8; \
	VPADDD       X8, X7, X7; \
	VPHADDD      X4, X7, X7; \
	VPHADDD      X7, X7, X7; \
	VCVTDQ2PS    X7, X7; \
	VMULPS       X5, X7, X7; \
	VMOVSHDUP    X7, X8; \
	VSUBSS       X8, X7, X7; \
	VADDSS       X7, X0, X0

// KFINISH1 adds d*float32(sum of Y7's int32 lanes) to X0; X5 holds d in
// lane 0.
#define KFINISH1 \
	VEXTRACTI128 $1, Y7, X8; \
	VPADDD       X8, X7, X7; \
	VPHADDD      X7, X7, X7; \
	VPHADDD      X7, X7, X7; \
	VCVTDQ2PS    X7, X7; \
	VMULSS       X5, X7, X7; \
	VADDSS       X7, X0, X0

// KDONE returns X0.
#define KDONE \
	VZEROUPPER; \
	MOVSS X0, ret+24(FP); \
	RET

// Q4_K block (144 bytes): d, dmin fp16 at 0 and 2, 12 bytes of packed
// 6-bit scales and mins at 4, 128 bytes of 4-bit quants at 16. Sub-block
// 2j (32 values) is the low nibbles of qs[32j:32j+32], sub-block 2j+1 the
// high nibbles.

// KSCALEMIN unpacks the 6-bit scales and mins of the Q4_K/Q5_K block at SI
// (with the Q8_K block at DI): it leaves the eight int16 scales in both
// 128-bit halves of Y2, the mins terms (min times the sum of the
// sub-block's activations, from the bsums) in the four int32 lanes of X4,
// and d*yd, dmin*yd in lanes 0 and 1 of X5. It clobbers AX, BX, DX, R8-R10,
// Y3-Y6. KSCALEMIN512 is the same but leaves the scales in words 0-7 of Y2
// only, for VPERMW to pick from.
#define KSCALEMIN \
	KSCALEMINA; \
	VPERMQ $0x44, Y2, Y2; \
	KSCALEMINB

#define KSCALEMIN512 \
	KSCALEMINA; \
	KSCALEMINB

// KSCALEMINA and KSCALEMINB are KSCALEMIN before and after its scales
// are copied to the high half.
#define KSCALEMINA \
	MOVL 4(SI), AX; \
	MOVL 8(SI), BX; \
	MOVL 12(SI), DX; \
	MOVL AX, R8; \
	ANDL $0x3f3f3f3f, R8; \
	MOVL DX, R9; \
	ANDL $0x0f0f0f0f, R9; \
	SHRL $6, AX; \
	ANDL $0x03030303, AX; \
	SHLL $4, AX; \
	ORL AX, R9; \
	MOVL BX, R10; \
	ANDL $0x3f3f3f3f, R10; \
	SHRL $4, DX; \
	ANDL $0x0f0f0f0f, DX; \
	SHRL $6, BX; \
	ANDL $0x03030303, BX; \
	SHLL $4, BX; \
	ORL BX, DX; \
	SHLQ $32, R9; \
	ORQ R9, R8; \
	SHLQ $32, DX; \
	ORQ DX, R10; \
	VMOVQ R8, X2; \
	VPINSRQ $1, R10, X2, X2; \
	VPMOVZXBW X2, Y2; \
	VEXTRACTI128 $1, Y2, X3

#define KSCALEMINB \
	VMOVDQU 260(DI), Y4; \
	VEXTRACTI128 $1, Y4, X5; \
	VPHADDW X5, X4, X4; \
	VPMADDWD X3, X4, X4; \
	VCVTPH2PS (SI), X5; \
	VBROADCASTSS (DI), X6; \
	VMULPS X6, X5, X5

// Q4KSTEP multiplies sub-blocks 2j and 2j+1 (qs at QOFF, q8 at YOFF) by
// their scales and adds to the int32 lanes of Y7. Y2 holds the eight int16
// scales in both 128-bit halves, Y15 the byte mask 0x0f.
#define Q4KSTEP(QOFF, YOFF, SOFF) \
	VMOVDQU    QOFF(SI), Y8; \
	VPSRLW     $4, Y8, Y9; \
	VPAND      Y15, Y8, Y8; \
	VPAND      Y15, Y9, Y9; \
	VPMADDUBSW YOFF(DI), Y8, Y8; \
	VPMADDUBSW (YOFF+32)(DI), Y9, Y9; \
	VPSHUFB    kqShufQ4K<>+SOFF(SB), Y2, Y10; \
	VPSHUFB    kqShufQ4K<>+(SOFF+32)(SB), Y2, Y11; \
	VPMADDWD   Y10, Y8, Y8; \
	VPMADDWD   Y11, Y9, Y9; \
	VPADDD     Y8, Y7, Y7; \
	VPADDD     Y9, Y7, Y7

// func kqDotQ4KAVX2(nb int, x, y *byte) float32
TEXT ·kqDotQ4KAVX2(SB), NOSPLIT, $0-28
	MOVQ nb+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	VXORPS Y0, Y0, Y0 // sum of d * scaled quant products
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	TESTQ CX, CX
	JLE q4kdone

q4kloop:
	KSCALEMIN

	VPXOR Y7, Y7, Y7
	Q4KSTEP(16, 4, 0)
	Q4KSTEP(48, 68, 64)
	Q4KSTEP(80, 132, 128)
	Q4KSTEP(112, 196, 192)
	KFINISH2

	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ q4kloop

q4kdone:
	KDONE

// Q6_K block (210 bytes): 128 bytes of low 4 bits (ql) at 0, 64 bytes of
// high 2 bits (qh) at 128, 16 int8 scales at 192, d fp16 at 208. Quants are
// 0..63 with an offset of 32, which is taken out through the bsums.

// Q6KQUANT multiplies one 32-value vector of 6-bit quants in WREG with the
// q8 at YOFF, scales it by the two int16 scales selected by row SOFF of
// kqShufQ6K from SREG and adds to Y5.
#define Q6KDOT(WREG, YOFF, SREG, SOFF) \
	VPMADDUBSW YOFF(DI), WREG, WREG; \
	VPSHUFB    kqShufQ6K<>+SOFF(SB), SREG, Y9; \
	VPMADDWD   Y9, WREG, WREG; \
	VPADDD     WREG, Y5, Y5

// Q6KHALF handles 128 values: ql at QL, QL+32, qh at QH, q8 at Y0FF.
#define Q6KHALF(QL, QH, YOFF, SREG) \
	VMOVDQU QL(SI), Y6; \
	VMOVDQU (QL+32)(SI), Y7; \
	VMOVDQU QH(SI), Y8; \
	VPSLLW  $4, Y8, Y9; \
	VPAND   Y14, Y9, Y9; \
	VPAND   Y15, Y6, Y10; \
	VPOR    Y9, Y10, Y10; \
	Q6KDOT(Y10, YOFF, SREG, 0); \
	VPSLLW  $2, Y8, Y9; \
	VPAND   Y14, Y9, Y9; \
	VPAND   Y15, Y7, Y10; \
	VPOR    Y9, Y10, Y10; \
	Q6KDOT(Y10, (YOFF+32), SREG, 32); \
	VPSRLW  $4, Y6, Y6; \
	VPAND   Y15, Y6, Y6; \
	VPAND   Y14, Y8, Y9; \
	VPOR    Y9, Y6, Y6; \
	Q6KDOT(Y6, (YOFF+64), SREG, 64); \
	VPSRLW  $4, Y7, Y7; \
	VPAND   Y15, Y7, Y7; \
	VPSRLW  $2, Y8, Y9; \
	VPAND   Y14, Y9, Y9; \
	VPOR    Y9, Y7, Y7; \
	Q6KDOT(Y7, (YOFF+96), SREG, 96)

// func kqDotQ6KAVX2(nb int, x, y *byte) float32
TEXT ·kqDotQ6KAVX2(SB), NOSPLIT, $0-28
	MOVQ nb+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	VXORPS Y0, Y0, Y0
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x30303030, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14
	TESTQ CX, CX
	JLE q6kdone

q6kloop:
	VPMOVSXBW 192(SI), Y1    // 16 int16 scales
	VPMADDWD 260(DI), Y1, Y2 // scale * bsum
	VPSLLD $5, Y2, Y2        // times the offset 32
	VPERMQ $0x44, Y1, Y3     // scales 0-7 in both halves
	VPERMQ $0xee, Y1, Y4     // scales 8-15 in both halves
	VPXOR Y5, Y5, Y5
	Q6KHALF(0, 128, 4, Y3)
	Q6KHALF(64, 160, 132, Y4)
	VPSUBD Y2, Y5, Y7
	MOVWLZX 208(SI), AX
	VMOVD AX, X5
	VCVTPH2PS X5, X5
	VMULSS (DI), X5, X5
	KFINISH1

	ADDQ $210, SI
	ADDQ $292, DI
	DECQ CX
	JNZ q6kloop

q6kdone:
	KDONE

// Q5_K block (176 bytes): d, dmin, 12 bytes of scales and mins as in Q4_K,
// 32 bytes of high bits (qh) at 16, 128 bytes of low 4 bits at 48. Value l
// of sub-block s has its high bit in bit s of qh[l].

// Q5KSTEP is Q4KSTEP with the fifth bits: bit 2j of Y13 (qh) moved to bit 4
// by SHL $SL, bit 2j+1 by SHH $SH; Y14 holds the byte mask 0x10.
#define Q5KSTEP(QOFF, YOFF, SOFF, SHL, SL, SHH, SH) \
	VMOVDQU    QOFF(SI), Y8; \
	VPSRLW     $4, Y8, Y9; \
	VPAND      Y15, Y8, Y8; \
	VPAND      Y15, Y9, Y9; \
	SHL        $SL, Y13, Y10; \
	SHH        $SH, Y13, Y11; \
	VPAND      Y14, Y10, Y10; \
	VPAND      Y14, Y11, Y11; \
	VPOR       Y10, Y8, Y8; \
	VPOR       Y11, Y9, Y9; \
	VPMADDUBSW YOFF(DI), Y8, Y8; \
	VPMADDUBSW (YOFF+32)(DI), Y9, Y9; \
	VPSHUFB    kqShufQ4K<>+SOFF(SB), Y2, Y10; \
	VPSHUFB    kqShufQ4K<>+(SOFF+32)(SB), Y2, Y11; \
	VPMADDWD   Y10, Y8, Y8; \
	VPMADDWD   Y11, Y9, Y9; \
	VPADDD     Y8, Y7, Y7; \
	VPADDD     Y9, Y7, Y7

// func kqDotQ5KAVX2(nb int, x, y *byte) float32
TEXT ·kqDotQ5KAVX2(SB), NOSPLIT, $0-28
	MOVQ nb+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	VXORPS Y0, Y0, Y0
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x10101010, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14
	TESTQ CX, CX
	JLE q5kdone

q5kloop:
	KSCALEMIN
	VMOVDQU 16(SI), Y13
	VPXOR Y7, Y7, Y7
	Q5KSTEP(48, 4, 0, VPSLLW, 4, VPSLLW, 3)
	Q5KSTEP(80, 68, 64, VPSLLW, 2, VPSLLW, 1)
	Q5KSTEP(112, 132, 128, VPSRLW, 0, VPSRLW, 1)
	Q5KSTEP(144, 196, 192, VPSRLW, 2, VPSRLW, 3)
	KFINISH2

	ADDQ $176, SI
	ADDQ $292, DI
	DECQ CX
	JNZ q5kloop

q5kdone:
	KDONE

// Q2_K block (84 bytes): 16 bytes of 4-bit scales (low nibble) and mins
// (high nibble) at 0, 64 bytes of 2-bit quants at 16, d and dmin fp16 at 80
// and 82. Bits 2i..2i+1 of qs[32k+l] hold value 128k+32i+l; each group of
// 16 values has its own scale and min.

// K16DOT multiplies the 32 unsigned quants in WREG with the q8 at YOFF,
// scales the two halves by their groups' int16 scales (row SOFF of
// kqShufQ6K applied to SREG) and adds to Y7.
#define K16DOT(WREG, YOFF, SREG, SOFF) \
	VPMADDUBSW YOFF(DI), WREG, WREG; \
	VPSHUFB    kqShufQ6K<>+SOFF(SB), SREG, Y9; \
	VPMADDWD   Y9, WREG, WREG; \
	VPADDD     WREG, Y7, Y7

// Q2KHALF handles 128 values: 2-bit quants at QOFF, q8 at YOFF.
#define Q2KHALF(QOFF, YOFF, SREG) \
	VMOVDQU QOFF(SI), Y6; \
	VPAND   Y15, Y6, Y8; \
	K16DOT(Y8, YOFF, SREG, 0); \
	VPSRLW  $2, Y6, Y8; \
	VPAND   Y15, Y8, Y8; \
	K16DOT(Y8, (YOFF+32), SREG, 32); \
	VPSRLW  $4, Y6, Y8; \
	VPAND   Y15, Y8, Y8; \
	K16DOT(Y8, (YOFF+64), SREG, 64); \
	VPSRLW  $6, Y6, Y8; \
	VPAND   Y15, Y8, Y8; \
	K16DOT(Y8, (YOFF+96), SREG, 96)

// func kqDotQ2KAVX2(nb int, x, y *byte) float32
TEXT ·kqDotQ2KAVX2(SB), NOSPLIT, $0-28
	MOVQ nb+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	VXORPS Y0, Y0, Y0
	MOVL $0x03030303, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X14
	VPBROADCASTD X14, X14
	TESTQ CX, CX
	JLE q2kdone

q2kloop:
	// d*yd, dmin*yd
	MOVL 80(SI), AX
	VMOVD AX, X5
	VCVTPH2PS X5, X5
	VBROADCASTSS (DI), X6
	VMULPS X6, X5, X5 // d*yd, dmin*yd

	VMOVDQU (SI), X1
	VPSRLW $4, X1, X2
	VPAND X14, X1, X1
	VPAND X14, X2, X2
	VPMOVZXBW X2, Y2         // 16 int16 mins
	VPMADDWD 260(DI), Y2, Y2 // min * bsum
	VPMOVZXBW X1, Y1         // 16 int16 scales
	VPERMQ $0x44, Y1, Y3
	VPERMQ $0xee, Y1, Y4

	VPXOR Y7, Y7, Y7
	Q2KHALF(16, 4, Y3)
	Q2KHALF(48, 132, Y4)
	VPHADDD Y2, Y7, Y7 // per 128-bit half: two isum, two mins partial sums
	VEXTRACTI128 $1, Y7, X8
	VPADDD X8, X7, X7
	VPHADDD X7, X7, X7 // isum, mins
	VCVTDQ2PS X7, X7
	VMULPS X5, X7, X7
	VMOVSHDUP X7, X8
	VSUBSS X8, X7, X7
	VADDSS X7, X0, X0

	ADDQ $84, SI
	ADDQ $292, DI
	DECQ CX
	JNZ q2kloop

q2kdone:
	KDONE

// Q3_K block (110 bytes): 32 bytes of high bits (hmask) at 0, 64 bytes of
// low 2 bits at 32 (as in Q2_K), 12 bytes of packed 6-bit scales (offset
// 32) at 96, d fp16 at 108. Value 128k+32i+l is (low bits) + 4*(bit 4k+i
// of hmask[l]) - 4; the -4 is taken out through the bsums.

// Q3KVEC builds the 32 quants (0..7) of vector i with shift 2i of the low
// bits in Y6 and the high bit moved to bit 2 (by HSH $HS) from Y13.
#define Q3KVEC(LS, HSH, HS) \
	VPSRLW  $LS, Y6, Y8; \
	HSH     $HS, Y13, Y10; \
	VPAND   Y15, Y8, Y8; \
	VPAND   Y14, Y10, Y10; \
	VPOR    Y10, Y8, Y8

// func kqDotQ3KAVX2(nb int, x, y *byte) float32
TEXT ·kqDotQ3KAVX2(SB), NOSPLIT, $0-28
	MOVQ nb+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	VXORPS Y0, Y0, Y0
	MOVL $0x03030303, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x04040404, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14
	MOVL $0x20202020, AX
	VMOVD AX, X12
	VPBROADCASTD X12, X12
	TESTQ CX, CX
	JLE q3kdone

q3kloop:
	// Scales: byte i of (R8, R9) is scale i + 32.
	MOVL 96(SI), AX  // a0
	MOVL 100(SI), BX // a1
	MOVL 104(SI), DX // a2
	MOVL AX, R8
	ANDL $0x0f0f0f0f, R8
	MOVL DX, R10
	ANDL $0x03030303, R10
	SHLL $4, R10
	ORL R10, R8 // scales 0-3
	MOVL BX, R9
	ANDL $0x0f0f0f0f, R9
	MOVL DX, R10
	SHRL $2, R10
	ANDL $0x03030303, R10
	SHLL $4, R10
	ORL R10, R9 // scales 4-7
	SHLQ $32, R9
	ORQ R9, R8
	SHRL $4, AX
	ANDL $0x0f0f0f0f, AX
	MOVL DX, R10
	SHRL $4, R10
	ANDL $0x03030303, R10
	SHLL $4, R10
	ORL R10, AX // scales 8-11
	SHRL $4, BX
	ANDL $0x0f0f0f0f, BX
	SHRL $6, DX
	ANDL $0x03030303, DX
	SHLL $4, DX
	ORL DX, BX // scales 12-15
	SHLQ $32, BX
	ORQ BX, AX
	VMOVQ R8, X1
	VPINSRQ $1, AX, X1, X1
	VPSUBB X12, X1, X1
	VPMOVSXBW X1, Y1         // 16 int16 scales
	VPMADDWD 260(DI), Y1, Y2 // scale * bsum
	VPSLLD $2, Y2, Y2        // times the offset 4
	VPERMQ $0x44, Y1, Y3
	VPERMQ $0xee, Y1, Y4

	VMOVDQU (SI), Y13
	VPXOR Y7, Y7, Y7
	VMOVDQU 32(SI), Y6
	Q3KVEC(0, VPSLLW, 2)
	K16DOT(Y8, 4, Y3, 0)
	Q3KVEC(2, VPSLLW, 1)
	K16DOT(Y8, 36, Y3, 32)
	Q3KVEC(4, VPSRLW, 0)
	K16DOT(Y8, 68, Y3, 64)
	Q3KVEC(6, VPSRLW, 1)
	K16DOT(Y8, 100, Y3, 96)
	VMOVDQU 64(SI), Y6
	Q3KVEC(0, VPSRLW, 2)
	K16DOT(Y8, 132, Y4, 0)
	Q3KVEC(2, VPSRLW, 3)
	K16DOT(Y8, 164, Y4, 32)
	Q3KVEC(4, VPSRLW, 4)
	K16DOT(Y8, 196, Y4, 64)
	Q3KVEC(6, VPSRLW, 5)
	K16DOT(Y8, 228, Y4, 96)
	VPSUBD Y2, Y7, Y7
	MOVWLZX 108(SI), AX
	VMOVD AX, X5
	VCVTPH2PS X5, X5
	VMULSS (DI), X5, X5
	KFINISH1

	ADDQ $110, SI
	ADDQ $292, DI
	DECQ CX
	JNZ q3kloop

q3kdone:
	KDONE

// IQ4_XS block (136 bytes): d fp16 at 0, scales_h uint16 at 2, scales_l
// [4]byte at 4, 128 bytes of 4-bit indexes into the IQ4_NL levels at 8.
// Sub-block ib (32 values) has scale (low nibble ib of scales_l | bits
// 2ib..2ib+1 of scales_h << 4) - 32; its values 0-15 are the low nibbles
// of qs[16ib:16ib+16], 16-31 the high nibbles.

// IQ4XSSUB adds sub-block IB's scaled dot product to Y7. Y14 holds the 16
// levels in both halves, Y2 the int16 scales in both halves. The signed
// product uses |w| (unsigned) times q8 with w's sign, which is exact for
// q8 > -128 (Q8_K quants are in [-127, 127]).
#define IQ4XSSUB(IB) \
	VMOVDQU      (8+16*IB)(SI), X8; \
	VPSRLW       $4, X8, X9; \
	VINSERTI128  $1, X9, Y8, Y8; \
	VPAND        Y15, Y8, Y8; \
	VPSHUFB      Y8, Y14, Y8; \
	VMOVDQU      (4+32*IB)(DI), Y10; \
	VPSIGNB      Y8, Y10, Y10; \
	VPABSB       Y8, Y8; \
	VPMADDUBSW   Y10, Y8, Y8; \
	VPSHUFB      kqShufQ4K<>+(32*IB)(SB), Y2, Y11; \
	VPMADDWD     Y11, Y8, Y8; \
	VPADDD       Y8, Y7, Y7

// func kqDotIQ4XSAVX2(nb int, x, y *byte) float32
TEXT ·kqDotIQ4XSAVX2(SB), NOSPLIT, $0-28
	MOVQ nb+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	VXORPS Y0, Y0, Y0
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	VBROADCASTI128 kqIQ4NL<>(SB), Y14
	MOVL $0x20202020, AX
	VMOVD AX, X12
	VPBROADCASTD X12, X12
	MOVQ $0x0f0f0f0f0f0f0f0f, R11
	MOVQ $0x3030303030303030, R12
	TESTQ CX, CX
	JLE iq4xsdone

iq4xsloop:
	// Scales: byte ib of AX is scale ib + 32.
	MOVL 4(SI), AX
	PDEPQ R11, AX, AX
	MOVWLZX 2(SI), BX
	PDEPQ R12, BX, BX
	ORQ BX, AX
	VMOVQ AX, X2
	VPSUBB X12, X2, X2
	VPMOVSXBW X2, X2
	VPERMQ $0x44, Y2, Y2

	VPXOR Y7, Y7, Y7
	IQ4XSSUB(0)
	IQ4XSSUB(1)
	IQ4XSSUB(2)
	IQ4XSSUB(3)
	IQ4XSSUB(4)
	IQ4XSSUB(5)
	IQ4XSSUB(6)
	IQ4XSSUB(7)
	MOVWLZX (SI), AX
	VMOVD AX, X5
	VCVTPH2PS X5, X5
	VMULSS (DI), X5, X5
	KFINISH1

	ADDQ $136, SI
	ADDQ $292, DI
	DECQ CX
	JNZ iq4xsloop

iq4xsdone:
	KDONE

// kqIQ4NL<> holds the 16 IQ4_NL levels as int8.
DATA kqIQ4NL<>+0(SB)/8, $0xf6eaddcfbfad9881
DATA kqIQ4NL<>+8(SB)/8, $0x7159453526190d01
GLOBL kqIQ4NL<>(SB), RODATA|NOPTR, $16

// AVX-512 (F, BW, VL) with VNNI: 64 values per ZMM, and VPDPWSSD to scale
// and accumulate the int16 pair sums in one instruction.

// kqPermQ6K<> row 2k+p (64 bytes) selects for word l of a ZMM the int16
// scale of group 8k+4p+l/8.
DATA kqPermQ6K<>+0(SB)/8, $0x0000000000000000
DATA kqPermQ6K<>+8(SB)/8, $0x0000000000000000
DATA kqPermQ6K<>+16(SB)/8, $0x0001000100010001
DATA kqPermQ6K<>+24(SB)/8, $0x0001000100010001
DATA kqPermQ6K<>+32(SB)/8, $0x0002000200020002
DATA kqPermQ6K<>+40(SB)/8, $0x0002000200020002
DATA kqPermQ6K<>+48(SB)/8, $0x0003000300030003
DATA kqPermQ6K<>+56(SB)/8, $0x0003000300030003
DATA kqPermQ6K<>+64(SB)/8, $0x0004000400040004
DATA kqPermQ6K<>+72(SB)/8, $0x0004000400040004
DATA kqPermQ6K<>+80(SB)/8, $0x0005000500050005
DATA kqPermQ6K<>+88(SB)/8, $0x0005000500050005
DATA kqPermQ6K<>+96(SB)/8, $0x0006000600060006
DATA kqPermQ6K<>+104(SB)/8, $0x0006000600060006
DATA kqPermQ6K<>+112(SB)/8, $0x0007000700070007
DATA kqPermQ6K<>+120(SB)/8, $0x0007000700070007
DATA kqPermQ6K<>+128(SB)/8, $0x0008000800080008
DATA kqPermQ6K<>+136(SB)/8, $0x0008000800080008
DATA kqPermQ6K<>+144(SB)/8, $0x0009000900090009
DATA kqPermQ6K<>+152(SB)/8, $0x0009000900090009
DATA kqPermQ6K<>+160(SB)/8, $0x000a000a000a000a
DATA kqPermQ6K<>+168(SB)/8, $0x000a000a000a000a
DATA kqPermQ6K<>+176(SB)/8, $0x000b000b000b000b
DATA kqPermQ6K<>+184(SB)/8, $0x000b000b000b000b
DATA kqPermQ6K<>+192(SB)/8, $0x000c000c000c000c
DATA kqPermQ6K<>+200(SB)/8, $0x000c000c000c000c
DATA kqPermQ6K<>+208(SB)/8, $0x000d000d000d000d
DATA kqPermQ6K<>+216(SB)/8, $0x000d000d000d000d
DATA kqPermQ6K<>+224(SB)/8, $0x000e000e000e000e
DATA kqPermQ6K<>+232(SB)/8, $0x000e000e000e000e
DATA kqPermQ6K<>+240(SB)/8, $0x000f000f000f000f
DATA kqPermQ6K<>+248(SB)/8, $0x000f000f000f000f
GLOBL kqPermQ6K<>(SB), RODATA|NOPTR, $256

// kqShiftQ6K<>: word shift counts 4 (low half), 2 (high half); then 0, 2.
DATA kqShiftQ6K<>+0(SB)/8, $0x0004000400040004
DATA kqShiftQ6K<>+8(SB)/8, $0x0004000400040004
DATA kqShiftQ6K<>+16(SB)/8, $0x0004000400040004
DATA kqShiftQ6K<>+24(SB)/8, $0x0004000400040004
DATA kqShiftQ6K<>+32(SB)/8, $0x0002000200020002
DATA kqShiftQ6K<>+40(SB)/8, $0x0002000200020002
DATA kqShiftQ6K<>+48(SB)/8, $0x0002000200020002
DATA kqShiftQ6K<>+56(SB)/8, $0x0002000200020002
DATA kqShiftQ6K<>+64(SB)/8, $0x0000000000000000
DATA kqShiftQ6K<>+72(SB)/8, $0x0000000000000000
DATA kqShiftQ6K<>+80(SB)/8, $0x0000000000000000
DATA kqShiftQ6K<>+88(SB)/8, $0x0000000000000000
DATA kqShiftQ6K<>+96(SB)/8, $0x0002000200020002
DATA kqShiftQ6K<>+104(SB)/8, $0x0002000200020002
DATA kqShiftQ6K<>+112(SB)/8, $0x0002000200020002
DATA kqShiftQ6K<>+120(SB)/8, $0x0002000200020002
GLOBL kqShiftQ6K<>(SB), RODATA|NOPTR, $128

// kqPermQ4K<> row j (64 bytes) selects for words 0-15 of a ZMM the int16
// scale of sub-block 2j and for words 16-31 that of sub-block 2j+1.
DATA kqPermQ4K<>+0(SB)/8, $0x0000000000000000
DATA kqPermQ4K<>+8(SB)/8, $0x0000000000000000
DATA kqPermQ4K<>+16(SB)/8, $0x0000000000000000
DATA kqPermQ4K<>+24(SB)/8, $0x0000000000000000
DATA kqPermQ4K<>+32(SB)/8, $0x0001000100010001
DATA kqPermQ4K<>+40(SB)/8, $0x0001000100010001
DATA kqPermQ4K<>+48(SB)/8, $0x0001000100010001
DATA kqPermQ4K<>+56(SB)/8, $0x0001000100010001
DATA kqPermQ4K<>+64(SB)/8, $0x0002000200020002
DATA kqPermQ4K<>+72(SB)/8, $0x0002000200020002
DATA kqPermQ4K<>+80(SB)/8, $0x0002000200020002
DATA kqPermQ4K<>+88(SB)/8, $0x0002000200020002
DATA kqPermQ4K<>+96(SB)/8, $0x0003000300030003
DATA kqPermQ4K<>+104(SB)/8, $0x0003000300030003
DATA kqPermQ4K<>+112(SB)/8, $0x0003000300030003
DATA kqPermQ4K<>+120(SB)/8, $0x0003000300030003
DATA kqPermQ4K<>+128(SB)/8, $0x0004000400040004
DATA kqPermQ4K<>+136(SB)/8, $0x0004000400040004
DATA kqPermQ4K<>+144(SB)/8, $0x0004000400040004
DATA kqPermQ4K<>+152(SB)/8, $0x0004000400040004
DATA kqPermQ4K<>+160(SB)/8, $0x0005000500050005
DATA kqPermQ4K<>+168(SB)/8, $0x0005000500050005
DATA kqPermQ4K<>+176(SB)/8, $0x0005000500050005
DATA kqPermQ4K<>+184(SB)/8, $0x0005000500050005
DATA kqPermQ4K<>+192(SB)/8, $0x0006000600060006
DATA kqPermQ4K<>+200(SB)/8, $0x0006000600060006
DATA kqPermQ4K<>+208(SB)/8, $0x0006000600060006
DATA kqPermQ4K<>+216(SB)/8, $0x0006000600060006
DATA kqPermQ4K<>+224(SB)/8, $0x0007000700070007
DATA kqPermQ4K<>+232(SB)/8, $0x0007000700070007
DATA kqPermQ4K<>+240(SB)/8, $0x0007000700070007
DATA kqPermQ4K<>+248(SB)/8, $0x0007000700070007
GLOBL kqPermQ4K<>(SB), RODATA|NOPTR, $256

// Q4KSTEP4 handles sub-blocks 2j and 2j+1 of a Q4_K row's block: the 32 qs
// bytes at Q, whose low nibbles go in the low half of Z9 and high nibbles
// in the high half, matching the 64 contiguous q8 at YOFF(DI); the scales
// picked by PERM (a row of kqPermQ4K, or one of KPERMHI's) from ZW; added to
// ACC; Z9-Z11 scratch (Z15 the byte mask 0x0f).
#define Q4KSTEP4(Q, YOFF, ZW, PERM, ACC) \
	VMOVDQU      Q, Y9; \
	VPSRLW       $4, Y9, Y10; \
	VINSERTI64X4 $1, Y10, Z9, Z9; \
	VPANDD       Z15, Z9, Z9; \
	VPMADDUBSW   YOFF(DI), Z9, Z9; \
	VPERMW       ZW, PERM, Z11; \
	VPDPWSSD     Z11, Z9, ACC

// Q4KBLOCK512 adds the dot product of the Q4_K block at SI and the Q8_K
// block at DI to X0 (Z15 holds the byte mask 0x0f, Z16-Z19 the rows of
// kqPermQ4K). Each step's scales come from one VPERMW of the eight words
// KSCALEMIN512 leaves, where copying them to every lane first took two more
// cross-lane shuffles (2-3% faster with the weights in cache on Zen 4; a
// vector unpacking of the scales in place of KSCALEMIN's scalar code was
// slower).
#define Q4KBLOCK512 \
	KSCALEMIN512; \
	VPXORD Z7, Z7, Z7; \
	Q4KSTEP4(16(SI), 4, Z2, Z16, Z7); \
	Q4KSTEP4(48(SI), 68, Z2, Z17, Z7); \
	Q4KSTEP4(80(SI), 132, Z2, Z18, Z7); \
	Q4KSTEP4(112(SI), 196, Z2, Z19, Z7); \
	VEXTRACTI64X4 $1, Z7, Y8; \
	VPADDD Y8, Y7, Y7; \
	KFINISH2


// kqMinsSel4<> selects the mins lanes (4-7 and 12-15 of each of two
// VPMADDWD results) of four rows: row r's four in 128-bit lane r.
DATA kqMinsSel4<>+0(SB)/8, $0x0000000500000004
DATA kqMinsSel4<>+8(SB)/8, $0x0000000700000006
DATA kqMinsSel4<>+16(SB)/8, $0x0000000d0000000c
DATA kqMinsSel4<>+24(SB)/8, $0x0000000f0000000e
DATA kqMinsSel4<>+32(SB)/8, $0x0000001500000014
DATA kqMinsSel4<>+40(SB)/8, $0x0000001700000016
DATA kqMinsSel4<>+48(SB)/8, $0x0000001d0000001c
DATA kqMinsSel4<>+56(SB)/8, $0x0000001f0000001e
GLOBL kqMinsSel4<>(SB), RODATA|NOPTR, $64
// kqLane0Sel4<> selects dword 0 of each 128-bit lane.
DATA kqLane0Sel4<>+0(SB)/8, $0x0000000400000000
DATA kqLane0Sel4<>+8(SB)/8, $0x0000000c00000008
DATA kqLane0Sel4<>+16(SB)/8, $0x0000000000000000
DATA kqLane0Sel4<>+24(SB)/8, $0x0000000000000000
DATA kqLane0Sel4<>+32(SB)/8, $0x0000000000000000
DATA kqLane0Sel4<>+40(SB)/8, $0x0000000000000000
DATA kqLane0Sel4<>+48(SB)/8, $0x0000000000000000
DATA kqLane0Sel4<>+56(SB)/8, $0x0000000000000000
GLOBL kqLane0Sel4<>(SB), RODATA|NOPTR, $64
// kqDeint8<> separates the even and odd floats of a YMM.
DATA kqDeint8<>+0(SB)/8, $0x0000000200000000
DATA kqDeint8<>+8(SB)/8, $0x0000000600000004
DATA kqDeint8<>+16(SB)/8, $0x0000000300000001
DATA kqDeint8<>+24(SB)/8, $0x0000000700000005
GLOBL kqDeint8<>(SB), RODATA|NOPTR, $32


// Q6KHALF512 handles 128 values of a Q6_K block: ql at QL (64 bytes), qh
// at QH (32 bytes), q8 at YOFF. The first ZMM holds values 0-63 (low
// nibbles of ql, qh bits 0-1 and 2-3), the second values 64-127 (high
// nibbles, qh bits 4-5 and 6-7). PA and PB pick their groups' scales from
// Z1. Z15 = 0x0f bytes, Z14 = 0x30 bytes, Z13 and Z12 the qh word shifts.
#define Q6KHALF512(QL, QH, YOFF, PA, PB) Q6KHALF4(QL(SI), QH(SI), YOFF, Z1, PA, PB, Z7)

// Q6KHALF4 is Q6KHALF512 with the operands named: ql at QL, qh at QH
// (memory operands), q8 at YOFF(DI), the row's scales picked by PA and PB
// from ZS, added to ACC; Z6 and Z8-Z11 scratch. kqRows4Q6KAVX512 calls it
// for each of its rows.
#define Q6KHALF4(QL, QH, YOFF, ZS, PA, PB, ACC) \
	VMOVDQU64       QL, Z6; \
	VBROADCASTI64X4 QH, Z8; \
	VPSLLVW         Z13, Z8, Z9; \
	VPANDD          Z14, Z9, Z9; \
	VMOVDQA64       Z6, Z10; \
	VPTERNLOGD      $0xea, Z9, Z15, Z10; \
	VPMADDUBSW      YOFF(DI), Z10, Z10; \
	VPERMW          ZS, PA, Z11; \
	VPDPWSSD        Z11, Z10, ACC; \
	VPSRLVW         Z12, Z8, Z9; \
	VPANDD          Z14, Z9, Z9; \
	VPSRLW          $4, Z6, Z6; \
	VPTERNLOGD      $0xea, Z9, Z15, Z6; \
	VPMADDUBSW      (YOFF+64)(DI), Z6, Z6; \
	VPERMW          ZS, PB, Z11; \
	VPDPWSSD        Z11, Z6, ACC

// Q6KSETUP512 loads the constants of Q6KBLOCK512: Z15 = 0x0f bytes, Z14
// = 0x30 bytes, Z13 and Z12 the qh shifts, Z20-Z23 the scale permutations.
#define Q6KSETUP512 \
	MOVL $0x0f0f0f0f, AX; \
	VPBROADCASTD AX, Z15; \
	MOVL $0x30303030, AX; \
	VPBROADCASTD AX, Z14; \
	VMOVDQU64 kqShiftQ6K<>+0(SB), Z13; \
	VMOVDQU64 kqShiftQ6K<>+64(SB), Z12; \
	VMOVDQU64 kqPermQ6K<>+0(SB), Z20; \
	VMOVDQU64 kqPermQ6K<>+64(SB), Z21; \
	VMOVDQU64 kqPermQ6K<>+128(SB), Z22; \
	VMOVDQU64 kqPermQ6K<>+192(SB), Z23

// Q6KBLOCK512 adds the dot product of the Q6_K block at SI and the Q8_K
// block at DI to X0 (constants as Q6KSETUP512 loads them): the int16
// scales times the bsums, times the offset 32, come off the block sum.
#define Q6KBLOCK512 \
	VPMOVSXBW 192(SI), Y1; \
	VPMADDWD 260(DI), Y1, Y2; \
	VPSLLD $5, Y2, Y2; \
	VPXORD Z7, Z7, Z7; \
	Q6KHALF512(0, 128, 4, Z20, Z21); \
	Q6KHALF512(64, 160, 132, Z22, Z23); \
	VEXTRACTI64X4 $1, Z7, Y8; \
	VPADDD Y8, Y7, Y7; \
	VPSUBD Y2, Y7, Y7; \
	MOVWLZX 208(SI), AX; \
	VMOVD AX, X5; \
	VCVTPH2PS X5, X5; \
	VMULSS (DI), X5, X5; \
	KFINISH1

// KROWS(SETUP, BLOCK, BB, ROW, LOOP, STORE, DONE) is the body of an
// AVX-512 K-quant matrix-vector kernel
//
//	func(nb int, w *byte, ws, rows int, y *byte, out *float32)
//
// setting out[r] to the dot product of weight row r (rows of nb blocks of
// BB bytes, ws bytes apart) with the Q8_K row y: SETUP loads BLOCK's
// constants, BLOCK adds one block's product to X0; ROW..DONE are its
// labels. One row is the type's vecDot.
#define KROWS(SETUP, BLOCK, BB, ROW, LOOP, STORE, DONE) \
	MOVQ  w+8(FP), R11; \
	MOVQ  ws+16(FP), R12; \
	MOVQ  rows+24(FP), R13; \
	MOVQ  out+40(FP), R14; \
	SETUP; \
	TESTQ R13, R13; \
	JLE   DONE; \
ROW: \
	MOVQ   R11, SI; \
	MOVQ   y+32(FP), DI; \
	MOVQ   nb+0(FP), CX; \
	VXORPS Y0, Y0, Y0; \
	TESTQ  CX, CX; \
	JLE    STORE; \
LOOP: \
	BLOCK; \
	ADDQ $BB, SI; \
	ADDQ $292, DI; \
	DECQ CX; \
	JNZ  LOOP; \
STORE: \
	MOVSS X0, (R14); \
	ADDQ  $4, R14; \
	ADDQ  R12, R11; \
	DECQ  R13; \
	JNZ   ROW; \
DONE: \
	VZEROUPPER; \
	RET

// Q4KSETUP512 loads the constants of Q4KBLOCK512: Z15 = 0x0f bytes,
// Z16-Z19 the VPERMW indexes of the four steps' scales.
#define Q4KSETUP512 \
	MOVL         $0x0f0f0f0f, AX; \
	VPBROADCASTD AX, Z15; \
	VMOVDQU64    kqPermQ4K<>+0(SB), Z16; \
	VMOVDQU64    kqPermQ4K<>+64(SB), Z17; \
	VMOVDQU64    kqPermQ4K<>+128(SB), Z18; \
	VMOVDQU64    kqPermQ4K<>+192(SB), Z19

// func kqRowsQ4KAVX512(nb int, w *byte, ws, rows int, y *byte, out *float32)
TEXT ·kqRowsQ4KAVX512(SB), NOSPLIT, $0-48
	KROWS(Q4KSETUP512, Q4KBLOCK512, 144, q4krow, q4krowblock, q4krowstore, q4krowsdone)

// func kqRowsQ6KAVX512(nb int, w *byte, ws, rows int, y *byte, out *float32)
TEXT ·kqRowsQ6KAVX512(SB), NOSPLIT, $0-48
	KROWS(Q6KSETUP512, Q6KBLOCK512, 210, q6krow, q6krowblock, q6krowstore, q6krowsdone)






// KPREFETCH9(O) prefetches the nine cache lines from O(R9) on.
#define KPREFETCH9(O) \
	PREFETCHT0 (O+0)(R9); \
	PREFETCHT0 (O+64)(R9); \
	PREFETCHT0 (O+128)(R9); \
	PREFETCHT0 (O+192)(R9); \
	PREFETCHT0 (O+256)(R9); \
	PREFETCHT0 (O+320)(R9); \
	PREFETCHT0 (O+384)(R9); \
	PREFETCHT0 (O+448)(R9); \
	PREFETCHT0 (O+512)(R9)

// KROWS4ARGS loads the arguments of a four-row kernel but nb: R11 w, R12
// ws, R8 3*ws, R13 rows, R14 out.
#define KROWS4ARGS \
	MOVQ w+8(FP), R11; \
	MOVQ ws+16(FP), R12; \
	MOVQ rows+24(FP), R13; \
	MOVQ out+40(FP), R14; \
	LEAQ (R12)(R12*2), R8

// KPERMHI sets D0-D3 to the VPERMW indexes S0-S3 plus 16 words: the same
// picks from the second row of a pair, whose words start at 16. It
// clobbers BX.
#define KPERMHI(S0, S1, S2, S3, D0, D1, D2, D3) \
	MOVL         $0x00100010, BX; \
	VPBROADCASTD BX, D3; \
	VPADDW       D3, S0, D0; \
	VPADDW       D3, S1, D1; \
	VPADDW       D3, S2, D2; \
	VPADDW       D3, S3, D3

// The frame of the four-row kernels (kqRows4Q4KAVX512, kqRows4Q6KAVX512):
// KROWS4GROUP starts a group of four rows (SI its first row's blocks, R9
// the next group, DI the Q8_K row, CX the blocks, X0 the four sums);
// KROWS4END ends a block of BB bytes and, after the last, stores the four
// sums and goes on to the next group (R13 groups left) or returns.
#define KROWS4GROUP(GROUP, STORE) \
GROUP: \
	MOVQ   R11, SI; \
	LEAQ   (R11)(R12*4), R9; \
	MOVQ   y+32(FP), DI; \
	MOVQ   AX, CX; \
	VXORPS X0, X0, X0; \
	TESTQ  CX, CX; \
	JLE    STORE

#define KROWS4END(BB, BLOCK, GROUP, STORE, DONE) \
	ADDQ $BB, SI; \
	ADDQ $292, DI; \
	DECQ CX; \
	JNZ  BLOCK; \
STORE: \
	VMOVUPS X0, (R14); \
	ADDQ    $16, R14; \
	LEAQ    (R11)(R12*4), R11; \
	DECQ    R13; \
	JNZ     GROUP; \
DONE: \
	VZEROUPPER; \
	RET

// KSUM4 reduces the int32 lanes of Y1-Y4 (rows A-D) by a transposing
// VPHADDD tree: lane r of the 128-bit halves of Y1 holds half of row r's
// sum (the caller adds the halves).
#define KSUM4 \
	VPHADDD Y2, Y1, Y1; \
	VPHADDD Y4, Y3, Y3; \
	VPHADDD Y3, Y1, Y1

// func kqRows4Q4KAVX512(nb int, w *byte, ws, rows int, y *byte, out *float32)
//
// kqRows4Q4KAVX512 is kqRowsQ4KAVX512 for four rows at a time (rows a
// multiple of 4): the four rows' scales and mins are unpacked together (the
// shuffles of KTQ4KSCP, one 128-bit lane per row), their block sums reduced
// together by one transposing VPHADDD tree and scaled and added in the four
// lanes of X0. Each row's block result is computed with the same float32
// operations in the same order as KFINISH2's, so the results are the
// single-row kernel's bit for bit. A group's block takes about 44
// instructions a row against the single-row kernel's 80; on Zen 4 it is
// 27% faster with the weights in cache and 12-27% faster streaming a
// 2048-column matrix (8% and 2% with 5632 columns). Generation on a Q4_K_M
// TinyLlama went from 46.8 to 53.0 tokens/s in one series of 6
// alternations and from 47.2 to 48.4 in another of 5: this machine's
// memory bandwidth varies by tens of percent from minute to minute.
//
// Registers: SI row A's block, DI the Q8_K block, R12 ws, R8 3*ws, CX
// blocks left, R9 the prefetches, R11 the group's first row, R13 groups
// left, R14 out; Z0 the rows' sums, Z1-Z4 the rows' block sums, Z7 and
// Z8 rows A,B and C,D scales and mins as words, Z12 the sub-block sums of the bsums in every
// 128-bit lane, Y13 the rows' d*yd and dmin*yd, Z15 the 0x0f bytes,
// Z16-Z19 kqPermQ4K (rows A and C), Z20-Z23 the same for rows B and D,
// Z24-Z27 kqQ4KIdxL, kqQ4KMaskL, kqQ4KIdxH and kqQ4KIdxB in every lane.
TEXT ·kqRows4Q4KAVX512(SB), NOSPLIT, $0-48
	KROWS4ARGS
	Q4KSETUP512
	KPERMHI(Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	VBROADCASTI32X4 kqQ4KIdxL<>(SB), Z24
	VBROADCASTI32X4 kqQ4KMaskL<>(SB), Z25
	VBROADCASTI32X4 kqQ4KIdxH<>(SB), Z26
	VBROADCASTI32X4 kqQ4KIdxB<>(SB), Z27
	MOVQ nb+0(FP), AX // after Q4KSETUP512, which clobbers AX
	SHRQ $2, R13
	JZ   q4k4done

	KROWS4GROUP(q4k4group, q4k4store)

q4k4block:
	// The next group's rows, which the hardware prefetchers follow poorly
	// as four streams, arrive as one: R9 walks them at the pace this
	// group's blocks are read (4*144 bytes a block).
	KPREFETCH9(0)
	ADDQ $576, R9

	// The four rows' scales and mins: bytes 0-7 scales, 8-15 mins of row
	// r in lane r of Z7, then as words in Z7 (rows A, B) and Z8 (C, D).
	VMOVDQU      4(SI), X5
	VINSERTI32X4 $1, 4(SI)(R12*1), Z5, Z5
	VINSERTI32X4 $2, 4(SI)(R12*2), Z5, Z5
	VINSERTI32X4 $3, 4(SI)(R8*1), Z5, Z5
	VPSRLW       $4, Z5, Z6
	VPSHUFB      Z24, Z5, Z7
	VPANDD       Z25, Z7, Z7
	VPSHUFB      Z26, Z6, Z6
	VPANDD       Z15, Z6, Z6
	VPSHUFB      Z27, Z5, Z5
	VPSRLW       $2, Z5, Z5
	VPANDD.BCST  kqMask30<>(SB), Z5, Z5
	VPTERNLOGD   $0xfe, Z6, Z5, Z7
	VEXTRACTI64X4 $1, Z7, Y8
	VPMOVZXBW    Y8, Z8
	VPMOVZXBW    Y7, Z7

	// d*yd, dmin*yd of the four rows.
	VMOVD        (SI), X13
	VPINSRD      $1, (SI)(R12*1), X13, X13
	VPINSRD      $2, (SI)(R12*2), X13, X13
	VPINSRD      $3, (SI)(R8*1), X13, X13
	VCVTPH2PS    X13, Y13
	VBROADCASTSS (DI), Y14
	VMULPS       Y14, Y13, Y13

	// The sub-block sums of the activations (from the bsums), in every
	// 128-bit lane of Z12.
	VMOVDQU      260(DI), Y12
	VEXTRACTI128 $1, Y12, X14
	VPHADDW      X14, X12, X12
	VSHUFI32X4   $0, Z12, Z12, Z12

	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	Q4KSTEP4(16(SI), 4, Z7, Z16, Z1)
	Q4KSTEP4(16(SI)(R12*1), 4, Z7, Z20, Z2)
	Q4KSTEP4(16(SI)(R12*2), 4, Z8, Z16, Z3)
	Q4KSTEP4(16(SI)(R8*1), 4, Z8, Z20, Z4)
	Q4KSTEP4(48(SI), 68, Z7, Z17, Z1)
	Q4KSTEP4(48(SI)(R12*1), 68, Z7, Z21, Z2)
	Q4KSTEP4(48(SI)(R12*2), 68, Z8, Z17, Z3)
	Q4KSTEP4(48(SI)(R8*1), 68, Z8, Z21, Z4)
	Q4KSTEP4(80(SI), 132, Z7, Z18, Z1)
	Q4KSTEP4(80(SI)(R12*1), 132, Z7, Z22, Z2)
	Q4KSTEP4(80(SI)(R12*2), 132, Z8, Z18, Z3)
	Q4KSTEP4(80(SI)(R8*1), 132, Z8, Z22, Z4)
	Q4KSTEP4(112(SI), 196, Z7, Z19, Z1)
	Q4KSTEP4(112(SI)(R12*1), 196, Z7, Z23, Z2)
	Q4KSTEP4(112(SI)(R12*2), 196, Z8, Z19, Z3)
	Q4KSTEP4(112(SI)(R8*1), 196, Z8, Z23, Z4)

	// The rows' block sums, reduced together: X1 = [sA sB sC sD].
	VEXTRACTI64X4 $1, Z1, Y5
	VPADDD        Y5, Y1, Y1
	VEXTRACTI64X4 $1, Z2, Y6
	VPADDD        Y6, Y2, Y2
	VEXTRACTI64X4 $1, Z3, Y9
	VPADDD        Y9, Y3, Y3
	VEXTRACTI64X4 $1, Z4, Y10
	VPADDD        Y10, Y4, Y4
	KSUM4
	VEXTRACTI128  $1, Y1, X5
	VPADDD        X5, X1, X1

	// The mins terms: X6 = [mA mB mC mD].
	VPMADDWD      Z12, Z7, Z5
	VPMADDWD      Z12, Z8, Z6
	VMOVDQU64     kqMinsSel4<>(SB), Z9
	VPERMT2D      Z6, Z9, Z5
	VPSHUFD       $0x4e, Z5, Z6
	VPADDD        Z6, Z5, Z5
	VPSHUFD       $0xb1, Z5, Z6
	VPADDD        Z6, Z5, Z5
	VMOVDQU64     kqLane0Sel4<>(SB), Z9
	VPERMD        Z5, Z9, Z6

	// d*s - dmin*m, added to the rows' sums.
	VCVTDQ2PS     X1, X1
	VCVTDQ2PS     X6, X6
	VMOVDQU       kqDeint8<>(SB), Y9
	VPERMPS       Y13, Y9, Y13
	VEXTRACTF128  $1, Y13, X14
	VMULPS        X13, X1, X1
	VMULPS        X14, X6, X6
	VSUBPS        X6, X1, X1
	VADDPS        X1, X0, X0

	KROWS4END(144, q4k4block, q4k4group, q4k4store, q4k4done)

// func kqRows4Q6KAVX512(nb int, w *byte, ws, rows int, y *byte, out *float32)
//
// kqRows4Q6KAVX512 is kqRowsQ6KAVX512 for four rows at a time (rows a
// multiple of 4), as kqRows4Q4KAVX512 is for Q4_K: the rows' scales
// widened together, their block sums (less 32 times the scales times the
// bsums) reduced by one transposing VPHADDD tree and scaled and added in
// the four lanes of X0 with KFINISH1's operations, so the results are the
// single-row kernel's bit for bit; the next group is prefetched as one
// stream. On a 32000x2048 matrix (the output layer) it was 12% faster
// than the single-row kernel on 1 thread and 19% on 2; on 5632 columns
// slower (see kqRows4 in kquants_amd64.go).
//
// Registers: SI row A's block, DI the Q8_K block, R12 ws, R8 3*ws, R9 the
// prefetches, CX blocks left, R11 the group's first row, R13 groups left,
// R14 out; Z0 the rows' sums, Z1-Z4 the rows' block sums, Z5 and Z28 rows
// A,B and C,D scales as words, X7 the rows' d*yd, Z30 and Z31 the rows'
// scales times bsums, Z12-Z15 Q6KSETUP512's constants, Z20-Z23 the scale
// permutations of rows A and C, Z24-Z27 those of rows B and D.
TEXT ·kqRows4Q6KAVX512(SB), NOSPLIT, $0-48
	KROWS4ARGS
	Q6KSETUP512
	KPERMHI(Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27)
	MOVQ nb+0(FP), AX // after Q6KSETUP512, which clobbers AX
	SHRQ $2, R13
	JZ   q6k4done

	KROWS4GROUP(q6k4group, q6k4store)

q6k4block:
	KPREFETCH9(0)
	PREFETCHT0 576(R9)
	PREFETCHT0 640(R9)
	PREFETCHT0 704(R9)
	PREFETCHT0 768(R9)
	PREFETCHT0 832(R9)
	ADDQ $840, R9

	// The rows' scales as words: rows A, B in Z5, C, D in Z28.
	VMOVDQU       192(SI), X5
	VINSERTI32X4  $1, 192(SI)(R12*1), Z5, Z5
	VINSERTI32X4  $2, 192(SI)(R12*2), Z5, Z5
	VINSERTI32X4  $3, 192(SI)(R8*1), Z5, Z5
	VEXTRACTI64X4 $1, Z5, Y28
	VPMOVSXBW     Y28, Z28
	VPMOVSXBW     Y5, Z5

	// d*yd of the four rows.
	MOVWLZX   208(SI), BX
	VMOVD     BX, X7
	VPINSRW   $1, 208(SI)(R12*1), X7, X7
	VPINSRW   $2, 208(SI)(R12*2), X7, X7
	VPINSRW   $3, 208(SI)(R8*1), X7, X7
	VCVTPH2PS X7, X7
	VBROADCASTSS (DI), X6
	VMULPS    X6, X7, X7

	// The scales times the bsums: rows A, B in Z30, C, D in Z31.
	VBROADCASTI64X4 260(DI), Z29
	VPMADDWD        Z29, Z5, Z30
	VPMADDWD        Z29, Z28, Z31

	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	Q6KHALF4(0(SI), 128(SI), 4, Z5, Z20, Z21, Z1)
	Q6KHALF4(0(SI)(R12*1), 128(SI)(R12*1), 4, Z5, Z24, Z25, Z2)
	Q6KHALF4(0(SI)(R12*2), 128(SI)(R12*2), 4, Z28, Z20, Z21, Z3)
	Q6KHALF4(0(SI)(R8*1), 128(SI)(R8*1), 4, Z28, Z24, Z25, Z4)
	Q6KHALF4(64(SI), 160(SI), 132, Z5, Z22, Z23, Z1)
	Q6KHALF4(64(SI)(R12*1), 160(SI)(R12*1), 132, Z5, Z26, Z27, Z2)
	Q6KHALF4(64(SI)(R12*2), 160(SI)(R12*2), 132, Z28, Z22, Z23, Z3)
	Q6KHALF4(64(SI)(R8*1), 160(SI)(R8*1), 132, Z28, Z26, Z27, Z4)

	// The rows' block sums less 32 times the scales times the bsums,
	// reduced together: X1 = [sA sB sC sD].
	VPSLLD        $5, Z30, Z30
	VPSLLD        $5, Z31, Z31
	VEXTRACTI64X4 $1, Z1, Y6
	VPADDD        Y6, Y1, Y1
	VPSUBD        Y30, Y1, Y1
	VEXTRACTI64X4 $1, Z2, Y6
	VPADDD        Y6, Y2, Y2
	VEXTRACTI64X4 $1, Z30, Y8
	VPSUBD        Y8, Y2, Y2
	VEXTRACTI64X4 $1, Z3, Y6
	VPADDD        Y6, Y3, Y3
	VPSUBD        Y31, Y3, Y3
	VEXTRACTI64X4 $1, Z4, Y6
	VPADDD        Y6, Y4, Y4
	VEXTRACTI64X4 $1, Z31, Y8
	VPSUBD        Y8, Y4, Y4
	KSUM4
	VEXTRACTI128  $1, Y1, X6
	VPADDD        X6, X1, X1

	// d*s, added to the rows' sums.
	VCVTDQ2PS X1, X1
	VMULPS    X7, X1, X1
	VADDPS    X1, X0, X0

	KROWS4END(210, q6k4block, q6k4group, q6k4store, q6k4done)

// Tile kernels (AVX-512 VNNI): rows weight rows times nt <= 8 Q8_K
// activation rows. The panel is the converted Q8_K rows themselves, nb
// blocks (rowSize = 292*nb bytes) apart. For each weight row and block the
// 256 weights are unpacked once into Z16-Z19 (matching the 64-byte quarters
// of the Q8_K quants) with their scales in Z20-Z23, then multiplied with
// every token: token t's block sum in the eight int32 lanes of Yt (t =
// 0..7), and for the types with mins its mins term in Y(8+t). The lanes
// are then summed with a transposing VPHADDD tree, so that lane t of one
// vector holds token t's sums, and the float32 block results are added to
// lane t of Y29 in the vecDot order: the results are the vecDot results
// bit for bit.
//
// func kqTile<T>AVX512(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)
//
// Registers: SI weight block, BX panel block, DI token block, CX blocks
// left, R8 rowSize, R9 nt, R10 rows left, R11 out row, R12 ldo*4, R13 row
// start; K2 the mask of the nt tokens, Y27 the token offsets, Y30 the
// tokens' Q8_K scales (0 in the lanes of absent tokens), Y29 the row's
// sums, Z28 the byte mask 0x0f. Y24
// holds int16 factors for the bsums: the mins (per group of 16) or minus
// the offset times the scales. The weight-unpacking code uses X0-X15 and
// Z0-Z15 freely.

// Q4_K/Q5_K scale unpacking: shuffles and masks that turn the 12 packed
// bytes into 8 scales and 8 mins (as KSCALEMIN does with scalar code).
DATA kqQ4KIdxL<>+0(SB)/8, $0x0b0a090803020100
DATA kqQ4KIdxL<>+8(SB)/8, $0x8080808007060504
GLOBL kqQ4KIdxL<>(SB), RODATA|NOPTR, $16
DATA kqQ4KMaskL<>+0(SB)/8, $0x0f0f0f0f3f3f3f3f
DATA kqQ4KMaskL<>+8(SB)/8, $0x000000003f3f3f3f
GLOBL kqQ4KMaskL<>(SB), RODATA|NOPTR, $16
DATA kqQ4KIdxH<>+0(SB)/8, $0x8080808080808080
DATA kqQ4KIdxH<>+8(SB)/8, $0x0b0a090880808080
GLOBL kqQ4KIdxH<>(SB), RODATA|NOPTR, $16
DATA kqQ4KIdxB<>+0(SB)/8, $0x0302010080808080
DATA kqQ4KIdxB<>+8(SB)/8, $0x0706050480808080
GLOBL kqQ4KIdxB<>(SB), RODATA|NOPTR, $16
DATA kqMask30<>+0(SB)/8, $0x3030303030303030
DATA kqMask30<>+8(SB)/8, $0x3030303030303030
GLOBL kqMask30<>(SB), RODATA|NOPTR, $16

// kqMinsDup<> selects int16 words 8,8,9,9,...,15,15: each min for both
// of its sub-block's two bsums.
DATA kqMinsDup<>+0(SB)/8, $0x0009000900080008
DATA kqMinsDup<>+8(SB)/8, $0x000b000b000a000a
DATA kqMinsDup<>+16(SB)/8, $0x000d000d000c000c
DATA kqMinsDup<>+24(SB)/8, $0x000f000f000e000e
GLOBL kqMinsDup<>(SB), RODATA|NOPTR, $32

// kqDup8<> selects int16 words 0,0,1,1,...,7,7.
DATA kqDup8<>+0(SB)/8, $0x0001000100000000
DATA kqDup8<>+8(SB)/8, $0x0003000300020002
DATA kqDup8<>+16(SB)/8, $0x0005000500040004
DATA kqDup8<>+24(SB)/8, $0x0007000700060006
GLOBL kqDup8<>(SB), RODATA|NOPTR, $32

// kqIota<> is the int32 lanes 0..7.
DATA kqIota<>+0(SB)/8, $0x0000000100000000
DATA kqIota<>+8(SB)/8, $0x0000000300000002
DATA kqIota<>+16(SB)/8, $0x0000000500000004
DATA kqIota<>+24(SB)/8, $0x0000000700000006
GLOBL kqIota<>(SB), RODATA|NOPTR, $32

// kqQ5KShift<> row j: word shift counts 2j (low half), 2j+1 (high half).
DATA kqQ5KShift<>+0(SB)/8, $0x0000000000000000
DATA kqQ5KShift<>+8(SB)/8, $0x0000000000000000
DATA kqQ5KShift<>+16(SB)/8, $0x0000000000000000
DATA kqQ5KShift<>+24(SB)/8, $0x0000000000000000
DATA kqQ5KShift<>+32(SB)/8, $0x0001000100010001
DATA kqQ5KShift<>+40(SB)/8, $0x0001000100010001
DATA kqQ5KShift<>+48(SB)/8, $0x0001000100010001
DATA kqQ5KShift<>+56(SB)/8, $0x0001000100010001
DATA kqQ5KShift<>+64(SB)/8, $0x0002000200020002
DATA kqQ5KShift<>+72(SB)/8, $0x0002000200020002
DATA kqQ5KShift<>+80(SB)/8, $0x0002000200020002
DATA kqQ5KShift<>+88(SB)/8, $0x0002000200020002
DATA kqQ5KShift<>+96(SB)/8, $0x0003000300030003
DATA kqQ5KShift<>+104(SB)/8, $0x0003000300030003
DATA kqQ5KShift<>+112(SB)/8, $0x0003000300030003
DATA kqQ5KShift<>+120(SB)/8, $0x0003000300030003
DATA kqQ5KShift<>+128(SB)/8, $0x0004000400040004
DATA kqQ5KShift<>+136(SB)/8, $0x0004000400040004
DATA kqQ5KShift<>+144(SB)/8, $0x0004000400040004
DATA kqQ5KShift<>+152(SB)/8, $0x0004000400040004
DATA kqQ5KShift<>+160(SB)/8, $0x0005000500050005
DATA kqQ5KShift<>+168(SB)/8, $0x0005000500050005
DATA kqQ5KShift<>+176(SB)/8, $0x0005000500050005
DATA kqQ5KShift<>+184(SB)/8, $0x0005000500050005
DATA kqQ5KShift<>+192(SB)/8, $0x0006000600060006
DATA kqQ5KShift<>+200(SB)/8, $0x0006000600060006
DATA kqQ5KShift<>+208(SB)/8, $0x0006000600060006
DATA kqQ5KShift<>+216(SB)/8, $0x0006000600060006
DATA kqQ5KShift<>+224(SB)/8, $0x0007000700070007
DATA kqQ5KShift<>+232(SB)/8, $0x0007000700070007
DATA kqQ5KShift<>+240(SB)/8, $0x0007000700070007
DATA kqQ5KShift<>+248(SB)/8, $0x0007000700070007
GLOBL kqQ5KShift<>(SB), RODATA|NOPTR, $256
DATA kqMask10x64<>+0(SB)/8, $0x1010101010101010
DATA kqMask10x64<>+8(SB)/8, $0x1010101010101010
DATA kqMask10x64<>+16(SB)/8, $0x1010101010101010
DATA kqMask10x64<>+24(SB)/8, $0x1010101010101010
DATA kqMask10x64<>+32(SB)/8, $0x1010101010101010
DATA kqMask10x64<>+40(SB)/8, $0x1010101010101010
DATA kqMask10x64<>+48(SB)/8, $0x1010101010101010
DATA kqMask10x64<>+56(SB)/8, $0x1010101010101010
GLOBL kqMask10x64<>(SB), RODATA|NOPTR, $64
DATA kqMask03x64<>+0(SB)/8, $0x0303030303030303
DATA kqMask03x64<>+8(SB)/8, $0x0303030303030303
DATA kqMask03x64<>+16(SB)/8, $0x0303030303030303
DATA kqMask03x64<>+24(SB)/8, $0x0303030303030303
DATA kqMask03x64<>+32(SB)/8, $0x0303030303030303
DATA kqMask03x64<>+40(SB)/8, $0x0303030303030303
DATA kqMask03x64<>+48(SB)/8, $0x0303030303030303
DATA kqMask03x64<>+56(SB)/8, $0x0303030303030303
GLOBL kqMask03x64<>(SB), RODATA|NOPTR, $64
DATA kqMask30x64<>+0(SB)/8, $0x3030303030303030
DATA kqMask30x64<>+8(SB)/8, $0x3030303030303030
DATA kqMask30x64<>+16(SB)/8, $0x3030303030303030
DATA kqMask30x64<>+24(SB)/8, $0x3030303030303030
DATA kqMask30x64<>+32(SB)/8, $0x3030303030303030
DATA kqMask30x64<>+40(SB)/8, $0x3030303030303030
DATA kqMask30x64<>+48(SB)/8, $0x3030303030303030
DATA kqMask30x64<>+56(SB)/8, $0x3030303030303030
GLOBL kqMask30x64<>(SB), RODATA|NOPTR, $64
DATA kqMask04x64<>+0(SB)/8, $0x0404040404040404
DATA kqMask04x64<>+8(SB)/8, $0x0404040404040404
DATA kqMask04x64<>+16(SB)/8, $0x0404040404040404
DATA kqMask04x64<>+24(SB)/8, $0x0404040404040404
DATA kqMask04x64<>+32(SB)/8, $0x0404040404040404
DATA kqMask04x64<>+40(SB)/8, $0x0404040404040404
DATA kqMask04x64<>+48(SB)/8, $0x0404040404040404
DATA kqMask04x64<>+56(SB)/8, $0x0404040404040404
GLOBL kqMask04x64<>(SB), RODATA|NOPTR, $64

// kqQ2KShift<>: word shift counts 0, 2 (row 0) and 4, 6 (row 1) for the
// 2-bit quants of Q2_K and Q3_K.
DATA kqQ2KShift<>+0(SB)/8, $0x0000000000000000
DATA kqQ2KShift<>+8(SB)/8, $0x0000000000000000
DATA kqQ2KShift<>+16(SB)/8, $0x0000000000000000
DATA kqQ2KShift<>+24(SB)/8, $0x0000000000000000
DATA kqQ2KShift<>+32(SB)/8, $0x0002000200020002
DATA kqQ2KShift<>+40(SB)/8, $0x0002000200020002
DATA kqQ2KShift<>+48(SB)/8, $0x0002000200020002
DATA kqQ2KShift<>+56(SB)/8, $0x0002000200020002
DATA kqQ2KShift<>+64(SB)/8, $0x0004000400040004
DATA kqQ2KShift<>+72(SB)/8, $0x0004000400040004
DATA kqQ2KShift<>+80(SB)/8, $0x0004000400040004
DATA kqQ2KShift<>+88(SB)/8, $0x0004000400040004
DATA kqQ2KShift<>+96(SB)/8, $0x0006000600060006
DATA kqQ2KShift<>+104(SB)/8, $0x0006000600060006
DATA kqQ2KShift<>+112(SB)/8, $0x0006000600060006
DATA kqQ2KShift<>+120(SB)/8, $0x0006000600060006
GLOBL kqQ2KShift<>(SB), RODATA|NOPTR, $128

// kqQ3KHShift<> row p: word shift counts 2p, 2p+1 for the hmask bits.
DATA kqQ3KHShift<>+0(SB)/8, $0x0000000000000000
DATA kqQ3KHShift<>+8(SB)/8, $0x0000000000000000
DATA kqQ3KHShift<>+16(SB)/8, $0x0000000000000000
DATA kqQ3KHShift<>+24(SB)/8, $0x0000000000000000
DATA kqQ3KHShift<>+32(SB)/8, $0x0001000100010001
DATA kqQ3KHShift<>+40(SB)/8, $0x0001000100010001
DATA kqQ3KHShift<>+48(SB)/8, $0x0001000100010001
DATA kqQ3KHShift<>+56(SB)/8, $0x0001000100010001
DATA kqQ3KHShift<>+64(SB)/8, $0x0002000200020002
DATA kqQ3KHShift<>+72(SB)/8, $0x0002000200020002
DATA kqQ3KHShift<>+80(SB)/8, $0x0002000200020002
DATA kqQ3KHShift<>+88(SB)/8, $0x0002000200020002
DATA kqQ3KHShift<>+96(SB)/8, $0x0003000300030003
DATA kqQ3KHShift<>+104(SB)/8, $0x0003000300030003
DATA kqQ3KHShift<>+112(SB)/8, $0x0003000300030003
DATA kqQ3KHShift<>+120(SB)/8, $0x0003000300030003
DATA kqQ3KHShift<>+128(SB)/8, $0x0004000400040004
DATA kqQ3KHShift<>+136(SB)/8, $0x0004000400040004
DATA kqQ3KHShift<>+144(SB)/8, $0x0004000400040004
DATA kqQ3KHShift<>+152(SB)/8, $0x0004000400040004
DATA kqQ3KHShift<>+160(SB)/8, $0x0005000500050005
DATA kqQ3KHShift<>+168(SB)/8, $0x0005000500050005
DATA kqQ3KHShift<>+176(SB)/8, $0x0005000500050005
DATA kqQ3KHShift<>+184(SB)/8, $0x0005000500050005
DATA kqQ3KHShift<>+192(SB)/8, $0x0006000600060006
DATA kqQ3KHShift<>+200(SB)/8, $0x0006000600060006
DATA kqQ3KHShift<>+208(SB)/8, $0x0006000600060006
DATA kqQ3KHShift<>+216(SB)/8, $0x0006000600060006
DATA kqQ3KHShift<>+224(SB)/8, $0x0007000700070007
DATA kqQ3KHShift<>+232(SB)/8, $0x0007000700070007
DATA kqQ3KHShift<>+240(SB)/8, $0x0007000700070007
DATA kqQ3KHShift<>+248(SB)/8, $0x0007000700070007
GLOBL kqQ3KHShift<>(SB), RODATA|NOPTR, $256

// Q3_K scale unpacking.
DATA kqQ3KIdxLo<>+0(SB)/8, $0x0706050403020100
DATA kqQ3KIdxLo<>+8(SB)/8, $0x8080808080808080
GLOBL kqQ3KIdxLo<>(SB), RODATA|NOPTR, $16
DATA kqQ3KIdxHi<>+0(SB)/8, $0x8080808080808080
DATA kqQ3KIdxHi<>+8(SB)/8, $0x0706050403020100
GLOBL kqQ3KIdxHi<>(SB), RODATA|NOPTR, $16
DATA kqQ3KIdxH<>+0(SB)/8, $0x0b0a09080b0a0908
DATA kqQ3KIdxH<>+8(SB)/8, $0x0b0a09080b0a0908
GLOBL kqQ3KIdxH<>(SB), RODATA|NOPTR, $16
DATA kqQ3KShift<>+0(SB)/8, $0x0002000200000000
DATA kqQ3KShift<>+8(SB)/8, $0x0006000600040004
GLOBL kqQ3KShift<>(SB), RODATA|NOPTR, $16
DATA kqMask03<>+0(SB)/8, $0x0303030303030303
DATA kqMask03<>+8(SB)/8, $0x0303030303030303
GLOBL kqMask03<>(SB), RODATA|NOPTR, $16
DATA kqBias32<>+0(SB)/8, $0x2020202020202020
DATA kqBias32<>+8(SB)/8, $0x2020202020202020
GLOBL kqBias32<>(SB), RODATA|NOPTR, $16

// IQ4_XS scale unpacking (PDEP masks) and its levels plus 128, as bytes.
DATA kqPdep0F<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL kqPdep0F<>(SB), RODATA|NOPTR, $8
DATA kqPdep30<>+0(SB)/8, $0x3030303030303030
GLOBL kqPdep30<>(SB), RODATA|NOPTR, $8
DATA kqIQ4U<>+0(SB)/8, $0x766a5d4f3f2d1801
DATA kqIQ4U<>+8(SB)/8, $0xf1d9c5b5a6998d81
DATA kqIQ4U<>+16(SB)/8, $0x766a5d4f3f2d1801
DATA kqIQ4U<>+24(SB)/8, $0xf1d9c5b5a6998d81
DATA kqIQ4U<>+32(SB)/8, $0x766a5d4f3f2d1801
DATA kqIQ4U<>+40(SB)/8, $0xf1d9c5b5a6998d81
DATA kqIQ4U<>+48(SB)/8, $0x766a5d4f3f2d1801
DATA kqIQ4U<>+56(SB)/8, $0xf1d9c5b5a6998d81
GLOBL kqIQ4U<>(SB), RODATA|NOPTR, $64

// kqIQ4Perm<> row j selects int32 lanes 2j (x8) and 2j+1 (x8).
DATA kqIQ4Perm<>+0(SB)/8, $0x0000000000000000
DATA kqIQ4Perm<>+8(SB)/8, $0x0000000000000000
DATA kqIQ4Perm<>+16(SB)/8, $0x0000000000000000
DATA kqIQ4Perm<>+24(SB)/8, $0x0000000000000000
DATA kqIQ4Perm<>+32(SB)/8, $0x0000000100000001
DATA kqIQ4Perm<>+40(SB)/8, $0x0000000100000001
DATA kqIQ4Perm<>+48(SB)/8, $0x0000000100000001
DATA kqIQ4Perm<>+56(SB)/8, $0x0000000100000001
DATA kqIQ4Perm<>+64(SB)/8, $0x0000000200000002
DATA kqIQ4Perm<>+72(SB)/8, $0x0000000200000002
DATA kqIQ4Perm<>+80(SB)/8, $0x0000000200000002
DATA kqIQ4Perm<>+88(SB)/8, $0x0000000200000002
DATA kqIQ4Perm<>+96(SB)/8, $0x0000000300000003
DATA kqIQ4Perm<>+104(SB)/8, $0x0000000300000003
DATA kqIQ4Perm<>+112(SB)/8, $0x0000000300000003
DATA kqIQ4Perm<>+120(SB)/8, $0x0000000300000003
DATA kqIQ4Perm<>+128(SB)/8, $0x0000000400000004
DATA kqIQ4Perm<>+136(SB)/8, $0x0000000400000004
DATA kqIQ4Perm<>+144(SB)/8, $0x0000000400000004
DATA kqIQ4Perm<>+152(SB)/8, $0x0000000400000004
DATA kqIQ4Perm<>+160(SB)/8, $0x0000000500000005
DATA kqIQ4Perm<>+168(SB)/8, $0x0000000500000005
DATA kqIQ4Perm<>+176(SB)/8, $0x0000000500000005
DATA kqIQ4Perm<>+184(SB)/8, $0x0000000500000005
DATA kqIQ4Perm<>+192(SB)/8, $0x0000000600000006
DATA kqIQ4Perm<>+200(SB)/8, $0x0000000600000006
DATA kqIQ4Perm<>+208(SB)/8, $0x0000000600000006
DATA kqIQ4Perm<>+216(SB)/8, $0x0000000600000006
DATA kqIQ4Perm<>+224(SB)/8, $0x0000000700000007
DATA kqIQ4Perm<>+232(SB)/8, $0x0000000700000007
DATA kqIQ4Perm<>+240(SB)/8, $0x0000000700000007
DATA kqIQ4Perm<>+248(SB)/8, $0x0000000700000007
GLOBL kqIQ4Perm<>(SB), RODATA|NOPTR, $256
// kqPermQ4KP<> spreads the eight int16 sub-block scales of a Q4_K/Q5_K
// block over the int16 words of the packed sums of KTMULP: the first 64
// bytes for the sums of vectors 0 and 2, the next 64 for 1 and 3.
DATA kqPermQ4KP<>+0(SB)/8, $0x0000000000000000
DATA kqPermQ4KP<>+8(SB)/8, $0x0004000400040004
DATA kqPermQ4KP<>+16(SB)/8, $0x0000000000000000
DATA kqPermQ4KP<>+24(SB)/8, $0x0004000400040004
DATA kqPermQ4KP<>+32(SB)/8, $0x0001000100010001
DATA kqPermQ4KP<>+40(SB)/8, $0x0005000500050005
DATA kqPermQ4KP<>+48(SB)/8, $0x0001000100010001
DATA kqPermQ4KP<>+56(SB)/8, $0x0005000500050005
DATA kqPermQ4KP<>+64(SB)/8, $0x0002000200020002
DATA kqPermQ4KP<>+72(SB)/8, $0x0006000600060006
DATA kqPermQ4KP<>+80(SB)/8, $0x0002000200020002
DATA kqPermQ4KP<>+88(SB)/8, $0x0006000600060006
DATA kqPermQ4KP<>+96(SB)/8, $0x0003000300030003
DATA kqPermQ4KP<>+104(SB)/8, $0x0007000700070007
DATA kqPermQ4KP<>+112(SB)/8, $0x0003000300030003
DATA kqPermQ4KP<>+120(SB)/8, $0x0007000700070007
GLOBL kqPermQ4KP<>(SB), RODATA|NOPTR, $128

// kqPermQ6KP<> is kqPermQ4KP<> for the sixteen scales of 16-value groups.
DATA kqPermQ6KP<>+0(SB)/8, $0x0000000000000000
DATA kqPermQ6KP<>+8(SB)/8, $0x0008000800080008
DATA kqPermQ6KP<>+16(SB)/8, $0x0001000100010001
DATA kqPermQ6KP<>+24(SB)/8, $0x0009000900090009
DATA kqPermQ6KP<>+32(SB)/8, $0x0002000200020002
DATA kqPermQ6KP<>+40(SB)/8, $0x000a000a000a000a
DATA kqPermQ6KP<>+48(SB)/8, $0x0003000300030003
DATA kqPermQ6KP<>+56(SB)/8, $0x000b000b000b000b
DATA kqPermQ6KP<>+64(SB)/8, $0x0004000400040004
DATA kqPermQ6KP<>+72(SB)/8, $0x000c000c000c000c
DATA kqPermQ6KP<>+80(SB)/8, $0x0005000500050005
DATA kqPermQ6KP<>+88(SB)/8, $0x000d000d000d000d
DATA kqPermQ6KP<>+96(SB)/8, $0x0006000600060006
DATA kqPermQ6KP<>+104(SB)/8, $0x000e000e000e000e
DATA kqPermQ6KP<>+112(SB)/8, $0x0007000700070007
DATA kqPermQ6KP<>+120(SB)/8, $0x000f000f000f000f
GLOBL kqPermQ6KP<>(SB), RODATA|NOPTR, $128

// kqOnes16<> is sixteen int16 ones (VPMADDWD by it adds word pairs).
DATA kqOnes16<>+0(SB)/8, $0x0001000100010001
DATA kqOnes16<>+8(SB)/8, $0x0001000100010001
DATA kqOnes16<>+16(SB)/8, $0x0001000100010001
DATA kqOnes16<>+24(SB)/8, $0x0001000100010001
GLOBL kqOnes16<>(SB), RODATA|NOPTR, $32

// kqBcastMins<> row i (32 bytes) selects int32 lane 4+i everywhere: the
// mins m[2i], m[2i+1] of KTQ4KSCP's Y2.
DATA kqBcastMins<>+0(SB)/8, $0x0000000400000004
DATA kqBcastMins<>+8(SB)/8, $0x0000000400000004
DATA kqBcastMins<>+16(SB)/8, $0x0000000400000004
DATA kqBcastMins<>+24(SB)/8, $0x0000000400000004
DATA kqBcastMins<>+32(SB)/8, $0x0000000500000005
DATA kqBcastMins<>+40(SB)/8, $0x0000000500000005
DATA kqBcastMins<>+48(SB)/8, $0x0000000500000005
DATA kqBcastMins<>+56(SB)/8, $0x0000000500000005
DATA kqBcastMins<>+64(SB)/8, $0x0000000600000006
DATA kqBcastMins<>+72(SB)/8, $0x0000000600000006
DATA kqBcastMins<>+80(SB)/8, $0x0000000600000006
DATA kqBcastMins<>+88(SB)/8, $0x0000000600000006
DATA kqBcastMins<>+96(SB)/8, $0x0000000700000007
DATA kqBcastMins<>+104(SB)/8, $0x0000000700000007
DATA kqBcastMins<>+112(SB)/8, $0x0000000700000007
DATA kqBcastMins<>+120(SB)/8, $0x0000000700000007
GLOBL kqBcastMins<>(SB), RODATA|NOPTR, $128

// KTSETUP loads the arguments and constants shared by the tile kernels.
#define KTSETUP \
	MOVQ  w+0(FP), R13; \
	MOVQ  rows+16(FP), R10; \
	MOVQ  nb+32(FP), R8; \
	IMULQ $292, R8; \
	MOVQ  nt+40(FP), R9; \
	MOVQ  out+48(FP), R11; \
	MOVQ  ldo+56(FP), R12; \
	SHLQ  $2, R12; \
	VPBROADCASTD R8, Y27; \
	VPMULLD kqIota<>(SB), Y27, Y27; \
	MOVL  $1, AX; \
	MOVQ  R9, CX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVW AX, K2; \
	MOVL  $0x0f0f0f0f, AX; \
	VPBROADCASTD AX, Z28; \
	VPXORD Y30, Y30, Y30

// KTGATHER loads the nt tokens' scales of the block at BX into Y30 and
// points DI at token 0.
#define KTGATHER \
	KMOVW K2, K1; \
	VGATHERDPS (BX)(Y27*1), K1, Y30; \
	MOVQ BX, DI

// KTREDUCE(A..H, OUT, T1) sums the eight int32 lanes of each of A..H into
// lane 0..7 of OUT (A..H are clobbered).
#define KTREDUCE(A, B, C, D, E, F, G, H, OUT, T1) \
	VPHADDD    B, A, A; \
	VPHADDD    D, C, C; \
	VPHADDD    F, E, E; \
	VPHADDD    H, G, G; \
	VPHADDD    C, A, A; \
	VPHADDD    G, E, E; \
	VPERM2I128 $0x20, E, A, OUT; \
	VPERM2I128 $0x31, E, A, T1; \
	VPADDD     T1, OUT, OUT

// KTSTORE writes lanes 0..nt-1 of Y29 to out[t*ldo + r] and moves to the
// next row.
#define KTSTORE(LOOP) \
	VMOVUPS Y29, (SP); \
	MOVQ    R11, DX; \
	XORQ    AX, AX; \
LOOP: \
	MOVL    (SP)(AX*4), DI; \
	MOVL    DI, (DX); \
	ADDQ    R12, DX; \
	INCQ    AX; \
	CMPQ    AX, R9; \
	JLT     LOOP; \
	ADDQ    $4, R11; \
	ADDQ    ws+8(FP), R13

// KTTOKENS(TOK, DONE) runs the token macro TOK for tokens 0..nt-1.
#define KTTOKENS(TOK, DONE) \
	TOK(Y0, Y8); \
	CMPQ R9, $1; \
	JEQ  DONE; \
	TOK(Y1, Y9); \
	CMPQ R9, $2; \
	JEQ  DONE; \
	TOK(Y2, Y10); \
	CMPQ R9, $3; \
	JEQ  DONE; \
	TOK(Y3, Y11); \
	CMPQ R9, $4; \
	JEQ  DONE; \
	TOK(Y4, Y12); \
	CMPQ R9, $5; \
	JEQ  DONE; \
	TOK(Y5, Y13); \
	CMPQ R9, $6; \
	JEQ  DONE; \
	TOK(Y6, Y14); \
	CMPQ R9, $7; \
	JEQ  DONE; \
	TOK(Y7, Y15); \
DONE:

// KTTOKENSN(TOK, N, DONE) is KTTOKENS for min(N, 8) tokens.
#define KTTOKENSN(TOK, N, DONE) \
	TOK(Y0, Y8); \
	CMPQ N, $1; \
	JEQ  DONE; \
	TOK(Y1, Y9); \
	CMPQ N, $2; \
	JEQ  DONE; \
	TOK(Y2, Y10); \
	CMPQ N, $3; \
	JEQ  DONE; \
	TOK(Y3, Y11); \
	CMPQ N, $4; \
	JEQ  DONE; \
	TOK(Y4, Y12); \
	CMPQ N, $5; \
	JEQ  DONE; \
	TOK(Y5, Y13); \
	CMPQ N, $6; \
	JEQ  DONE; \
	TOK(Y6, Y14); \
	CMPQ N, $7; \
	JEQ  DONE; \
	TOK(Y7, Y15); \
DONE:

// KTMUL multiplies the unpacked block (unsigned weights Z16-Z19, int16
// scales Z20-Z23) with the token at DI into the int32 lanes of YT.
#define KTMUL(YT) \
	VPMADDUBSW    4(DI), Z16, Z25; \
	VPMADDWD      Z20, Z25, Z26; \
	VPMADDUBSW    68(DI), Z17, Z25; \
	VPDPWSSD      Z21, Z25, Z26; \
	VPMADDUBSW    132(DI), Z18, Z25; \
	VPDPWSSD      Z22, Z25, Z26; \
	VPMADDUBSW    196(DI), Z19, Z25; \
	VPDPWSSD      Z23, Z25, Z26; \
	VEXTRACTI64X4 $1, Z26, YT; \
	VPADDD        Y26, YT, YT

// KTOKMIN is one token for the types with mins: block sum in YT, mins
// term (bsums times Y24) in YM.
#define KTOKMIN(YT, YM) \
	KTMUL(YT); \
	VPMADDWD 260(DI), Y24, YM; \
	ADDQ     R8, DI

// KTOKOFF is one token for the types with an offset: the bsums times Y24
// are added to the block sum in YT.
#define KTOKOFF(YT, YM) \
	KTMUL(YT); \
	VPDPWSSD 260(DI), Y24, YT; \
	ADDQ     R8, DI

// KTOKIQ4 is one IQ4_XS token: weights plus 128 as unsigned bytes in
// Z16-Z19 with VPDPBUSD, each pair of sub-blocks scaled by the int32
// scales in Z20-Z23; the 128 comes back out through the bsums (Y24).
#define KTOKIQ4(YT, YM) \
	VPXORD        Z25, Z25, Z25; \
	VPDPBUSD      4(DI), Z16, Z25; \
	VPMULLD       Z20, Z25, Z26; \
	VPXORD        Z25, Z25, Z25; \
	VPDPBUSD      68(DI), Z17, Z25; \
	VPMULLD       Z21, Z25, Z25; \
	VPADDD        Z25, Z26, Z26; \
	VPXORD        Z25, Z25, Z25; \
	VPDPBUSD      132(DI), Z18, Z25; \
	VPMULLD       Z22, Z25, Z25; \
	VPADDD        Z25, Z26, Z26; \
	VPXORD        Z25, Z25, Z25; \
	VPDPBUSD      196(DI), Z19, Z25; \
	VPMULLD       Z23, Z25, Z25; \
	VPADDD        Z25, Z26, Z26; \
	VEXTRACTI64X4 $1, Z26, YT; \
	VPADDD        Y26, YT, YT; \
	VPDPWSSD      260(DI), Y24, YT; \
	ADDQ          R8, DI

// KTFLOAT2 adds d*isum - dmin*mins per token to Y29, with the block sums
// reduced into Y1 and the mins terms into Y9, and d, dmin in X2.
#define KTFLOAT2 \
	VCVTDQ2PS    Y1, Y1; \
	VCVTDQ2PS    Y9, Y9; \
	VBROADCASTSS X2, Y3; \
	VMOVSHDUP    X2, X4; \
	VBROADCASTSS X4, Y4; \
	VMULPS       Y30, Y3, Y3; \
	VMULPS       Y30, Y4, Y4; \
	VMULPS       Y3, Y1, Y1; \
	VMULPS       Y4, Y9, Y9; \
	VSUBPS       Y9, Y1, Y1; \
	VADDPS       Y1, Y29, Y29

// KTFLOAT1 adds d*isum per token to Y29 (block sums in Y1, d in X2).
#define KTFLOAT1 \
	VCVTDQ2PS    Y1, Y1; \
	VBROADCASTSS X2, Y3; \
	VMULPS       Y30, Y3, Y3; \
	VMULPS       Y3, Y1, Y1; \
	VADDPS       Y1, Y29, Y29

// KTFLOAT2ACC(YM, ACC) is KTFLOAT2 with the mins terms in YM, adding to
// ACC.
#define KTFLOAT2ACC(YM, ACC) \
	VCVTDQ2PS    Y1, Y1; \
	VCVTDQ2PS    YM, YM; \
	VBROADCASTSS X2, Y3; \
	VMOVSHDUP    X2, X4; \
	VBROADCASTSS X4, Y4; \
	VMULPS       Y30, Y3, Y3; \
	VMULPS       Y30, Y4, Y4; \
	VMULPS       Y3, Y1, Y1; \
	VMULPS       Y4, YM, YM; \
	VSUBPS       YM, Y1, Y1; \
	VADDPS       Y1, ACC, ACC

// KT16SC spreads the 16 int16 group scales in Z1 over Z20-Z23.
#define KT16SC \
	VMOVDQU64 kqPermQ6K<>+0(SB), Z8; \
	VMOVDQU64 kqPermQ6K<>+64(SB), Z9; \
	VMOVDQU64 kqPermQ6K<>+128(SB), Z10; \
	VMOVDQU64 kqPermQ6K<>+192(SB), Z11; \
	VPERMW    Z1, Z8, Z20; \
	VPERMW    Z1, Z9, Z21; \
	VPERMW    Z1, Z10, Z22; \
	VPERMW    Z1, Z11, Z23

// KTQ4W unpacks qs[32j:32j+32] (at QOFF) into ZW: low nibbles in the low
// half, high nibbles in the high half.
#define KTQ4W(QOFF, ZW) \
	VMOVDQU      QOFF(SI), Y6; \
	VPSRLW       $4, Y6, Y7; \
	VINSERTI64X4 $1, Y7, Z6, Z6; \
	VPANDD       Z28, Z6, ZW

// KTQ5W is KTQ4W plus the fifth bits from Z9 (qh in both halves): bit 2j
// for the low half, 2j+1 for the high half.
#define KTQ5W(QOFF, J, ZW) \
	KTQ4W(QOFF, ZW); \
	VPSRLVW    kqQ5KShift<>+(64*J)(SB), Z9, Z12; \
	VPSLLW     $4, Z12, Z12; \
	VPTERNLOGD $0xf8, kqMask10x64<>(SB), Z12, ZW

// KTQ6W unpacks 128 values of a Q6_K block (ql at QL, qh at QH) into ZA
// (values 0-63) and ZB (64-127). Z31 is the byte mask 0x30.
#define KTQ6W(QL, QH, ZA, ZB) \
	VMOVDQU64       QL(SI), Z6; \
	VBROADCASTI64X4 QH(SI), Z7; \
	VPSLLVW         kqShiftQ6K<>+0(SB), Z7, Z12; \
	VPANDD          Z31, Z12, Z12; \
	VMOVDQA64       Z6, ZA; \
	VPTERNLOGD      $0xea, Z12, Z28, ZA; \
	VPSRLVW         kqShiftQ6K<>+64(SB), Z7, Z12; \
	VPANDD          Z31, Z12, Z12; \
	VPSRLW          $4, Z6, ZB; \
	VPTERNLOGD      $0xea, Z12, Z28, ZB

// KTQ2W unpacks the 2-bit quants of vectors (k, 2p) and (k, 2p+1) from Z10
// (qs[32k:32k+32] in both halves) into ZW.
#define KTQ2W(P, ZW) \
	VPSRLVW kqQ2KShift<>+(64*P)(SB), Z10, ZW; \
	VPANDD  kqMask03x64<>(SB), ZW, ZW

// KTQ3W adds the hmask bits 4k+2p and 4k+2p+1 (Z9) as bit 2 to KTQ2W.
#define KTQ3W(P, H, ZW) \
	KTQ2W(P, ZW); \
	VPSRLVW    kqQ3KHShift<>+(64*H)(SB), Z9, Z12; \
	VPSLLW     $2, Z12, Z12; \
	VPTERNLOGD $0xf8, kqMask04x64<>(SB), Z12, ZW

// KTQIQ4W unpacks sub-blocks 2j and 2j+1 of an IQ4_XS block (qs at QOFF)
// into ZW as levels plus 128 (Z31 holds the table).
#define KTQIQ4W(QOFF, ZW) \
	VMOVDQU      QOFF(SI), Y6; \
	VPSRLW       $4, Y6, Y7; \
	VINSERTI64X4 $1, Y7, Z6, Z6; \
	VSHUFI64X2   $0xd8, Z6, Z6, Z6; \
	VPANDD       Z28, Z6, Z6; \
	VPSHUFB      Z6, Z31, ZW

// KTMULP multiplies the unpacked block (unsigned weights Z16-Z19) with the
// token at DI into the int32 lanes of YT, as KTMUL does, with fewer
// multiplications: VPDPBUSD sums four products per int32 lane (at most
// 4*63*128 in magnitude for weights below 64, so an int16 holds it),
// VPACKSSDW packs vectors 0 and 2, and 1 and 3, into int16 words, and one
// VPMADDWD and one VPDPWSSD apply the scales Z20, Z21 (laid out by
// kqPermQ4KP<> or kqPermQ6KP<>).
#define KTMULP(YT) \
	VPXORD        Z22, Z22, Z22; \
	VPDPBUSD      4(DI), Z16, Z22; \
	VPXORD        Z25, Z25, Z25; \
	VPDPBUSD      132(DI), Z18, Z25; \
	VPXORD        Z23, Z23, Z23; \
	VPDPBUSD      68(DI), Z17, Z23; \
	VPXORD        Z26, Z26, Z26; \
	VPDPBUSD      196(DI), Z19, Z26; \
	VPACKSSDW     Z25, Z22, Z22; \
	VPACKSSDW     Z26, Z23, Z23; \
	VPMADDWD      Z20, Z22, Z26; \
	VPDPWSSD      Z21, Z23, Z26; \
	VEXTRACTI64X4 $1, Z26, YT; \
	VPADDD        Y26, YT, YT

// KTOKOFFP is KTOKOFF with KTMULP.
#define KTOKOFFP(YT, YM) \
	KTMULP(YT); \
	VPDPWSSD 260(DI), Y24, YT; \
	ADDQ     R8, DI

// KTQ4KSCP unpacks the scales and mins of a Q4_K/Q5_K block for KTMULP:
// the scales laid out by kqPermQ4KP<> in Z20, Z21, the mins (each twice)
// in Y24. Y31 holds kqMinsDup.
#define KTQ4KSCP \
	VMOVDQU    4(SI), X0; \
	VPSRLW     $4, X0, X1; \
	VPSHUFB    kqQ4KIdxL<>(SB), X0, X2; \
	VPAND      kqQ4KMaskL<>(SB), X2, X2; \
	VPSHUFB    kqQ4KIdxH<>(SB), X1, X3; \
	VPANDD     X28, X3, X3; \
	VPSHUFB    kqQ4KIdxB<>(SB), X0, X4; \
	VPSRLW     $2, X4, X4; \
	VPAND      kqMask30<>(SB), X4, X4; \
	VPOR       X3, X2, X2; \
	VPOR       X4, X2, X2; \
	VPMOVZXBW  X2, Y2; \
	VPERMW     Y2, Y31, Y24; \
	VMOVDQU64  kqPermQ4KP<>+0(SB), Z20; \
	VMOVDQU64  kqPermQ4KP<>+64(SB), Z21; \
	VPERMW     Z2, Z20, Z20; \
	VPERMW     Z2, Z21, Z21

// The 16-token Q4_K and Q5_K tiles go through KTCHUNK16 blocks at a time
// for all the rows: the sixteen tokens' activations of a chunk (37 KB)
// stay close (L1 and L2) while the rows go through them (on Zen 4, 8
// blocks measured faster than 4 and much faster than 16). For each chunk,
// KTTABLE16 first stores a 320-byte entry per block at 64(SP): the tokens'
// scales as sixteen float32, then four vectors i of sixteen int32, holding
// for token t the sums of bsums 4i, 4i+1 and 4i+2, 4i+3 as two int16 (the
// group sums of sub-blocks 2i and 2i+1), so that VPMADDWD by the broadcast
// mins m[2i], m[2i+1] gives the tokens' mins terms (KTMINS8). Lanes of
// tokens nt and beyond are left as they are (their results are never
// stored).
#define KTCHUNK16 8

// KTTABLE16(LOOP, TLOOP) stores the entries of the CX blocks from BX on.
#define KTTABLE16(LOOP, TLOOP) \
	MOVQ   SP, DX; \
	ADDQ   $64, DX; \
LOOP: \
	KMOVW        K2, K1; \
	VGATHERDPS   (BX)(Y27*1), K1, Y30; \
	VMOVUPS      Y30, (DX); \
	LEAQ         (BX)(R8*8), DI; \
	KMOVW        K3, K1; \
	VGATHERDPS   (DI)(Y27*1), K1, Y30; \
	VMOVUPS      Y30, 32(DX); \
	MOVQ         BX, DI; \
	XORQ         AX, AX; \
TLOOP: \
	VMOVDQU      260(DI), Y0; \
	VPMADDWD     kqOnes16<>(SB), Y0, Y0; \
	VEXTRACTI128 $1, Y0, X1; \
	VPACKSSDW    X1, X0, X0; \
	VMOVD        X0, 64(DX)(AX*4); \
	VPEXTRD      $1, X0, 128(DX)(AX*4); \
	VPEXTRD      $2, X0, 192(DX)(AX*4); \
	VPEXTRD      $3, X0, 256(DX)(AX*4); \
	ADDQ         R8, DI; \
	INCQ         AX; \
	CMPQ         AX, R9; \
	JLT          TLOOP; \
	ADDQ         $292, BX; \
	ADDQ         $320, DX; \
	DECQ         CX; \
	JNZ          LOOP

// KTMINS8(OFF, YM) computes eight tokens' mins terms of the block into YM
// from the vectors at OFF+64i(DX) and the mins in Y2 (words 8-15, as
// KTQ4KSC8 leaves them); Y10, Y11, Y14, Y15 hold kqBcastMins<>.
#define KTMINS8(OFF, YM) \
	VPERMD   Y2, Y10, Y8; \
	VPMADDWD OFF(DX), Y8, YM; \
	VPERMD   Y2, Y11, Y8; \
	VPDPWSSD (OFF+64)(DX), Y8, YM; \
	VPERMD   Y2, Y14, Y8; \
	VPDPWSSD (OFF+128)(DX), Y8, YM; \
	VPERMD   Y2, Y15, Y8; \
	VPDPWSSD (OFF+192)(DX), Y8, YM

// KTOKQ4 is one token of a Q4_K or Q5_K block whose mins KTMINS8 takes
// care of.
#define KTOKQ4(YT, YM) \
	KTMULP(YT); \
	ADDQ R8, DI

// KTQ4KSC8 is KTQ4KSCP without the per-token mins vector.
#define KTQ4KSC8 \
	VMOVDQU    4(SI), X0; \
	VPSRLW     $4, X0, X1; \
	VPSHUFB    kqQ4KIdxL<>(SB), X0, X2; \
	VPAND      kqQ4KMaskL<>(SB), X2, X2; \
	VPSHUFB    kqQ4KIdxH<>(SB), X1, X3; \
	VPANDD     X28, X3, X3; \
	VPSHUFB    kqQ4KIdxB<>(SB), X0, X4; \
	VPSRLW     $2, X4, X4; \
	VPAND      kqMask30<>(SB), X4, X4; \
	VPOR       X3, X2, X2; \
	VPOR       X4, X2, X2; \
	VPMOVZXBW  X2, Y2; \
	VMOVDQU64  kqPermQ4KP<>+0(SB), Z20; \
	VMOVDQU64  kqPermQ4KP<>+64(SB), Z21; \
	VPERMW     Z2, Z20, Z20; \
	VPERMW     Z2, Z21, Z21

// KT16SETUP sets up the 16-token tiles after KTSETUP: K3 masks tokens
// 8-15, Y10, Y11, Y14, Y15 hold kqBcastMins<>, Y31 the offsets of
// out[t*ldo], and R14 (the blocks done) is zero.
#define KT16SETUP \
	KSHIFTRW     $8, K2, K3; \
	VMOVDQU      kqBcastMins<>+0(SB), Y10; \
	VMOVDQU      kqBcastMins<>+32(SB), Y11; \
	VMOVDQU      kqBcastMins<>+64(SB), Y14; \
	VMOVDQU      kqBcastMins<>+96(SB), Y15; \
	VPBROADCASTD R12, Y31; \
	VPMULLD      kqIota<>(SB), Y31, Y31; \
	XORQ         R14, R14

// KT16CHUNK(LOOP, TLOOP) starts the chunk of blocks at R14: CX is set to
// its number of blocks and the table is built for it.
#define KT16CHUNK(LOOP, TLOOP) \
	MOVQ    nb+32(FP), CX; \
	SUBQ    R14, CX; \
	CMPQ    CX, $KTCHUNK16; \
	JLE     2(PC); \
	MOVQ    $KTCHUNK16, CX; \
	IMUL3Q  $292, R14, BX; \
	ADDQ    pan+24(FP), BX; \
	KTTABLE16(LOOP, TLOOP)

// KT16ROW(WB, FIRST) points SI and BX at block R14 of the row at R13 (WB
// bytes per block) and of the panel, DX at the table, sets CX to the
// blocks of this chunk, and starts the row's sums (tokens 0-7 in Y29, 8-15
// in Y24) at zero for the first chunk, else at the partial sums the
// previous chunk left in out (float32 stored and reloaded exactly, so the
// blocks add up in the same order as in one pass).
#define KT16ROW(WB, FIRST) \
	IMUL3Q  $WB, R14, SI; \
	ADDQ    R13, SI; \
	IMUL3Q  $292, R14, BX; \
	ADDQ    pan+24(FP), BX; \
	MOVQ    SP, DX; \
	ADDQ    $64, DX; \
	MOVQ    nb+32(FP), CX; \
	SUBQ    R14, CX; \
	CMPQ    CX, $KTCHUNK16; \
	JLE     2(PC); \
	MOVQ    $KTCHUNK16, CX; \
	VPXORD  Y29, Y29, Y29; \
	VPXORD  Y24, Y24, Y24; \
	TESTQ   R14, R14; \
	JZ      FIRST; \
	KMOVW   K2, K1; \
	VGATHERDPS (R11)(Y31*1), K1, Y29; \
	LEAQ    (R11)(R12*8), AX; \
	KMOVW   K3, K1; \
	VGATHERDPS (AX)(Y31*1), K1, Y24; \
FIRST:

// KT16BLOCK(WB, DONE0, DONE1, SKIP) multiplies the unpacked block (Z16-Z19,
// scales in Y2, Z20, Z21) with the tokens and adds the results to Y29 and
// Y24, then moves SI, BX and DX to the next block.
#define KT16BLOCK(WB, DONE0, DONE1, SKIP) \
	KTMINS8(64, Y9); \
	KTMINS8(96, Y13); \
	VMOVUPS (DX), Y30; \
	MOVQ    BX, DI; \
	KTTOKENSN(KTOKQ4, R9, DONE0); \
	KTREDUCE(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y1, Y2); \
	VCVTPH2PS (SI), X2; \
	KTFLOAT2ACC(Y9, Y29); \
	MOVQ    R9, AX; \
	SUBQ    $8, AX; \
	JLE     SKIP; \
	VMOVUPS 32(DX), Y30; \
	LEAQ    (BX)(R8*8), DI; \
	KTTOKENSN(KTOKQ4, AX, DONE1); \
	KTREDUCE(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y1, Y2); \
	VCVTPH2PS (SI), X2; \
	KTFLOAT2ACC(Y13, Y24); \
SKIP: \
	ADDQ $WB, SI; \
	ADDQ $292, BX; \
	ADDQ $320, DX

// KT16STORE(LOOP) writes the nt sums of Y29 and Y24 to out[t*ldo + r] and
// moves to the next row.
#define KT16STORE(LOOP) \
	VMOVUPS Y29, (SP); \
	MOVQ    SP, AX; \
	VMOVUPS Y24, 32(AX); \
	MOVQ    R11, DX; \
	XORQ    AX, AX; \
LOOP: \
	MOVL    (SP)(AX*4), DI; \
	MOVL    DI, (DX); \
	ADDQ    R12, DX; \
	INCQ    AX; \
	CMPQ    AX, R9; \
	JLT     LOOP; \
	ADDQ    $4, R11; \
	ADDQ    ws+8(FP), R13

// KT16NEXT(CHUNK) goes back to the first row for the next chunk of
// blocks, if any.
#define KT16NEXT(CHUNK) \
	MOVQ rows+16(FP), R10; \
	MOVQ out+48(FP), R11; \
	MOVQ w+0(FP), R13; \
	ADDQ $KTCHUNK16, R14; \
	CMPQ R14, nb+32(FP); \
	JLT  CHUNK

// KTDSCALES stores the nt tokens' scales of each of the nb blocks as eight
// float32 at 32(SP) (block b at 32+32b), so that the rows need no gather.
#define KTDSCALES(LOOP) \
	MOVQ   pan+24(FP), BX; \
	MOVQ   nb+32(FP), CX; \
	MOVQ   SP, DX; \
	ADDQ   $32, DX; \
	VPXORD Y30, Y30, Y30; \
LOOP: \
	KMOVW       K2, K1; \
	VGATHERDPS  (BX)(Y27*1), K1, Y30; \
	VMOVUPS     Y30, (DX); \
	ADDQ        $292, BX; \
	ADDQ        $32, DX; \
	DECQ        CX; \
	JNZ         LOOP

// KTCHUNK is the number of blocks the 8-token Q6_K tile takes for all the
// rows before it moves on: the eight tokens' activations of KTCHUNK
// blocks (18.7 KB) stay in the L1 cache while the rows go through them.
#define KTCHUNK 8

// KTCHUNKSETUP(YO) loads into YO the offsets of out[t*ldo] (for
// KTCHUNKROW) and starts at block 0 (R14 counts the blocks done).
#define KTCHUNKSETUP(YO) \
	VPBROADCASTD R12, YO; \
	VPMULLD      kqIota<>(SB), YO, YO; \
	XORQ         R14, R14

// KTCHUNKROW(WB, TB, YO, FIRST) points SI, BX and DX at block R14 of the
// row at R13 (WB bytes per block), of the panel and of the table in the
// frame (TB bytes per block: KTDSCALES entries),
// sets CX to the blocks of this chunk, and starts the row's sums in Y29
// at zero for the first chunk, else at the partial sums the previous chunk
// left in out (float32 stored and reloaded exactly, so the blocks add up
// in the same order as in one pass).
#define KTCHUNKROW(WB, TB, YO, FIRST) \
	IMUL3Q  $WB, R14, SI; \
	ADDQ    R13, SI; \
	IMUL3Q  $292, R14, BX; \
	ADDQ    pan+24(FP), BX; \
	IMUL3Q  $TB, R14, DX; \
	MOVQ    SP, AX; \
	ADDQ    AX, DX; \
	ADDQ    $32, DX; \
	MOVQ    nb+32(FP), CX; \
	SUBQ    R14, CX; \
	CMPQ    CX, $KTCHUNK; \
	JLE     2(PC); \
	MOVQ    $KTCHUNK, CX; \
	VPXORD  Y29, Y29, Y29; \
	TESTQ   R14, R14; \
	JZ      FIRST; \
	KMOVW   K2, K1; \
	VGATHERDPS (R11)(YO*1), K1, Y29; \
FIRST:

// KTCHUNKNEXT(ROW) goes back to the first row for the next chunk of
// blocks, if any.
#define KTCHUNKNEXT(ROW) \
	MOVQ rows+16(FP), R10; \
	MOVQ out+48(FP), R11; \
	MOVQ w+0(FP), R13; \
	ADDQ $KTCHUNK, R14; \
	CMPQ R14, nb+32(FP); \
	JLT  ROW

// kqTileQ4KAVX512 and kqTileQ5KAVX512 take up to 16 tokens. Their frame
// holds the KT16STORE scratch and the KTTABLE16 entries of a chunk.
TEXT ·kqTileQ4KAVX512(SB), $2624-64
	KTSETUP
	KT16SETUP

q4ktchunk:
	KT16CHUNK(q4kttab, q4kttabt)

q4ktrow:
	KT16ROW(144, q4ktfirst)

q4ktblock:
	KTQ4KSC8
	KTQ4W(16, Z16)
	KTQ4W(48, Z17)
	KTQ4W(80, Z18)
	KTQ4W(112, Z19)
	KT16BLOCK(144, q4ktsum0, q4ktsum1, q4ktskip)
	DECQ CX
	JNZ  q4ktblock

	KT16STORE(q4ktstore)
	DECQ R10
	JNZ  q4ktrow
	KT16NEXT(q4ktchunk)
	VZEROUPPER
	RET

TEXT ·kqTileQ5KAVX512(SB), $2624-64
	KTSETUP
	KT16SETUP

q5ktchunk:
	KT16CHUNK(q5kttab, q5kttabt)

q5ktrow:
	KT16ROW(176, q5ktfirst)

q5ktblock:
	KTQ4KSC8
	VBROADCASTI64X4 16(SI), Z9
	KTQ5W(48, 0, Z16)
	KTQ5W(80, 1, Z17)
	KTQ5W(112, 2, Z18)
	KTQ5W(144, 3, Z19)
	KT16BLOCK(176, q5ktsum0, q5ktsum1, q5ktskip)
	DECQ CX
	JNZ  q5ktblock

	KT16STORE(q5ktstore)
	DECQ R10
	JNZ  q5ktrow
	KT16NEXT(q5ktchunk)
	VZEROUPPER
	RET

// kqTileQ6KAVX512 keeps the KTSTORE scratch and the KTDSCALES scales of
// up to kqTileMaxBlocks (256) blocks in its frame.
TEXT ·kqTileQ6KAVX512(SB), $8224-64
	KTSETUP
	KTDSCALES(q6ktds)
	MOVL $0x30303030, AX
	VPBROADCASTD AX, Z31
	KTCHUNKSETUP(Y13)

q6ktrow:
	KTCHUNKROW(210, 32, Y13, q6ktfirst)

q6ktblock:
	VPMOVSXBW 192(SI), Y1 // 16 int16 scales
	VPSLLW    $5, Y1, Y2
	VPXORD    Y24, Y24, Y24
	VPSUBW    Y2, Y24, Y24 // -32 * scales
	VMOVDQU64 kqPermQ6KP<>+0(SB), Z20
	VMOVDQU64 kqPermQ6KP<>+64(SB), Z21
	VPERMW    Z1, Z20, Z20
	VPERMW    Z1, Z21, Z21
	KTQ6W(0, 128, Z16, Z17)
	KTQ6W(64, 160, Z18, Z19)
	VMOVUPS (DX), Y30
	MOVQ    BX, DI
	KTTOKENS(KTOKOFFP, q6ktsum)
	KTREDUCE(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y1, Y2)
	MOVWLZX 208(SI), AX
	VMOVD   AX, X2
	VCVTPH2PS X2, X2
	KTFLOAT1
	ADDQ $210, SI
	ADDQ $292, BX
	ADDQ $32, DX
	DECQ CX
	JNZ  q6ktblock

	KTSTORE(q6ktstore)
	DECQ R10
	JNZ  q6ktrow
	KTCHUNKNEXT(q6ktrow)
	VZEROUPPER
	RET

TEXT ·kqTileQ3KAVX512(SB), NOSPLIT, $32-64
	KTSETUP

q3ktrow:
	MOVQ R13, SI
	MOVQ pan+24(FP), BX
	MOVQ nb+32(FP), CX
	VPXORD Y29, Y29, Y29

q3ktblock:
	VMOVQ     96(SI), X0
	VPINSRD   $2, 104(SI), X0, X0
	VPSHUFB   kqQ3KIdxLo<>(SB), X0, X1
	VPANDD    X28, X1, X1
	VPSRLW    $4, X0, X2
	VPSHUFB   kqQ3KIdxHi<>(SB), X2, X2
	VPANDD    X28, X2, X2
	VPSHUFB   kqQ3KIdxH<>(SB), X0, X3
	VPSRLVW   kqQ3KShift<>(SB), X3, X3
	VPAND     kqMask03<>(SB), X3, X3
	VPSLLW    $4, X3, X3
	VPOR      X2, X1, X1
	VPOR      X3, X1, X1
	VPSUBB    kqBias32<>(SB), X1, X1
	VPMOVSXBW X1, Y1 // 16 int16 scales
	VPSLLW    $2, Y1, Y2
	VPXORD    Y24, Y24, Y24
	VPSUBW    Y2, Y24, Y24 // -4 * scales
	KT16SC
	VBROADCASTI64X4 0(SI), Z9
	VBROADCASTI64X4 32(SI), Z10
	KTQ3W(0, 0, Z16)
	KTQ3W(1, 1, Z17)
	VBROADCASTI64X4 64(SI), Z10
	KTQ3W(0, 2, Z18)
	KTQ3W(1, 3, Z19)
	KTGATHER
	KTTOKENS(KTOKOFF, q3ktsum)
	KTREDUCE(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y1, Y2)
	MOVWLZX 108(SI), AX
	VMOVD   AX, X2
	VCVTPH2PS X2, X2
	KTFLOAT1
	ADDQ $110, SI
	ADDQ $292, BX
	DECQ CX
	JNZ  q3ktblock

	KTSTORE(q3ktstore)
	DECQ R10
	JNZ  q3ktrow
	VZEROUPPER
	RET

TEXT ·kqTileQ2KAVX512(SB), NOSPLIT, $32-64
	KTSETUP

q2ktrow:
	MOVQ R13, SI
	MOVQ pan+24(FP), BX
	MOVQ nb+32(FP), CX
	VPXORD Y29, Y29, Y29

q2ktblock:
	VMOVDQU   (SI), X0
	VPSRLW    $4, X0, X1
	VPANDD    X28, X0, X0
	VPANDD    X28, X1, X1
	VPMOVZXBW X1, Y24 // 16 int16 mins
	VPMOVZXBW X0, Y1  // 16 int16 scales
	KT16SC
	VBROADCASTI64X4 16(SI), Z10
	KTQ2W(0, Z16)
	KTQ2W(1, Z17)
	VBROADCASTI64X4 48(SI), Z10
	KTQ2W(0, Z18)
	KTQ2W(1, Z19)
	KTGATHER
	KTTOKENS(KTOKMIN, q2ktsum)
	KTREDUCE(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y1, Y2)
	KTREDUCE(Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15, Y9, Y10)
	MOVL    80(SI), AX
	VMOVD   AX, X2
	VCVTPH2PS X2, X2
	KTFLOAT2
	ADDQ $84, SI
	ADDQ $292, BX
	DECQ CX
	JNZ  q2ktblock

	KTSTORE(q2ktstore)
	DECQ R10
	JNZ  q2ktrow
	VZEROUPPER
	RET

TEXT ·kqTileIQ4XSAVX512(SB), NOSPLIT, $32-64
	KTSETUP
	VMOVDQU64 kqIQ4U<>(SB), Z31

iq4xstrow:
	MOVQ R13, SI
	MOVQ pan+24(FP), BX
	MOVQ nb+32(FP), CX
	VPXORD Y29, Y29, Y29

iq4xstblock:
	MOVL      4(SI), AX
	PDEPQ     kqPdep0F<>(SB), AX, AX
	MOVWLZX   2(SI), DX
	PDEPQ     kqPdep30<>(SB), DX, DX
	ORQ       DX, AX
	VMOVQ     AX, X1
	VPSUBB    kqBias32<>(SB), X1, X1
	VPMOVSXBW X1, X1 // 8 int16 scales
	VMOVDQU64 kqDup8<>(SB), Y4
	VPERMW    Y1, Y4, Y2 // each scale twice
	VPSLLW    $7, Y2, Y2
	VPXORD    Y24, Y24, Y24
	VPSUBW    Y2, Y24, Y24 // -128 * scales
	VPMOVSXWD X1, Y3 // 8 int32 scales
	VMOVDQU64 kqIQ4Perm<>+0(SB), Z8
	VMOVDQU64 kqIQ4Perm<>+64(SB), Z9
	VMOVDQU64 kqIQ4Perm<>+128(SB), Z10
	VMOVDQU64 kqIQ4Perm<>+192(SB), Z11
	VPERMD    Z3, Z8, Z20
	VPERMD    Z3, Z9, Z21
	VPERMD    Z3, Z10, Z22
	VPERMD    Z3, Z11, Z23
	KTQIQ4W(8, Z16)
	KTQIQ4W(40, Z17)
	KTQIQ4W(72, Z18)
	KTQIQ4W(104, Z19)
	KTGATHER
	KTTOKENS(KTOKIQ4, iq4xstsum)
	KTREDUCE(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y1, Y2)
	MOVWLZX 0(SI), AX
	VMOVD   AX, X2
	VCVTPH2PS X2, X2
	KTFLOAT1
	ADDQ $136, SI
	ADDQ $292, BX
	DECQ CX
	JNZ  iq4xstblock

	KTSTORE(iq4xststore)
	DECQ R10
	JNZ  iq4xstrow
	VZEROUPPER
	RET

// AVX2 tile kernels: one weight row at a time times nt <= 4 Q8_K rows
// (kqTileTokens2), for CPUs without AVX-512. Token t's block sums are
// kept in the int32 lanes of Yt (t = 0..3); the tokens are read at (BX),
// (BX)(R8*1), (BX)(R8*2) and (BX)(AX*1). The sums are reduced with VPHADDD
// so that lane t of an XMM holds token t's sums and the float32 block
// results are added to lane t of X14 in the vecDot order.
//
// Registers: SI weight block, BX panel block, CX blocks left, R8 rowSize,
// AX 3*rowSize, R9 nt, R10 rows left, R11 out row, R12 ldo*4, R13 row
// start; Y15 the byte mask 0x0f, X9 the token offsets, X10 the mask of the
// nt tokens, X13 the tokens' Q8_K scales, X14 the row's sums.

// A2SETUP loads the arguments and constants of the AVX2 tile kernels.
#define A2SETUP \
	MOVQ  w+0(FP), R13; \
	MOVQ  rows+16(FP), R10; \
	MOVQ  nb+32(FP), R8; \
	IMULQ $292, R8; \
	LEAQ  (R8)(R8*2), AX; \
	MOVQ  nt+40(FP), R9; \
	MOVQ  out+48(FP), R11; \
	MOVQ  ldo+56(FP), R12; \
	SHLQ  $2, R12; \
	VMOVD R8, X9; \
	VPBROADCASTD X9, X9; \
	VPMULLD kqIota<>(SB), X9, X9; \
	VMOVD R9, X10; \
	VPBROADCASTD X10, X10; \
	VPCMPGTD kqIota<>(SB), X10, X10; \
	VPXOR X13, X13, X13; \
	MOVL  $0x0f0f0f0f, DX; \
	VMOVD DX, X15; \
	VPBROADCASTD X15, Y15

// A2GATHER loads the nt tokens' scales of the block at BX into X13.
#define A2GATHER \
	VMOVDQA    X10, X8; \
	VGATHERDPS X8, (BX)(X9*1), X13

// A2STORE writes lanes 0..nt-1 of X14 to out[t*ldo + r] and moves to the
// next row.
#define A2STORE(LOOP) \
	VMOVUPS X14, (SP); \
	MOVQ    R11, DX; \
	XORQ    DI, DI; \
LOOP: \
	MOVL    (SP)(DI*4), CX; \
	MOVL    CX, (DX); \
	ADDQ    R12, DX; \
	INCQ    DI; \
	CMPQ    DI, R9; \
	JLT     LOOP; \
	ADDQ    $4, R11; \
	ADDQ    ws+8(FP), R13

// A2RED4 sums the eight int32 lanes of each of A..D into lanes 0..3 of XA
// (clobbering B..D, TX).
#define A2RED4(A, B, C, D, XA, TY, TX) \
	VPHADDD      B, A, A; \
	VPHADDD      D, C, C; \
	VPHADDD      C, A, A; \
	VEXTRACTI128 $1, A, TX; \
	VPADDD       TX, XA, XA

// A2MUL adds the products of the unsigned weights W with the q8 at MEM,
// scaled by the int16 scales S, to YT.
#define A2MUL(MEM, W, S, YT) \
	VPMADDUBSW MEM, W, Y8; \
	VPMADDWD   S, Y8, Y8; \
	VPADDD     Y8, YT, YT

// A2Q4J handles sub-blocks 2j and 2j+1 of a Q4_K/Q5_K block for every
// token: Y4 and Y5 hold the weights, Y6 and Y7 get their scales from Y11.
#define A2Q4J(J, DONE) \
	VPSHUFB kqShufQ4K<>+(64*J)(SB), Y11, Y6; \
	VPSHUFB kqShufQ4K<>+(64*J+32)(SB), Y11, Y7; \
	A2MUL((4+64*J)(BX), Y4, Y6, Y0); \
	A2MUL((36+64*J)(BX), Y5, Y7, Y0); \
	CMPQ R9, $1; \
	JEQ  DONE; \
	A2MUL((4+64*J)(BX)(R8*1), Y4, Y6, Y1); \
	A2MUL((36+64*J)(BX)(R8*1), Y5, Y7, Y1); \
	CMPQ R9, $2; \
	JEQ  DONE; \
	A2MUL((4+64*J)(BX)(R8*2), Y4, Y6, Y2); \
	A2MUL((36+64*J)(BX)(R8*2), Y5, Y7, Y2); \
	CMPQ R9, $3; \
	JEQ  DONE; \
	A2MUL((4+64*J)(BX)(AX*1), Y4, Y6, Y3); \
	A2MUL((36+64*J)(BX)(AX*1), Y5, Y7, Y3); \
DONE:

// A2Q4W loads qs[32j:32j+32] (at QOFF) into Y4 (low nibbles) and Y5 (high).
#define A2Q4W(QOFF) \
	VMOVDQU QOFF(SI), Y4; \
	VPSRLW  $4, Y4, Y5; \
	VPAND   Y15, Y4, Y4; \
	VPAND   Y15, Y5, Y5

// A2Q4KSC unpacks the scales of a Q4_K/Q5_K block into Y11 (both halves)
// and its mins, each twice, into Y12.
#define A2Q4KSC \
	VMOVDQU      4(SI), X0; \
	VPSRLW       $4, X0, X1; \
	VPSHUFB      kqQ4KIdxL<>(SB), X0, X2; \
	VPAND        kqQ4KMaskL<>(SB), X2, X2; \
	VPSHUFB      kqQ4KIdxH<>(SB), X1, X3; \
	VPAND        X15, X3, X3; \
	VPSHUFB      kqQ4KIdxB<>(SB), X0, X4; \
	VPSRLW       $2, X4, X4; \
	VPAND        kqMask30<>(SB), X4, X4; \
	VPOR         X3, X2, X2; \
	VPOR         X4, X2, X2; \
	VPMOVZXBW    X2, Y2; \
	VPERMQ       $0x44, Y2, Y11; \
	VEXTRACTI128 $1, Y2, X3; \
	VPUNPCKLWD   X3, X3, X4; \
	VPUNPCKHWD   X3, X3, X5; \
	VINSERTI128  $1, X5, Y4, Y12

// A2MINS computes the nt tokens' mins terms (bsums times Y12) into Y4-Y7.
#define A2MINS(DONE) \
	VPMADDWD 260(BX), Y12, Y4; \
	CMPQ R9, $1; \
	JEQ  DONE; \
	VPMADDWD 260(BX)(R8*1), Y12, Y5; \
	CMPQ R9, $2; \
	JEQ  DONE; \
	VPMADDWD 260(BX)(R8*2), Y12, Y6; \
	CMPQ R9, $3; \
	JEQ  DONE; \
	VPMADDWD 260(BX)(AX*1), Y12, Y7; \
DONE:

// A2FLOAT2 adds d*isum - dmin*mins per token to X14 (block sums in X0,
// mins terms in X4, d and dmin in X1).
#define A2FLOAT2 \
	VCVTDQ2PS    X0, X0; \
	VCVTDQ2PS    X4, X4; \
	VBROADCASTSS X1, X2; \
	VMOVSHDUP    X1, X3; \
	VBROADCASTSS X3, X3; \
	VMULPS       X13, X2, X2; \
	VMULPS       X13, X3, X3; \
	VMULPS       X2, X0, X0; \
	VMULPS       X3, X4, X4; \
	VSUBPS       X4, X0, X0; \
	VADDPS       X0, X14, X14

// func kqTileQ4KAVX2(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)
TEXT ·kqTileQ4KAVX2(SB), NOSPLIT, $16-64
	A2SETUP

q4ka2row:
	MOVQ R13, SI
	MOVQ pan+24(FP), BX
	MOVQ nb+32(FP), CX
	VXORPS X14, X14, X14

q4ka2block:
	A2Q4KSC
	A2GATHER
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	A2Q4W(16)
	A2Q4J(0, q4ka2j0)
	A2Q4W(48)
	A2Q4J(1, q4ka2j1)
	A2Q4W(80)
	A2Q4J(2, q4ka2j2)
	A2Q4W(112)
	A2Q4J(3, q4ka2j3)
	A2MINS(q4ka2mins)
	A2RED4(Y0, Y1, Y2, Y3, X0, Y1, X1)
	A2RED4(Y4, Y5, Y6, Y7, X4, Y5, X5)
	VCVTPH2PS (SI), X1
	A2FLOAT2

	ADDQ $144, SI
	ADDQ $292, BX
	DECQ CX
	JNZ  q4ka2block

	A2STORE(q4ka2store)
	DECQ R10
	JNZ  q4ka2row
	VZEROUPPER
	RET


// A2Q5W is A2Q4W plus the fifth bits of a Q5_K block (qh at 16): bit 2j
// moved to bit 4 by SHL $SL for the low nibbles, bit 2j+1 by SHH $SH for
// the high ones.
#define A2Q5W(QOFF, SHL, SL, SHH, SH) \
	A2Q4W(QOFF); \
	VMOVDQU 16(SI), Y6; \
	SHL     $SL, Y6, Y7; \
	VPAND   kqMask10x64<>(SB), Y7, Y7; \
	VPOR    Y7, Y4, Y4; \
	SHH     $SH, Y6, Y7; \
	VPAND   kqMask10x64<>(SB), Y7, Y7; \
	VPOR    Y7, Y5, Y5

// func kqTileQ5KAVX2(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)
TEXT ·kqTileQ5KAVX2(SB), NOSPLIT, $16-64
	A2SETUP

q5ka2row:
	MOVQ R13, SI
	MOVQ pan+24(FP), BX
	MOVQ nb+32(FP), CX
	VXORPS X14, X14, X14

q5ka2block:
	A2Q4KSC
	A2GATHER
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	A2Q5W(48, VPSLLW, 4, VPSLLW, 3)
	A2Q4J(0, q5ka2j0)
	A2Q5W(80, VPSLLW, 2, VPSLLW, 1)
	A2Q4J(1, q5ka2j1)
	A2Q5W(112, VPSRLW, 0, VPSRLW, 1)
	A2Q4J(2, q5ka2j2)
	A2Q5W(144, VPSRLW, 2, VPSRLW, 3)
	A2Q4J(3, q5ka2j3)
	A2MINS(q5ka2mins)
	A2RED4(Y0, Y1, Y2, Y3, X0, Y1, X1)
	A2RED4(Y4, Y5, Y6, Y7, X4, Y5, X5)
	VCVTPH2PS (SI), X1
	A2FLOAT2

	ADDQ $176, SI
	ADDQ $292, BX
	DECQ CX
	JNZ  q5ka2block

	A2STORE(q5ka2store)
	DECQ R10
	JNZ  q5ka2row
	VZEROUPPER
	RET

// A2TOKS multiplies the weights in Y4 (scales in Y6) with the q8 at YOFF
// of every token.
#define A2TOKS(YOFF, DONE) \
	A2MUL(YOFF(BX), Y4, Y6, Y0); \
	CMPQ R9, $1; \
	JEQ  DONE; \
	A2MUL(YOFF(BX)(R8*1), Y4, Y6, Y1); \
	CMPQ R9, $2; \
	JEQ  DONE; \
	A2MUL(YOFF(BX)(R8*2), Y4, Y6, Y2); \
	CMPQ R9, $3; \
	JEQ  DONE; \
	A2MUL(YOFF(BX)(AX*1), Y4, Y6, Y3); \
DONE:

// A2Q6V builds vector i of a Q6_K half into Y4: the low 4 bits from ql
// at QL (shifted right by QS: 0 or 4), the high 2 bits from qh at QH
// moved to bits 4-5 by HOP $HS, and its scales (row i of kqShufQ6K from
// SREG) into Y6.
#define A2Q6V(QL, QS, QH, HOP, HS, SREG, I) \
	VMOVDQU QL(SI), Y4; \
	VPSRLW  $QS, Y4, Y4; \
	VPAND   Y15, Y4, Y4; \
	VMOVDQU QH(SI), Y5; \
	HOP     $HS, Y5, Y5; \
	VPAND   kqMask30x64<>(SB), Y5, Y5; \
	VPOR    Y5, Y4, Y4; \
	VPSHUFB kqShufQ6K<>+(32*I)(SB), SREG, Y6

// A2OFFS adds the bsums times Y4 to each token's sums.
#define A2OFFS(DONE) \
	VPMADDWD 260(BX), Y4, Y5; \
	VPADDD   Y5, Y0, Y0; \
	CMPQ R9, $1; \
	JEQ  DONE; \
	VPMADDWD 260(BX)(R8*1), Y4, Y5; \
	VPADDD   Y5, Y1, Y1; \
	CMPQ R9, $2; \
	JEQ  DONE; \
	VPMADDWD 260(BX)(R8*2), Y4, Y5; \
	VPADDD   Y5, Y2, Y2; \
	CMPQ R9, $3; \
	JEQ  DONE; \
	VPMADDWD 260(BX)(AX*1), Y4, Y5; \
	VPADDD   Y5, Y3, Y3; \
DONE:

// func kqTileQ6KAVX2(w *byte, ws, rows int, pan *byte, nb, nt int, out *float32, ldo int)
TEXT ·kqTileQ6KAVX2(SB), NOSPLIT, $16-64
	A2SETUP

q6ka2row:
	MOVQ R13, SI
	MOVQ pan+24(FP), BX
	MOVQ nb+32(FP), CX
	VXORPS X14, X14, X14

q6ka2block:
	VPMOVSXBW 192(SI), Y4 // 16 int16 scales
	VPERMQ    $0x44, Y4, Y11
	VPERMQ    $0xee, Y4, Y12
	A2GATHER
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	A2Q6V(0, 0, 128, VPSLLW, 4, Y11, 0)
	A2TOKS(4, q6ka2v0)
	A2Q6V(32, 0, 128, VPSLLW, 2, Y11, 1)
	A2TOKS(36, q6ka2v1)
	A2Q6V(0, 4, 128, VPSRLW, 0, Y11, 2)
	A2TOKS(68, q6ka2v2)
	A2Q6V(32, 4, 128, VPSRLW, 2, Y11, 3)
	A2TOKS(100, q6ka2v3)
	A2Q6V(64, 0, 160, VPSLLW, 4, Y12, 0)
	A2TOKS(132, q6ka2v4)
	A2Q6V(96, 0, 160, VPSLLW, 2, Y12, 1)
	A2TOKS(164, q6ka2v5)
	A2Q6V(64, 4, 160, VPSRLW, 0, Y12, 2)
	A2TOKS(196, q6ka2v6)
	A2Q6V(96, 4, 160, VPSRLW, 2, Y12, 3)
	A2TOKS(228, q6ka2v7)
	VPMOVSXBW 192(SI), Y4
	VPSLLW    $5, Y4, Y4
	VPXOR     Y5, Y5, Y5
	VPSUBW    Y4, Y5, Y4 // -32 * scales
	A2OFFS(q6ka2offs)
	A2RED4(Y0, Y1, Y2, Y3, X0, Y1, X1)
	MOVWLZX 208(SI), DX
	VMOVD   DX, X1
	VCVTPH2PS X1, X1
	VCVTDQ2PS X0, X0
	VBROADCASTSS X1, X2
	VMULPS  X13, X2, X2
	VMULPS  X2, X0, X0
	VADDPS  X0, X14, X14

	ADDQ $210, SI
	ADDQ $292, BX
	DECQ CX
	JNZ  q6ka2block

	A2STORE(q6ka2store)
	DECQ R10
	JNZ  q6ka2row
	VZEROUPPER
	RET
