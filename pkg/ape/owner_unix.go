//go:build unix

package ape

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner reports an error unless fi belongs to the effective user.
func checkOwner(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("cannot read the owner")
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("owned by uid %d, not %d", st.Uid, uid)
	}
	return nil
}
