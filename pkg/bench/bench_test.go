package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llamafile-go/llamafile/internal/benchmodel"
	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

func TestParseIntList(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{"512", []int{512}},
		{"0", []int{0}},
		{"128,256,512", []int{128, 256, 512}},
		{"1-4", []int{1, 2, 3, 4}},
		{"0-64+32", []int{0, 32, 64}},
		{"1-16*2", []int{1, 2, 4, 8, 16}},
		{"1-10*3", []int{1, 3, 9}},
		{"8,1-2", []int{8, 1, 2}},
	}
	for _, tt := range tests {
		got, err := ParseIntList(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseIntList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "a", "-1", "1-", "1,,2", "1-4*1", "0-4*2", "1-4+0", "1-100000000", "99999999999999999999"} {
		if got, err := ParseIntList(bad); err == nil {
			t.Errorf("ParseIntList(%q) = %v, want an error", bad, got)
		}
	}
}

func TestParseArgs(t *testing.T) {
	p, err := ParseArgs([]string{"-m", "a.gguf", "--model", "b.gguf,c.gguf", "-p", "16", "-p", "32,0", "-n", "0",
		"-pg", "8,4", "-t", "1-2", "-b", "64", "-ub", "32", "-r", "2", "-o", "json", "--no-warmup", "--progress", "-nr", "--seed", "9"})
	if err != nil {
		t.Fatal(err)
	}
	want := Params{
		Models: []string{"a.gguf", "b.gguf", "c.gguf"}, NPrompt: []int{16, 32, 0}, NGen: []int{0},
		PG: [][2]int{{8, 4}}, Batch: []int{64}, UBatch: []int{32}, Threads: []int{1, 2}, Reps: 2,
		Output: "json", NoWarmup: true, Progress: true, NoRepack: true, Seed: 9,
	}
	if !equalParams(p, want) {
		t.Errorf("ParseArgs = %+v\nwant %+v", p, want)
	}
	// 3 models × 2 thread counts × (pp16, pp32, pp8+tg4).
	if n := p.Count(); n != 18 {
		t.Errorf("Count = %d, want 18", n)
	}

	d, err := ParseArgs([]string{"-m", "x.gguf"})
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultParams()
	def.Models = []string{"x.gguf"}
	if !equalParams(d, def) {
		t.Errorf("defaults: %+v, want %+v", d, def)
	}
	if !slices.Equal(d.NPrompt, []int{512}) || !slices.Equal(d.NGen, []int{128}) || d.Reps != 5 ||
		!slices.Equal(d.Batch, []int{2048}) || !slices.Equal(d.UBatch, []int{512}) || d.Output != "md" {
		t.Errorf("defaults differ from llama-bench's: %+v", d)
	}

	if _, err := ParseArgs([]string{"-m", "x", "-h"}); !errors.Is(err, ErrHelp) {
		t.Errorf("-h: %v, want ErrHelp", err)
	}
	for _, bad := range [][]string{
		{},                       // no model
		{"-m"},                   // missing value
		{"-m", "x", "-p"},        // missing value
		{"-m", "x", "--bogus"},   // unknown flag
		{"-m", "x", "-r", "0"},   // reps
		{"-m", "x", "-r", "two"}, // reps
		{"-m", "x", "-t", "0"},   // threads
		{"-m", "x", "-b", "0"},   // batch
		{"-m", "x", "-o", "csv"}, // format
		{"-m", "x", "-p", "a"},   // list
		{"-m", "x", "-pg", "8"},  // pair
		{"-m", ""},               // empty model
		{"-m", "x", "--seed", "-1"},
	} {
		if _, err := ParseArgs(bad); err == nil || errors.Is(err, ErrHelp) {
			t.Errorf("ParseArgs(%q) = %v, want an error", bad, err)
		}
	}
}

