//go:build !noasm

#include "textflag.h"
#include "neon_arm64.h"

// Dot products of K-quant weight rows with a Q8_K activation row, nb
// super-blocks of 256, one at a time, in two variants (DOT*SDOT and
// DOT*NEON, see neon_arm64.h). Q8_K blocks: float32 scale, 256 quants, 16
// int16 sums of 16 quants (bsums).

// ---- Q4_K: 144-byte blocks: fp16 d and dmin, 12 bytes of packed six-bit
// scales and mins for 8 sub-blocks of 32, 128 bytes of nibbles (32 bytes
// per pair of sub-blocks: low nibbles the first, high nibbles the second).

// Q4KSTEP multiplies the next two sub-blocks (R3 weights, R4 activations)
// into vs0 and vs1. V31 holds 0x0f in every byte.
#define Q4KSTEP(DOT, s0, s1) \
	VLD1.P 32(R3), [V0.B16, V1.B16]; \
	VLD1.P 64(R4), [V8.B16, V9.B16, V10.B16, V11.B16]; \
	VAND V31.B16, V0.B16, V2.B16; \
	VAND V31.B16, V1.B16, V3.B16; \
	VUSHR $4, V0.B16, V4.B16; \
	VUSHR $4, V1.B16, V5.B16; \
	DOT(s0, 2, 3, 8, 9, 12, 13); \
	DOT(s1, 4, 5, 10, 11, 14, 15)

// Q4KKERNEL (also Q5_K's, with its STEP and PRE and the quants at QSOFF
// in blocks of BB bytes): the integer sums of the 8 sub-blocks end in V16 (0-3) and V20
// (4-7). The scales decode with 32-bit masks (R19-R21): bytes 0-3 of the
// 12 are scales 0-3 (low six bits), bytes 4-7 mins 0-3, bytes 8-11 the low
// four bits of scales 4-7 (low nibbles) and mins 4-7 (high nibbles), whose
// top two bits are the top bits of bytes 0-3 and 4-7. Sum in F30.
#define Q4KKERNEL(DOT, STEP, PRE, QSOFF, BB) \
	MOVD nb+0(FP), R0; \
	MOVD w+8(FP), R1; \
	MOVD a+16(FP), R2; \
	VEOR V30.B16, V30.B16, V30.B16; \
	VMOVI $15, V31.B16; \
	MOVW $0x3f3f3f3f, R19; \
	MOVW $0x0f0f0f0f, R20; \
	MOVW $0x03030303, R21; \
loop: \
	ADD $QSOFF, R1, R3; \
	ADD $4, R2, R4; \
	PRE; \
	STEP(DOT, 16, 17); \
	STEP(DOT, 18, 19); \
	STEP(DOT, 20, 21); \
	STEP(DOT, 22, 23); \
	ADDP(16, 16, 17); \
	ADDP(18, 18, 19); \
	ADDP(16, 16, 18); \
	ADDP(20, 20, 21); \
	ADDP(22, 22, 23); \
	ADDP(20, 20, 22); \
	MOVWU 4(R1), R5; \
	MOVWU 8(R1), R6; \
	MOVWU 12(R1), R7; \
	AND R19, R5, R8; \
	AND R20, R7, R9; \
	LSR $6, R5, R10; \
	AND R21, R10, R10; \
	ORR R10<<4, R9, R9; \
	AND R19, R6, R11; \
	LSR $4, R7, R12; \
	AND R20, R12, R12; \
	LSR $6, R6, R13; \
	AND R21, R13, R13; \
	ORR R13<<4, R12, R12; \
	VMOV R8, V24.S[0]; \
	VMOV R9, V24.S[1]; \
	VMOV R11, V25.S[0]; \
	VMOV R12, V25.S[1]; \
	VUXTL V24.B8, V24.H8; \
	VUXTL V24.H4, V26.S4; \
	VUXTL2 V24.H8, V27.S4; \
	VUXTL V25.B8, V25.H8; \
	MUL4S(16, 16, 26); \
	MLA4S(16, 20, 27); \
	ADDV(16, 16); \
	ADD $260, R2, R14; \
	VLD1 (R14), [V28.H8, V29.H8]; \
	ADDP8H(28, 28, 29); \
	SMULLH(29, 28, 25); \
	SMLAL2H(29, 28, 25); \
	ADDV(29, 29); \
	SCVTFS(16, 16); \
	SCVTFS(29, 29); \
	FMOVS (R2), F24; \
	MOVHU (R1), R5; \
	MOVHU 2(R1), R6; \
	FMOVS R5, F25; \
	FMOVS R6, F26; \
	FCVTHS F25, F25; \
	FCVTHS F26, F26; \
	FMULS F24, F25, F25; \
	FMULS F24, F26, F26; \
	FMULS F16, F25, F25; \
	FMSUBS F29, F25, F26, F25; \
	FADDS F25, F30, F30; \
	ADD $BB, R1; \
	ADD $292, R2; \
	SUBS $1, R0; \
	BNE loop; \
	FMOVS F30, ret+24(FP); \
	RET

