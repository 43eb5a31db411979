//go:build !noasm

#include "textflag.h"
#include "neon_arm64.h"

// Float dot products with the lane structure of the generic kernels (and of
// ggml's AVX-512 ggml_vec_dot_f32): 64 float32 partial sums, each product
// rounded to float32 before it is added, reduced in the same order as
// reduce64, so the results are bit-identical to the generic kernels'. The
// Go wrappers add the tail of fewer than 64 elements.

// The 64 partial sums live in V16-V31 (V16+j holds lanes 4j to 4j+3).
#define ZERO64 \
	VEOR V16.B16, V16.B16, V16.B16; \
	VEOR V17.B16, V17.B16, V17.B16; \
	VEOR V18.B16, V18.B16, V18.B16; \
	VEOR V19.B16, V19.B16, V19.B16; \
	VEOR V20.B16, V20.B16, V20.B16; \
	VEOR V21.B16, V21.B16, V21.B16; \
	VEOR V22.B16, V22.B16, V22.B16; \
	VEOR V23.B16, V23.B16, V23.B16; \
	VEOR V24.B16, V24.B16, V24.B16; \
	VEOR V25.B16, V25.B16, V25.B16; \
	VEOR V26.B16, V26.B16, V26.B16; \
	VEOR V27.B16, V27.B16, V27.B16; \
	VEOR V28.B16, V28.B16, V28.B16; \
	VEOR V29.B16, V29.B16, V29.B16; \
	VEOR V30.B16, V30.B16, V30.B16; \
	VEOR V31.B16, V31.B16, V31.B16

// MULADD4(a0, x0, y0): for i in 0..3, va0+i += round(vx0+i * vy0+i), the
// products formed in V8-V11.
#define MULADD4(a0, x0, y0) \
	FMUL4S(8, x0, y0); \
	FMUL4S(9, x0+1, y0+1); \
	FMUL4S(10, x0+2, y0+2); \
	FMUL4S(11, x0+3, y0+3); \
	FADD4S(a0, a0, 8); \
	FADD4S(a0+1, a0+1, 9); \
	FADD4S(a0+2, a0+2, 10); \
	FADD4S(a0+3, a0+3, 11)

// REDUCE64 sums the partial sums into F0 as reduce64 does: lanes l, 32+l,
// 16+l, 48+l first, then halves of the remaining 16 lanes pairwise.
#define REDUCE64 \
	FADD4S(0, 16, 24); \
	FADD4S(4, 20, 28); \
	FADD4S(0, 0, 4); \
	FADD4S(1, 17, 25); \
	FADD4S(4, 21, 29); \
	FADD4S(1, 1, 4); \
	FADD4S(2, 18, 26); \
	FADD4S(4, 22, 30); \
	FADD4S(2, 2, 4); \
	FADD4S(3, 19, 27); \
	FADD4S(4, 23, 31); \
	FADD4S(3, 3, 4); \
	FADD4S(0, 0, 2); \
	FADD4S(1, 1, 3); \
	FADD4S(0, 0, 1); \
	VEXT $8, V0.B16, V0.B16, V1.B16; \
	FADD4S(0, 0, 1); \
	FADDP4S(0, 0, 0)

// func dotF32Asm(n int, x, y *byte) float32
// n float32 pairs, n a positive multiple of 64.
TEXT ·dotF32Asm(SB), NOSPLIT, $0-28
	MOVD n+0(FP), R0
	MOVD x+8(FP), R1
	MOVD y+16(FP), R2
	ZERO64

f32loop:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]
	MULADD4(16, 0, 4)
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]
	MULADD4(20, 0, 4)
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]
	MULADD4(24, 0, 4)
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]
	MULADD4(28, 0, 4)
	SUBS $64, R0
	BNE  f32loop

	REDUCE64
	FMOVS F0, ret+24(FP)
	RET

// F16TOF32 loads 16 F16 weights from R1 and widens them into V12-V15.
#define F16TOF32 \
	VLD1.P 32(R1), [V0.H8, V1.H8]; \
	FCVTL(12, 0); \
	FCVTL2(13, 0); \
	FCVTL(14, 1); \
	FCVTL2(15, 1)

// func dotF16Asm(n int, w, a *byte) float32
// n F16 weights times n float32 activations, n a positive multiple of 64.
// F16 widens to float32 exactly (FCVTL, ARMv8.0).
TEXT ·dotF16Asm(SB), NOSPLIT, $0-28
	MOVD n+0(FP), R0
	MOVD w+8(FP), R1
	MOVD a+16(FP), R2
	ZERO64

f16loop:
	F16TOF32
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]
	MULADD4(16, 12, 4)
	F16TOF32
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]
	MULADD4(20, 12, 4)
	F16TOF32
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]
	MULADD4(24, 12, 4)
	F16TOF32
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]
	MULADD4(28, 12, 4)
	SUBS $64, R0
	BNE  f16loop

	REDUCE64
	FMOVS F0, ret+24(FP)
	RET
