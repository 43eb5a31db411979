package main

import (
	"bufio"
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
	"github.com/llamafile-go/llamafile/pkg/quant"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    *config
		errPart string
	}{
		{[]string{"a.gguf", "b.gguf", "Q4_K_M"}, &config{in: "a.gguf", out: "b.gguf", typeName: "Q4_K_M", fileType: quant.FileTypeQ4_K_M}, ""},
		{[]string{"--allow-requantize", "a", "b", "q8_0", "3"}, &config{allowRequantize: true, in: "a", out: "b", typeName: "q8_0", fileType: quant.FileTypeQ8_0, threads: 3}, ""},
		{[]string{"a", "b", "15", "--allow-requantize"}, &config{allowRequantize: true, in: "a", out: "b", typeName: "15", fileType: quant.FileTypeQ4_K_M}, ""},
		{[]string{"--", "-a", "b", "f16"}, &config{in: "-a", out: "b", typeName: "f16", fileType: quant.FileTypeF16}, ""},
		{[]string{"--help"}, &config{help: true}, ""},
		{[]string{"-h", "x"}, &config{help: true}, ""},
		{[]string{"--version"}, &config{version: true}, ""},
		{[]string{"a", "b"}, nil, "missing operands"},
		{[]string{"a", "b", "c", "1", "e"}, nil, "too many operands"},
		{[]string{"a", "b", "Q4_X"}, nil, `invalid TYPE "Q4_X"`},
		{[]string{"a", "b", "Q4_0", "x"}, nil, `invalid NTHREADS "x"`},
		{[]string{"a", "b", "Q4_0", "-2"}, nil, `invalid NTHREADS "-2"`},
		{[]string{"--pure", "a", "b", "Q4_0"}, nil, "unknown option --pure"},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.args)
		if tt.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("parseArgs(%q): %v, want an error containing %q", tt.args, err, tt.errPart)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseArgs(%q) = %+v, %v; want %+v", tt.args, got, err, tt.want)
		}
	}
}

// writeModel writes a small F32 llama GGUF; a non-empty bad names a tensor
// that gets a NaN.
func writeModel(t *testing.T, path string, bad string, nEmbd, rows int) {
	t.Helper()
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.MustValueOf("llama")},
		{Key: "general.name", Value: gguf.MustValueOf("cmd-test")},
		{Key: "llama.block_count", Value: gguf.MustValueOf(uint32(1))},
		{Key: "llama.attention.head_count", Value: gguf.MustValueOf(uint32(4))},
		{Key: "general.file_type", Value: gguf.MustValueOf(uint32(0))},
	}
	dims := func(d ...uint64) []uint64 { return d }
	ts := []gguf.TensorInfo{
		{Name: "token_embd.weight", Dims: dims(uint64(nEmbd), 16), Type: ggml.TypeF32},
		{Name: "blk.0.attn_norm.weight", Dims: dims(uint64(nEmbd)), Type: ggml.TypeF32},
		{Name: "blk.0.attn_q.weight", Dims: dims(uint64(nEmbd), uint64(rows)), Type: ggml.TypeF32},
		{Name: "blk.0.ffn_down.weight", Dims: dims(uint64(nEmbd), uint64(rows)), Type: ggml.TypeF32},
		{Name: "output.weight", Dims: dims(uint64(nEmbd), 16), Type: ggml.TypeF32},
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	err = gguf.Write(w, kv, ts, func(i int) ([]byte, error) {
		x := make([]float32, ts[i].Elements())
		for j := range x {
			x[j] = float32(math.Sin(float64(j*(i+3)))) * 0.1
		}
		if ts[i].Name == bad {
			x[len(x)-1] = float32(math.NaN())
		}
		return ggml.Quantize(ggml.TypeF32, x, len(x), nil)
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// runCmd runs the command in-process.
func runCmd(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(ctx, args, &o, &e, false)
	return code, o.String(), e.String()
}

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
	sort.Strings(names)
	return names
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.gguf")
	writeModel(t, in, "", 256, 8)
	out := filepath.Join(dir, "out.gguf")
	ctx := context.Background()

	code, stdout, stderr := runCmd(ctx, in, out, "q4_k_m", "2")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout not empty: %q", stdout)
	}
	for _, want := range []string{
		"[   4/   5] blk.0.attn_q.weight", "converting to Q4_K", "type =    F32, size =",
		"model size =", "quant size =", "using 2 threads",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	f, err := gguf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := f.GetUint("general.file_type")
	f.Close()
	if ft != uint64(quant.FileTypeQ4_K_M) {
		t.Errorf("general.file_type = %d", ft)
	}

	// Requantizing needs the option.
	out2 := filepath.Join(dir, "out2.gguf")
	code, _, stderr = runCmd(ctx, out, out2, "Q8_0")
	if code != exitError || !strings.Contains(stderr, "requantizing from type Q6_K is disabled") || !strings.Contains(stderr, "--allow-requantize") {
		t.Errorf("requantize without option: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runCmd(ctx, "--allow-requantize", out, out2, "Q8_0")
	if code != exitOK {
		t.Errorf("requantize with option: exit %d\n%s", code, stderr)
	}
	os.Remove(out2)

	// The input is never the output.
	code, _, stderr = runCmd(ctx, in, in, "Q8_0")
	if code != exitError || !strings.Contains(stderr, "same file") {
		t.Errorf("same file: exit %d\n%s", code, stderr)
	}
	if err := os.Symlink(in, filepath.Join(dir, "sym.gguf")); err == nil {
		code, _, stderr = runCmd(ctx, in, filepath.Join(dir, "sym.gguf"), "Q8_0")
		if code != exitError || !strings.Contains(stderr, "same file") {
			t.Errorf("symlink to the input: exit %d\n%s", code, stderr)
		}
		os.Remove(filepath.Join(dir, "sym.gguf"))
	}

	// Bad TYPE and usage.
	code, _, stderr = runCmd(ctx, in, out, "Q4_KM")
	if code != exitError || !strings.Contains(stderr, `"Q4_KM"`) || !strings.Contains(stderr, "Q4_K_M") {
		t.Errorf("bad TYPE: exit %d\n%s", code, stderr)
	}
	if code, _, stderr = runCmd(ctx, in); code != exitError || !strings.Contains(stderr, "missing operands") {
		t.Errorf("missing operands: exit %d\n%s", code, stderr)
	}
	if code, _, stderr = runCmd(ctx, filepath.Join(dir, "none.gguf"), out, "q8_0"); code != exitError || !strings.Contains(stderr, "none.gguf") {
		t.Errorf("missing input: exit %d\n%s", code, stderr)
	}

	// Help and version.
	if code, stdout, _ = runCmd(ctx, "--help"); code != exitOK || !strings.Contains(stdout, "usage: quantize") {
		t.Errorf("--help: exit %d\n%s", code, stdout)
	}

	// An interrupt before the end leaves nothing behind.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	os.Remove(out)
	if code, _, stderr = runCmd(cctx, in, out, "q4_0"); code != exitInterrupted || !strings.Contains(stderr, "interrupted") {
		t.Errorf("cancelled: exit %d\n%s", code, stderr)
	}
	if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"in.gguf"}) {
		t.Errorf("after an interrupt the directory holds %v", got)
	}
}

// TestFailureLeavesNoOutput checks that an error half way through leaves an
// existing output as it was and no temporary file.
func TestFailureLeavesNoOutput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.gguf")
	writeModel(t, bad, "blk.0.ffn_down.weight", 64, 4)
	out := filepath.Join(dir, "out.gguf")
	if err := os.WriteFile(out, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(context.Background(), bad, out, "q8_0")
	if code != exitError || !strings.Contains(stderr, `"blk.0.ffn_down.weight"`) || !strings.Contains(stderr, "invalid data") {
		t.Errorf("NaN input: exit %d\n%s", code, stderr)
	}
	if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"bad.gguf", "out.gguf"}) {
		t.Errorf("directory holds %v", got)
	}
	if b, _ := os.ReadFile(out); string(b) != "previous" {
		t.Errorf("existing output changed to %q", b)
	}
}

