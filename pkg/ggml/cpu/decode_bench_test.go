package cpu

import (
	"fmt"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// Benchmarks of generation (n = 1) on TinyLlama-1.1B's shapes. Each
// benchmark cycles through copies of its weights that together exceed the
// last-level cache, so that the weights stream from memory as they do when
// a model generates; the MB/s column is weight bytes per second.

// decodeTypes are the weight types of the usual model files.
var decodeTypes = []ggml.Type{ggml.TypeQ4_0, ggml.TypeQ8_0, ggml.TypeQ4_K, ggml.TypeQ5_K, ggml.TypeQ6_K, ggml.TypeF16}

// decodeShapes are the rows×cols of TinyLlama's matrices: query and output
// projections, key and value projections, gate and up, down, and the
// output layer.
var decodeShapes = [][2]int{{2048, 2048}, {256, 2048}, {5632, 2048}, {2048, 5632}, {32000, 2048}}

// streamCopies returns copies of m, sharing nothing, that together hold at
// least 256 MiB.
func streamCopies(m Matrix) []Matrix {
	n := max(2, (256<<20+len(m.Data)-1)/len(m.Data))
	ms := make([]Matrix, n)
	for i := range ms {
		ms[i] = m
		ms[i].Data = append([]byte(nil), m.Data...)
		if m.packed != nil {
			ms[i].packed = append([]byte(nil), m.packed...)
		}
	}
	return ms
}

func scalesOfType(t ggml.Type) []int {
	for _, wt := range weightTypes {
		if wt.t == t {
			return wt.scales
		}
	}
	return nil
}

func BenchmarkMatVec(b *testing.B) {
	for _, t := range decodeTypes {
		for _, shape := range decodeShapes {
			rows, cols := shape[0], shape[1]
			r := newRand()
			m, err := NewMatrix(t, rows, cols, randomWeights(r, t, scalesOfType(t), rows, cols))
			if err != nil {
				b.Fatal(err)
			}
			x := randomFloats(r, cols, 1)
			out := make([]float32, rows)
			for _, packed := range []bool{false, true} {
				m := m
				name := "rows"
				if packed {
					if m = Pack(m); m.packed == nil {
						continue
					}
					name = "packed"
				}
				ms := streamCopies(m)
				for _, threads := range []int{1, 2} {
					b.Run(fmt.Sprintf("%v/%dx%d/%s/t=%d", t, rows, cols, name, threads), func(b *testing.B) {
						pool := NewPool(threads)
						defer pool.Close()
						var ws Workspace
						MatMul(pool, &ws, m, x, 1, out)
						b.SetBytes(int64(len(m.Data)))
						i := 0
						for b.Loop() {
							MatMul(pool, &ws, ms[i], x, 1, out)
							if i++; i == len(ms) {
								i = 0
							}
						}
					})
				}
			}
		}
	}
}

// BenchmarkDecodeMatMuls runs the matrix products of one generated token of
// TinyLlama-1.1B (22 layers of query, key, value, output, gate, up and
// down projections, then the output layer) on 2 threads, with the
// activation conversions shared as a model shares them. Q4_K_M stands for
// the mix of such a file: Q4_K, with Q6_K for the value and down
// projections of half the layers and for the output layer.
func BenchmarkDecodeMatMuls(b *testing.B) {
	type layerTypes struct{ attn, v, ffn, down, out ggml.Type }
	models := []struct {
		name  string
		types func(l int) layerTypes
	}{
		{"Q4_0", func(int) layerTypes {
			return layerTypes{ggml.TypeQ4_0, ggml.TypeQ4_0, ggml.TypeQ4_0, ggml.TypeQ4_0, ggml.TypeQ6_K}
		}},
		{"Q8_0", func(int) layerTypes {
			return layerTypes{ggml.TypeQ8_0, ggml.TypeQ8_0, ggml.TypeQ8_0, ggml.TypeQ8_0, ggml.TypeQ8_0}
		}},
		{"Q4_K_M", func(l int) layerTypes {
			if l%2 == 0 {
				return layerTypes{ggml.TypeQ4_K, ggml.TypeQ6_K, ggml.TypeQ4_K, ggml.TypeQ6_K, ggml.TypeQ6_K}
			}
			return layerTypes{ggml.TypeQ4_K, ggml.TypeQ4_K, ggml.TypeQ4_K, ggml.TypeQ4_K, ggml.TypeQ6_K}
		}},
		{"F16", func(int) layerTypes {
			return layerTypes{ggml.TypeF16, ggml.TypeF16, ggml.TypeF16, ggml.TypeF16, ggml.TypeF16}
		}},
	}
	const layers, dim, kv, ff, vocab = 22, 2048, 256, 5632, 32000
	for _, md := range models {
		for _, packed := range []bool{false, true} {
			name := md.name
			if packed {
				name += "/packed"
			}
			b.Run(name, func(b *testing.B) {
				r := newRand()
				protos := map[[3]int]Matrix{}
				mat := func(t ggml.Type, rows, cols int) Matrix {
					key := [3]int{int(t), rows, cols}
					p, ok := protos[key]
					if !ok {
						p, _ = NewMatrix(t, rows, cols, randomWeights(r, t, scalesOfType(t), rows, cols))
						protos[key] = p
					}
					p.Data = append([]byte(nil), p.Data...)
					if packed {
						p = Pack(p)
					}
					return p
				}
				type layer struct{ q, k, v, o, gate, up, down Matrix }
				ls := make([]layer, layers)
				var total int
				for l := range ls {
					lt := md.types(l)
					ls[l] = layer{
						mat(lt.attn, dim, dim), mat(lt.attn, kv, dim), mat(lt.v, kv, dim), mat(lt.attn, dim, dim),
						mat(lt.ffn, ff, dim), mat(lt.ffn, ff, dim), mat(lt.down, dim, ff),
					}
					for _, m := range []Matrix{ls[l].q, ls[l].k, ls[l].v, ls[l].o, ls[l].gate, ls[l].up, ls[l].down} {
						total += len(m.Data)
					}
				}
				output := mat(md.types(0).out, vocab, dim)
				total += len(output.Data)
				x := randomFloats(r, ff, 1)
				out := make([]float32, vocab)
				pool := NewPool(2)
				defer pool.Close()
				var ws Workspace
				mm := func(m Matrix, x []float32) {
					vt, _ := VecDotType(m.Type)
					a := QuantizeActivations(pool, &ws, vt, x[:m.Cols], 1, m.Cols)
					MatMulQuantized(pool, &ws, m, a, out)
				}
				b.SetBytes(int64(total))
				for b.Loop() {
					for _, l := range ls {
						vt, _ := VecDotType(l.q.Type)
						a := QuantizeActivations(pool, &ws, vt, x[:dim], 1, dim)
						MatMulQuantized(pool, &ws, l.q, a, out)
						MatMulQuantized(pool, &ws, l.k, a, out)
						if l.v.Type == l.q.Type {
							MatMulQuantized(pool, &ws, l.v, a, out)
						} else {
							mm(l.v, x)
						}
						mm(l.o, x)
						vt, _ = VecDotType(l.gate.Type)
						a = QuantizeActivations(pool, &ws, vt, x[:dim], 1, dim)
						MatMulQuantized(pool, &ws, l.gate, a, out)
						MatMulQuantized(pool, &ws, l.up, a, out)
						mm(l.down, x)
					}
					mm(output, x)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
			})
		}
	}
}
