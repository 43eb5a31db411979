//go:build !noasm

#include "textflag.h"
#include "model_ops_amd64.h"

// func attnAccF16AVX512(acc *float32, rows, dv int, v *byte, nk int, ms, vs *float32)
// For each key: for each block of 16 value elements (converted once): for
// each query row: a = f16(a*ms); a = f16(fma(v, vs, a)).
TEXT ·attnAccF16AVX512(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), DI
	MOVQ rows+8(FP), CX
	MOVQ dv+16(FP), DX
	MOVQ v+24(FP), SI
	MOVQ nk+32(FP), BX
	MOVQ ms+40(FP), R8
	MOVQ vs+48(FP), R9
	MOVQ DX, R10
	SHLQ $2, R10 // bytes per accumulator row

key512:
	XORQ R11, R11 // element offset within the row

block512:
	VCVTPH2PS (SI)(R11*2), Z0
	LEAQ      (DI)(R11*4), R12
	XORQ      R13, R13

row512:
	VBROADCASTSS (R8)(R13*4), Z1
	VBROADCASTSS (R9)(R13*4), Z2
	VMOVUPS      (R12), Z3
	VMULPS       Z1, Z3, Z3
	VCVTPS2PH    $0, Z3, Y3
	VCVTPH2PS    Y3, Z3
	VFMADD231PS  Z2, Z0, Z3
	VCVTPS2PH    $0, Z3, Y3
	VCVTPH2PS    Y3, Z3
	VMOVUPS      Z3, (R12)
	ADDQ         R10, R12
	INCQ         R13
	CMPQ         R13, CX
	JLT          row512
	ADDQ         $16, R11
	CMPQ         R11, DX
	JLT          block512

	LEAQ (SI)(DX*2), SI
	LEAQ (R8)(CX*4), R8
	LEAQ (R9)(CX*4), R9
	DECQ BX
	JNZ  key512
	VZEROUPPER
	RET

// func attnAccF16AVX2(acc *float32, rows, dv int, v *byte, nk int, ms, vs *float32)
TEXT ·attnAccF16AVX2(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), DI
	MOVQ rows+8(FP), CX
	MOVQ dv+16(FP), DX
	MOVQ v+24(FP), SI
	MOVQ nk+32(FP), BX
	MOVQ ms+40(FP), R8
	MOVQ vs+48(FP), R9
	MOVQ DX, R10
	SHLQ $2, R10

key256:
	XORQ R11, R11

block256:
	VCVTPH2PS (SI)(R11*2), Y0
	LEAQ      (DI)(R11*4), R12
	XORQ      R13, R13

row256:
	VBROADCASTSS (R8)(R13*4), Y1
	VBROADCASTSS (R9)(R13*4), Y2
	VMOVUPS      (R12), Y3
	VMULPS       Y1, Y3, Y3
	VCVTPS2PH    $0, Y3, X3
	VCVTPH2PS    X3, Y3
	VFMADD231PS  Y2, Y0, Y3
	VCVTPS2PH    $0, Y3, X3
	VCVTPH2PS    X3, Y3
	VMOVUPS      Y3, (R12)
	ADDQ         R10, R12
	INCQ         R13
	CMPQ         R13, CX
	JLT          row256
	ADDQ         $8, R11
	CMPQ         R11, DX
	JLT          block256

	LEAQ (SI)(DX*2), SI
	LEAQ (R8)(CX*4), R8
	LEAQ (R9)(CX*4), R9
	DECQ BX
	JNZ  key256
	VZEROUPPER
	RET

// EXPCONSTS loads the constants of EXPZMM into Z18-Z31: 0x1.8p23,
// log2(e), ln 2 (low and high parts), the polynomial, 1, 192, +Inf, the
// abs mask and 0.
#define EXPCONSTS \
	MOVL         $0x4b400000, AX; \
	VPBROADCASTD AX, Z20; \
	MOVL         $0x3fb8aa3b, AX; \
	VPBROADCASTD AX, Z21; \
	MOVL         $0x35bfbe8e, AX; \
	VPBROADCASTD AX, Z22; \
	MOVL         $0x3f317200, AX; \
	VPBROADCASTD AX, Z23; \
	MOVL         $0x3c072010, AX; \
	VPBROADCASTD AX, Z24; \
	MOVL         $0x3d2b9f17, AX; \
	VPBROADCASTD AX, Z25; \
	MOVL         $0x3e2aaf33, AX; \
	VPBROADCASTD AX, Z26; \
	MOVL         $0x3efffedb, AX; \
	VPBROADCASTD AX, Z27; \
	MOVL         $0x3f7ffff6, AX; \
	VPBROADCASTD AX, Z28; \
	MOVL         $0x3f800000, AX; \
	VPBROADCASTD AX, Z29; \
	MOVL         $0x43400000, AX; \
	VPBROADCASTD AX, Z30; \
	MOVL         $0x7f800000, AX; \
	VPBROADCASTD AX, Z31; \
	MOVL         $0x7fffffff, AX; \
	VPBROADCASTD AX, Z19; \
	VPXORD       Z18, Z18, Z18

