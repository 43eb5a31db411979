//go:build !noasm

#include "textflag.h"
#include "neon_arm64.h"

// Dot products of Q8_0, Q4_0 and IQ4_NL weight rows with a Q8_0 activation row,
// nb blocks of 32, in two variants (DOT32SDOT and DOT32NEON, see
// neon_arm64.h).

// Four blocks at a time: V24 holds the four blocks' scale products
// d(w)·d(a) and V16 their integer sums; leftover blocks go one at a time.
// The sum is in F30.
//
// SCALES4(wstride) loads the fp16 scales of four weight blocks (R1) and four
// Q8_0 blocks (R2) and leaves their products in V24.
#define SCALES4(wstride) \
	MOVHU 0(R1), R4; \
	MOVHU (1*wstride)(R1), R5; \
	MOVHU (2*wstride)(R1), R6; \
	MOVHU (3*wstride)(R1), R7; \
	MOVHU 0(R2), R8; \
	MOVHU 34(R2), R9; \
	MOVHU 68(R2), R10; \
	MOVHU 102(R2), R11; \
	VMOV R4, V24.H[0]; \
	VMOV R5, V24.H[1]; \
	VMOV R6, V24.H[2]; \
	VMOV R7, V24.H[3]; \
	VMOV R8, V25.H[0]; \
	VMOV R9, V25.H[1]; \
	VMOV R10, V25.H[2]; \
	VMOV R11, V25.H[3]; \
	FCVTL(24, 24); \
	FCVTL(25, 25); \
	FMUL4S(24, 24, 25)

// SCALE1 leaves d(w)·d(a) of one block pair in F24.
#define SCALE1 \
	MOVHU (R1), R4; \
	MOVHU (R2), R5; \
	FMOVS R4, F24; \
	FMOVS R5, F25; \
	FCVTHS F24, F24; \
	FCVTHS F25, F25; \
	FMULS F25, F24, F24

// LOADA4 loads the quants of four Q8_0 blocks at R2 into V2,V3 V6,V7
// V10,V11 V14,V15.
#define LOADA4 \
	ADD $2, R2, R13; \
	VLD1.P 32(R13), [V2.B16, V3.B16]; \
	ADD $2, R13; \
	VLD1.P 32(R13), [V6.B16, V7.B16]; \
	ADD $2, R13; \
	VLD1.P 32(R13), [V10.B16, V11.B16]; \
	ADD $2, R13; \
	VLD1 (R13), [V14.B16, V15.B16]

// SUM4 adds the four blocks' products to F30, one block after the other
// with a fused multiply-add each, as the generic kernels (built for arm64)
// do: the results are bit-identical to theirs.
#define SUM4(DOT) \
	DOT(16, 0, 1, 2, 3, 20, 21); \
	DOT(17, 4, 5, 6, 7, 22, 23); \
	DOT(18, 8, 9, 10, 11, 20, 21); \
	DOT(19, 12, 13, 14, 15, 22, 23); \
	ADDP(16, 16, 17); \
	ADDP(18, 18, 19); \
	ADDP(16, 16, 18); \
	SCVTF4S(16, 16); \
	VDUP V16.S[1], V17.S4; \
	VDUP V16.S[2], V18.S4; \
	VDUP V16.S[3], V19.S4; \
	FMLASE(30, 16, 24, 0); \
	FMLASE(30, 17, 24, 1); \
	FMLASE(30, 18, 24, 2); \
	FMLASE(30, 19, 24, 3)

// SUM1 adds one block's product (quants in V0-V3, scale in F24) to F30.
#define SUM1(DOT) \
	DOT(16, 0, 1, 2, 3, 20, 21); \
	ADDV(16, 16); \
	VMOV V16.S[0], R6; \
	SCVTFWS R6, F16; \
	FMADDS F24, F30, F16, F30

#define PROLOGUE \
	MOVD nb+0(FP), R0; \
	MOVD w+8(FP), R1; \
	MOVD a+16(FP), R2; \
	VEOR V30.B16, V30.B16, V30.B16

#define EPILOGUE \
	FMOVS F30, ret+24(FP); \
	RET

// Q8_0 weights: 34-byte blocks, fp16 scale then 32 quants.
#define Q8_0KERNEL(DOT) \
	PROLOGUE; \
	CMP $4, R0; \
	BLT tail; \
loop4: \
	SCALES4(34); \
	ADD $2, R1, R12; \
	VLD1.P 32(R12), [V0.B16, V1.B16]; \
	ADD $2, R12; \
	VLD1.P 32(R12), [V4.B16, V5.B16]; \
	ADD $2, R12; \
	VLD1.P 32(R12), [V8.B16, V9.B16]; \
	ADD $2, R12; \
	VLD1 (R12), [V12.B16, V13.B16]; \
	LOADA4; \
	SUM4(DOT); \
	ADD $136, R1; \
	ADD $136, R2; \
	SUB $4, R0; \
	CMP $4, R0; \
	BGE loop4; \
tail: \
	CBZ R0, done; \
