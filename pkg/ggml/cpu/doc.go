// Package cpu holds the CPU kernels for tensor math on ggml types: matrix
// multiplication of quantized or floating-point weights with float32
// activations, conversion of activations to the types the dot products
// consume, and the element-wise operations a transformer needs (RMS norm,
// softmax, SiLU, add, multiply, scale).
//
// Numerics follow ggml's CPU backend (ggml-cpu), so an engine built on this
// package tracks llama.cpp's logits closely. A weight of type T is multiplied
// with activations converted to T's "vec_dot type" (see [VecDotType]): F32
// weights with F32 activations, F16 with F16, BF16 with BF16, Q4_0, Q5_0,
// Q8_0 and IQ4_NL with Q8_0, Q4_1 and Q5_1 with Q8_1, and the k-quants and
// IQ4_XS with Q8_K. Quantized dot products sum integer products inside a
// block and scale the block's integer sum by the float scales, as ggml does.
// Activation quantization follows ggml's x86 (AVX2/AVX-512) code path, which
// produced the reference outputs: Q8_0 and Q8_1 scale by 127/amax and round
// half to even; Q8_K follows quantize_row_q8_K_ref.
//
// The kernels are portable Go (files named *_generic.go). Each inner loop is
// reached through a dispatch table chosen once at start-up from the CPU's
// features, so SIMD assembly can replace an entry later without touching
// callers; the generic kernels stay as the fallback and as the test oracle.
//
// Work is spread over a [Pool] of persistent worker goroutines. MatMul and
// the other hot-path functions do not allocate once their [Workspace] has
// grown to the largest batch.
package cpu
