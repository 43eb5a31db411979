//go:build !noasm

#include "textflag.h"

// Activation quantizers with AVX-512 (F, BW, VL, DQ). They compute what
// convert_generic.go does, value for value: the same float32 divisions and
// products, rounding half to even (VCVTPS2DQ under the default MXCSR) and
// fp16 conversion by VCVTPS2PH with round to nearest even.

// HMAXPS reduces the 16 float32 lanes of Z to their maximum, in every lane
// of X (T is scratch).
#define HMAXPS(Z, Y, X, TZ, TY, TX) \
	VEXTRACTF64X4 $1, Z, TY \
	VMAXPS TY, Y, Y \
	VEXTRACTF128 $1, Y, TX \
	VMAXPS TX, X, X \
	VPERMILPS $0x4e, X, TX \
	VMAXPS TX, X, X \
	VPERMILPS $0xb1, X, TX \
	VMAXPS TX, X, X

// HSUMD reduces the 16 int32 lanes of Z to their sum in the low lane of X.
#define HSUMD(Z, Y, X, TY, TX) \
	VEXTRACTI64X4 $1, Z, TY \
	VPADDD TY, Y, Y \
	VEXTRACTI128 $1, Y, TX \
	VPADDD TX, X, X \
	VPSHUFD $0x4e, X, TX \
	VPADDD TX, X, X \
	VPSHUFD $0xb1, X, TX \
	VPADDD TX, X, X

// func quantizeQ8_0AVX512(dst *byte, x *float32, nb int)
TEXT ·quantizeQ8_0AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JZ   q80done
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z31
	MOVL $0x42fe0000, AX // 127.0
	VMOVD AX, X30
	VXORPS X9, X9, X9

q80loop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VPANDD Z31, Z0, Z2
	VPANDD Z31, Z1, Z3
	VMAXPS Z3, Z2, Z2
	HMAXPS(Z2, Y2, X2, Z3, Y3, X3)
	VDIVSS X30, X2, X4 // d = amax/127
	VCVTPS2PH $0, X4, X5
	VPEXTRW $0, X5, AX
	MOVW AX, (DI)
	VDIVSS X2, X30, X6       // id = 127/amax
	VCMPSS $4, X9, X2, X7   // amax != 0
	VANDPS X7, X6, X6
	VBROADCASTSS X6, Z6
	VMULPS Z6, Z0, Z0
	VMULPS Z6, Z1, Z1
	VCVTPS2DQ Z0, Z0
	VCVTPS2DQ Z1, Z1
	VPMOVSDB Z0, 2(DI)
	VPMOVSDB Z1, 18(DI)
	ADDQ $128, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q80loop

q80done:
	VZEROUPPER
	RET

// func quantizeQ8_1AVX512(dst *byte, x *float32, nb int)
TEXT ·quantizeQ8_1AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JZ   q81done
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z31
	MOVL $0x42fe0000, AX // 127.0
	VMOVD AX, X30
	VXORPS X9, X9, X9

q81loop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VPANDD Z31, Z0, Z2
	VPANDD Z31, Z1, Z3
	VMAXPS Z3, Z2, Z2
	HMAXPS(Z2, Y2, X2, Z3, Y3, X3)
	VDIVSS X30, X2, X4 // d = amax/127
	VCVTPS2PH $0, X4, X5
	VPEXTRW $0, X5, AX
	MOVW AX, (DI)
	VDIVSS X2, X30, X6       // id = 127/amax
	VCMPSS $4, X9, X2, X7   // amax != 0
	VANDPS X7, X6, X6
	VBROADCASTSS X6, Z6
	VMULPS Z6, Z0, Z0
	VMULPS Z6, Z1, Z1
	VCVTPS2DQ Z0, Z0
	VCVTPS2DQ Z1, Z1
	VPMOVSDB Z0, 4(DI)
	VPMOVSDB Z1, 20(DI)
	VPADDD Z1, Z0, Z2
	HSUMD(Z2, Y2, X2, Y3, X3)
	VCVTDQ2PS X2, X2
	VMULSS X2, X4, X4 // s = d*sum
	VCVTPS2PH $0, X4, X5
	VPEXTRW $0, X5, AX
	MOVW AX, 2(DI)
	ADDQ $128, SI
	ADDQ $36, DI
	DECQ CX
	JNZ  q81loop

q81done:
	VZEROUPPER
	RET

// func quantizeQ8_KAVX512(dst *byte, x *float32, nb int)
TEXT ·quantizeQ8_KAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JZ   q8kdone
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z31
	MOVL $0xc2fe0000, AX // -127.0
	VMOVD AX, X30
	MOVL $127, AX
	VPBROADCASTD AX, Z28
	MOVL $0x3f800000, AX // 1.0
	VMOVD AX, X27

q8kloop:
	// amax over the 256 values.
	VPANDD (SI), Z31, Z0
	XORQ AX, AX

q8kmax:
	VPANDD 64(SI)(AX*1), Z31, Z1
	VMAXPS Z1, Z0, Z0
	ADDQ $64, AX
	CMPQ AX, $960
	JNE  q8kmax
	HMAXPS(Z0, Y0, X0, Z1, Y1, X1)
	VXORPS X1, X1, X1
	VUCOMISS X1, X0
	JEQ  q8kzero

	// The first value whose magnitude is amax.
	VBROADCASTSS X0, Z0
	XORQ AX, AX

q8kfind:
	VPANDD (SI)(AX*1), Z31, Z1
	VCMPPS $0, Z0, Z1, K1
	KMOVW K1, BX
	TESTL BX, BX
	JNZ  q8kfound
	ADDQ $64, AX
	JMP  q8kfind

q8kfound:
	BSFL BX, BX
	LEAQ (SI)(AX*1), DX
	VMOVSS (DX)(BX*4), X1    // vmax
	VDIVSS X1, X30, X2       // iscale = -127/vmax
	VDIVSS X2, X27, X3       // d = 1/iscale
	VMOVSS X3, (DI)
	VBROADCASTSS X2, Z2
	XORQ AX, AX
	XORQ BX, BX

q8kquant:
	VMULPS (SI)(AX*4), Z2, Z4
	VCVTPS2DQ Z4, Z4
	VPMINSD Z28, Z4, Z4
	VPMOVSDB Z4, 4(DI)(AX*1)
	HSUMD(Z4, Y4, X4, Y5, X5)
	VMOVD X4, DX
	MOVW DX, 260(DI)(BX*1)
	ADDQ $16, AX
	ADDQ $2, BX
	CMPQ AX, $256
	JNE  q8kquant
	JMP  q8knext

q8kzero:
	VPXORD Z1, Z1, Z1
	VMOVDQU32 Z1, (DI)
	VMOVDQU32 Z1, 64(DI)
	VMOVDQU32 Z1, 128(DI)
	VMOVDQU32 Z1, 192(DI)
	VMOVDQU32 Z1, 228(DI)    // up to 292

q8knext:
	ADDQ $1024, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q8kloop

q8kdone:
	VZEROUPPER
	RET
