//go:build !noasm

#include "textflag.h"
#include "neon_arm64.h"

// ggml's vectorized exp (expVec, one lane of its AVX-512 ggml_v_expf) on
// four float32 lanes per register, bit for bit: the fused multiply-adds of
// expVec as FMLA/FMLS (one rounding each) and its plain products and sums
// as FMUL/FSUB. VSCALEFPS (j·2^n, one rounding) has no NEON counterpart:
// with n = n1 + n2, n1 = n>>1 (both in [-96, 96] when |n| <= 192), j·2^n1
// is an exact normal float32 and (j·2^n1)·2^n2 rounds once, so it is
// j·2^n rounded once, subnormal or infinite results included. Lanes with
// |n| > 192 then become 0 or +Inf, and NaN lanes take n's NaN, as expVec.

// Encodings the Go assembler lacks (neon_arm64.h has the rest), checked
// against llvm-mc.
#define FSUB4S(d, n, m) NEON3(0x4EA0D400, d, n, m)  // vd.4s = vn.4s - vm.4s
#define FDIV4S(d, n, m) NEON3(0x6E20FC00, d, n, m)  // vd.4s = vn.4s / vm.4s
#define FCVTZS4S(d, n) NEON2(0x4EA1B800, d, n)      // vd.4s = int32(vn.4s), toward zero, saturating
#define FACGT4S(d, n, m) NEON3(0x6EA0EC00, d, n, m) // vd.4s = |vn.4s| > |vm.4s| ? ~0 : 0
#define FCMGTZ4S(d, n) NEON2(0x4EA0C800, d, n)      // vd.4s = vn.4s > 0 ? ~0 : 0
#define FCMEQ4S(d, n, m) NEON3(0x4E20E400, d, n, m) // vd.4s = vn.4s == vm.4s ? ~0 : 0
#define SSHR4S1(d, n) NEON2(0x4F3F0400, d, n)       // vd.4s = vn.4s >> 1 (arithmetic)
#define SHL4S23(d, n) NEON2(0x4F375400, d, n)       // vd.4s = vn.4s << 23
#define SUB4S(d, n, m) NEON3(0x6EA08400, d, n, m)   // vd.4s = vn.4s - vm.4s
#define AND16B(d, n, m) NEON3(0x4E201C00, d, n, m)  // vd = vn & vm
#define BIT16B(d, n, m) NEON3(0x6EA01C00, d, n, m)  // vd = vm ? vn : vd (bitwise)
#define BIF16B(d, n, m) NEON3(0x6EE01C00, d, n, m)  // vd = vm ? vd : vn (bitwise)
#define MOV16B(d, n) NEON3(0x4EA01C00, d, n, n)     // vd = vn

// EXPCONSTS loads the constants of EXP2 into V16-V29: 0x1.8p23, log2(e),
// ln 2 (low and high parts), the polynomial's five coefficients, 1, 192,
// +Inf, the exponent bias 127 (integer) and 0.
#define EXPCONSTS \
	MOVW $0x4b400000, R3; \
	VDUP R3, V16.S4; \
	MOVW $0x3fb8aa3b, R3; \
	VDUP R3, V17.S4; \
	MOVW $0x35bfbe8e, R3; \
	VDUP R3, V18.S4; \
	MOVW $0x3f317200, R3; \
	VDUP R3, V19.S4; \
	MOVW $0x3c072010, R3; \
	VDUP R3, V20.S4; \
	MOVW $0x3d2b9f17, R3; \
	VDUP R3, V21.S4; \
	MOVW $0x3e2aaf33, R3; \
	VDUP R3, V22.S4; \
	MOVW $0x3efffedb, R3; \
	VDUP R3, V23.S4; \
	MOVW $0x3f7ffff6, R3; \
	VDUP R3, V24.S4; \
	MOVW $0x3f800000, R3; \
	VDUP R3, V25.S4; \
	MOVW $0x43400000, R3; \
	VDUP R3, V26.S4; \
	MOVW $0x7f800000, R3; \
	VDUP R3, V27.S4; \
	MOVW $127, R3; \
	VDUP R3, V28.S4; \
	VEOR V29.B16, V29.B16, V29.B16

