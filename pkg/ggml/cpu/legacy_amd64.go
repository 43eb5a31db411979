//go:build !noasm

package cpu

// useLegacyAMD64 installs the amd64 kernels for the float types and the
// 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) and the
// activation converters. None yet.
func useLegacyAMD64(k *kernelSet) {}
