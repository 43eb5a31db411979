package ggml_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

func openGGUF(t *testing.T, path string) *gguf.File {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// f32Data returns an F32 tensor's values.
func f32Data(t *testing.T, f *gguf.File, ti *gguf.TensorInfo) []float32 {
	t.Helper()
	if ti.Type != ggml.TypeF32 {
		t.Fatalf("tensor %s is %s, want F32", ti.Name, ti.Type)
	}
	b := f.TensorData(ti)
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

func rmsDiff(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s / float64(len(a)))
}

func isKQuant(t ggml.Type) bool {
	switch t {
	case ggml.TypeQ2_K, ggml.TypeQ3_K, ggml.TypeQ4_K, ggml.TypeQ5_K, ggml.TypeQ6_K:
		return true
	}
	return false
}

// TestQuantizeMatchesLlamaCpp quantizes the F32 synthetic models' tensors
// and compares with llama.cpp's quantizations of them: legacy, F16 and BF16
// bytes must be identical; K-quants must have a round-trip RMS error within
// 2% of llama.cpp's (their byte agreement is reported too).
func TestQuantizeMatchesLlamaCpp(t *testing.T) {
	type stat struct{ tensors, blocks, same int }
	for _, base := range []string{"synth-llama", "synth-moe"} {
		ref := openGGUF(t, testutil.SharedFile(t, "testdata/models/"+base+"-f32.gguf"))
		for _, path := range testutil.SharedGlob(t, "testdata/models/"+base+"-*.gguf") {
			name := strings.TrimSuffix(filepath.Base(path), ".gguf")
			if strings.HasSuffix(name, "-f32") {
				continue
			}
			t.Run(name, func(t *testing.T) {
				q := openGGUF(t, path)
				stats := map[ggml.Type]*stat{}
				ourSE, refSE := map[ggml.Type]float64{}, map[ggml.Type]float64{}
				for i := range q.Tensors {
					ti := &q.Tensors[i]
					src, ok := ref.Tensor(ti.Name)
					if !ok {
						t.Fatalf("tensor %s missing from the F32 model", ti.Name)
					}
					if ti.Type == ggml.TypeF32 {
						if !bytes.Equal(q.TensorData(ti), ref.TensorData(src)) {
							t.Errorf("F32 tensor %s differs from the source", ti.Name)
						}
						continue
					}
					x := f32Data(t, ref, src)
					got, err := ggml.Quantize(ti.Type, x, int(ti.Dims[0]), nil)
					if err != nil {
						t.Fatalf("tensor %s: %v", ti.Name, err)
					}
					want := q.TensorData(ti)
					if len(got) != len(want) {
						t.Fatalf("tensor %s (%s): %d bytes, want %d", ti.Name, ti.Type, len(got), len(want))
					}
					st := stats[ti.Type]
					if st == nil {
						st = &stat{}
						stats[ti.Type] = st
					}
					st.tensors++
					bb := ti.Type.BlockBytes()
					for o := 0; o < len(got); o += bb {
						st.blocks++
						if bytes.Equal(got[o:o+bb], want[o:o+bb]) {
							st.same++
						}
					}
					if !isKQuant(ti.Type) {
						if !bytes.Equal(got, want) {
							t.Errorf("tensor %s (%s): bytes differ from llama.cpp's", ti.Name, ti.Type)
						}
						continue
					}
					ours := make([]float32, len(x))
					theirs := make([]float32, len(x))
					if err := ggml.Dequantize(ti.Type, got, ours); err != nil {
						t.Fatal(err)
					}
					if err := ggml.Dequantize(ti.Type, want, theirs); err != nil {
						t.Fatal(err)
					}
					eo, er := rmsDiff(ours, x), rmsDiff(theirs, x)
					if eo > er*1.02 {
						t.Errorf("tensor %s (%s): RMS error %.6g, llama.cpp's %.6g (more than 2%% worse)", ti.Name, ti.Type, eo, er)
					}
					n := float64(len(x))
					ourSE[ti.Type] += eo * eo * n
					refSE[ti.Type] += er * er * n
				}
				for _, typ := range ggml.Types() {
					st := stats[typ]
					if st == nil {
						continue
					}
					line := ""
					if isKQuant(typ) {
						line = " RMS ours/llama.cpp " + ratio(ourSE[typ], refSE[typ])
					}
					t.Logf("%-5s %2d tensors, %6d/%6d blocks identical%s", typ, st.tensors, st.same, st.blocks, line)
				}
			})
		}
	}
}

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.5f", math.Sqrt(a/b))
}

// halfValue decodes binary16 bits with float64 arithmetic, independently
// of ggml.FP16ToFP32.
func halfValue(h uint16) float32 {
	exp, mant := int(h>>10&0x1f), float64(h&0x3ff)
	var v float64
	switch {
	case exp == 0x1f && mant != 0:
		return float32(math.NaN())
	case exp == 0x1f:
		v = math.Inf(1)
	case exp == 0:
		v = math.Ldexp(mant, -24)
	default:
		v = math.Ldexp(1+mant/1024, exp-15)
	}
	if h&0x8000 != 0 {
		v = -v
	}
	return float32(v)
}

// TestDequantizeSharedModels dequantizes every tensor of every shared model
// and compares each element with a direct evaluation of its format.
func TestDequantizeSharedModels(t *testing.T) {
	for _, path := range testutil.SharedGlob(t, "testdata/models/*.gguf") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f := openGGUF(t, path)
			counts := map[ggml.Type]int{}
			for i := range f.Tensors {
				ti := &f.Tensors[i]
				data := f.TensorData(ti)
				n := int(ti.Elements())
				got := make([]float32, n)
				if err := ggml.Dequantize(ti.Type, data, got); err != nil {
					t.Fatalf("tensor %s: %v", ti.Name, err)
				}
				counts[ti.Type]++
				bs, bb := ti.Type.BlockSize(), ti.Type.BlockBytes()
				for j := 0; j < n; j++ {
					var want float32
					switch ti.Type {
					case ggml.TypeF32:
						want = math.Float32frombits(binary.LittleEndian.Uint32(data[4*j:]))
					case ggml.TypeF16:
						want = halfValue(binary.LittleEndian.Uint16(data[2*j:]))
					case ggml.TypeBF16:
						want = math.Float32frombits(uint32(binary.LittleEndian.Uint16(data[2*j:])) << 16)
					default:
						b := j / bs
						want = ggml.RefElement(ti.Type, data[b*bb:(b+1)*bb], j%bs)
					}
					if got[j] != want && !(math.IsNaN(float64(got[j])) && math.IsNaN(float64(want))) {
						t.Fatalf("tensor %s (%s) element %d = %g, want %g", ti.Name, ti.Type, j, got[j], want)
					}
				}
			}
			t.Logf("tensors by type: %v", counts)
		})
	}
}
