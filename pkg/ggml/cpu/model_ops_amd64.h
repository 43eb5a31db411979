// Macros shared by the amd64 element-wise kernels (model_ops_*amd64.s).

// REDUCE8ADD sums the 8 float32 lanes of Y1 (the upper 8 lanes of a block
// of 16 already added onto the lower 8) in the rest of
// _mm512_reduce_add_ps's order (upper 4 onto lower 4, lanes 2,3 onto 0,1,
// lane 1 onto lane 0) and adds the sum, as float64, to the low lane of
// ACC. It clobbers X0 and X1.
#define REDUCE8ADD(ACC) \
	VEXTRACTF128 $1, Y1, X0; \
	VADDPS       X0, X1, X1; \
	VPERMILPS    $0x4e, X1, X0; \
	VADDPS       X0, X1, X1; \
	VPERMILPS    $0xb1, X1, X0; \
	VADDSS       X0, X1, X1; \
	VCVTSS2SD    X1, X1, X1; \
	VADDSD       X1, ACC, ACC