func equalParams(a, b Params) bool {
	return slices.Equal(a.Models, b.Models) && slices.Equal(a.NPrompt, b.NPrompt) && slices.Equal(a.NGen, b.NGen) &&
		slices.Equal(a.PG, b.PG) && slices.Equal(a.Batch, b.Batch) && slices.Equal(a.UBatch, b.UBatch) &&
		slices.Equal(a.Threads, b.Threads) && a.Reps == b.Reps && a.Output == b.Output &&
		a.NoWarmup == b.NoWarmup && a.Progress == b.Progress && a.NoRepack == b.NoRepack && a.Seed == b.Seed
}

func TestStats(t *testing.T) {
	r := &Result{NPrompt: 512}
	r.setSamples([]uint64{1e9, 2e9, 4e9})
	// t/s: 512, 256, 128 → mean 298.67, sample sd sqrt(((213.33)^2+(42.67)^2+(170.67)^2)/2).
	wantTs := []float64{512, 256, 128}
	if !slices.Equal(r.SamplesTs, wantTs) {
		t.Errorf("SamplesTs = %v, want %v", r.SamplesTs, wantTs)
	}
	if math.Abs(r.AvgTs-896.0/3) > 1e-9 {
		t.Errorf("AvgTs = %g, want %g", r.AvgTs, 896.0/3)
	}
	if want := math.Sqrt((sq(512-896.0/3) + sq(256-896.0/3) + sq(128-896.0/3)) / 2); math.Abs(r.StddevTs-want) > 1e-9 {
		t.Errorf("StddevTs = %g, want %g", r.StddevTs, want)
	}
	if r.AvgNs != 2333333333 || r.StddevNs != 1527525231 {
		t.Errorf("AvgNs, StddevNs = %d, %d; want 2333333333, 1527525231", r.AvgNs, r.StddevNs)
	}
	one := &Result{NGen: 10}
	one.setSamples([]uint64{5e8})
	if one.AvgTs != 20 || one.StddevTs != 0 || one.StddevNs != 0 {
		t.Errorf("one sample: %+v", one)
	}
}

func sq(x float64) float64 { return x * x }

func sampleResults() []*Result {
	a := &Result{ModelFilename: "m.gguf", ModelType: "llama 1B Q4_0", ModelSize: 635_987_968, ModelNParams: 1_100_048_384,
		Backends: "CPU", NBatch: 2048, NUBatch: 512, NThreads: 2, NPrompt: 512, TypeK: "f16", TypeV: "f16",
		TestTime: "2025-01-01T00:00:00Z"}
	a.setSamples([]uint64{2_923_000_000, 2_925_000_000})
	b := &Result{ModelFilename: "big & <odd>.gguf", ModelType: "llama 7B F16", ModelSize: 13_478_125_568, ModelNParams: 6_738_415_616,
		Backends: "CPU", NBatch: 2048, NUBatch: 512, NThreads: 16, NGen: 128, TypeK: "f16", TypeV: "f16"}
	b.setSamples([]uint64{10_000_000_000})
	return []*Result{a, b}
}

