//go:build !noasm

#include "textflag.h"
#include "neon_arm64.h"

// Activation converters (F32 to Q8_0, Q8_1, Q8_K), the sum of squares and
// the BF16 dot product. The converters give the generic converters' bytes:
// the same float32 operations, and FCVTNS rounds to nearest, ties to even,
// as roundEven does.

// Q8BLOCK quantizes the 32 floats at R1 (advanced past them): amax in F16,
// d = amax/127 in F17, the quants as int32 in V0-V7. F31 holds 127. It
// jumps to stop if 127/amax overflows (amax below 2^-126*127/2^128): the
// generic code turns infinities into 0 where FCVTNS saturates.
#define Q8BLOCK \
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]; \
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]; \
	FABS4S(16, 0); \
	FABS4S(17, 1); \
	FABS4S(18, 2); \
	FABS4S(19, 3); \
	FABS4S(20, 4); \
	FABS4S(21, 5); \
	FABS4S(22, 6); \
	FABS4S(23, 7); \
	FMAX4S(16, 16, 17); \
	FMAX4S(18, 18, 19); \
	FMAX4S(20, 20, 21); \
	FMAX4S(22, 22, 23); \
	FMAX4S(16, 16, 18); \
	FMAX4S(20, 20, 22); \
	FMAX4S(16, 16, 20); \
	FMAXV(16, 16); \
	FDIVS F31, F16, F17; \
	FDIVS F16, F31, F19; \
	FCMPS F30, F19; \
	BEQ stop; \
	FMULE(0, 0, 19, 0); \
	FMULE(1, 1, 19, 0); \
	FMULE(2, 2, 19, 0); \
	FMULE(3, 3, 19, 0); \
	FMULE(4, 4, 19, 0); \
	FMULE(5, 5, 19, 0); \
	FMULE(6, 6, 19, 0); \
	FMULE(7, 7, 19, 0); \
	FCVTNS4S(0, 0); \
	FCVTNS4S(1, 1); \
	FCVTNS4S(2, 2); \
	FCVTNS4S(3, 3); \
	FCVTNS4S(4, 4); \
	FCVTNS4S(5, 5); \
	FCVTNS4S(6, 6); \
	FCVTNS4S(7, 7)

// NARROW32 stores the int32 quants in V0-V7 as 32 bytes at (R5).
#define NARROW32 \
	VUZP1 V1.H8, V0.H8, V0.H8; \
	VUZP1 V3.H8, V2.H8, V2.H8; \
	VUZP1 V5.H8, V4.H8, V4.H8; \
	VUZP1 V7.H8, V6.H8, V6.H8; \
	VUZP1 V2.B16, V0.B16, V0.B16; \
	VUZP1 V6.B16, V4.B16, V1.B16; \
	VST1 [V0.B16, V1.B16], (R5)

#define Q8SETUP \
	MOVD dst+0(FP), R0; \
	MOVD x+8(FP), R1; \
	MOVD nb+16(FP), R2; \
	MOVD R2, R3; \
	MOVW $0x42FE0000, R4; \
	FMOVS R4, F31; \
	MOVW $0x7F800000, R4; \
	FMOVS R4, F30

// func quantizeQ8_0NEONAsm(dst *byte, x *float32, nb int) int
// It returns the number of blocks done (less than nb if it stopped at a
// block for the generic code).
TEXT ·quantizeQ8_0NEONAsm(SB), NOSPLIT, $0-32
	Q8SETUP
loop:
	Q8BLOCK
	FCVTSH F17, F18
	FMOVS F18, R4
	MOVH R4, (R0)
	ADD $2, R0, R5
	NARROW32
	ADD $34, R0
	SUBS $1, R2
	BNE loop
stop:
	SUB R2, R3, R3
	MOVD R3, ret+24(FP)
	RET

