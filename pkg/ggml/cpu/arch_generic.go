package cpu

// useArchKernels replaces entries of k with SIMD kernels the CPU supports.
// There are none yet: every entry stays generic Go.
func useArchKernels(k *kernelSet) {}
