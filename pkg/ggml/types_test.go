package ggml

import "testing"

func TestTypeTable(t *testing.T) {
	tests := []struct {
		typ        Type
		name       string
		blockSize  int
		blockBytes int
	}{
		{TypeF32, "F32", 1, 4},
		{TypeF16, "F16", 1, 2},
		{TypeBF16, "BF16", 1, 2},
		{TypeQ4_0, "Q4_0", 32, 18},
		{TypeQ8_0, "Q8_0", 32, 34},
		{TypeQ2_K, "Q2_K", 256, 84},
		{TypeQ6_K, "Q6_K", 256, 210},
		{TypeQ8_K, "Q8_K", 256, 292},
		{TypeIQ4_XS, "IQ4_XS", 256, 136},
		{TypeIQ1_M, "IQ1_M", 256, 56},
		{TypeMXFP4, "MXFP4", 32, 17},
	}
	for _, tt := range tests {
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
	for _, id := range []Type{4, 5, 31, 36, 43, 1000} {
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