// TestMatchesLlamaCpp runs the built command on the shared F32 model and
// compares with llama.cpp's files byte for byte.
func TestMatchesLlamaCpp(t *testing.T) {
	src := testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf")
	exe := testutil.Command(t, "quantize")
	dir := t.TempDir()
	for _, tt := range []struct{ typ, ref string }{
		{"Q4_0", "q4_0"}, {"7", "q8_0"}, {"q4_k_m", "q4_k_m"}, {"bf16", "bf16"},
	} {
		out := filepath.Join(dir, tt.ref+".gguf")
		cmd := exec.Command(exe, src, out, tt.typ)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("quantize %s: %v\n%s", tt.typ, err, b)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(testutil.SharedFile(t, "testdata/models/synth-llama-"+tt.ref+".gguf"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("quantize %s: output differs from llama.cpp's synth-llama-%s.gguf", tt.typ, tt.ref)
		}
	}
}

// TestInterrupt sends SIGINT to a running quantize and checks that it
// exits with status 130 and leaves no file behind.
func TestInterrupt(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT on Windows")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.gguf")
	writeModel(t, in, "", 4096, 512) // about 16 MiB of F32 weights
	exe := testutil.Command(t, "quantize")
	out := filepath.Join(dir, "out.gguf")
	cmd := exec.Command(exe, in, out, "Q3_K_M", "1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var log strings.Builder
	for sc.Scan() { // wait for the first tensor line
		log.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "[") {
			break
		}
	}
	cmd.Process.Signal(os.Interrupt)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	if err == nil {
		t.Skip("quantize finished before the interrupt arrived")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit status %d, want %d\n%s", code, exitInterrupted, log.String())
	}
	time.Sleep(10 * time.Millisecond)
	if got := dirNames(t, dir); !reflect.DeepEqual(got, []string{"in.gguf"}) {
		t.Errorf("after SIGINT the directory holds %v", got)
	}
}

func TestDisplay(t *testing.T) {
	r := quant.TensorReport{
		Choice: quant.Choice{Name: "blk.0.attn_q.weight", Dims: []uint64{96, 4}, From: ggml.TypeF32, To: ggml.TypeQ5_0,
			Quantizable: true, Fallback: true, Wanted: ggml.TypeQ4_K},
		N: 1, Count: 2, OldSize: 1536, NewSize: 264,
	}
	for _, tty := range []bool{false, true} {
		var b bytes.Buffer
		d := &display{w: &b, tty: tty}
		d.progress(10, 100)
		d.tensor(r)
		d.clear()
		s := b.String()
		if bar := strings.Contains(s, "\r["); bar != tty {
			t.Errorf("tty=%v: progress bar shown: %v\n%q", tty, bar, s)
		}
		want := "[   1/   2] blk.0.attn_q.weight                  - [    96,      4,      1,      1], type =    F32, converting to Q5_0 .. size =     0.00 MiB ->     0.00 MiB (fallback: 96 columns do not fit Q4_K blocks of 256)\n"
		if !strings.Contains(s, want) {
			t.Errorf("tty=%v: output lacks the tensor line:\n%q", tty, s)
		}
		if tty && !strings.HasSuffix(s, "\r"+strings.Repeat(" ", lineWidth)+"\r") {
			t.Errorf("progress bar not cleared at the end: %q", s)
		}
	}
}
