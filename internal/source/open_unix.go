//go:build unix

package source

import (
	"errors"
	"io"
	"io/fs"
	"syscall"
)

// openFile opens path for reading and returns its size and mode. It calls
// the system directly: os.Open also tries to register every file with the
// network poller, five system calls that fail for a regular file, and a
// scan opens each input twice (to load it, and to place findings on their
// lines). O_NONBLOCK keeps a FIFO named like a manifest from blocking the
// open; it changes nothing for regular files.
func openFile(path string) (io.ReadCloser, int64, fs.FileMode, error) {
	var fd int
	err := retryInterrupted(func() (err error) {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
		return err
	})
	if err != nil {
		return nil, 0, 0, err
	}
	var st syscall.Stat_t
	if err := retryInterrupted(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		syscall.Close(fd)
		return nil, 0, 0, err
	}
	return rawFile(fd), st.Size, modeType(uint32(st.Mode)), nil
}

// rawFile reads a descriptor opened by openFile.
type rawFile int

func (f rawFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	err := retryInterrupted(func() (err error) {
		n, err = syscall.Read(int(f), p)
		return err
	})
	switch {
	case err != nil:
		return 0, err
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (f rawFile) Close() error { return syscall.Close(int(f)) }

func retryInterrupted(call func() error) error {
	for {
		if err := call(); !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// modeType is the file type of a stat mode, as os.Stat reports it.
func modeType(mode uint32) fs.FileMode {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		return 0
	case syscall.S_IFDIR:
		return fs.ModeDir
	case syscall.S_IFLNK:
		return fs.ModeSymlink
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		return fs.ModeDevice
	}
	return fs.ModeIrregular
}
