//go:build !noasm

#include "textflag.h"

// Activation quantizers with AVX2 (and F16C). They compute what
// convert_generic.go does, value for value, like the AVX-512 ones: the same
// float32 divisions and products, rounding half to even (VCVTPS2DQ under
// the default MXCSR) and fp16 conversion by VCVTPS2PH with round to nearest
// even. Quants are in [-127, 127], so the saturating packs are exact.

// perm2<> reorders the dwords of VPACKSSWB's in-lane result into order.
DATA perm2<>+0(SB)/4, $0
DATA perm2<>+4(SB)/4, $4
DATA perm2<>+8(SB)/4, $1
DATA perm2<>+12(SB)/4, $5
DATA perm2<>+16(SB)/4, $2
DATA perm2<>+20(SB)/4, $6
DATA perm2<>+24(SB)/4, $3
DATA perm2<>+28(SB)/4, $7
GLOBL perm2<>(SB), RODATA|NOPTR, $32

// HMAX8 reduces the 8 float32 lanes of Y to their maximum, in every lane
// of X (TX is scratch).
#define HMAX8(Y, X, TX) \
	VEXTRACTF128 $1, Y, TX \
	VMAXPS TX, X, X \
	VPERMILPS $0x4e, X, TX \
	VMAXPS TX, X, X \
	VPERMILPS $0xb1, X, TX \
	VMAXPS TX, X, X

// HSUMD8 reduces the 8 int32 lanes of Y to their sum in the low lane of X.
#define HSUMD8(Y, X, TX) \
	VEXTRACTI128 $1, Y, TX \
	VPADDD TX, X, X \
	VPSHUFD $0x4e, X, TX \
	VPADDD TX, X, X \
	VPSHUFD $0xb1, X, TX \
	VPADDD TX, X, X

// Q8BLOCK quantizes the 32 values at (SI) with d = amax/127 (stored as
// fp16 at (DI)) and multiplier 127/amax, leaving the int32 quants in
// Y0-Y3 and d in X5. Y15 holds the abs mask, X14 127.0, X13 zero.
#define Q8BLOCK \
	VMOVUPS (SI), Y0 \
	VMOVUPS 32(SI), Y1 \
	VMOVUPS 64(SI), Y2 \
	VMOVUPS 96(SI), Y3 \
	VANDPS Y15, Y0, Y4 \
	VANDPS Y15, Y1, Y5 \
	VMAXPS Y5, Y4, Y4 \
	VANDPS Y15, Y2, Y5 \
	VMAXPS Y5, Y4, Y4 \
	VANDPS Y15, Y3, Y5 \
	VMAXPS Y5, Y4, Y4 \
	HMAX8(Y4, X4, X5) \
	VDIVSS X14, X4, X5 \
	VCVTPS2PH $0, X5, X6 \
	VPEXTRW $0, X6, AX \
	MOVW AX, (DI) \
	VDIVSS X4, X14, X6 \
	VCMPSS $4, X13, X4, X7 \
	VANDPS X7, X6, X6 \
	VBROADCASTSS X6, Y6 \
	VMULPS Y6, Y0, Y0 \
	VMULPS Y6, Y1, Y1 \
	VMULPS Y6, Y2, Y2 \
	VMULPS Y6, Y3, Y3 \
	VCVTPS2DQ Y0, Y0 \
	VCVTPS2DQ Y1, Y1 \
	VCVTPS2DQ Y2, Y2 \
	VCVTPS2DQ Y3, Y3

// PACK32 packs the int32 quants in Y0-Y3 into 32 bytes in Y8.
#define PACK32 \
	VPACKSSDW Y1, Y0, Y8 \
	VPACKSSDW Y3, Y2, Y9 \
	VPACKSSWB Y9, Y8, Y8 \
	VPERMD Y8, Y12, Y8

#define Q8SETUP \
	MOVL $0x7fffffff, AX \
	VMOVD AX, X15 \
	VPBROADCASTD X15, Y15 \
	MOVL $0x42fe0000, AX \
	VMOVD AX, X14 \
	VXORPS X13, X13, X13 \
	VMOVDQU perm2<>(SB), Y12

// func quantizeQ8_0AVX2(dst *byte, x *float32, nb int)
TEXT ·quantizeQ8_0AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JZ   q80done
	Q8SETUP

