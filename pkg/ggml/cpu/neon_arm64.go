//go:build !noasm

package cpu

// useNEON installs the arm64 NEON kernels. None yet.
func useNEON(k *kernelSet) {}
