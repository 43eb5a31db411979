//go:build noasm || !(amd64 || arm64)

package cpu

// useArchKernels replaces entries of k with SIMD kernels the CPU supports.
// This build has none (the noasm tag, or a CPU without assembly kernels):
// every entry stays generic Go.
func useArchKernels(k *kernelSet) {}