#define NOPRE MOVD R0, R0

// func dotQ4_KSDOTAsm(nb int, w, a *byte) float32
TEXT ·dotQ4_KSDOTAsm(SB), NOSPLIT, $0-28
	Q4KKERNEL(DOT32SDOT, Q4KSTEP, NOPRE, 16, 144)

// func dotQ4_KNEONAsm(nb int, w, a *byte) float32
TEXT ·dotQ4_KNEONAsm(SB), NOSPLIT, $0-28
	Q4KKERNEL(DOT32NEON, Q4KSTEP, NOPRE, 16, 144)

// ---- Q5_K: 176-byte blocks: Q4_K's d, dmin and scales, then 32 bytes of
// fifth bits (qh: bit 2j of byte l for value l of sub-block 2j, bit 2j+1
// for sub-block 2j+1), then Q4_K's 128 bytes of nibbles.

// Q5KPRE loads qh into V6 and V7 and 0x10 into every byte of V29.
#define Q5KPRE \
	ADD $16, R1, R15; \
	VLD1 (R15), [V6.B16, V7.B16]; \
	VMOVI $16, V29.B16

// Q5KSTEP is Q4KSTEP plus the fifth bits: the low two bits of V6/V7 are
// those of the current pair of sub-blocks; they shift down by two a step.
#define Q5KSTEP(DOT, s0, s1) \
	VLD1.P 32(R3), [V0.B16, V1.B16]; \
	VLD1.P 64(R4), [V8.B16, V9.B16, V10.B16, V11.B16]; \
	VAND V31.B16, V0.B16, V2.B16; \
	VAND V31.B16, V1.B16, V3.B16; \
	VUSHR $4, V0.B16, V4.B16; \
	VUSHR $4, V1.B16, V5.B16; \
	VSHL $4, V6.B16, V26.B16; \
	VSHL $4, V7.B16, V27.B16; \
	VAND V29.B16, V26.B16, V26.B16; \
	VAND V29.B16, V27.B16, V27.B16; \
	VORR V26.B16, V2.B16, V2.B16; \
	VORR V27.B16, V3.B16, V3.B16; \
	VSHL $3, V6.B16, V26.B16; \
	VSHL $3, V7.B16, V27.B16; \
	VAND V29.B16, V26.B16, V26.B16; \
	VAND V29.B16, V27.B16, V27.B16; \
	VORR V26.B16, V4.B16, V4.B16; \
	VORR V27.B16, V5.B16, V5.B16; \
	VUSHR $2, V6.B16, V6.B16; \
	VUSHR $2, V7.B16, V7.B16; \
	DOT(s0, 2, 3, 8, 9, 12, 13); \
	DOT(s1, 4, 5, 10, 11, 14, 15)

// func dotQ5_KSDOTAsm(nb int, w, a *byte) float32
TEXT ·dotQ5_KSDOTAsm(SB), NOSPLIT, $0-28
	Q4KKERNEL(DOT32SDOT, Q5KSTEP, Q5KPRE, 48, 176)

// func dotQ5_KNEONAsm(nb int, w, a *byte) float32
TEXT ·dotQ5_KNEONAsm(SB), NOSPLIT, $0-28
	Q4KKERNEL(DOT32NEON, Q5KSTEP, Q5KPRE, 48, 176)

// ---- Q6_K: 210-byte blocks: 128 bytes of low nibbles (ql), 64 bytes of
// high bit pairs (qh), 16 int8 scales (one per group of 16), fp16 d. In
// each half of 128 values, group g (16 values) takes the low (g < 4) or
// high nibbles of ql[16(g%4):] and bit pair g/2 of qh[16(g%2):], minus 32.
// Constants: V29 0x0f, V30 0x30, V31 32 in every byte.

