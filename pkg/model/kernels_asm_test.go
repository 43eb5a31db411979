//go:build !noasm

package model

// portableKernels reports a build with the portable Go kernels only
// (-tags noasm), which make test runs as the fallback and oracle.
const portableKernels = false
