// Package ggml describes ggml's tensor element types: the type table (id,
// name, block size, bytes per block) and conversion of rows between float32
// and each storage format (dequantization and quantization).
//
// Layouts and numeric behaviour follow ggml, the library behind llama.cpp, so
// files written by either side are read by the other unchanged.
package ggml

import (
	"fmt"
	"strings"
)

// Type is a ggml tensor element type, numbered as ggml numbers them in GGUF.
type Type uint32

// The ggml types. Ids that ggml has retired (4, 5, 31-33, 36-38) have no
// constant and are not Valid.
const (
	TypeF32     Type = 0
	TypeF16     Type = 1
	TypeQ4_0    Type = 2
	TypeQ4_1    Type = 3
	TypeQ5_0    Type = 6
	TypeQ5_1    Type = 7
	TypeQ8_0    Type = 8
	TypeQ8_1    Type = 9
	TypeQ2_K    Type = 10
	TypeQ3_K    Type = 11
	TypeQ4_K    Type = 12
	TypeQ5_K    Type = 13
	TypeQ6_K    Type = 14
	TypeQ8_K    Type = 15
	TypeIQ2_XXS Type = 16
	TypeIQ2_XS  Type = 17
	TypeIQ3_XXS Type = 18
	TypeIQ1_S   Type = 19
	TypeIQ4_NL  Type = 20
	TypeIQ3_S   Type = 21
	TypeIQ2_S   Type = 22
	TypeIQ4_XS  Type = 23
	TypeI8      Type = 24
	TypeI16     Type = 25
	TypeI32     Type = 26
	TypeI64     Type = 27
	TypeF64     Type = 28
	TypeIQ1_M   Type = 29
	TypeBF16    Type = 30
	TypeTQ1_0   Type = 34
	TypeTQ2_0   Type = 35
	TypeMXFP4   Type = 39
	TypeNVFP4   Type = 40
	TypeQ1_0    Type = 41
	TypeQ2_0    Type = 42
)

// TypeInfo is one row of the type table.
type TypeInfo struct {
	Name       string // upper-case name as llama.cpp prints it ("Q4_K", "F16")
	BlockSize  int    // elements per block
	BlockBytes int    // bytes per block
	Quantized  bool   // stored as blocks with scales rather than plain numbers
}

// typeTable is indexed by Type; rows with an empty Name are unassigned ids.
var typeTable = [...]TypeInfo{
	TypeF32:     {"F32", 1, 4, false},
	TypeF16:     {"F16", 1, 2, false},
	TypeQ4_0:    {"Q4_0", 32, 18, true},
	TypeQ4_1:    {"Q4_1", 32, 20, true},
	TypeQ5_0:    {"Q5_0", 32, 22, true},
	TypeQ5_1:    {"Q5_1", 32, 24, true},
	TypeQ8_0:    {"Q8_0", 32, 34, true},
	TypeQ8_1:    {"Q8_1", 32, 36, true},
	TypeQ2_K:    {"Q2_K", 256, 84, true},
	TypeQ3_K:    {"Q3_K", 256, 110, true},
	TypeQ4_K:    {"Q4_K", 256, 144, true},
	TypeQ5_K:    {"Q5_K", 256, 176, true},
	TypeQ6_K:    {"Q6_K", 256, 210, true},
	TypeQ8_K:    {"Q8_K", 256, 292, true},
	TypeIQ2_XXS: {"IQ2_XXS", 256, 66, true},
	TypeIQ2_XS:  {"IQ2_XS", 256, 74, true},
	TypeIQ3_XXS: {"IQ3_XXS", 256, 98, true},
	TypeIQ1_S:   {"IQ1_S", 256, 50, true},
	TypeIQ4_NL:  {"IQ4_NL", 32, 18, true},
	TypeIQ3_S:   {"IQ3_S", 256, 110, true},
	TypeIQ2_S:   {"IQ2_S", 256, 82, true},
	TypeIQ4_XS:  {"IQ4_XS", 256, 136, true},
	TypeI8:      {"I8", 1, 1, false},
	TypeI16:     {"I16", 1, 2, false},
	TypeI32:     {"I32", 1, 4, false},
	TypeI64:     {"I64", 1, 8, false},
	TypeF64:     {"F64", 1, 8, false},
	TypeIQ1_M:   {"IQ1_M", 256, 56, true},
	TypeBF16:    {"BF16", 1, 2, false},
	TypeTQ1_0:   {"TQ1_0", 256, 54, true},
	TypeTQ2_0:   {"TQ2_0", 256, 66, true},
	TypeMXFP4:   {"MXFP4", 32, 17, true},
	TypeNVFP4:   {"NVFP4", 64, 36, true},
	TypeQ1_0:    {"Q1_0", 128, 18, true},
	TypeQ2_0:    {"Q2_0", 64, 18, true},
}

// Types returns every valid type in id order.
func Types() []Type {
	var ts []Type
	for i, info := range typeTable {
		if info.Name != "" {
			ts = append(ts, Type(i))
		}
	}
	return ts
}

// Valid reports whether t is a type ggml currently defines.
func (t Type) Valid() bool {
	return int(t) < len(typeTable) && typeTable[t].Name != ""
}

// Info returns t's row of the type table; ok is false for an unknown id.
func (t Type) Info() (info TypeInfo, ok bool) {
	if !t.Valid() {
		return TypeInfo{}, false
	}
	return typeTable[t], true
}

// String returns the type's name, or "type(N)" for an unknown id.
func (t Type) String() string {
	if !t.Valid() {
		return fmt.Sprintf("type(%d)", uint32(t))
	}
	return typeTable[t].Name
}

// BlockSize returns the number of elements in one block (1 for plain types,
// 0 for an unknown id).
func (t Type) BlockSize() int {
	if !t.Valid() {
		return 0
	}
	return typeTable[t].BlockSize
}

// BlockBytes returns the bytes one block occupies (0 for an unknown id).
func (t Type) BlockBytes() int {
	if !t.Valid() {
		return 0
	}
	return typeTable[t].BlockBytes
}

// IsQuantized reports whether t stores blocks with scales.
func (t Type) IsQuantized() bool {
	return t.Valid() && typeTable[t].Quantized
}

// RowBytes returns the bytes a row of n elements occupies. It fails when t
// is unknown or n is not a whole number of blocks.
func (t Type) RowBytes(n int64) (int64, error) {
	if !t.Valid() {
		return 0, fmt.Errorf("ggml: unknown type id %d", uint32(t))
	}
	info := typeTable[t]
	if n < 0 {
		return 0, fmt.Errorf("ggml: %s: negative element count %d", info.Name, n)
	}
	if n%int64(info.BlockSize) != 0 {
		return 0, fmt.Errorf("ggml: %s: %d elements is not a multiple of the block size %d", info.Name, n, info.BlockSize)
	}
	return n / int64(info.BlockSize) * int64(info.BlockBytes), nil
}

// ParseType returns the type named name, case-insensitively ("q4_k", "F16").
func ParseType(name string) (Type, error) {
	for i, info := range typeTable {
		if info.Name != "" && strings.EqualFold(info.Name, name) {
			return Type(i), nil
		}
	}
	return 0, fmt.Errorf("ggml: unknown type %q", name)
}
