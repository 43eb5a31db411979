package quant

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

func TestParseFileType(t *testing.T) {
	tests := []struct {
		in   string
		want FileType
		err  bool
	}{
		{"Q4_0", FileTypeQ4_0, false},
		{"q4_k_m", FileTypeQ4_K_M, false},
		{"Q4_K", FileTypeQ4_K_M, false},
		{"q3_k", FileTypeQ3_K_M, false},
		{"Q5_K", FileTypeQ5_K_M, false},
		{"bf16", FileTypeBF16, false},
		{"F32", FileTypeF32, false},
		{"f16", FileTypeF16, false},
		{"mxfp4_moe", FileTypeMXFP4, false},
		{"15", FileTypeQ4_K_M, false},
		{"7", FileTypeQ8_0, false},
		{"0", FileTypeF32, false},
		{"32", FileTypeBF16, false},
		{"4", 0, true},  // retired
		{"39", 0, true}, // not offered by llama-quantize
		{"Q4_2", 0, true},
		{"", 0, true},
		{"-1", 0, true},
		{"Q4_K_MM", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseFileType(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseFileType(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.in)) {
			t.Errorf("ParseFileType(%q) error %q does not name the input", tt.in, err)
		}
	}
	for ft, want := range map[FileType]bool{FileTypeQ4_K_M: true, FileTypeQ8_0: true, FileTypeBF16: true, FileTypeQ2_K_S: false, FileTypeIQ2_XXS: false, 99: false} {
		if got := ft.Supported(); got != want {
			t.Errorf("%s.Supported() = %v, want %v", ft, got, want)
		}
	}
	for _, ft := range FileTypes() {
		got, err := ParseFileType(ft.String())
		if err != nil || got != ft {
			t.Errorf("ParseFileType(%s) = %v, %v", ft, got, err)
		}
	}
}

func TestQuantizable(t *testing.T) {
	tests := []struct {
		name string
		dims []uint64
		want bool
	}{
		{"blk.0.attn_q.weight", []uint64{256, 256}, true},
		{"blk.0.ffn_down_exps.weight", []uint64{256, 8, 4}, true},
		{"blk.0.attn_q.weight", []uint64{256}, false},
		{"blk.0.attn_q.weight", []uint64{256, 1, 1}, false}, // trailing ones
		{"blk.0.attn_q.bias", []uint64{256, 4}, false},
		{"blk.0.attn_norm.weight", []uint64{256, 4}, false},
		{"blk.0.ffn_gate_inp.weight", []uint64{256, 8}, false},
		{"position_embd.weight", []uint64{256, 8}, false},
		{"token_types.weight", []uint64{256, 2}, false},
		{"blk.0.ssm_conv1d.weight", []uint64{4, 256}, false},
		{"v.patch_embd.weight", []uint64{256, 8}, false},
		{"abcde", []uint64{256, 8}, true}, // llama.cpp's suffix test quirk
		{"abcdef", []uint64{256, 8}, false},
	}
	for _, tt := range tests {
		if got := Quantizable(tt.name, tt.dims); got != tt.want {
			t.Errorf("Quantizable(%q, %v) = %v, want %v", tt.name, tt.dims, got, tt.want)
		}
	}
}

func TestLayerOf(t *testing.T) {
	tests := []struct {
		name string
		l    int
		ok   bool
	}{
		{"blk.0.attn_q.weight", 0, true},
		{"blk.17.ffn_down.weight", 17, true},
		{"blk.-2.x", -2, true},
		{"blk.3x", 3, true},
		{"blk.x.y", 0, false},
		{"output.weight", 0, false},
		{"xblk.1.y", 0, false},
	}
	for _, tt := range tests {
		l, ok := layerOf(tt.name)
		if l != tt.l || ok != tt.ok {
			t.Errorf("layerOf(%q) = %d, %v; want %d, %v", tt.name, l, ok, tt.l, tt.ok)
		}
	}
}

func TestFallback(t *testing.T) {
	tests := []struct {
		ncols    uint64
		want, to ggml.Type
		fell     bool
	}{
		{256, ggml.TypeQ4_K, ggml.TypeQ4_K, false},
		{96, ggml.TypeQ2_K, ggml.TypeQ4_0, true},
		{96, ggml.TypeQ3_K, ggml.TypeQ4_0, true},
		{96, ggml.TypeQ4_K, ggml.TypeQ5_0, true},
		{96, ggml.TypeQ5_K, ggml.TypeQ5_1, true},
		{96, ggml.TypeQ6_K, ggml.TypeQ8_0, true},
		{96, ggml.TypeIQ2_XXS, ggml.TypeIQ4_NL, true},
		{72, ggml.TypeQ4_K, ggml.TypeF16, true},
		{40, ggml.TypeQ8_0, ggml.TypeF16, true},
		{64, ggml.TypeQ4_0, ggml.TypeQ4_0, false},
	}
	for _, tt := range tests {
		to, fell, err := fallback(tt.ncols, tt.want)
		if err != nil || to != tt.to || fell != tt.fell {
			t.Errorf("fallback(%d, %s) = %s, %v, %v; want %s, %v", tt.ncols, tt.want, to, fell, err, tt.to, tt.fell)
		}
	}
	if _, _, err := fallback(96, ggml.TypeQ1_0); err == nil || !strings.Contains(err.Error(), "no fallback type") {
		t.Errorf("fallback(96, Q1_0): error %v, want no fallback type", err)
	}
}

// encodePlan spells a plan as expectedTypes does.
func encodePlan(t *testing.T, choices []Choice) string {
	t.Helper()
	var b strings.Builder
	key, fb := -2, 0
	for i, c := range choices {
		if k := sortKey(c.Name); k != key {
			if i > 0 {
				b.WriteByte(' ')
			}
			key = k
		}
		code, ok := typeCodeOf[c.To]
		if !ok {
			t.Fatalf("%s: no code for type %s", c.Name, c.To)
		}
		b.WriteByte(code)
		if c.Fallback {
			fb++
		}
	}
	if fb > 0 {
		fmt.Fprintf(&b, " #%d", fb)
	}
	return b.String()
}

// TestPlanMatchesLlamaCpp checks the type of every tensor of the synthetic
// models, for every file type, against llama.cpp's choices.
func TestPlanMatchesLlamaCpp(t *testing.T) {
	type source struct {
		model   Model
		tensors []gguf.TensorInfo
	}
	sources := map[string]func(t *testing.T) source{}
	for _, s := range synthModels {
		sources[s.name] = func(*testing.T) source { return source{s.model(), s.tensors()} }
	}
	sources["synth-llama"] = func(t *testing.T) source {
		f, err := gguf.Open(testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		m, err := ModelFromGGUF(f)
		if err != nil {
			t.Fatal(err)
		}
		return source{m, f.Tensors}
	}
	for name, fts := range expectedTypes {
		t.Run(name, func(t *testing.T) {
			mk, ok := sources[name]
			if !ok {
				t.Fatalf("no synthetic model %q", name)
			}
			src := mk(t)
			for ft, want := range fts {
				choices, err := Plan(ft, src.model, src.tensors)
				switch want {
				case "!imatrix", "!fallback":
					msg := map[string]string{"!imatrix": "importance matrix", "!fallback": "no fallback type"}[want]
					if err == nil || !strings.Contains(err.Error(), msg) {
						t.Errorf("%s: error %v, want one about %q", ft, err, msg)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", ft, err)
					continue
				}
				if got := encodePlan(t, choices); got != want {
					t.Errorf("%s:\n got %s\nwant %s", ft, got, want)
				}
			}
		})
	}
}

// quantizeBytes quantizes in to a buffer and parses the result.
func quantizeBytes(t *testing.T, in *gguf.File, opts Options) (*gguf.File, []byte, *Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Quantize(context.Background(), in, &buf, opts)
	if err != nil {
		t.Fatalf("Quantize %s: %v", opts.FileType, err)
	}
	out, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatalf("Quantize %s: output does not parse: %v", opts.FileType, err)
	}
	return out, buf.Bytes(), res
}

func dequant(t *testing.T, f *gguf.File, ti *gguf.TensorInfo) []float32 {
	t.Helper()
	x := make([]float32, ti.Elements())
	if err := ggml.Dequantize(ti.Type, f.TensorData(ti), x); err != nil {
		t.Fatalf("%s: %v", ti.Name, err)
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

// compareMetadata checks that got's metadata is want's, key by key.
func compareMetadata(t *testing.T, got, want *gguf.File) {
	t.Helper()
	if len(got.KV) != len(want.KV) {
		t.Errorf("%d metadata keys, want %d", len(got.KV), len(want.KV))
	}
	for i := range min(len(got.KV), len(want.KV)) {
		g, w := got.KV[i], want.KV[i]
		if g.Key != w.Key || !reflect.DeepEqual(g.Value, w.Value) {
			t.Errorf("metadata %d: %s = %v (%s), want %s = %v (%s)", i, g.Key, g.Value.V, g.Value.TypeName(), w.Key, w.Value.V, w.Value.TypeName())
		}
	}
}

// TestQuantizeMatchesLlamaCpp quantizes the shared F32 synthetic models and
// compares with llama.cpp's files: metadata key by key, the tensor list,
// and for plain and legacy types the tensor bytes; for the K mixes the
// type of every tensor and the round-trip error (within 2% of llama.cpp's).
func TestQuantizeMatchesLlamaCpp(t *testing.T) {
	for _, model := range []string{"synth-llama", "synth-moe"} {
		srcPath := testutil.SharedFile(t, "testdata/models/"+model+"-f32.gguf")
		in, err := gguf.Open(srcPath)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		refs := testutil.SharedGlob(t, "testdata/models/"+model+"-*.gguf")
		for _, refPath := range refs {
			name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(refPath), model+"-"), ".gguf")
			if name == "f32" {
				continue
			}
			t.Run(model+"/"+name, func(t *testing.T) {
				ft, err := ParseFileType(name)
				if err != nil {
					t.Fatal(err)
				}
				ref, err := gguf.Open(refPath)
				if err != nil {
					t.Fatal(err)
				}
				defer ref.Close()
				out, _, res := quantizeBytes(t, in, Options{FileType: ft, Threads: 3})
				compareMetadata(t, out, ref)
				if got, err := out.GetUint(KeyFileType); err != nil || got != uint64(ft) {
					t.Errorf("general.file_type = %d, %v; want %d", got, err, ft)
				}
				if len(out.Tensors) != len(ref.Tensors) {
					t.Fatalf("%d tensors, want %d", len(out.Tensors), len(ref.Tensors))
				}
				exact := ft != FileTypeQ2_K && ft != FileTypeQ3_K_M && ft != FileTypeQ4_K_M && ft != FileTypeQ5_K_M && ft != FileTypeQ6_K
				identical := 0
				for i := range ref.Tensors {
					g, w := &out.Tensors[i], &ref.Tensors[i]
					if g.Name != w.Name || g.Type != w.Type || !reflect.DeepEqual(g.Dims, w.Dims) {
						t.Errorf("tensor %d: %s %s %v, want %s %s %v", i, g.Name, g.Type, g.Dims, w.Name, w.Type, w.Dims)
						continue
					}
					same := bytes.Equal(out.TensorData(g), ref.TensorData(w))
					if same {
						identical++
					}
					if exact {
						if !same {
							t.Errorf("%s: data differs from llama.cpp's", g.Name)
						}
						continue
					}
					if g.Type == ggml.TypeF32 {
						continue
					}
					orig, _ := in.Tensor(g.Name)
					x := dequant(t, in, orig)
					eg, ew := rmsDiff(x, dequant(t, out, g)), rmsDiff(x, dequant(t, ref, w))
					if eg > ew*1.02 || (ew == 0 && eg != 0) {
						t.Errorf("%s (%s): RMS error %.6g, llama.cpp's %.6g", g.Name, g.Type, eg, ew)
					}
				}
				t.Logf("%s: %d/%d tensors byte-identical; %d -> %d bytes", name, identical, len(ref.Tensors), res.OldSize, res.NewSize)
			})
		}
	}
}

// TestQuantizeSynthetic runs the whole pipeline on synthetic models with
// fallback types, eight experts and tied embeddings, and checks the output
// against the plan and the source values.
func TestQuantizeSynthetic(t *testing.T) {
	tests := []struct {
		model string
		ft    FileType
	}{
		{"odd96", FileTypeQ4_K_M},
		{"odd40", FileTypeQ3_K_M},
		{"odd40", FileTypeQ8_0},
		{"moe8", FileTypeQ2_K},
		{"deep16", FileTypeQ5_K_S},
		{"falcon", FileTypeQ4_0},
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.ft.String(), func(t *testing.T) {
			var s synthModel
			for _, m := range synthModels {
				if m.name == tt.model {
					s = m
				}
			}
			in, err := gguf.Parse(s.file(t, ""))
			if err != nil {
				t.Fatal(err)
			}
			var logged []TensorReport
			var lastDone, total int64
			out, _, res := quantizeBytes(t, in, Options{
				FileType: tt.ft,
				Threads:  2,
				Log:      func(r TensorReport) { logged = append(logged, r) },
				Progress: func(done, tot int64) {
					if done < lastDone {
						t.Errorf("progress went back from %d to %d", lastDone, done)
					}
					lastDone, total = done, tot
				},
			})
			if lastDone != total || total != res.OldSize {
				t.Errorf("progress ended at %d of %d, input holds %d bytes", lastDone, total, res.OldSize)
			}
			want := expectedTypes[tt.model][tt.ft]
			if got := encodePlan(t, res.Choices); got != want {
				t.Errorf("plan %s, want %s", got, want)
			}
			if len(logged) != len(out.Tensors) {
				t.Fatalf("%d log reports for %d tensors", len(logged), len(out.Tensors))
			}
			var newSize int64
			for i := range out.Tensors {
				g := &out.Tensors[i]
				if g.Type != res.Choices[i].To || logged[i].Name != g.Name || logged[i].NewSize != int64(g.Size) {
					t.Errorf("tensor %d: %s %s, report %+v", i, g.Name, g.Type, logged[i])
				}
				newSize += int64(g.Size)
				orig, _ := in.Tensor(g.Name)
				x, y := dequant(t, in, orig), dequant(t, out, g)
				var ss float64
				for _, v := range x {
					ss += float64(v) * float64(v)
				}
				// Random normal weights: even Q2_K keeps the error well
				// below the values' RMS.
				if rel := rmsDiff(x, y) / math.Sqrt(ss/float64(len(x))); rel > 0.6 {
					t.Errorf("%s (%s): relative RMS error %.3f", g.Name, g.Type, rel)
				}
			}
			if newSize != res.NewSize {
				t.Errorf("Result.NewSize %d, tensors hold %d", res.NewSize, newSize)
			}
			if n, err := out.GetUint(KeyQuantizationVersion); err != nil || n != QuantizationVersion {
				t.Errorf("general.quantization_version = %d, %v", n, err)
			}
		})
	}
}

// TestThreadsDoNotChangeBytes checks that the output does not depend on
// how rows are split among goroutines.
func TestThreadsDoNotChangeBytes(t *testing.T) {
	in, err := gguf.Parse(synthModels[0].file(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	_, a, _ := quantizeBytes(t, in, Options{FileType: FileTypeQ4_K_M, Threads: 1})
	_, b, _ := quantizeBytes(t, in, Options{FileType: FileTypeQ4_K_M, Threads: 5})
	if !bytes.Equal(a, b) {
		t.Error("1 and 5 threads give different files")
	}
}

func TestMetadata(t *testing.T) {
	in := []gguf.KV{
		{Key: "general.architecture", Value: gguf.MustValueOf("llama")},
		{Key: "general.file_type", Value: gguf.MustValueOf(int32(7))},
		{Key: "split.no", Value: gguf.MustValueOf(uint16(0))},
		{Key: "general.quantization_version", Value: gguf.MustValueOf(uint32(1))},
		{Key: "split.count", Value: gguf.MustValueOf(uint16(1))},
		{Key: "split.tensors.count", Value: gguf.MustValueOf(int32(3))},
		{Key: "llama.block_count", Value: gguf.MustValueOf(uint32(2))},
	}
	got := Metadata(in, FileTypeQ5_K_M)
	want := []gguf.KV{
		in[0], in[6],
		{Key: "general.quantization_version", Value: gguf.MustValueOf(uint32(2))},
		{Key: "general.file_type", Value: gguf.MustValueOf(uint32(17))},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Metadata = %v\nwant %v", got, want)
	}
}

func TestRequantize(t *testing.T) {
	in, err := gguf.Parse(synthModels[2].file(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	q40, q40Bytes, _ := quantizeBytes(t, in, Options{FileType: FileTypeQ4_0})

	// Converting the quantized tensors needs permission.
	var rerr *RequantizeError
	_, err = Quantize(context.Background(), q40, &bytes.Buffer{}, Options{FileType: FileTypeQ8_0})
	if !errors.As(err, &rerr) || rerr.From != ggml.TypeQ4_0 {
		t.Fatalf("Q4_0 -> Q8_0 without AllowRequantize: %v, want a RequantizeError from Q4_0", err)
	}
	if !strings.Contains(err.Error(), "requantizing from type Q4_0 is disabled") || !strings.Contains(err.Error(), rerr.Tensor) {
		t.Errorf("error %q lacks llama.cpp's message or the tensor", err)
	}

	// Same mix: every tensor keeps its type and is copied.
	_, same, _ := quantizeBytes(t, q40, Options{FileType: FileTypeQ4_0})
	if !bytes.Equal(same, q40Bytes) {
		t.Error("Q4_0 -> Q4_0 does not reproduce the file")
	}

	// With permission: dequantize, then quantize.
	q80, _, _ := quantizeBytes(t, q40, Options{FileType: FileTypeQ8_0, AllowRequantize: true})
	for i := range q80.Tensors {
		g := &q80.Tensors[i]
		src, _ := q40.Tensor(g.Name)
		if src.Type == g.Type {
			if !bytes.Equal(q40.TensorData(src), q80.TensorData(g)) {
				t.Errorf("%s: copied tensor changed", g.Name)
			}
			continue
		}
		want, err := ggml.Quantize(g.Type, dequant(t, q40, src), int(g.Dims[0]), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, q80.TensorData(g)) {
			t.Errorf("%s: %s -> %s differs from dequantize + quantize", g.Name, src.Type, g.Type)
		}
	}
}

func TestInvalidData(t *testing.T) {
	s := synthModels[2]
	in, err := gguf.Parse(s.file(t, "blk.1.attn_q.weight"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Quantize(context.Background(), in, &bytes.Buffer{}, Options{FileType: FileTypeQ8_0})
	if err == nil || !strings.Contains(err.Error(), `"blk.1.attn_q.weight"`) || !strings.Contains(err.Error(), "invalid data") {
		t.Errorf("NaN input: error %v, want invalid data in blk.1.attn_q.weight", err)
	}
	// A NaN in a tensor that is only copied is reported too.
	in, err = gguf.Parse(s.file(t, "blk.0.attn_norm.weight"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err = Quantize(context.Background(), in, &bytes.Buffer{}, Options{FileType: FileTypeQ8_0}); err == nil {
		t.Error("NaN in a copied tensor: no error")
	}

	// Values beyond F16's range overflow the output type.
	var buf bytes.Buffer
	kv := s.kv()
	ts := []gguf.TensorInfo{{Name: "blk.0.attn_q.weight", Dims: []uint64{32, 2}, Type: ggml.TypeF32}}
	x := make([]float32, 64)
	x[40] = 1e6
	data, _ := ggml.Quantize(ggml.TypeF32, x, 32, nil)
	if err := gguf.Write(&buf, kv, ts, func(int) ([]byte, error) { return data, nil }); err != nil {
		t.Fatal(err)
	}
	in, err = gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Quantize(context.Background(), in, &bytes.Buffer{}, Options{FileType: FileTypeF16})
	if err == nil || !strings.Contains(err.Error(), "validation failed") || !strings.Contains(err.Error(), "row 1") {
		t.Errorf("1e6 to F16: error %v, want a validation failure in row 1", err)
	}
}

func TestPrepareErrors(t *testing.T) {
	s := synthModels[2]
	tests := []struct {
		name string
		kv   func([]gguf.KV) []gguf.KV
		ft   FileType
		want string
	}{
		{"no architecture", func(kv []gguf.KV) []gguf.KV { return kv[1:] }, FileTypeQ4_0, "general.architecture"},
		{"no block count", func(kv []gguf.KV) []gguf.KV {
			return append(kv[:4:4], kv[5:]...)
		}, FileTypeQ4_0, "llama.block_count"},
		{"split", func(kv []gguf.KV) []gguf.KV {
			return append(kv, gguf.KV{Key: "split.count", Value: gguf.MustValueOf(uint16(3))})
		}, FileTypeQ4_0, "split"},
		{"unknown file type", func(kv []gguf.KV) []gguf.KV { return kv }, FileType(5), "unknown file type"},
		{"no quantizer", func(kv []gguf.KV) []gguf.KV { return kv }, FileTypeTQ2_0, "cannot produce"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		ts := s.tensors()
		if err := gguf.Write(&buf, tt.kv(s.kv()), ts, func(i int) ([]byte, error) {
			return make([]byte, ts[i].Elements()*4), nil
		}); err != nil {
			t.Fatal(err)
		}
		in, err := gguf.Parse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if tt.name == "no quantizer" && ggml.CanQuantize(ggml.TypeTQ2_0) {
			continue
		}
		_, err = Prepare(in, Options{FileType: tt.ft})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestQuantizeFile(t *testing.T) {
	dir := t.TempDir()
	inPath := filepath.Join(dir, "in.gguf")
	if err := os.WriteFile(inPath, synthModels[2].file(t, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := Options{FileType: FileTypeQ4_K_M}

	// Refuses the input as output, by any name.
	link := filepath.Join(dir, "link.gguf")
	if err := os.Link(inPath, link); err != nil {
		t.Skip("no hard links:", err)
	}
	for _, out := range []string{inPath, filepath.Join(dir, ".", "in.gguf"), link} {
		if _, err := QuantizeFile(ctx, inPath, out, opts); !errors.Is(err, ErrSameFile) {
			t.Errorf("QuantizeFile(in, %s): %v, want ErrSameFile", out, err)
		}
	}
	os.Remove(link)

	outPath := filepath.Join(dir, "out.gguf")
	if err := os.WriteFile(outPath, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := QuantizeFile(ctx, inPath, outPath, opts)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(outPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != len(res.Choices) {
		t.Errorf("%d tensors, want %d", len(f.Tensors), len(res.Choices))
	}
	f.Close()
	if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"in.gguf", "out.gguf"}) {
		t.Errorf("directory holds %v", got)
	}

	// A failure half way (cancellation after the first chunk) leaves the
	// previous output alone and no temporary file.
	os.Remove(outPath)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	copts := opts
	copts.Progress = func(done, total int64) { cancel() }
	if _, err := QuantizeFile(cctx, inPath, outPath, copts); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"in.gguf"}) {
		t.Errorf("after cancellation the directory holds %v", got)
	}

	// Bad data: an error naming the tensor, nothing left behind.
	bad := filepath.Join(dir, "bad.gguf")
	if err := os.WriteFile(bad, synthModels[2].file(t, "blk.0.ffn_up.weight"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = QuantizeFile(ctx, bad, outPath, opts)
	if err == nil || !strings.Contains(err.Error(), "blk.0.ffn_up.weight") {
		t.Errorf("bad data: %v", err)
	}
	if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"bad.gguf", "in.gguf"}) {
		t.Errorf("after a failure the directory holds %v", got)
	}

	// The output's directory must exist; the input must be GGUF.
	if _, err := QuantizeFile(ctx, inPath, filepath.Join(dir, "nodir", "out.gguf"), opts); err == nil {
		t.Error("missing output directory: no error")
	}
	if _, err := QuantizeFile(ctx, filepath.Join(dir, "missing.gguf"), outPath, opts); err == nil || !strings.Contains(err.Error(), "missing.gguf") {
		t.Errorf("missing input: %v", err)
	}
}
