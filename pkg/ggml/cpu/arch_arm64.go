//go:build !noasm

package cpu

// useArchKernels replaces entries of k with the arm64 NEON kernels the CPU
// supports (dot-product and FP16 extensions where present).
func useArchKernels(k *kernelSet) {
	useNEON(k)
}
