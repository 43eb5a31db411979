//go:build !noasm && amd64.v3

package cpu

// genericUnfused is false with GOAMD64=v3 or higher, where the compiler may
// fuse the generic kernels' x*y+z into FMA: the SIMD kernels then agree
// with them only to rounding.
const genericUnfused = false