q80loop:
	Q8BLOCK
	PACK32
	VMOVDQU Y8, 2(DI)
	ADDQ $128, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q80loop

q80done:
	VZEROUPPER
	RET

// func quantizeQ8_1AVX2(dst *byte, x *float32, nb int)
TEXT ·quantizeQ8_1AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JZ   q81done
	Q8SETUP

q81loop:
	Q8BLOCK
	PACK32
	VMOVDQU Y8, 4(DI)
	VPADDD Y1, Y0, Y0
	VPADDD Y3, Y2, Y2
	VPADDD Y2, Y0, Y0
	HSUMD8(Y0, X0, X1)
	VCVTDQ2PS X0, X0
	VMULSS X0, X5, X5    // s = d*sum
	VCVTPS2PH $0, X5, X6
	VPEXTRW $0, X6, AX
	MOVW AX, 2(DI)
	ADDQ $128, SI
	ADDQ $36, DI
	DECQ CX
	JNZ  q81loop

q81done:
	VZEROUPPER
	RET

// func quantizeQ8_KAVX2(dst *byte, x *float32, nb int)
TEXT ·quantizeQ8_KAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JZ   q8kdone
	MOVL $0x7fffffff, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0xc2fe0000, AX // -127.0
	VMOVD AX, X14
	MOVL $0x3f800000, AX // 1.0
	VMOVD AX, X13
	MOVL $127, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12

q8kloop:
	// amax over the 256 values.
	VANDPS (SI), Y15, Y0
	XORQ AX, AX

q8kmax:
	VANDPS 32(SI)(AX*1), Y15, Y1
	VMAXPS Y1, Y0, Y0
	ADDQ $32, AX
	CMPQ AX, $992
	JNE  q8kmax
	HMAX8(Y0, X0, X1)
	VXORPS X1, X1, X1
	VUCOMISS X1, X0
	JEQ  q8kzero

	// The first value whose magnitude is amax.
	VBROADCASTSS X0, Y0
	XORQ AX, AX

q8kfind:
	VANDPS (SI)(AX*1), Y15, Y1
	VCMPPS $0, Y0, Y1, Y1
	VMOVMSKPS Y1, BX
	TESTL BX, BX
	JNZ  q8kfound
	ADDQ $32, AX
	JMP  q8kfind

q8kfound:
	BSFL BX, BX
	LEAQ (SI)(AX*1), DX
	VMOVSS (DX)(BX*4), X1    // vmax
	VDIVSS X1, X14, X2       // iscale = -127/vmax
	VDIVSS X2, X13, X3       // d = 1/iscale
	VMOVSS X3, (DI)
	VBROADCASTSS X2, Y2
	XORQ AX, AX
	XORQ BX, BX

q8kquant:
	VMULPS (SI)(AX*4), Y2, Y4
	VMULPS 32(SI)(AX*4), Y2, Y5
	VCVTPS2DQ Y4, Y4
	VCVTPS2DQ Y5, Y5
	VPMINSD Y12, Y4, Y4
	VPMINSD Y12, Y5, Y5
	VPADDD Y5, Y4, Y6
	HSUMD8(Y6, X6, X7)
	VMOVD X6, DX
	MOVW DX, 260(DI)(BX*1)
	VPACKSSDW Y5, Y4, Y4
	VPERMQ $0xd8, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPACKSSWB X5, X4, X4
	VMOVDQU X4, 4(DI)(AX*1)
	ADDQ $16, AX
	ADDQ $2, BX
	CMPQ AX, $256
	JNE  q8kquant
	JMP  q8knext

q8kzero:
	VPXOR Y1, Y1, Y1
	VMOVDQU Y1, (DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y1, 64(DI)
	VMOVDQU Y1, 96(DI)
	VMOVDQU Y1, 128(DI)
	VMOVDQU Y1, 160(DI)
	VMOVDQU Y1, 192(DI)
	VMOVDQU Y1, 224(DI)
	VMOVDQU Y1, 256(DI)
	VMOVDQU Y1, 260(DI)    // up to 292

q8knext:
	ADDQ $1024, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q8kloop

q8kdone:
	VZEROUPPER
	RET
