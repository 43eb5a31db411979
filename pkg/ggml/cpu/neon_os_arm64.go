//go:build !noasm && !darwin

package cpu

// neonDotProdOS reports dot-product support that golang.org/x/sys/cpu does
// not detect on this system: none beyond what it reads.
func neonDotProdOS() bool { return false }
