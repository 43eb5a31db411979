//go:build !noasm

package cpu

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// neonVariants are the feature sets to test: what the CPU has and, where it
// has the dot-product extension, plain ARMv8.0 NEON too.
func neonVariants(t *testing.T) []neonFeatures {
	f := detectNEON()
	t.Logf("CPU: %+v", f)
	if !f.asimd {
		t.Skip("CPU lacks Advanced SIMD")
	}
	vs := []neonFeatures{f}
	if f.dotProd {
		vs = append(vs, neonFeatures{asimd: true})
	}
	return vs
}

func funcName(f any) string {
	name := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
	return name[strings.LastIndexByte(name, '.')+1:]
}

// neonKernels returns the kernel set for f and the weight types whose
// vec_dot kernel it replaces.
func neonKernels(t *testing.T, f neonFeatures) (*kernelSet, []ggml.Type) {
	k, g := genericKernelSet(), genericKernelSet()
	useNEONFeatures(k, f)
	var types []ggml.Type
	var names []string
	for _, wt := range weightTypes {
		if reflect.ValueOf(k.vecDot[wt.t]).Pointer() != reflect.ValueOf(g.vecDot[wt.t]).Pointer() {
			types = append(types, wt.t)
			names = append(names, wt.t.String()+":"+funcName(k.vecDot[wt.t]))
		}
	}
	t.Logf("features %+v: %s, dotF32:%s", f, strings.Join(names, " "), funcName(k.dotF32))
	return k, types
}

func scaleOffsets(wt ggml.Type) []int {
	for _, w := range weightTypes {
		if w.t == wt {
			return w.scales
		}
	}
	panic("no weight type " + wt.String())
}

// neonCols are row lengths for a kernel test: one block, a few blocks (the
// kernels' one-block tail and four-block loop), and a long row.
func neonCols(t ggml.Type) []int {
	switch t.BlockSize() {
	case 1:
		return []int{0, 1, 3, 7, 31, 63, 64, 65, 127, 128, 129, 192, 1000, 4099}
	case 32:
		return []int{32, 64, 96, 128, 160, 192, 224, 4096 + 96}
	default:
		return []int{256, 512, 768, 1024, 1280, 4096 + 256}
	}
}

// unitActivations returns a random activation row of vec_dot type vt whose
// block scales are 1, so that every dot product is a sum of integers.
func unitActivations(r *rand.Rand, vt ggml.Type, cols int) []byte {
	rs, _ := actRowBytes(vt, cols)
	b := make([]byte, rs)
	q := func() byte { return byte(int8(r.IntN(255) - 127)) }
	switch vt {
	case ggml.TypeQ8_0:
		for i := 0; i < len(b); i += q8_0Bytes {
			putHalf(b[i:], 1)
			for j := 2; j < q8_0Bytes; j++ {
				b[i+j] = q()
			}
		}
	case ggml.TypeQ8_1:
		for i := 0; i < len(b); i += q8_1Bytes {
			putHalf(b[i:], 1)
			var s int
			for j := 4; j < q8_1Bytes; j++ {
				b[i+j] = q()
				s += int(int8(b[i+j]))
			}
			putHalf(b[i+2:], float32(s))
		}
	case ggml.TypeQ8_K:
		for i := 0; i < len(b); i += q8_KBytes {
			binary.LittleEndian.PutUint32(b[i:], math.Float32bits(1))
			for g := 0; g < 16; g++ {
				var s int
				for j := 0; j < 16; j++ {
					b[i+4+16*g+j] = q()
					s += int(int8(b[i+4+16*g+j]))
				}
				binary.LittleEndian.PutUint16(b[i+q8KBsumsOff+2*g:], uint16(int16(s)))
			}
		}
	default:
		return nil
	}
	return b
}

// refDot is the float64 dot product of a weight row and an activation row
// (from ggml.Dequantize) and the sum of the products' magnitudes.
func refDot(wt ggml.Type, w, a []byte, cols int) (dot, mag float64) {
	vt := vecDotTypes[wt]
	act := dequantActivations(vt, a, cols)
	wf := make([]float32, cols)
	rb, _ := RowBytes(wt, cols)
	if err := ggml.Dequantize(wt, w[:rb], wf); err != nil {
		panic(err)
	}
	for j, v := range wf {
		dot += float64(v) * act[j]
		mag += math.Abs(float64(v) * act[j])
	}
	if vt == ggml.TypeQ8_1 {
		dot += q8_1Correction(w, a, wt.BlockBytes(), cols, act)
	}
	return dot, mag
}