// Q6KFIN finishes a group: V6 holds the low four bits, V7 the high pair
// (not yet masked); their value is multiplied with the activations va
// into vacc.
#define Q6KFIN(DOT16, acc, a) \
	VAND V30.B16, V7.B16, V7.B16; \
	VORR V7.B16, V6.B16, V6.B16; \
	VSUB V31.B16, V6.B16, V6.B16; \
	DOT16(acc, 6, a, 27)

// Q6KHALF multiplies 128 values (ql R3, qh R5, activations R4) group by
// group into V16-V23, reduces them to group sums (V16: groups 0-3, V20:
// 4-7) and adds them times the scales (int16 in vsc) to V28.
#define Q6KHALF(DOT16, sc) \
	VLD1.P 64(R3), [V0.B16, V1.B16, V2.B16, V3.B16]; \
	VLD1.P 32(R5), [V4.B16, V5.B16]; \
	VLD1.P 64(R4), [V8.B16, V9.B16, V10.B16, V11.B16]; \
	VLD1.P 64(R4), [V12.B16, V13.B16, V14.B16, V15.B16]; \
	VAND V29.B16, V0.B16, V6.B16; \
	VSHL $4, V4.B16, V7.B16; \
	Q6KFIN(DOT16, 16, 8); \
	VAND V29.B16, V1.B16, V6.B16; \
	VSHL $4, V5.B16, V7.B16; \
	Q6KFIN(DOT16, 17, 9); \
	VAND V29.B16, V2.B16, V6.B16; \
	VSHL $2, V4.B16, V7.B16; \
	Q6KFIN(DOT16, 18, 10); \
	VAND V29.B16, V3.B16, V6.B16; \
	VSHL $2, V5.B16, V7.B16; \
	Q6KFIN(DOT16, 19, 11); \
	VUSHR $4, V0.B16, V6.B16; \
	VORR V4.B16, V4.B16, V7.B16; \
	Q6KFIN(DOT16, 20, 12); \
	VUSHR $4, V1.B16, V6.B16; \
	VORR V5.B16, V5.B16, V7.B16; \
	Q6KFIN(DOT16, 21, 13); \
	VUSHR $4, V2.B16, V6.B16; \
	VUSHR $2, V4.B16, V7.B16; \
	Q6KFIN(DOT16, 22, 14); \
	VUSHR $4, V3.B16, V6.B16; \
	VUSHR $2, V5.B16, V7.B16; \
	Q6KFIN(DOT16, 23, 15); \
	ADDP(16, 16, 17); \
	ADDP(18, 18, 19); \
	ADDP(16, 16, 18); \
	ADDP(20, 20, 21); \
	ADDP(22, 22, 23); \
	ADDP(20, 20, 22); \
	SXTL4S(6, sc); \
	SXTL24S(7, sc); \
	MLA4S(28, 16, 6); \
	MLA4S(28, 20, 7)

#define Q6KKERNEL(DOT16) \
	MOVD nb+0(FP), R0; \
	MOVD w+8(FP), R1; \
	MOVD a+16(FP), R2; \
	VEOR V24.B16, V24.B16, V24.B16; \
	VMOVI $15, V29.B16; \
	VMOVI $48, V30.B16; \
	VMOVI $32, V31.B16; \
loop: \
	MOVD R1, R3; \
	ADD $128, R1, R5; \
	ADD $4, R2, R4; \
	ADD $192, R1, R6; \
	VLD1 (R6), [V25.B16]; \
	SXTL28H(26, 25); \
	SXTL8H(25, 25); \
	VEOR V28.B16, V28.B16, V28.B16; \
	Q6KHALF(DOT16, 25); \
	Q6KHALF(DOT16, 26); \
	ADDV(28, 28); \
	SCVTFS(28, 28); \
	MOVHU 208(R1), R7; \
	FMOVS R7, F6; \
	FCVTHS F6, F6; \
	FMOVS (R2), F7; \
	FMULS F7, F6, F6; \
	FMADDS F28, F24, F6, F24; \
	ADD $210, R1; \
	ADD $292, R2; \
	SUBS $1, R0; \
	BNE loop; \
	FMOVS F24, ret+24(FP); \
	RET

// func dotQ6_KSDOTAsm(nb int, w, a *byte) float32
TEXT ·dotQ6_KSDOTAsm(SB), NOSPLIT, $0-28
	Q6KKERNEL(DOT16SDOT)

// func dotQ6_KNEONAsm(nb int, w, a *byte) float32
TEXT ·dotQ6_KNEONAsm(SB), NOSPLIT, $0-28
	Q6KKERNEL(DOT16NEON)
