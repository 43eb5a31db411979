//go:build !noasm

package cpu

// cpuid executes CPUID with the given leaf and sub-leaf.
//
//go:noescape
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// hasF16C reports the F16C extension (CPUID.1:ECX bit 29), which
// golang.org/x/sys/cpu does not report.
func hasF16C() bool {
	_, _, ecx, _ := cpuid(1, 0)
	return ecx&(1<<29) != 0
}