// EXPZMM sets Z9 to ggml's vectorized e^x of the 16 lanes of Z1 (see
// expVec): 2^n·(1+p(b)) with VSCALEFPS, lanes with |n| > 192 giving 0 or
// +Inf. It needs EXPCONSTS and clobbers Z2-Z11, K1 and K2. (ggml skips
// the blend when no lane needs it; blending always gives the same.)
#define EXPZMM \
	VMOVAPS      Z20, Z2; \
	VFMADD231PS  Z21, Z1, Z2; \
	VSUBPS       Z20, Z2, Z3; \
	VMOVAPS      Z1, Z4; \
	VFNMADD231PS Z23, Z3, Z4; \
	VFNMADD231PS Z22, Z3, Z4; \
	VMULPS       Z4, Z4, Z5; \
	VMOVAPS      Z25, Z6; \
	VFMADD231PS  Z24, Z4, Z6; \
	VMOVAPS      Z27, Z7; \
	VFMADD231PS  Z26, Z4, Z7; \
	VFMADD231PS  Z6, Z5, Z7; \
	VMOVAPS      Z29, Z8; \
	VFMADD231PS  Z28, Z4, Z8; \
	VFMADD231PS  Z7, Z5, Z8; \
	VSCALEFPS    Z3, Z8, Z9; \
	VPANDD       Z19, Z3, Z10; \
	VCMPPS       $0x1e, Z30, Z10, K1; \
	VCMPPS       $0x12, Z18, Z3, K2; \
	VMOVAPS      Z31, Z11; \
	VMOVAPS      Z18, K2, Z11; \
	VMOVAPS      Z11, K1, Z9

// func swigluVecAVX512(dst, x, y *float32, n int)
// n is a multiple of 16.
TEXT ·swigluVecAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JZ   swigluDone

	EXPCONSTS

swigluLoop:
	VMOVUPS     (SI), Z0
	VSUBPS      Z0, Z18, Z1 // -x
	EXPZMM // e^-x
	VADDPS  Z29, Z9, Z9 // 1 + e^-x
	VDIVPS  Z9, Z0, Z9  // x / (1 + e^-x)
	VMULPS  (DX), Z9, Z9
	VMOVUPS Z9, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	DECQ    CX
	JNZ     swigluLoop

swigluDone:
	VZEROUPPER
	RET

// func softMaxExpAVX512(y *float32, n int, max float32) float64
//
// Blocks of 16 as SoftMaxExp: e^(y-max) with ggml's vectorized exp (the
// sequence of swigluVecAVX512), the last partial block masked (its lanes
// past n are 0, as a padding of -Inf gives).
TEXT ·softMaxExpAVX512(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS max+16(FP), Z17
	VXORPD X16, X16, X16 // the float64 sum
	TESTQ CX, CX
	JZ   smDone

	EXPCONSTS

smLoop:
	// K3: the lanes of this block inside y.
	MOVQ  $-1, AX
	CMPQ  CX, $16
	JAE   smFull
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
smFull:
	KMOVW AX, K3
	VMOVUPS.Z   (DI), K3, Z0
	VSUBPS      Z17, Z0, Z1 // x = y - max
	EXPZMM
	VMOVAPS.Z Z9, K3, Z9 // padding lanes: 0
	VMOVUPS   Z9, K3, (DI)
	// _mm512_reduce_add_ps's order, then add as float64.
	VEXTRACTF64X4 $1, Z9, Y1
	VADDPS        Y1, Y9, Y1
	REDUCE8ADD(X16)
	ADDQ $64, DI
	SUBQ $16, CX
	JA   smLoop

smDone:
	VMOVSD X16, ret+24(FP)
	VZEROUPPER
	RET
