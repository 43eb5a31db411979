package mmap

import "errors"

var errTooLarge = errors.New("range too large to map")