// TestNEONVecDot compares every NEON dot-product kernel the CPU supports
// with the generic one (bit for bit) and with a float64 reference: on rows whose block
// scales are 1 (integer sums, so any error in the integer part shows) and
// on random rows.
func TestNEONVecDot(t *testing.T) {
	g := genericKernelSet()
	for _, f := range neonVariants(t) {
		k, types := neonKernels(t, f)
		for _, wt := range types {
			vt := vecDotTypes[wt]
			r := newRand()
			for _, cols := range neonCols(wt) {
				for trial := 0; trial < 4; trial++ {
					w := randomWeights(r, wt, scaleOffsets(wt), 1, cols)
					a := unitActivations(r, vt, cols)
					unit := a != nil && trial < 2
					if unit {
						rb, _ := RowBytes(wt, cols)
						for b := 0; b < rb; b += wt.BlockBytes() {
							for _, off := range scaleOffsets(wt) {
								putHalf(w[b+off:], 1)
							}
						}
					} else {
						a = make([]byte, mustActRowBytes(vt, cols))
						g.convert[vt](a, randomFloats(r, cols, 1))
					}
					got, want := k.vecDot[wt](cols, w, a), g.vecDot[wt](cols, w, a)
					// Same lanes, same order, same fused multiply-adds
					// as the generic kernels built for arm64: bit for bit.
					if math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("%+v %v n=%d: %s = %g, generic %g", f, wt, cols, funcName(k.vecDot[wt]), got, want)
					}
					if wt == ggml.TypeF32 || wt == ggml.TypeF16 {
						continue
					}
					ref, mag := refDot(wt, w, a, cols)
					if unit && mag < 1<<24 {
						// Every partial sum is an integer below 2^24: exact.
						if float64(got) != ref || float64(want) != ref {
							t.Fatalf("%+v %v n=%d unit scales: %s = %g, generic %g, exact %g", f, wt, cols, funcName(k.vecDot[wt]), got, want, ref)
						}
						continue
					}
					if d := math.Abs(float64(got) - ref); d > 2e-6*mag+1e-30 {
						t.Fatalf("%+v %v n=%d: %s = %g, float64 reference %g (diff %.3g, scale %.3g; generic %g)",
							f, wt, cols, funcName(k.vecDot[wt]), got, ref, d, mag, want)
					}
					if d := math.Abs(float64(got - want)); d > 2e-6*mag+1e-30 {
						t.Fatalf("%+v %v n=%d: %s = %g, generic %g (diff %.3g, scale %.3g)",
							f, wt, cols, funcName(k.vecDot[wt]), got, want, d, mag)
					}
				}
			}
		}
	}
}

func mustActRowBytes(vt ggml.Type, cols int) int {
	rs, err := actRowBytes(vt, cols)
	if err != nil {
		panic(err)
	}
	return int(rs)
}

// TestNEONDotF32 checks that Dot and the F32 dot-product kernel agree with
// the generic kernels bit for bit.
func TestNEONDotF32(t *testing.T) {
	g := genericKernelSet()
	for _, f := range neonVariants(t) {
		k, _ := neonKernels(t, f)
		r := newRand()
		for _, n := range neonCols(ggml.TypeF32) {
			a, b := randomFloats(r, n, 1), randomFloats(r, n, 1)
			got, want := k.dotF32(a, b), g.dotF32(a, b)
			var ref, mag float64
			for i := range a {
				ref += float64(a[i]) * float64(b[i])
				mag += math.Abs(float64(a[i]) * float64(b[i]))
			}
			if math.Float32bits(got) != math.Float32bits(want) || math.Abs(float64(got)-ref) > 2e-6*mag {
				t.Fatalf("%+v n=%d: %s = %g, generic %g, float64 %g", f, n, funcName(k.dotF32), got, want, ref)
			}
			wa, wb := make([]byte, 4*n), make([]byte, 4*n)
			convertF32Generic(wa, a)
			convertF32Generic(wb, b)
			if v := k.vecDot[ggml.TypeF32](n, wa, wb); math.Float32bits(v) != math.Float32bits(got) {
				t.Fatalf("%+v n=%d: %s = %g, %s %g", f, n, funcName(k.vecDot[ggml.TypeF32]), v, funcName(k.dotF32), got)
			}
		}
	}
}

// TestNEONMatMul runs MatMul with each NEON kernel set (n = 1 and n > 1)
// against the float64 references of checkMatMul.
func TestNEONMatMul(t *testing.T) {
	saved := kern
	defer func() { kern = saved }()
	pool := NewPool(2)
	defer pool.Close()
	var ws Workspace
	for _, f := range neonVariants(t) {
		k, types := neonKernels(t, f)
		kern = k
		r := newRand()
		for _, wt := range types {
			for _, cols := range neonCols(wt)[:3] {
				for _, shape := range [][2]int{{1, 1}, {7, 1}, {19, 5}} {
					rows, n := shape[0], shape[1]
					m, err := NewMatrix(wt, rows, cols, randomWeights(r, wt, scaleOffsets(wt), rows, cols))
					if err != nil {
						t.Fatal(err)
					}
					checkMatMul(t, pool, &ws, m, randomFloats(r, n*cols, 1), n)
				}
			}
		}
		kern = saved
	}
}
