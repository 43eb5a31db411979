//go:build !noasm

#include "textflag.h"

// AVX2 (+FMA, F16C) dot products of K-quant weight rows with Q8_K
// activation rows. Each function takes the number of 256-element blocks, a
// pointer to the weight blocks and one to the Q8_K blocks, and returns the
// float32 dot product. Integer sums inside a block are exact; each block's
// int32 lanes are converted to float32 and accumulated with FMA in eight
// float32 lanes that are summed at the end.
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

// REDUCE8 sums the eight float32 lanes of Y0 into the low lane of X0.
#define REDUCE8 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVHLPS     X0, X0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVSHDUP    X0, X1; \
	VADDSS       X1, X0, X0

// Q4_K block (144 bytes): d, dmin fp16 at 0 and 2, 12 bytes of packed
// 6-bit scales and mins at 4, 128 bytes of 4-bit quants at 16. Sub-block
// 2j (32 values) is the low nibbles of qs[32j:32j+32], sub-block 2j+1 the
// high nibbles.

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
	VXORPS X12, X12, X12 // sum of dmin * mins terms
	MOVL $0x0f0f0f0f, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	TESTQ CX, CX
	JLE q4kdone

q4kloop:
	// Unpack the scales (bytes 0-7) and mins (bytes 8-15) into X2.
	MOVL 4(SI), AX  // u0
	MOVL 8(SI), BX  // u1
	MOVL 12(SI), DX // u2
	MOVL AX, R8
	ANDL $0x3f3f3f3f, R8 // scales 0-3
	MOVL DX, R9
	ANDL $0x0f0f0f0f, R9
	SHRL $6, AX
	ANDL $0x03030303, AX
	SHLL $4, AX
	ORL AX, R9           // scales 4-7
	MOVL BX, R10
	ANDL $0x3f3f3f3f, R10 // mins 0-3
	SHRL $4, DX
	ANDL $0x0f0f0f0f, DX
	SHRL $6, BX
	ANDL $0x03030303, BX
	SHLL $4, BX
	ORL BX, DX           // mins 4-7
	SHLQ $32, R9
	ORQ R9, R8
	SHLQ $32, DX
	ORQ DX, R10
	VMOVQ R8, X2
	VPINSRQ $1, R10, X2, X2
	VPMOVZXBW X2, Y2        // int16: scales 0-7, mins 8-15
	VEXTRACTI128 $1, Y2, X3 // mins
	VPERMQ $0x44, Y2, Y2    // scales in both halves

	// Mins: sum over sub-blocks of min * (sum of its 32 activations).
	VMOVDQU 260(DI), Y4
	VEXTRACTI128 $1, Y4, X5
	VPHADDW X5, X4, X4
	VPMADDWD X3, X4, X4
	VCVTDQ2PS X4, X4

	// d*yd and dmin*yd.
	VCVTPH2PS (SI), X5
	VBROADCASTSS (DI), X6
	VMULPS X6, X5, X5
	VMOVSHDUP X5, X6
	VBROADCASTSS X6, X6
	VFMADD231PS X6, X4, X12
	VBROADCASTSS X5, Y5

	VPXOR Y7, Y7, Y7
	Q4KSTEP(16, 4, 0)
	Q4KSTEP(48, 68, 64)
	Q4KSTEP(80, 132, 128)
	Q4KSTEP(112, 196, 192)
	VCVTDQ2PS Y7, Y7
	VFMADD231PS Y5, Y7, Y0

	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ q4kloop

q4kdone:
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VSUBPS X12, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS X1, X0, X0
	VMOVSHDUP X0, X1
	VADDSS X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

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
	VPSUBD Y2, Y5, Y5
	VCVTDQ2PS Y5, Y5
	MOVWLZX 208(SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS (DI), X6, X6
	VBROADCASTSS X6, Y6
	VFMADD231PS Y6, Y5, Y0

	ADDQ $210, SI
	ADDQ $292, DI
	DECQ CX
	JNZ q6kloop

q6kdone:
	REDUCE8
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func kqCPUID(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·kqCPUID(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET
