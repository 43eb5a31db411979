package ggml

import (
	"slices"
	"testing"
)

// TestTypeTable checks every type ggml defines (ggml.h's enum ggml_type and
// the block structs of ggml-common.h) and that no other id is valid.
func TestTypeTable(t *testing.T) {
	tests := []struct {
		id         uint32 // ggml's number for the type
		typ        Type
		name       string
		blockSize  int
		blockBytes int
	}{
		{0, TypeF32, "F32", 1, 4},
		{1, TypeF16, "F16", 1, 2},
		{2, TypeQ4_0, "Q4_0", 32, 18},
		{3, TypeQ4_1, "Q4_1", 32, 20},
		{6, TypeQ5_0, "Q5_0", 32, 22},
		{7, TypeQ5_1, "Q5_1", 32, 24},
		{8, TypeQ8_0, "Q8_0", 32, 34},
		{9, TypeQ8_1, "Q8_1", 32, 36},
		{10, TypeQ2_K, "Q2_K", 256, 84},
		{11, TypeQ3_K, "Q3_K", 256, 110},
		{12, TypeQ4_K, "Q4_K", 256, 144},
		{13, TypeQ5_K, "Q5_K", 256, 176},
		{14, TypeQ6_K, "Q6_K", 256, 210},
		{15, TypeQ8_K, "Q8_K", 256, 292},
		{16, TypeIQ2_XXS, "IQ2_XXS", 256, 66},
		{17, TypeIQ2_XS, "IQ2_XS", 256, 74},
		{18, TypeIQ3_XXS, "IQ3_XXS", 256, 98},
		{19, TypeIQ1_S, "IQ1_S", 256, 50},
		{20, TypeIQ4_NL, "IQ4_NL", 32, 18},
		{21, TypeIQ3_S, "IQ3_S", 256, 110},
		{22, TypeIQ2_S, "IQ2_S", 256, 82},
		{23, TypeIQ4_XS, "IQ4_XS", 256, 136},
		{24, TypeI8, "I8", 1, 1},
		{25, TypeI16, "I16", 1, 2},
		{26, TypeI32, "I32", 1, 4},
		{27, TypeI64, "I64", 1, 8},
		{28, TypeF64, "F64", 1, 8},
		{29, TypeIQ1_M, "IQ1_M", 256, 56},
		{30, TypeBF16, "BF16", 1, 2},
		{34, TypeTQ1_0, "TQ1_0", 256, 54},
		{35, TypeTQ2_0, "TQ2_0", 256, 66},
		{39, TypeMXFP4, "MXFP4", 32, 17},
		{40, TypeNVFP4, "NVFP4", 64, 36},
		{41, TypeQ1_0, "Q1_0", 128, 18},
		{42, TypeQ2_0, "Q2_0", 64, 18},
	}
	for _, tt := range tests {
		if uint32(tt.typ) != tt.id {
			t.Errorf("Type%s = %d, want %d", tt.name, uint32(tt.typ), tt.id)
		}
		if got := tt.typ.String(); got != tt.name {
			t.Errorf("%d.String() = %q, want %q", tt.typ, got, tt.name)
		}
		if got := tt.typ.BlockSize(); got != tt.blockSize {
			t.Errorf("%s.BlockSize() = %d, want %d", tt.name, got, tt.blockSize)
		}
		if got := tt.typ.BlockBytes(); got != tt.blockBytes {
			t.Errorf("%s.BlockBytes() = %d, want %d", tt.name, got, tt.blockBytes)
		}
		p, err := ParseType(tt.name)
		if err != nil || p != tt.typ {
			t.Errorf("ParseType(%q) = %v, %v", tt.name, p, err)
		}
	}
	var want []Type
	for _, tt := range tests {
		want = append(want, tt.typ)
	}
	if got := Types(); !slices.Equal(got, want) {
		t.Errorf("Types() = %v, want %v", got, want)
	}
	for _, id := range []Type{4, 5, 31, 32, 33, 36, 37, 38, 43, 1000} {
		if id.Valid() {
			t.Errorf("type id %d should not be valid", id)
		}
	}
	if _, err := TypeQ4_K.RowBytes(100); err == nil {
		t.Error("RowBytes(Q4_K, 100) should fail: not a multiple of 256")
	}
	if n, err := TypeQ4_K.RowBytes(512); err != nil || n != 288 {
		t.Errorf("RowBytes(Q4_K, 512) = %d, %v; want 288", n, err)
	}
}
