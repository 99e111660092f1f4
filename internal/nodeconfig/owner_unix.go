//go:build unix

package nodeconfig

import (
	"io/fs"
	"syscall"
)

// owner returns the numeric owner and group of a file.
func owner(info fs.FileInfo) (uid, gid int, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}