// EXP2 sets ve to e^x of the lanes of vb and vf to e^x of the lanes of vc
// (two chains interleaved for in-order cores), destroying vb and vc; vn,
// vu, vp, vq and vo, vv, vr, vs are scratch. It needs EXPCONSTS.
#define EXP2(b, c, e, f, n, o, u, v, p, r, q, s) \
	MOV16B(n, 16); \
	MOV16B(o, 16); \
	FMLA4S(n, b, 17); /* z = fma(x, log2 e, 0x1.8p23) */ \
	FMLA4S(o, c, 17); \
	FSUB4S(n, n, 16); /* n = z - 0x1.8p23 */ \
	FSUB4S(o, o, 16); \
	FMLS4S(b, n, 19); /* b = fma(-n, ln2 hi, x) */ \
	FMLS4S(c, o, 19); \
	FMLS4S(b, n, 18); /* b = fma(-n, ln2 lo, b) */ \
	FMLS4S(c, o, 18); \
	FMUL4S(u, b, b); /* u = b*b */ \
	FMUL4S(v, c, c); \
	MOV16B(p, 21); \
	MOV16B(r, 21); \
	FMLA4S(p, 20, b); /* p = fma(c5, b, c4) */ \
	FMLA4S(r, 20, c); \
	MOV16B(q, 23); \
	MOV16B(s, 23); \
	FMLA4S(q, 22, b); /* q = fma(c3, b, c2) */ \
	FMLA4S(s, 22, c); \
	FMLA4S(q, p, u); /* q = fma(p, u, q) */ \
	FMLA4S(s, r, v); \
	MOV16B(e, 25); \
	MOV16B(f, 25); \
	FMLA4S(e, 24, b); /* j = fma(c1, b, 1) */ \
	FMLA4S(f, 24, c); \
	FMLA4S(e, q, u); /* j = fma(q, u, j) */ \
	FMLA4S(f, s, v); \
	FCVTZS4S(p, n); /* n as an integer */ \
	FCVTZS4S(r, o); \
	SSHR4S1(q, p); /* n1 = n >> 1 */ \
	SSHR4S1(s, r); \
	SUB4S(p, p, q); /* n2 = n - n1 */ \
	SUB4S(r, r, s); \
	ADD4S(q, q, 28); \
	ADD4S(s, s, 28); \
	SHL4S23(q, q); /* 2^n1 */ \
	SHL4S23(s, s); \
	ADD4S(p, p, 28); \
	ADD4S(r, r, 28); \
	SHL4S23(p, p); /* 2^n2 */ \
	SHL4S23(r, r); \
	FMUL4S(e, e, q); /* j·2^n1, exact */ \
	FMUL4S(f, f, s); \
	FMUL4S(e, e, p); /* ·2^n2, rounded once */ \
	FMUL4S(f, f, r); \
	FACGT4S(u, n, 26); /* |n| > 192 */ \
	FACGT4S(v, o, 26); \
	FCMGTZ4S(b, n); \
	FCMGTZ4S(c, o); \
	AND16B(b, b, 27); /* n > 0 ? +Inf : 0 */ \
	AND16B(c, c, 27); \
	BIT16B(e, b, u); \
	BIT16B(f, c, v); \
	FCMEQ4S(u, n, n); /* n is not NaN */ \
	FCMEQ4S(v, o, o); \
	BIF16B(e, n, u); \
	BIF16B(f, o, v)

// func swigluVecNEON(dst, x, y *float32, n int)
// n is a positive multiple of 8: dst = x / (1 + e^(0-x)) · y.
TEXT ·swigluVecNEON(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD x+8(FP), R1
	MOVD y+16(FP), R2
	MOVD n+24(FP), R4
	LSR  $3, R4
	EXPCONSTS

swigluLoop:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	VLD1.P 32(R2), [V2.S4, V3.S4]
	FSUB4S(4, 29, 0) // 0 - x
	FSUB4S(5, 29, 1)
	EXP2(4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	FADD4S(6, 6, 25) // 1 + e^-x
	FADD4S(7, 7, 25)
	FDIV4S(0, 0, 6)  // x / (1 + e^-x)
	FDIV4S(1, 1, 7)
	FMUL4S(0, 0, 2)
	FMUL4S(1, 1, 3)
	VST1.P [V0.S4, V1.S4], 32(R0)
	SUBS   $1, R4
	BNE    swigluLoop
	RET

// func softMaxExpNEON(y *float32, n int, max float32) float64
// n is a positive multiple of 16: y = e^(y-max) in place; returns the sum
// of the blocks of 16, each summed in float32 in reduceAdd16's order and
// added in float64.
TEXT ·softMaxExpNEON(SB), NOSPLIT, $0-32
	MOVD  y+0(FP), R0
	MOVD  n+8(FP), R4
	MOVWU max+16(FP), R3
	VDUP  R3, V30.S4
	LSR   $4, R4
	VEOR  V31.B16, V31.B16, V31.B16 // the float64 sum
	EXPCONSTS

smLoop:
	VLD1 (R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	FSUB4S(4, 0, 30) // x = y - max
	FSUB4S(5, 1, 30)
	EXP2(4, 5, 0, 1, 8, 9, 10, 11, 12, 13, 14, 15)
	FSUB4S(4, 2, 30)
	FSUB4S(5, 3, 30)
	EXP2(4, 5, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15)
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	// reduceAdd16: h = lanes 8-15 + lanes 0-7, q = h[4:8] + h[0:4],
	// (q0+q2) + (q1+q3).
	FADD4S(4, 2, 0)
	FADD4S(5, 3, 1)
	FADD4S(4, 5, 4)
	EXT16B(5, 4, 4, 8)
	FADD4S(4, 4, 5)
	FADDPS(4, 4)
	FCVTSD F4, F4
	FADDD  F4, F31, F31
	SUBS   $1, R4
	BNE    smLoop
	FMOVD  F31, ret+24(FP)
	RET
