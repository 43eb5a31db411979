//go:build !noasm

#include "textflag.h"

// Float row kernels with AVX-512 F (and F16C/FMA, which every AVX-512 CPU
// has). Partial vectors at the end use masked loads and stores.

// TAILMASK sets K1 to the low n%16 bits of n (in R) and R to n/16.
#define TAILMASK(R) \
	MOVQ R, R9 \
	ANDQ $15, R9 \
	MOVL $1, R10 \
	SHLXL R9, R10, R10 \
	DECL R10 \
	KMOVW R10, K1 \
	SHRQ $4, R

// func fp16ToFP32AVX512(dst *float32, src *byte, n int)
TEXT ·fp16ToFP32AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TAILMASK(CX)
	TESTQ CX, CX
	JZ   h2ftail

h2floop:
	VCVTPH2PS (SI), Z0
	VMOVUPS Z0, (DI)
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  h2floop

h2ftail:
	KORTESTW K1, K1
	JZ   h2fdone
	VMOVDQU16.Z (SI), K1, Y0
	VCVTPH2PS Y0, Z0
	VMOVUPS Z0, K1, (DI)

h2fdone:
	VZEROUPPER
	RET

// func fp32ToFP16AVX512(dst *byte, src *float32, n int)
TEXT ·fp32ToFP16AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TAILMASK(CX)
	TESTQ CX, CX
	JZ   f2htail

f2hloop:
	VMOVUPS (SI), Z0
	VCVTPS2PH $0, Z0, Y1
	VMOVDQU Y1, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  f2hloop

f2htail:
	KORTESTW K1, K1
	JZ   f2hdone
	VMOVUPS.Z (SI), K1, Z0
	VCVTPS2PH $0, Z0, Y1
	VMOVDQU16 Y1, K1, (DI)

f2hdone:
	VZEROUPPER
	RET

// func roundF16AVX512(dst *byte, src *float32, n int)
TEXT ·roundF16AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TAILMASK(CX)
	TESTQ CX, CX
	JZ   rf16tail

rf16loop:
	VMOVUPS (SI), Z0
	VCVTPS2PH $0, Z0, Y1
	VCVTPH2PS Y1, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  rf16loop

rf16tail:
	KORTESTW K1, K1
	JZ   rf16done
	VMOVUPS.Z (SI), K1, Z0
	VCVTPS2PH $0, Z0, Y1
	VCVTPH2PS Y1, Z0
	VMOVUPS Z0, K1, (DI)

rf16done:
	VZEROUPPER
	RET

// func dotF32AVX512(a, b *float32, n int) float32
//
// The generic kernel's layout (four vectors of 16 lanes over groups of 64,
// reduced as reduce64, then the tail one element at a time), with FMA.
TEXT ·dotF32AVX512(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ CX, DX
	SHRQ $6, CX
	ANDQ $63, DX
	VXORPS X0, X0, X0
	TESTQ CX, CX
	JZ   dottail
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3

dotloop:
	VMOVUPS (SI), Z4
	VMOVUPS 64(SI), Z5
	VMOVUPS 128(SI), Z6
	VMOVUPS 192(SI), Z7
	VFMADD231PS (DI), Z4, Z0
	VFMADD231PS 64(DI), Z5, Z1
	VFMADD231PS 128(DI), Z6, Z2
	VFMADD231PS 192(DI), Z7, Z3
	ADDQ $256, SI
	ADDQ $256, DI
	DECQ CX
	JNZ  dotloop
	VADDPS Z2, Z0, Z0
	VADDPS Z3, Z1, Z1
	VADDPS Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VADDSS X1, X0, X0

dottail:
	TESTQ DX, DX
	JZ   dotdone

dottailloop:
	VMOVSS (SI), X1
	VMULSS (DI), X1, X1
	VADDSS X1, X0, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ DX
	JNZ  dottailloop

dotdone:
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func sumSqF32AVX512(x *float32, n int) float64
//
// Squares rounded to float32, summed in float64 (in 16 lanes, then the
// lanes, then the tail in order).
TEXT ·sumSqF32AVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ CX, DX
	SHRQ $4, CX
	ANDQ $15, DX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	TESTQ CX, CX
	JZ   sqreduce

sqloop:
	VMOVUPS (SI), Z2
	VMULPS Z2, Z2, Z2
	VCVTPS2PD Y2, Z3
	VEXTRACTF64X4 $1, Z2, Y4
	VCVTPS2PD Y4, Z4
	VADDPD Z3, Z0, Z0
	VADDPD Z4, Z1, Z1
	ADDQ $64, SI
	DECQ CX
	JNZ  sqloop

sqreduce:
	VADDPD Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	TESTQ DX, DX
	JZ   sqdone

sqtail:
	VMOVSS (SI), X1
	VMULSS X1, X1, X1
	VCVTSS2SD X1, X1, X1
	VADDSD X1, X0, X0
	ADDQ $4, SI
	DECQ DX
	JNZ  sqtail

sqdone:
	VMOVSD X0, ret+16(FP)
	VZEROUPPER
	RET

// func addScaledAVX512(dst, x *float32, n int, s float32)
//
// dst += x*s with FMA, as ggml_vec_mad_f32 does with AVX-512.
TEXT ·addScaledAVX512(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Z2
	TAILMASK(CX)
	TESTQ CX, CX
	JZ   madtail

madloop:
	VMOVUPS (DI), Z0
	VFMADD231PS (SI), Z2, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  madloop

madtail:
	KORTESTW K1, K1
	JZ   maddone
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VFMADD231PS Z1, Z2, Z0
	VMOVUPS Z0, K1, (DI)

maddone:
	VZEROUPPER
	RET