func TestWriteMarkdown(t *testing.T) {
	p := DefaultParams()
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, &p, sampleResults()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	// llama-bench's layout: header, separator (right-aligned numbers), a
	// row per test, a blank line and the build line.
	want := []string{
		"| model                          |       size |     params | backend    | threads |            test |                  t/s |",
		"| ------------------------------ | ---------: | ---------: | ---------- | ------: | --------------: | -------------------: |",
		"| llama 1B Q4_0                  | 606.53 MiB |     1.10 B | CPU        |       2 |           pp512 |        175.10 ± 0.08 |",
		"| llama 7B F16                   |  12.55 GiB |     6.74 B | CPU        |      16 |           tg128 |         12.80 ± 0.00 |",
		"",
	}
	if len(lines) != 7 || !slices.Equal(lines[:5], want) || !strings.HasPrefix(lines[5], "build: ") || lines[6] != "" {
		t.Errorf("markdown:\n%s\nwant:\n%s", buf.String(), strings.Join(want, "\n"))
	}
	for i := 1; i < 4; i++ {
		if utf8.RuneCountInString(lines[i]) != utf8.RuneCountInString(lines[0]) {
			t.Errorf("line %d has %d runes, header %d", i, utf8.RuneCountInString(lines[i]), utf8.RuneCountInString(lines[0]))
		}
	}

	// Non-default batch sizes add their columns.
	p.Batch, p.UBatch = []int{256}, []int{128}
	buf.Reset()
	if err := WriteMarkdown(&buf, &p, sampleResults()[:1]); err != nil {
		t.Fatal(err)
	}
	if hdr := strings.SplitN(buf.String(), "\n", 2)[0]; !strings.Contains(hdr, "| n_batch | n_ubatch |") {
		t.Errorf("header %q lacks n_batch and n_ubatch", hdr)
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	res := sampleResults()
	if err := WriteJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v in:\n%s", err, buf.String())
	}
	if len(got) != 2 {
		t.Fatalf("%d objects, want 2", len(got))
	}
	if !strings.Contains(buf.String(), `"big & <odd>.gguf"`) {
		t.Error("model_filename is HTML-escaped")
	}
	for i, obj := range got {
		r := res[i]
		for field, want := range map[string]any{
			"model_filename": r.ModelFilename, "model_type": r.ModelType, "model_size": float64(r.ModelSize),
			"model_n_params": float64(r.ModelNParams), "n_prompt": float64(r.NPrompt), "n_gen": float64(r.NGen),
			"n_threads": float64(r.NThreads), "n_batch": float64(r.NBatch), "n_ubatch": float64(r.NUBatch),
			"avg_ns": float64(r.AvgNs), "stddev_ns": float64(r.StddevNs), "avg_ts": r.AvgTs, "stddev_ts": r.StddevTs,
			"type_k": "f16", "type_v": "f16", "test_time": r.TestTime, "backends": "CPU",
		} {
			if obj[field] != want {
				t.Errorf("object %d: %s = %v (%T), want %v", i, field, obj[field], obj[field], want)
			}
		}
		ns, _ := obj["samples_ns"].([]any)
		ts, _ := obj["samples_ts"].([]any)
		if len(ns) != len(r.SamplesNs) || len(ts) != len(r.SamplesTs) {
			t.Errorf("object %d: samples_ns %v, samples_ts %v", i, obj["samples_ns"], obj["samples_ts"])
		}
	}

	// An empty run is an empty array; JSON Lines is one object per line.
	buf.Reset()
	if err := WriteJSON(&buf, nil); err != nil || strings.TrimSpace(buf.String()) != "[\n]" {
		t.Errorf("empty JSON = %q, %v", buf.String(), err)
	}
	buf.Reset()
	pr, err := NewPrinter("jsonl", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeAll(pr, nil, res); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("jsonl: %d lines, want 2", len(lines))
	}
	for _, l := range lines {
		var r Result
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Errorf("jsonl line %q: %v", l, err)
		}
	}
	if _, err := NewPrinter("csv", &buf); err == nil {
		t.Error("NewPrinter(csv) succeeded")
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"testdata/models/stories260k.gguf", "llama ?B (guessed) all F32"},
		{"testdata/models/synth-llama-q4_k_m.gguf", "llama ?B Q4_K - Medium"},
		{"testdata/models/synth-llama-q8_0.gguf", "llama ?B Q8_0"},
	}
	for _, tt := range tests {
		f, err := gguf.Open(testutil.SharedFile(t, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		info := Describe(f)
		var size, params uint64
		for _, ti := range f.Tensors {
			size += ti.Size
			params += ti.Elements()
		}
		f.Close()
		if info.Type != tt.want || info.Size != size || info.Params != params || size == 0 {
			t.Errorf("%s: %+v, want type %q, size %d, params %d", tt.file, info, tt.want, size, params)
		}
	}
}

// TestDescribeShapes checks llama.cpp's size classes on generated models
// whose layer counts llama.cpp names.
func TestDescribeShapes(t *testing.T) {
	dir := t.TempDir()
	for layers, want := range map[int]string{22: "llama 1B F16", 3: "llama ?B F16", 40: "llama 13B F16"} {
		s := benchmodel.Small()
		s.Embd, s.FF, s.Vocab, s.Layers = 32, 32, 259, layers
		path := filepath.Join(dir, "m.gguf")
		if err := benchmodel.WriteFile(path, s, 1); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := Describe(f).Type; got != want {
			t.Errorf("%d layers: %q, want %q", layers, got, want)
		}
		f.Close()
	}
}

// TestRun runs a tiny benchmark of a real model end to end.
func TestRun(t *testing.T) {
	model := testutil.SharedFile(t, "testdata/models/stories260k.gguf")
	var stdout, stderr bytes.Buffer
	args := []string{"-m", model, "-p", "16", "-n", "8", "-pg", "4,2", "-r", "2", "-t", "1", "-b", "8", "-o", "json", "--progress"}
	if rc := Main(args, &stdout, &stderr); rc != 0 {
		t.Fatalf("Main = %d, stderr:\n%s", rc, stderr.String())
	}
	var res []Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v in:\n%s", err, stdout.String())
	}
	wantTests := []string{"pp16", "tg8", "pp4+tg2"}
	if len(res) != len(wantTests) {
		t.Fatalf("%d results, want %d", len(res), len(wantTests))
	}
	for i, r := range res {
		if r.Name() != wantTests[i] || r.ModelFilename != model || r.NThreads != 1 || r.NBatch != 8 ||
			r.ModelType != "llama ?B (guessed) all F32" || len(r.SamplesNs) != 2 || len(r.SamplesTs) != 2 ||
			!(r.AvgTs > 0) || math.IsInf(r.AvgTs, 0) {
			t.Errorf("result %d: %+v", i, r)
		}
		for j, ns := range r.SamplesNs {
			if ts := 1e9 * float64(r.NPrompt+r.NGen) / float64(ns); math.Abs(ts-r.SamplesTs[j]) > 1e-6*ts {
				t.Errorf("result %d sample %d: %d ns but %g t/s", i, j, ns, r.SamplesTs[j])
			}
		}
	}
	if n := strings.Count(stderr.String(), "prompt run"); n != 2*2+2 {
		t.Errorf("progress: %d prompt runs, want 6 (2 warm-ups, 4 timed):\n%s", n, stderr.String())
	}

	// Markdown through Main, and errors.
	stdout.Reset()
	stderr.Reset()
	if rc := Main([]string{"-m", model, "-p", "4", "-n", "0", "-r", "1", "-t", "1", "--no-warmup"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("Main = %d, stderr:\n%s", rc, stderr.String())
	}
	if lines := strings.Split(stdout.String(), "\n"); len(lines) != 6 || !strings.Contains(lines[2], "pp4") {
		t.Errorf("markdown output:\n%s", stdout.String())
	}
	if rc := Main([]string{"-m", filepath.Join(t.TempDir(), "missing.gguf"), "-r", "1"}, &stdout, &stderr); rc != 1 {
		t.Errorf("missing model: rc %d, want 1", rc)
	}
	if rc := Main([]string{"-x"}, &stdout, &stderr); rc != 2 {
		t.Errorf("bad flag: rc %d, want 2", rc)
	}
	stdout.Reset()
	if rc := Main([]string{"--help"}, &stdout, &stderr); rc != 0 || !strings.Contains(stdout.String(), "-m, --model") {
		t.Errorf("--help: rc %d, output %q", rc, stdout.String())
	}
}

func TestRunCancel(t *testing.T) {
	model := testutil.SharedFile(t, "testdata/models/stories260k.gguf")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := DefaultParams()
	p.Models, p.NPrompt, p.NGen, p.Threads, p.Reps = []string{model}, []int{8}, []int{0}, []int{1}, 1
	err := Run(ctx, p, nil, func(*Result) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: %v", err)
	}
}
