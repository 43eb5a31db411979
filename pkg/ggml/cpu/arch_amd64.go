//go:build !noasm

package cpu

// useArchKernels replaces entries of k with the amd64 SIMD kernels the CPU
// supports (chosen from golang.org/x/sys/cpu feature bits). Each kernel
// family installs itself from its own file.
func useArchKernels(k *kernelSet) {
	useLegacyAMD64(k)
	useKQuantsAMD64(k)
}
