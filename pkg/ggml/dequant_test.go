package ggml

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomHalf returns the bits of a random finite binary16 value of
// moderate size, so that products of scales stay finite.
func randomHalf(r *rand.Rand) uint16 {
	v := float32(r.NormFloat64()) * 0.05
	return FP32ToFP16(v)
}

// randomBlocks returns nb random blocks of type t whose binary16 scale
// fields (listed in halfOffsets, per block) hold finite values.
func randomBlocks(r *rand.Rand, t Type, nb int) []byte {
	bs := t.BlockBytes()
	b := make([]byte, nb*bs)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	for i := 0; i < nb; i++ {
		blk := b[i*bs : (i+1)*bs]
		for _, off := range halfOffsets[t] {
			binary.LittleEndian.PutUint16(blk[off:], randomHalf(r))
		}
		if t == TypeQ8_K {
			binary.LittleEndian.PutUint32(blk, math.Float32bits(float32(r.NormFloat64())))
		}
	}
	return b
}

// halfOffsets gives the byte offsets of the binary16 fields of a block.
var halfOffsets = map[Type][]int{
	TypeQ4_0: {0}, TypeQ4_1: {0, 2}, TypeQ5_0: {0}, TypeQ5_1: {0, 2},
	TypeQ8_0: {0}, TypeQ8_1: {0, 2}, TypeQ2_K: {80, 82}, TypeQ3_K: {108},
	TypeQ4_K: {0, 2}, TypeQ5_K: {0, 2}, TypeQ6_K: {208}, TypeIQ4_NL: {0},
	TypeIQ4_XS: {0}, TypeTQ1_0: {52}, TypeTQ2_0: {64}, TypeQ1_0: {0}, TypeQ2_0: {0},
	TypeIQ2_XXS: {0}, TypeIQ2_XS: {0}, TypeIQ2_S: {0}, TypeIQ3_XXS: {0},
	TypeIQ3_S: {0}, TypeIQ1_S: {0},
}

// refElement computes element i of block b of type t directly from the
// format description: an independent statement of each layout, element by
// element, for checking Dequantize's block loops.
func refElement(t Type, b []byte, i int) float32 {
	h := func(off int) float32 { return FP16ToFP32(binary.LittleEndian.Uint16(b[off:])) }
	nib := func(x byte, high bool) int {
		if high {
			return int(x >> 4)
		}
		return int(x & 15)
	}
	switch t {
	case TypeQ4_0:
		return float32(nib(b[2+i%16], i >= 16)-8) * h(0)
	case TypeQ4_1:
		return float32(float32(nib(b[4+i%16], i >= 16))*h(0)) + h(2)
	case TypeQ5_0:
		qh := binary.LittleEndian.Uint32(b[2:])
		q := nib(b[6+i%16], i >= 16) + int(qh>>i&1)*16
		return float32(q-16) * h(0)
	case TypeQ5_1:
		qh := binary.LittleEndian.Uint32(b[4:])
		q := nib(b[8+i%16], i >= 16) + int(qh>>i&1)*16
		return float32(float32(q)*h(0)) + h(2)
	case TypeQ8_0:
		return float32(int8(b[2+i])) * h(0)
	case TypeQ8_1:
		return float32(int8(b[4+i])) * h(0)
	case TypeQ8_K:
		return math.Float32frombits(binary.LittleEndian.Uint32(b)) * float32(int8(b[4+i]))
	case TypeQ2_K:
		n, r := i/128, i%128
		q := int(b[16+32*n+r%32]>>(2*(r/32))) & 3
		sc := b[i/16]
		return float32(h(80)*float32(sc&15)*float32(q)) - h(82)*float32(sc>>4)
	case TypeQ3_K:
		n, r := i/128, i%128
		q := int(b[32+32*n+r%32]>>(2*(r/32))) & 3
		if b[r%32]>>(i/32)&1 == 0 {
			q -= 4
		}
		j := i / 16
		// 6-bit scale: low nibble from bytes 0..7, high pair from 8..11.
		lo := int(b[96+j%8]>>(4*(j/8))) & 15
		hi := int(b[104+j%4]>>(2*(j/4))) & 3
		return h(108) * float32(lo+hi*16-32) * float32(q)
	case TypeQ4_K, TypeQ5_K:
		c, r := i/64, i%64
		j := i / 32
		sc := b[4:16]
		var s, m int
		if j < 4 {
			s, m = int(sc[j]&63), int(sc[j+4]&63)
		} else {
			s = int(sc[j+4]&15) | int(sc[j-4]>>6)<<4
			m = int(sc[j+4]>>4) | int(sc[j]>>6)<<4
		}
		var q int
		if t == TypeQ4_K {
			q = nib(b[16+32*c+r%32], r >= 32)
		} else {
			q = nib(b[48+32*c+r%32], r >= 32) + 16*int(b[16+r%32]>>j&1)
		}
		return float32(h(0)*float32(s)*float32(q)) - h(2)*float32(m)
	case TypeQ6_K:
		n, r := i/128, i%128
		l, g := r%32, r/32
		lo := nib(b[64*n+l+32*(g%2)], g >= 2)
		hi := int(b[128+32*n+l]>>(2*g)) & 3
		return h(208) * float32(int8(b[192+i/16])) * float32(lo+hi*16-32)
	case TypeIQ4_NL:
		return h(0) * float32(kvaluesIQ4NL[nib(b[2+i%16], i >= 16)])
	case TypeIQ4_XS:
		ib, r := i/32, i%32
		ls := int(b[4+ib/2]>>(4*(ib%2)))&15 | int(binary.LittleEndian.Uint16(b[2:])>>(2*ib)&3)<<4
		return h(0) * float32(ls-32) * float32(kvaluesIQ4NL[nib(b[8+16*ib+r%16], r >= 16)])
	}
	panic("no reference for " + t.String())
}

