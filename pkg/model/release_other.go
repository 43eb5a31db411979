//go:build !linux

package model

// release is a no-op where there is no MADV_PAGEOUT: the memory behind a
// packed copy's source stays mapped until the system reclaims it.
func release(b []byte) {}
