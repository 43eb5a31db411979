//go:build !noasm

#include "textflag.h"
#include "model_ops_amd64.h"

// expAVX2<> holds the constants of EXPYMM, each in 8 lanes (32 bytes):
// 0x1.8p23, log2(e), ln 2 low and high, the polynomial c4..c0, 1, 192,
// +Inf, the abs mask and the exponent bias 127.
DATA expAVX2<>+0(SB)/8, $0x4b4000004b400000
DATA expAVX2<>+8(SB)/8, $0x4b4000004b400000
DATA expAVX2<>+16(SB)/8, $0x4b4000004b400000
DATA expAVX2<>+24(SB)/8, $0x4b4000004b400000
DATA expAVX2<>+32(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA expAVX2<>+40(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA expAVX2<>+48(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA expAVX2<>+56(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA expAVX2<>+64(SB)/8, $0x35bfbe8e35bfbe8e
DATA expAVX2<>+72(SB)/8, $0x35bfbe8e35bfbe8e
DATA expAVX2<>+80(SB)/8, $0x35bfbe8e35bfbe8e
DATA expAVX2<>+88(SB)/8, $0x35bfbe8e35bfbe8e
DATA expAVX2<>+96(SB)/8, $0x3f3172003f317200
DATA expAVX2<>+104(SB)/8, $0x3f3172003f317200
DATA expAVX2<>+112(SB)/8, $0x3f3172003f317200
DATA expAVX2<>+120(SB)/8, $0x3f3172003f317200
DATA expAVX2<>+128(SB)/8, $0x3c0720103c072010
DATA expAVX2<>+136(SB)/8, $0x3c0720103c072010
DATA expAVX2<>+144(SB)/8, $0x3c0720103c072010
DATA expAVX2<>+152(SB)/8, $0x3c0720103c072010
DATA expAVX2<>+160(SB)/8, $0x3d2b9f173d2b9f17
DATA expAVX2<>+168(SB)/8, $0x3d2b9f173d2b9f17
DATA expAVX2<>+176(SB)/8, $0x3d2b9f173d2b9f17
DATA expAVX2<>+184(SB)/8, $0x3d2b9f173d2b9f17
DATA expAVX2<>+192(SB)/8, $0x3e2aaf333e2aaf33
DATA expAVX2<>+200(SB)/8, $0x3e2aaf333e2aaf33
DATA expAVX2<>+208(SB)/8, $0x3e2aaf333e2aaf33
DATA expAVX2<>+216(SB)/8, $0x3e2aaf333e2aaf33
DATA expAVX2<>+224(SB)/8, $0x3efffedb3efffedb
DATA expAVX2<>+232(SB)/8, $0x3efffedb3efffedb
DATA expAVX2<>+240(SB)/8, $0x3efffedb3efffedb
DATA expAVX2<>+248(SB)/8, $0x3efffedb3efffedb
DATA expAVX2<>+256(SB)/8, $0x3f7ffff63f7ffff6
DATA expAVX2<>+264(SB)/8, $0x3f7ffff63f7ffff6
DATA expAVX2<>+272(SB)/8, $0x3f7ffff63f7ffff6
DATA expAVX2<>+280(SB)/8, $0x3f7ffff63f7ffff6
DATA expAVX2<>+288(SB)/8, $0x3f8000003f800000
DATA expAVX2<>+296(SB)/8, $0x3f8000003f800000
DATA expAVX2<>+304(SB)/8, $0x3f8000003f800000
DATA expAVX2<>+312(SB)/8, $0x3f8000003f800000
DATA expAVX2<>+320(SB)/8, $0x4340000043400000
DATA expAVX2<>+328(SB)/8, $0x4340000043400000
DATA expAVX2<>+336(SB)/8, $0x4340000043400000
DATA expAVX2<>+344(SB)/8, $0x4340000043400000
DATA expAVX2<>+352(SB)/8, $0x7f8000007f800000
DATA expAVX2<>+360(SB)/8, $0x7f8000007f800000
DATA expAVX2<>+368(SB)/8, $0x7f8000007f800000
DATA expAVX2<>+376(SB)/8, $0x7f8000007f800000
DATA expAVX2<>+384(SB)/8, $0x7fffffff7fffffff
DATA expAVX2<>+392(SB)/8, $0x7fffffff7fffffff
DATA expAVX2<>+400(SB)/8, $0x7fffffff7fffffff
DATA expAVX2<>+408(SB)/8, $0x7fffffff7fffffff
DATA expAVX2<>+416(SB)/8, $0x0000007f0000007f
DATA expAVX2<>+424(SB)/8, $0x0000007f0000007f
DATA expAVX2<>+432(SB)/8, $0x0000007f0000007f
DATA expAVX2<>+440(SB)/8, $0x0000007f0000007f
GLOBL expAVX2<>(SB), RODATA|NOPTR, $448

// EXPYMM sets Y9 to ggml's AVX-512 vectorized e^x (see expVec and EXPZMM)
// of the 8 lanes of Y1, with AVX2 and FMA: VSCALEFPS's j*2^n becomes
// (j*2^n1)*2^n2 with n1 = floor(n/2), n2 = n-n1, both in [-96, 96] where
// |n| <= 192, so that the first product is exact and the second rounds
// once, as VSCALEFPS does. It clobbers Y2-Y13.
#define EXPYMM \
	VMOVUPS      expAVX2<>+0(SB), Y2; \
	VFMADD231PS  expAVX2<>+32(SB), Y1, Y2; \
	VSUBPS       expAVX2<>+0(SB), Y2, Y3; \
	VMOVAPS      Y1, Y4; \
	VFNMADD231PS expAVX2<>+96(SB), Y3, Y4; \
	VFNMADD231PS expAVX2<>+64(SB), Y3, Y4; \
	VMULPS       Y4, Y4, Y5; \
	VMOVUPS      expAVX2<>+160(SB), Y6; \
	VFMADD231PS  expAVX2<>+128(SB), Y4, Y6; \
	VMOVUPS      expAVX2<>+224(SB), Y7; \
	VFMADD231PS  expAVX2<>+192(SB), Y4, Y7; \
	VFMADD231PS  Y6, Y5, Y7; \
	VMOVUPS      expAVX2<>+288(SB), Y8; \
	VFMADD231PS  expAVX2<>+256(SB), Y4, Y8; \
	VFMADD231PS  Y7, Y5, Y8; \
	VCVTPS2DQ    Y3, Y10; \
	VPSRAD       $1, Y10, Y11; \
	VPSUBD       Y11, Y10, Y10; \
	VPADDD       expAVX2<>+416(SB), Y11, Y11; \
	VPSLLD       $23, Y11, Y11; \
	VPADDD       expAVX2<>+416(SB), Y10, Y10; \
	VPSLLD       $23, Y10, Y10; \
	VMULPS       Y11, Y8, Y9; \
	VMULPS       Y10, Y9, Y9; \
	VANDPS       expAVX2<>+384(SB), Y3, Y11; \
	VCMPPS       $0x1e, expAVX2<>+320(SB), Y11, Y11; \
	VXORPS       Y12, Y12, Y12; \
	VCMPPS       $0x12, Y12, Y3, Y10; \
	VMOVUPS      expAVX2<>+352(SB), Y13; \
	VBLENDVPS    Y10, Y12, Y13, Y13; \
	VBLENDVPS    Y11, Y13, Y9, Y9


// func swigluVecAVX2(dst, x, y *float32, n int)
// n is a multiple of 16.
TEXT ·swigluVecAVX2(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   y+16(FP), DX
	MOVQ   n+24(FP), CX
	SHRQ   $3, CX
	JZ     swiglu2Done
	VXORPS Y15, Y15, Y15

swiglu2Loop:
	VMOVUPS (SI), Y0
	VSUBPS  Y0, Y15, Y1 // -x
	EXPYMM              // e^-x
	VADDPS  expAVX2<>+288(SB), Y9, Y9 // 1 + e^-x
	VDIVPS  Y9, Y0, Y9  // x / (1 + e^-x)
	VMULPS  (DX), Y9, Y9
	VMOVUPS Y9, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     swiglu2Loop

swiglu2Done:
	VZEROUPPER
	RET

// func softMaxExpAVX2(y *float32, blocks int, max float32) float64
//
// SoftMaxExp over whole blocks of 16 elements, with AVX2 and FMA.
TEXT ·softMaxExpAVX2(SB), NOSPLIT, $0-32
	MOVQ         y+0(FP), DI
	MOVQ         blocks+8(FP), CX
	VBROADCASTSS max+16(FP), Y14
	VXORPD       X15, X15, X15 // the float64 sum
	TESTQ        CX, CX
	JZ           sm2Done

sm2Loop:
	VMOVUPS (DI), Y1
	VSUBPS  Y14, Y1, Y1
	EXPYMM
	VMOVUPS Y9, (DI)
	VMOVAPS Y9, Y0
	VMOVUPS 32(DI), Y1
	VSUBPS  Y14, Y1, Y1
	EXPYMM
	VMOVUPS Y9, 32(DI)
	// _mm512_reduce_add_ps's order (upper 8 lanes onto the lower 8
	// first), then add as float64.
	VADDPS       Y9, Y0, Y1
	REDUCE8ADD(X15)
	ADDQ         $64, DI
	DECQ         CX
	JNZ          sm2Loop

sm2Done:
	VMOVSD X15, ret+24(FP)
	VZEROUPPER
	RET