func sameFloat(a, b float32) bool {
	return a == b || math.IsNaN(float64(a)) && math.IsNaN(float64(b))
}

func TestDequantizeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	types := []Type{TypeQ4_0, TypeQ4_1, TypeQ5_0, TypeQ5_1, TypeQ8_0, TypeQ8_1,
		TypeQ2_K, TypeQ3_K, TypeQ4_K, TypeQ5_K, TypeQ6_K, TypeQ8_K, TypeIQ4_NL, TypeIQ4_XS}
	for _, typ := range types {
		t.Run(typ.String(), func(t *testing.T) {
			const nb = 64
			bs, bb := typ.BlockSize(), typ.BlockBytes()
			src := randomBlocks(r, typ, nb)
			dst := make([]float32, nb*bs)
			if err := Dequantize(typ, src, dst); err != nil {
				t.Fatal(err)
			}
			for blk := 0; blk < nb; blk++ {
				for i := 0; i < bs; i++ {
					want := refElement(typ, src[blk*bb:(blk+1)*bb], i)
					if got := dst[blk*bs+i]; !sameFloat(got, want) {
						t.Fatalf("block %d element %d = %g, want %g", blk, i, got, want)
					}
				}
			}
		})
	}
}

func TestDequantizePlain(t *testing.T) {
	vals := []float32{0, 1, -2.5, 65504, 1e-7, float32(math.Inf(-1))}
	tests := []struct {
		typ Type
		enc func(float32) []byte
		tol float64
	}{
		{TypeF32, func(f float32) []byte { return binary.LittleEndian.AppendUint32(nil, math.Float32bits(f)) }, 0},
		{TypeF16, func(f float32) []byte { return binary.LittleEndian.AppendUint16(nil, FP32ToFP16(f)) }, 1e-3},
		{TypeBF16, func(f float32) []byte { return binary.LittleEndian.AppendUint16(nil, FP32ToBF16(f)) }, 1e-2},
		{TypeF64, func(f float32) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(float64(f))) }, 0},
	}
	for _, tt := range tests {
		var src []byte
		for _, v := range vals {
			src = append(src, tt.enc(v)...)
		}
		dst := make([]float32, len(vals))
		if err := Dequantize(tt.typ, src, dst); err != nil {
			t.Fatalf("%s: %v", tt.typ, err)
		}
		for i, v := range vals {
			got := float64(dst[i])
			if got != float64(v) && math.Abs(got-float64(v)) > tt.tol*math.Abs(float64(v))+1e-7 {
				t.Errorf("%s: element %d = %g, want %g", tt.typ, i, got, v)
			}
		}
	}
	ints := []struct {
		typ Type
		src []byte
	}{
		{TypeI8, []byte{0xff, 3}},
		{TypeI16, []byte{0xff, 0xff, 3, 0}},
		{TypeI32, []byte{0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0}},
		{TypeI64, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range ints {
		dst := make([]float32, 2)
		if err := Dequantize(tt.typ, tt.src, dst); err != nil {
			t.Fatalf("%s: %v", tt.typ, err)
		}
		if dst[0] != -1 || dst[1] != 3 {
			t.Errorf("%s: got %v, want [-1 3]", tt.typ, dst)
		}
	}
}

func TestDequantizeErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  Type
		src  int
		n    int
		want string
	}{
		{"short", TypeQ4_0, 17, 32, "need 18 bytes"},
		{"long", TypeQ4_0, 19, 32, "need 18 bytes"},
		{"partial block", TypeQ4_K, 144, 200, "not a multiple"},
		{"unknown type", Type(4), 0, 0, "not supported"},
		{"huge id", Type(1 << 30), 0, 0, "not supported"},
		{"f32 short", TypeF32, 7, 2, "need 8 bytes"},
	}
	for _, tt := range tests {
		err := Dequantize(tt.typ, make([]byte, tt.src), make([]float32, tt.n))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestCanDequantizeEveryType(t *testing.T) {
	for _, typ := range Types() {
		if !CanDequantize(typ) {
			t.Errorf("CanDequantize(%s) = false", typ)
		}
	}
	if CanDequantize(Type(4)) || CanDequantize(Type(1000)) {
		t.Error("CanDequantize accepts a retired or unknown id")
	}
}

// TestDequantizeAllTypesSmoke runs every supported type over random blocks
// and checks each output is finite when the block scales are.
func TestDequantizeAllTypesSmoke(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, typ := range Types() {
		if _, ok := halfOffsets[typ]; !ok {
			continue
		}
		src := randomBlocks(r, typ, 3)
		dst := make([]float32, 3*typ.BlockSize())
		if err := Dequantize(typ, src, dst); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		for i, v := range dst {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s: element %d = %v", typ, i, v)
			}
		}
	}
}
