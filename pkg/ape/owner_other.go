//go:build !unix

package ape

import "io/fs"

// checkOwner accepts every directory: on Windows the per-user
// %LocalAppData% is private through its access control list.
func checkOwner(fs.FileInfo) error { return nil }
