// Encodings of the arm64 Advanced SIMD instructions the Go assembler lacks,
// as WORD directives. Operands are register numbers (3 for V3), destination
// first as in Arm's syntax: SDOT(d, n, m) is "sdot vd.4s, vn.16b, vm.16b".
// The encodings were checked against llvm-mc.

#define NEON3(op, d, n, m) WORD $((op) | (m)<<16 | (n)<<5 | (d))
#define NEON2(op, d, n) WORD $((op) | (n)<<5 | (d))
// Element forms "op vd.4s, vn.4s, vm.s[i]" (m < 16).
#define NEONELEM(op, d, n, m, i) WORD $((op) | ((i)&1)<<21 | ((i)>>1)<<11 | (m)<<16 | (n)<<5 | (d))

// Integer.
#define SDOT(d, n, m) NEON3(0x4E809400, d, n, m)   // vd.4s += dot4(vn.16b, vm.16b) (FEAT_DotProd)
#define SMULL(d, n, m) NEON3(0x0E20C000, d, n, m)  // vd.8h = vn.8b * vm.8b
#define SMULL2(d, n, m) NEON3(0x4E20C000, d, n, m) // vd.8h = vn.16b[8:] * vm.16b[8:]
#define SMLAL(d, n, m) NEON3(0x0E208000, d, n, m)  // vd.8h += vn.8b * vm.8b
#define SMLAL2(d, n, m) NEON3(0x4E208000, d, n, m) // vd.8h += vn.16b[8:] * vm.16b[8:]
#define SMULLH(d, n, m) NEON3(0x0E60C000, d, n, m)  // vd.4s = vn.4h * vm.4h
#define SMULL2H(d, n, m) NEON3(0x4E60C000, d, n, m) // vd.4s = vn.8h[4:] * vm.8h[4:]
#define SMLALH(d, n, m) NEON3(0x0E608000, d, n, m)  // vd.4s += vn.4h * vm.4h
#define SMLAL2H(d, n, m) NEON3(0x4E608000, d, n, m) // vd.4s += vn.8h[4:] * vm.8h[4:]
#define SADDLP(d, n) NEON2(0x4E602800, d, n)       // vd.4s = pairwise sums of vn.8h
#define SADALP(d, n) NEON2(0x4E606800, d, n)       // vd.4s += pairwise sums of vn.8h
#define SADDLV(d, n) NEON2(0x4E703800, d, n)       // sd = sum of vn.8h
#define ADDV(d, n) NEON2(0x4EB1B800, d, n)         // sd = sum of vn.4s
#define ADDP(d, n, m) NEON3(0x4EA0BC00, d, n, m)   // vd.4s = pairwise sums of vn.4s, vm.4s
#define ADDP8H(d, n, m) NEON3(0x4E60BC00, d, n, m)  // vd.8h = pairwise sums of vn.8h, vm.8h
#define ADD4S(d, n, m) NEON3(0x4EA08400, d, n, m)  // vd.4s = vn.4s + vm.4s
#define SUB16B(d, n, m) NEON3(0x6E208400, d, n, m) // vd.16b = vn.16b - vm.16b
#define MUL4S(d, n, m) NEON3(0x4EA09C00, d, n, m)  // vd.4s = vn.4s * vm.4s
#define MLAE(d, n, m, i) NEONELEM(0x6F800000, d, n, m, i) // vd.4s += vn.4s * vm.s[i]
#define MLA4S(d, n, m) NEON3(0x4EA09400, d, n, m)  // vd.4s += vn.4s * vm.4s
#define SXTL8H(d, n) NEON2(0x0F08A400, d, n)       // vd.8h = sign-extend vn.8b
#define SXTL28H(d, n) NEON2(0x4F08A400, d, n)      // vd.8h = sign-extend vn.16b[8:]
#define SXTL4S(d, n) NEON2(0x0F10A400, d, n)       // vd.4s = sign-extend vn.4h
#define SXTL24S(d, n) NEON2(0x4F10A400, d, n)      // vd.4s = sign-extend vn.8h[4:]
#define SSHR16B(d, n, s) NEON2(0x4F080400 | (8-(s))<<16, d, n) // vd.16b = vn.16b >> s (arithmetic)
#define EOR16B(d, n, m) NEON3(0x6E201C00, d, n, m) // vd.16b = vn.16b ^ vm.16b
#define EXT16B(d, n, m, i) WORD $(0x6E000000 | (m)<<16 | (i)<<11 | (n)<<5 | (d)) // vd.16b = bytes i.. of vn:vm
#define TBL1(d, n, m) NEON3(0x4E000000, d, n, m)   // vd.16b = table vn.16b indexed by vm.16b

