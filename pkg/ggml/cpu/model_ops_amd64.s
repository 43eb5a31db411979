//go:build !noasm

#include "textflag.h"

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
