//go:build !unix

package source

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// openFile opens path for reading and returns its size and mode.
func openFile(path string) (io.ReadCloser, int64, fs.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, errors.Unwrap(err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, 0, err
	}
	return f, info.Size(), info.Mode(), nil
}
