//go:build noasm || !(amd64 || arm64)

package cpu

// cpuRelax would tell the CPU that the caller is spinning; without
// assembly it does nothing.
func cpuRelax() {}