// func quantizeQ8_1NEONAsm(dst *byte, x *float32, nb int) int
// Q8_0 plus s = d*sum(quants) (d unrounded).
TEXT ·quantizeQ8_1NEONAsm(SB), NOSPLIT, $0-32
	Q8SETUP
loop:
	Q8BLOCK
	FCVTSH F17, F18
	FMOVS F18, R4
	MOVH R4, (R0)
	ADD4S(16, 0, 1)
	ADD4S(18, 2, 3)
	ADD4S(20, 4, 5)
	ADD4S(22, 6, 7)
	ADD4S(16, 16, 18)
	ADD4S(20, 20, 22)
	ADD4S(16, 16, 20)
	ADDV(16, 16)
	SCVTFS(16, 16)
	FMULS F17, F16, F16
	FCVTSH F16, F16
	FMOVS F16, R4
	MOVH R4, 2(R0)
	ADD $4, R0, R5
	NARROW32
	ADD $36, R0
	SUBS $1, R2
	BNE loop
stop:
	SUB R2, R3, R3
	MOVD R3, ret+24(FP)
	RET

// func minMaxNEONAsm(x *float32) (mx, mn float32)
// The largest and smallest of 256 floats.
TEXT ·minMaxNEONAsm(SB), NOSPLIT, $0-16
	MOVD x+0(FP), R1
	VLD1.P 64(R1), [V16.S4, V17.S4, V18.S4, V19.S4]
	VORR V16.B16, V16.B16, V20.B16
	VORR V17.B16, V17.B16, V21.B16
	VORR V18.B16, V18.B16, V22.B16
	VORR V19.B16, V19.B16, V23.B16
	MOVD $15, R2
mmloop:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMAX4S(16, 16, 0)
	FMAX4S(17, 17, 1)
	FMAX4S(18, 18, 2)
	FMAX4S(19, 19, 3)
	FMIN4S(20, 20, 0)
	FMIN4S(21, 21, 1)
	FMIN4S(22, 22, 2)
	FMIN4S(23, 23, 3)
	SUBS $1, R2
	BNE mmloop
	FMAX4S(16, 16, 17)
	FMAX4S(18, 18, 19)
	FMAX4S(16, 16, 18)
	FMAXV(16, 16)
	FMIN4S(20, 20, 21)
	FMIN4S(22, 22, 23)
	FMIN4S(20, 20, 22)
	FMINV(20, 20)
	FMOVS F16, mx+8(FP)
	FMOVS F20, mn+12(FP)
	RET

// func quantizeQ8_KNEONAsm(y *byte, x *float32, iscale float32)
// Quants min(127, round(iscale*x)) of 256 floats at y and their 16 group
// sums (int16) at y+256.
TEXT ·quantizeQ8_KNEONAsm(SB), NOSPLIT, $0-20
	MOVD y+0(FP), R0
	MOVD x+8(FP), R1
	FMOVS iscale+16(FP), F31
	ADD $256, R0, R3
	MOVW $127, R4
	VDUP R4, V30.S4
	MOVD $16, R2
kloop:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMULE(0, 0, 31, 0)
	FMULE(1, 1, 31, 0)
	FMULE(2, 2, 31, 0)
	FMULE(3, 3, 31, 0)
	FCVTNS4S(0, 0)
	FCVTNS4S(1, 1)
	FCVTNS4S(2, 2)
	FCVTNS4S(3, 3)
	SMIN4S(0, 0, 30)
	SMIN4S(1, 1, 30)
	SMIN4S(2, 2, 30)
	SMIN4S(3, 3, 30)
	ADD4S(4, 0, 1)
	ADD4S(5, 2, 3)
	ADD4S(4, 4, 5)
	ADDV(4, 4)
	VMOV V4.S[0], R4
	MOVH.P R4, 2(R3)
	VUZP1 V1.H8, V0.H8, V0.H8
	VUZP1 V3.H8, V2.H8, V2.H8
	VUZP1 V2.B16, V0.B16, V0.B16
	VST1.P [V0.B16], 16(R0)
	SUBS $1, R2
	BNE kloop
	RET