// Floating point (float32 lanes).
#define SCVTF4S(d, n) NEON2(0x4E21D800, d, n)      // vd.4s = float(vn.4s)
#define SCVTFS(d, n) NEON2(0x5E21D800, d, n)       // sd = float(sn) (scalar)
#define FMUL4S(d, n, m) NEON3(0x6E20DC00, d, n, m) // vd.4s = vn.4s * vm.4s
#define FADD4S(d, n, m) NEON3(0x4E20D400, d, n, m) // vd.4s = vn.4s + vm.4s
#define FADDP4S(d, n, m) NEON3(0x6E20D400, d, n, m) // vd.4s = pairwise sums of vn.4s, vm.4s
#define FMLS4S(d, n, m) NEON3(0x4EA0CC00, d, n, m) // vd.4s -= vn.4s * vm.4s
#define FMLA4S(d, n, m) NEON3(0x4E20CC00, d, n, m) // vd.4s += vn.4s * vm.4s
#define FMLAE(d, n, m, i) NEONELEM(0x4F801000, d, n, m, i) // vd.4s += vn.4s * vm.s[i]
#define FMLASE(d, n, m, i) NEONELEM(0x5F801000, d, n, m, i) // sd += sn * vm.s[i] (scalar)
#define FMULE(d, n, m, i) NEONELEM(0x4F809000, d, n, m, i) // vd.4s = vn.4s * vm.s[i]
#define FABS4S(d, n) NEON2(0x4EA0F800, d, n)       // vd.4s = |vn.4s|
#define FMAX4S(d, n, m) NEON3(0x4E20F400, d, n, m) // vd.4s = max(vn.4s, vm.4s)
#define FMIN4S(d, n, m) NEON3(0x4EA0F400, d, n, m) // vd.4s = min(vn.4s, vm.4s)
#define FMAXV(d, n) NEON2(0x6E30F800, d, n)        // sd = max of vn.4s
#define FMINV(d, n) NEON2(0x6EB0F800, d, n)        // sd = min of vn.4s
#define FCVTNS4S(d, n) NEON2(0x4E21A800, d, n)     // vd.4s = int32(vn.4s), nearest, ties to even, saturating
#define SMIN4S(d, n, m) NEON3(0x4EA06C00, d, n, m) // vd.4s = min(vn.4s, vm.4s), signed
#define FADDPS(d, n) NEON2(0x7E30D800, d, n)       // sd = vn.s[0] + vn.s[1]

// Floating point (float64 lanes).
#define FCVTL2D(d, n) NEON2(0x0E617800, d, n)      // vd.2d = float64(vn.2s)
#define FCVTL22D(d, n) NEON2(0x4E617800, d, n)     // vd.2d = float64(vn.4s[2:])
#define FADD2D(d, n, m) NEON3(0x4E60D400, d, n, m) // vd.2d = vn.2d + vm.2d
#define FADDPD(d, n) NEON2(0x7E70D800, d, n)       // dd = vn.d[0] + vn.d[1]

#define FCVTL(d, n) NEON2(0x0E217800, d, n)        // vd.4s = float32(vn.4h), half to single
#define FCVTL2(d, n) NEON2(0x4E217800, d, n)       // vd.4s = float32(vn.8h[4:])

// Signed byte dot products in two variants (the DOT argument of the kernel
// macros): *SDOT with the dot-product extension, *NEON with ARMv8.0
// widening multiplies into 16-bit lanes, pairwise widened to 32 bits. Two
// products share a 16-bit lane, which cannot overflow: activations are in
// [-127, 127] and weights in [-128, 127].
//
// DOT32x(acc, w0, w1, a0, a1, t, u): vacc.4s = four partial sums of
// w0·a0 + w1·a1 (16 bytes each); t and u are scratch.
#define DOT32SDOT(acc, w0, w1, a0, a1, t, u) \
	EOR16B(acc, acc, acc); \
	SDOT(acc, w0, a0); \
	SDOT(acc, w1, a1)

#define DOT32NEON(acc, w0, w1, a0, a1, t, u) \
	SMULL(t, w0, a0); \
	SMULL2(u, w0, a0); \
	SMLAL(t, w1, a1); \
	SMLAL2(u, w1, a1); \
	SADDLP(acc, t); \
	SADALP(acc, u)

// DOT16x(acc, w, a, t): vacc.4s = four partial sums of w·a (16 bytes).
#define DOT16SDOT(acc, w, a, t) \
	EOR16B(acc, acc, acc); \
	SDOT(acc, w, a)

#define DOT16NEON(acc, w, a, t) \
	SMULL(t, w, a); \
	SMLAL2(t, w, a); \
	SADDLP(acc, t)
