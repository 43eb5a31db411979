//go:build !noasm

#include "textflag.h"

// Float row kernels with AVX2, FMA and F16C. The conversions handle whole
// steps of 8 elements (the Go wrappers convert the rest); the others
// finish the row themselves.

// tailmask<>+4*(8-r) holds r lanes of ones followed by zeros.
DATA tailmask<>+0(SB)/8, $0xffffffffffffffff
DATA tailmask<>+8(SB)/8, $0xffffffffffffffff
DATA tailmask<>+16(SB)/8, $0xffffffffffffffff
DATA tailmask<>+24(SB)/8, $0xffffffffffffffff
DATA tailmask<>+32(SB)/8, $0
DATA tailmask<>+40(SB)/8, $0
DATA tailmask<>+48(SB)/8, $0
DATA tailmask<>+56(SB)/8, $0
GLOBL tailmask<>(SB), RODATA|NOPTR, $64

// func fp16ToFP32AVX2(dst *float32, src *byte, n int)
TEXT ·fp16ToFP32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   h2fdone

h2floop:
	VCVTPH2PS (SI), Y0
	VMOVUPS Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  h2floop

h2fdone:
	VZEROUPPER
	RET

// func fp32ToFP16AVX2(dst *byte, src *float32, n int)
TEXT ·fp32ToFP16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   f2hdone

f2hloop:
	VMOVUPS (SI), Y0
	VCVTPS2PH $0, Y0, X1
	VMOVDQU X1, (DI)
	ADDQ $32, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  f2hloop

f2hdone:
	VZEROUPPER
	RET

// func roundF16AVX2(dst *byte, src *float32, n int)
TEXT ·roundF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   rf16done

rf16loop:
	VMOVUPS (SI), Y0
	VCVTPS2PH $0, Y0, X1
	VCVTPH2PS X1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  rf16loop

rf16done:
	VZEROUPPER
	RET

// func dotF32AVX2(a, b *float32, n int) float32
//
// The generic kernel's layout (64 lanes, here eight vectors of 8, over
// groups of 64, reduced as reduce64, then the tail one element at a time),
// with FMA.
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ CX, DX
	SHRQ $6, CX
	ANDQ $63, DX
	VXORPS X0, X0, X0
	TESTQ CX, CX
	JZ   dottail
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

dotloop:
	VMOVUPS (SI), Y8
	VMOVUPS 32(SI), Y9
	VMOVUPS 64(SI), Y10
	VMOVUPS 96(SI), Y11
	VMOVUPS 128(SI), Y12
	VMOVUPS 160(SI), Y13
	VMOVUPS 192(SI), Y14
	VMOVUPS 224(SI), Y15
	VFMADD231PS (DI), Y8, Y0
	VFMADD231PS 32(DI), Y9, Y1
	VFMADD231PS 64(DI), Y10, Y2
	VFMADD231PS 96(DI), Y11, Y3
	VFMADD231PS 128(DI), Y12, Y4
	VFMADD231PS 160(DI), Y13, Y5
	VFMADD231PS 192(DI), Y14, Y6
	VFMADD231PS 224(DI), Y15, Y7
	ADDQ $256, SI
	ADDQ $256, DI
	DECQ CX
	JNZ  dotloop
	// Lanes 0-15 are Y0, Y1; 16-31 Y2, Y3; 32-47 Y4, Y5; 48-63 Y6, Y7.
	VADDPS Y4, Y0, Y0
	VADDPS Y6, Y2, Y2
	VADDPS Y2, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y7, Y3, Y3
	VADDPS Y3, Y1, Y1
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

// func sumSqF32AVX2(x *float32, n int) float64
//
// Squares rounded to float32, summed in float64 (in 8 lanes, then the
// lanes, then the tail in order).
TEXT ·sumSqF32AVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ CX, DX
	SHRQ $3, CX
	ANDQ $7, DX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	TESTQ CX, CX
	JZ   sqreduce

sqloop:
	VMOVUPS (SI), Y2
	VMULPS Y2, Y2, Y2
	VCVTPS2PD X2, Y3
	VEXTRACTF128 $1, Y2, X4
	VCVTPS2PD X4, Y4
	VADDPD Y3, Y0, Y0
	VADDPD Y4, Y1, Y1
	ADDQ $32, SI
	DECQ CX
	JNZ  sqloop

sqreduce:
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

// func addScaledAVX2(dst, x *float32, n int, s float32)
//
// dst += x*s with FMA, as ggml_vec_mad_f32 does; the last partial step
// with masked loads and stores.
TEXT ·addScaledAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Y2
	MOVQ CX, DX
	ANDQ $7, DX
	SHRQ $3, CX
	JZ   madtail

madloop:
	VMOVUPS (DI), Y0
	VFMADD231PS (SI), Y2, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  madloop

madtail:
	TESTQ DX, DX
	JZ   maddone
	NEGQ DX
	LEAQ tailmask<>+32(SB), AX
	VMOVDQU (AX)(DX*4), Y3
	VMASKMOVPS (DI), Y3, Y0
	VMASKMOVPS (SI), Y3, Y1
	VFMADD231PS Y1, Y2, Y0
	VMASKMOVPS Y0, Y3, (DI)

maddone:
	VZEROUPPER
	RET