// func sumSqNEONAsm(x *float32, n int) float64
// The sum of the squares (each rounded to float32) of n floats, n a
// positive multiple of 8, in float64 over eight lanes.
TEXT ·sumSqNEONAsm(SB), NOSPLIT, $0-24
	MOVD x+0(FP), R1
	MOVD n+8(FP), R2
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
sqloop:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	FMUL4S(0, 0, 0)
	FMUL4S(1, 1, 1)
	FCVTL2D(2, 0)
	FCVTL22D(3, 0)
	FCVTL2D(4, 1)
	FCVTL22D(5, 1)
	FADD2D(16, 16, 2)
	FADD2D(17, 17, 3)
	FADD2D(18, 18, 4)
	FADD2D(19, 19, 5)
	SUBS $8, R2
	BNE sqloop
	FADD2D(16, 16, 17)
	FADD2D(18, 18, 19)
	FADD2D(16, 16, 18)
	FADDPD(16, 16)
	FMOVD F16, ret+16(FP)
	RET

// BF16WIDEN(v, lo, hi) widens the eight bfloat16 of vv to float32 in vlo
// and vhi (V31 is zero).
#define BF16WIDEN(v, lo, hi) \
	VZIP1 v.H8, V31.H8, lo.H8; \
	VZIP2 v.H8, V31.H8, hi.H8

// REDUCE16(a) sums the 16 lanes of va..va+3 as reduce16 does into sa.
#define REDUCE16(a0, a1, a2, a3, t) \
	FADD4S(a0, a0, a2); \
	FADD4S(a1, a1, a3); \
	FADD4S(a0, a0, a1); \
	EXT16B(t, a0, a0, 8); \
	FADD4S(a0, a0, t); \
	FADDPS(a0, a0)

// func dotBF16NEONAsm(n int, w, a *byte) float64
// The BF16 dot product of n elements, n a positive multiple of 32, as
// vecDotBF16Generic's vector part: two sets of 16 float32 lanes (products
// rounded, then added), each reduced as a tree, added in float64.
TEXT ·dotBF16NEONAsm(SB), NOSPLIT, $0-32
	MOVD n+0(FP), R0
	MOVD w+8(FP), R1
	MOVD a+16(FP), R2
	VEOR V31.B16, V31.B16, V31.B16
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
bfloop:
	VLD1.P 64(R1), [V0.H8, V1.H8, V2.H8, V3.H8]
	VLD1.P 64(R2), [V4.H8, V5.H8, V6.H8, V7.H8]
	BF16WIDEN(V0, V8, V9)
	BF16WIDEN(V4, V10, V11)
	FMUL4S(8, 8, 10)
	FMUL4S(9, 9, 11)
	FADD4S(16, 16, 8)
	FADD4S(17, 17, 9)
	BF16WIDEN(V1, V8, V9)
	BF16WIDEN(V5, V10, V11)
	FMUL4S(8, 8, 10)
	FMUL4S(9, 9, 11)
	FADD4S(18, 18, 8)
	FADD4S(19, 19, 9)
	BF16WIDEN(V2, V8, V9)
	BF16WIDEN(V6, V10, V11)
	FMUL4S(8, 8, 10)
	FMUL4S(9, 9, 11)
	FADD4S(20, 20, 8)
	FADD4S(21, 21, 9)
	BF16WIDEN(V3, V8, V9)
	BF16WIDEN(V7, V10, V11)
	FMUL4S(8, 8, 10)
	FMUL4S(9, 9, 11)
	FADD4S(22, 22, 8)
	FADD4S(23, 23, 9)
	SUBS $32, R0
	BNE bfloop
	REDUCE16(16, 17, 18, 19, 24)
	REDUCE16(20, 21, 22, 23, 25)
	FCVTSD F16, F16
	FCVTSD F20, F20
	FADDD F20, F16, F16
	FMOVD F16, ret+24(FP)
	RET
