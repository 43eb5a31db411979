//go:build !noasm

package cpu

import "golang.org/x/sys/unix"

// neonDotProdOS reports FEAT_DotProd on macOS, where golang.org/x/sys/cpu
// assumes only the ARMv8.0 baseline: the kernel publishes the feature as a
// sysctl (every Apple silicon Mac has it).
func neonDotProdOS() bool {
	v, err := unix.SysctlUint32("hw.optional.arm.FEAT_DotProd")
	return err == nil && v == 1
}
