//go:build !noasm

package cpu

// useKQuantsAMD64 installs the amd64 kernels for the K-quant types (Q2_K to
// Q6_K, IQ4_XS) against Q8_K activations. None yet.
func useKQuantsAMD64(k *kernelSet) {}
