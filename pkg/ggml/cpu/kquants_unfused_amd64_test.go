//go:build !noasm && !amd64.v3

package cpu

// genericUnfused reports that the compiler rounds every float32 operation
// of the generic kernels separately (below GOAMD64=v3 it does not fuse
// x*y+z into FMA), so the SIMD kernels, which follow the same operation
// order, must give bit-identical results.
const genericUnfused = true
