// Package atomicfile writes a file under a temporary name in its
// destination's directory and renames it into place only once it is
// complete, so that no reader ever sees a partial file and a failed write
// leaves nothing behind.
//
// The usual pattern:
//
//	f, err := atomicfile.Create(dest, "."+filepath.Base(dest)+".tmp-*")
//	if err != nil {
//		return err
//	}
//	defer f.Abort()
//	// write to f, then f.Chmod, f.Sync as needed
//	return f.Commit()
package atomicfile

import (
	"os"
	"path/filepath"
)

// File is a temporary file that becomes its destination on Commit. Its
// embedded *os.File is open for reading and writing until Commit or Abort.
type File struct {
	*os.File
	dest      string
	committed bool
}

// Create creates a new temporary file in the directory of dest (the current
// directory for a bare file name), named from pattern as os.CreateTemp
// does: the last "*" is replaced by a random string. The file has mode 0600
// until changed with Chmod.
func Create(dest, pattern string) (*File, error) {
	f, err := os.CreateTemp(filepath.Dir(dest), pattern)
	if err != nil {
		return nil, err
	}
	return &File{File: f, dest: dest}, nil
}

// Commit closes the file and renames it to its destination, replacing any
// file there. The errors are os's, naming the file.
func (f *File) Commit() error {
	if err := f.File.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), f.dest); err != nil {
		return err
	}
	f.committed = true
	return nil
}

// Abort closes and removes the temporary file unless Commit has succeeded,
// in which case it does nothing; defer it right after Create.
func (f *File) Abort() {
	if f.committed {
		return
	}
	f.File.Close()
	os.Remove(f.Name())
}
