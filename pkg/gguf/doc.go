// Package gguf reads and writes GGUF, llama.cpp's model file format.
//
// A GGUF file holds a header, typed metadata key-value pairs, tensor
// descriptions (name, shape, ggml element type, offset) and an aligned data
// section with the tensor contents. Versions 1, 2 and 3 are read (version 1
// uses 32-bit lengths and counts); version 3 is written. Files are
// little-endian; big-endian files are rejected with a clear error.
//
// The reader treats its input as untrusted: every count, length, offset and
// shape is checked against the size of the file before anything is
// allocated, and malformed input yields an error, never a panic. Open maps
// the file into memory and TensorData returns slices of that mapping
// without copying; metadata is decoded into ordinary Go values.
//
// Write and Writer produce GGUF v3, computing tensor offsets from sizes and
// the alignment, and stream tensor data one tensor at a time.
package gguf
