//go:build !noasm && (amd64 || arm64)

package cpu

// cpuRelax tells the CPU that the caller is spinning (PAUSE, YIELD).
//
//go:noescape
func cpuRelax()