loop1: \
	SCALE1; \
	ADD $2, R1, R12; \
	ADD $2, R2, R13; \
	VLD1 (R12), [V0.B16, V1.B16]; \
	VLD1 (R13), [V2.B16, V3.B16]; \
	SUM1(DOT); \
	ADD $34, R1; \
	ADD $34, R2; \
	SUBS $1, R0; \
	BNE loop1; \
done: \
	EPILOGUE

// Q4_0 weights: 18-byte blocks, fp16 scale then 16 bytes whose low nibbles
// are quants 0-15 and high nibbles quants 16-31, each minus 8.
// UNPACK4(r, lo, hi) splits the nibbles of vr into vlo and vhi as int8.
// V28 holds 0x0f in every byte, V29 8.
#define UNPACK4(r, lo, hi) \
	VUSHR $4, r.B16, hi.B16; \
	VAND V28.B16, r.B16, lo.B16; \
	VSUB V29.B16, hi.B16, hi.B16; \
	VSUB V29.B16, lo.B16, lo.B16

// UNPACKNL(r, lo, hi) is UNPACK4 for IQ4_NL: the nibbles index the table
// of 16 non-linear levels in V29.
#define UNPACKNL(r, lo, hi) \
	VUSHR $4, r.B16, hi.B16; \
	VAND V28.B16, r.B16, lo.B16; \
	VTBL hi.B16, [V29.B16], hi.B16; \
	VTBL lo.B16, [V29.B16], lo.B16

DATA neonIQ4NL<>+0(SB)/8, $0xf6eaddcfbfad9881 // -127 -104 -83 -65 -49 -35 -22 -10
DATA neonIQ4NL<>+8(SB)/8, $0x7159453526190d01 // 1 13 25 38 53 69 89 113
GLOBL neonIQ4NL<>(SB), RODATA|NOPTR, $16

#define Q4_0SETUP VMOVI $8, V29.B16
#define IQ4NLSETUP \
	MOVD $neonIQ4NL<>(SB), R9; \
	VLD1 (R9), [V29.B16]

// Q4_0KERNEL is also IQ4_NL's (same block layout), with its UNPACK and
// SETUP.
#define Q4_0KERNEL(DOT, UNPACK, SETUP) \
	PROLOGUE; \
	VMOVI $15, V28.B16; \
	SETUP; \
	CMP $4, R0; \
	BLT tail; \
loop4: \
	SCALES4(18); \
	ADD $2, R1, R12; \
	VLD1.P 16(R12), [V0.B16]; \
	ADD $2, R12; \
	VLD1.P 16(R12), [V4.B16]; \
	ADD $2, R12; \
	VLD1.P 16(R12), [V8.B16]; \
	ADD $2, R12; \
	VLD1 (R12), [V12.B16]; \
	UNPACK(V0, V0, V1); \
	UNPACK(V4, V4, V5); \
	UNPACK(V8, V8, V9); \
	UNPACK(V12, V12, V13); \
	LOADA4; \
	SUM4(DOT); \
	ADD $72, R1; \
	ADD $136, R2; \
	SUB $4, R0; \
	CMP $4, R0; \
	BGE loop4; \
tail: \
	CBZ R0, done; \
loop1: \
	SCALE1; \
	ADD $2, R1, R12; \
	ADD $2, R2, R13; \
	VLD1 (R12), [V0.B16]; \
	VLD1 (R13), [V2.B16, V3.B16]; \
	UNPACK(V0, V0, V1); \
	SUM1(DOT); \
	ADD $18, R1; \
	ADD $34, R2; \
	SUBS $1, R0; \
	BNE loop1; \
done: \
	EPILOGUE

// func dotQ8_0SDOTAsm(nb int, w, a *byte) float32
TEXT ·dotQ8_0SDOTAsm(SB), NOSPLIT, $0-28
	Q8_0KERNEL(DOT32SDOT)

// func dotQ8_0NEONAsm(nb int, w, a *byte) float32
TEXT ·dotQ8_0NEONAsm(SB), NOSPLIT, $0-28
	Q8_0KERNEL(DOT32NEON)

// func dotQ4_0SDOTAsm(nb int, w, a *byte) float32
TEXT ·dotQ4_0SDOTAsm(SB), NOSPLIT, $0-28
	Q4_0KERNEL(DOT32SDOT, UNPACK4, Q4_0SETUP)

// func dotQ4_0NEONAsm(nb int, w, a *byte) float32
TEXT ·dotQ4_0NEONAsm(SB), NOSPLIT, $0-28
	Q4_0KERNEL(DOT32NEON, UNPACK4, Q4_0SETUP)

// func dotIQ4_NLSDOTAsm(nb int, w, a *byte) float32
TEXT ·dotIQ4_NLSDOTAsm(SB), NOSPLIT, $0-28
	Q4_0KERNEL(DOT32SDOT, UNPACKNL, IQ4NLSETUP)

// func dotIQ4_NLNEONAsm(nb int, w, a *byte) float32
TEXT ·dotIQ4_NLNEONAsm(SB), NOSPLIT, $0-28
	Q4_0KERNEL(DOT32NEON, UNPACKNL, IQ4NLSETUP)
