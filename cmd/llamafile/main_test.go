package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/zipalign"
)

// result is what one run of the command gave.
type result struct {
	stdout, stderr string
	code           int
}

// runExe runs exe with args and stdin (which may be nil).
func runExe(t *testing.T, exe string, stdin io.Reader, args ...string) result {
	t.Helper()
	return runExeEnv(t, nil, exe, stdin, args...)
}

// runExeEnv is runExe with more environment variables.
func runExeEnv(t *testing.T, env []string, exe string, stdin io.Reader, args ...string) result {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Env = append(append(os.Environ(), "LLAMAFILE_SELF=", "LLAMAFILE_ENGINE="), env...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", exe, err)
	}
	return result{out.String(), errb.String(), code}
}

// llamafile runs the command built from this package.
func llamafile(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	return runExe(t, testutil.Command(t, "llamafile"), stdin, args...)
}

// completion strips what llama.cpp's completion tool prints after the
// generated text: " [end of text]\n" at an end-of-generation token, then
// "\n\n".
func completion(t *testing.T, out string) string {
	t.Helper()
	s, ok := strings.CutSuffix(out, "\n\n")
	if !ok {
		t.Fatalf("output does not end with a blank line: %q", out)
	}
	return strings.TrimSuffix(s, " [end of text]\n")
}

func stories(t *testing.T) string {
	return testutil.SharedFile(t, "testdata/models/stories260k.gguf")
}

func TestGreedyMatchesLlamaCpp(t *testing.T) {
	model := stories(t)
	for _, c := range testutil.GreedyCases(t) {
		t.Run(c.Prompt, func(t *testing.T) {
			r := llamafile(t, nil, "-m", model, "-p", c.Prompt, "-n", strconv.Itoa(c.NPredict), "--temp", "0", "--no-display-prompt")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			got := completion(t, r.stdout)
			if got != c.Completion {
				if !c.BackendsAgree {
					t.Logf("near tie in llama.cpp's own backends; got %q, want %q", got, c.Completion)
					return
				}
				t.Errorf("completion of %q:\n got %q\nwant %q", c.Prompt, got, c.Completion)
			}
		})
	}
}

func TestDisplayPromptAndTimings(t *testing.T) {
	c := testutil.GreedyCases(t)[0]
	r := llamafile(t, nil, "-m", stories(t), "-p", c.Prompt, "-n", strconv.Itoa(c.NPredict), "--temp", "0")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// The prompt is shown as its tokens detokenized: SentencePiece adds
	// a leading space, as llama.cpp shows it.
	if want := " " + c.Prompt + c.Completion + "\n\n"; r.stdout != want {
		t.Errorf("stdout = %q, want %q", r.stdout, want)
	}
	for _, re := range []string{
		`llama_perf_context_print:        load time = +[0-9.]+ ms`,
		`prompt eval time = +[0-9.]+ ms / +5 tokens \( *[0-9.]+ ms per token, +[0-9.]+ tokens per second\)`,
		`eval time = +[0-9.]+ ms / +63 runs`,
		`total time = +[0-9.]+ ms / +68 tokens`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stderr) {
			t.Errorf("stderr lacks %q:\n%s", re, r.stderr)
		}
	}

	r = llamafile(t, nil, "-m", stories(t), "-p", c.Prompt, "-n", "4", "--temp", "0", "--log-disable")
	if r.code != 0 || r.stderr != "" {
		t.Errorf("--log-disable: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestTokenizeMatchesLlamaCpp(t *testing.T) {
	for _, path := range testutil.SharedGlob(t, "testdata/golden/logits/*.json") {
		var g struct {
			Model  string  `json:"model"`
			Text   string  `json:"text"`
			AddBOS *bool   `json:"add_bos"`
			Tokens []int32 `json:"tokens"`
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &g); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		model := testutil.SharedFile(t, "testdata/models/"+g.Model)
		args := []string{"-m", model, "--tokenize", "--ids", "--no-escape", "-p", g.Text}
		if g.AddBOS != nil && !*g.AddBOS {
			args = append(args, "--no-bos")
		}
		r := llamafile(t, nil, args...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", g.Model, r.code, r.stderr)
		}
		want, _ := json.Marshal(g.Tokens)
		want = bytes.ReplaceAll(want, []byte(","), []byte(", "))
		if got := strings.TrimSuffix(r.stdout, "\n"); got != string(want) {
			t.Errorf("%s: --tokenize --ids = %s, want %s", g.Model, got, want)
		}
	}
}

// TestTokenizeVocabOnly tokenizes with the vocabulary-only files of
// ../shared, as llama-tokenize (which loads vocab_only) does: a few texts of
// each against its test vectors (made without BOS and without parsing
// special tokens), and the default BOS.
func TestTokenizeVocabOnly(t *testing.T) {
	vocabs := testutil.SharedGlob(t, "testdata/vocab/*.gguf")
	if len(vocabs) == 0 {
		t.Fatal("no vocabulary files")
	}
	for _, vocab := range vocabs {
		t.Run(filepath.Base(vocab), func(t *testing.T) {
			texts, want := testutil.VocabVectors(t, vocab)
			// Four non-empty texts spread over the file.
			var picks []int
			for i := range texts {
				if texts[i] != "" {
					picks = append(picks, i)
				}
			}
			for k := 0; k < 4 && k < len(picks); k++ {
				i := picks[k*(len(picks)-1)/3]
				r := llamafile(t, nil, "-m", vocab, "--tokenize", "--ids", "--no-bos", "--no-parse-special", "--no-escape", "--prompt="+texts[i])
				if r.code != 0 {
					t.Fatalf("text %d %q: exit %d: %s", i, texts[i], r.code, r.stderr)
				}
				w, _ := json.Marshal(want[i])
				if len(want[i]) == 0 {
					w = []byte("[]")
				}
				w = bytes.ReplaceAll(w, []byte(","), []byte(", "))
				if got := strings.TrimSuffix(r.stdout, "\n"); got != string(w) {
					t.Errorf("text %d %q: got %s, want %s", i, texts[i], got, w)
				}
			}
		})
	}
	// The example: BOS by default.
	r := llamafile(t, nil, "-m", testutil.SharedFile(t, "testdata/vocab/ggml-vocab-llama-spm.gguf"), "--tokenize", "--ids", "-p", "Hello world")
	if r.code != 0 || r.stdout != "[1, 15043, 3186]\n" {
		t.Errorf("llama-spm \"Hello world\": exit %d, stdout %q, stderr %q; want [1, 15043, 3186]", r.code, r.stdout, r.stderr)
	}
	// Generation needs weights: a clear error.
	r = llamafile(t, nil, "-m", testutil.SharedFile(t, "testdata/vocab/ggml-vocab-llama-spm.gguf"), "-p", "Hello", "--log-disable")
	if r.code != 1 || !strings.Contains(r.stderr, "missing tensor") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("generating with a vocabulary-only file: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestTokenizeFormats(t *testing.T) {
	model := stories(t)
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"pieces", []string{"-p", "Once upon"}, "", "     1 -> '<s>'\n   403 -> ' Once'\n   407 -> ' upon'\n"},
		{"ids", []string{"-p", "Once upon", "--ids"}, "", "[1, 403, 407]\n"},
		{"no-bos", []string{"-p", "Once upon", "--ids", "--no-bos"}, "", "[403, 407]\n"},
		{"count", []string{"-p", "Once upon", "--ids", "--show-count"}, "", "[1, 403, 407]\nTotal number of tokens: 3\n"},
		{"stdin", []string{"--stdin", "--ids"}, "Once upon", "[1, 403, 407]\n"},
		{"special parsed", []string{"-p", "<s>Once", "--ids", "--no-bos"}, "", "[1, 403]\n"},
		{"escapes", []string{"-p", `a\nb`, "--ids"}, "", "[1, 263, 13, 29890]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdin io.Reader
			if tt.stdin != "" {
				stdin = strings.NewReader(tt.stdin)
			}
			r := llamafile(t, stdin, append([]string{"-m", model, "--tokenize"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if tt.name == "escapes" {
				// Compare with a real newline rather than fixed ids.
				plain := llamafile(t, nil, "-m", model, "--tokenize", "--ids", "-p", "a\nb")
				if r.stdout != plain.stdout {
					t.Errorf("-p 'a\\nb' = %q, want %q (as with a real newline)", r.stdout, plain.stdout)
				}
				return
			}
			if r.stdout != tt.want {
				t.Errorf("stdout = %q, want %q", r.stdout, tt.want)
			}
		})
	}
	// --no-parse-special: "<s>" is text.
	r := llamafile(t, nil, "-m", model, "--tokenize", "--ids", "--no-bos", "--no-parse-special", "-p", "<s>")
	if r.code != 0 || r.stdout == "[1]\n" {
		t.Errorf("--no-parse-special: exit %d, stdout %q", r.code, r.stdout)
	}
}

// Perplexities computed from llama.cpp's own logits (llama.cpp built by
// ../shared/tools/reference/setup.sh, ggml v0.4.0 CPU): testdata/story.txt
// without its trailing newline, tokenized by llama.cpp with BOS (940
// tokens), cut into chunks of 128 tokens whose first token was replaced by
// BOS; each chunk's logits came from the reference program
// `logits MODEL "ids..."` and were scored as llama-perplexity scores them
// (the second half of each chunk, float32 exponentials summed in double).
// These are the "Final estimate" values llama-perplexity -c 128 [--chunks
// N] prints. stdErr 0: not checked.
var perplexityGolden = []struct {
	model  string
	chunks int
	ppl    float64
	stdErr float64
}{
	{"stories260k.gguf", 7, 4.0704, 0.32644},
	{"synth-llama-f32.gguf", 2, 854776.4854, 0},
}

func TestPerplexityMatchesLlamaCpp(t *testing.T) {
	re := regexp.MustCompile(`Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)`)
	for _, g := range perplexityGolden {
		t.Run(g.model, func(t *testing.T) {
			model := testutil.SharedFile(t, "testdata/models/"+g.model)
			r := llamafile(t, nil, "-m", model, "--perplexity", "-f", "testdata/story.txt", "-c", "128", "--chunks", strconv.Itoa(g.chunks))
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if last := fmt.Sprintf("[%d]", g.chunks); !strings.HasPrefix(r.stdout, "[1]") || !strings.Contains(r.stdout, last) {
				t.Errorf("per-chunk values [1] to %s missing: %q", last, r.stdout)
			}
			m := re.FindStringSubmatch(r.stdout)
			if m == nil {
				t.Fatalf("no final estimate in %q", r.stdout)
			}
			ppl, _ := strconv.ParseFloat(m[1], 64)
			se, _ := strconv.ParseFloat(m[2], 64)
			if rel := math.Abs(ppl-g.ppl) / g.ppl; rel > 0.005 {
				t.Errorf("PPL = %v, llama.cpp %v (%.3f%% off, want within 0.5%%)", ppl, g.ppl, 100*rel)
			}
			if g.stdErr != 0 && math.Abs(se-g.stdErr)/g.stdErr > 0.01 {
				t.Errorf("standard error = %v, llama.cpp %v", se, g.stdErr)
			}
		})
	}

	r := llamafile(t, nil, "-m", stories(t), "--perplexity", "-p", "too short", "-c", "128")
	if r.code == 0 || !strings.Contains(r.stderr, "at least 256") {
		t.Errorf("short text: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestGenerateOptions(t *testing.T) {
	model := stories(t)
	c := testutil.GreedyCases(t)[0] // "Once upon a time" -> ", there was a little girl named Lily. ..."
	base := []string{"-m", model, "--temp", "0", "--no-display-prompt", "--log-disable", "-n", "64"}
	gen := func(t *testing.T, stdin io.Reader, args ...string) string {
		t.Helper()
		r := llamafile(t, stdin, append(append([]string{}, base...), args...)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		return r.stdout
	}

	t.Run("reverse prompt", func(t *testing.T) {
		got := completion(t, gen(t, nil, "-p", c.Prompt, "-r", "Lily"))
		want := c.Completion[:strings.Index(c.Completion, "Lily")+len("Lily")]
		if got != want {
			t.Errorf("-r Lily: got %q, want %q", got, want)
		}
		// Several reverse prompts: the first one met stops.
		got = completion(t, gen(t, nil, "-p", c.Prompt, "-r", "zebra", "-r", "girl"))
		if !strings.HasSuffix(got, "girl") || len(got) > len(want) {
			t.Errorf("-r zebra -r girl: got %q", got)
		}
	})

	t.Run("cache types", func(t *testing.T) {
		// An F32 cache generates what the default F16 one does, as in
		// llama.cpp (its flash attention reads F32 caches as F16).
		if got, want := gen(t, nil, "-p", c.Prompt, "-n", "16", "-ctk", "f32", "-ctv", "f32"), gen(t, nil, "-p", c.Prompt, "-n", "16"); got != want {
			t.Errorf("-ctk f32 -ctv f32: got %q, want %q", got, want)
		}
		// stories260k's heads are 8 wide: no Q8_0 cache.
		r := llamafile(t, nil, append(append([]string{}, base...), "-p", c.Prompt, "-ctv", "q8_0")...)
		if r.code == 0 || !strings.Contains(r.stderr, "q8_0") {
			t.Errorf("-ctv q8_0 with 8-wide heads: exit %d, stderr %q", r.code, r.stderr)
		}
	})

	t.Run("ignore eos", func(t *testing.T) {
		// A large bias on </s> (id 2) ends generation at once ...
		out := gen(t, nil, "-p", c.Prompt, "-n", "8", "-l", "2+100")
		if out != " [end of text]\n\n\n" {
			t.Errorf("-l 2+100: got %q, want an immediate end of text", out)
		}
		// ... unless --ignore-eos bans every end-of-generation token.
		out = gen(t, nil, "-p", c.Prompt, "-n", "8", "-l", "2+100", "--ignore-eos")
		if strings.Contains(out, "[end of text]") || len(completion(t, out)) < 8 {
			t.Errorf("--ignore-eos: got %q", out)
		}
	})

	t.Run("stdin", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no /dev/stdin")
		}
		got := completion(t, gen(t, strings.NewReader(c.Prompt+"\n"), "-f", "/dev/stdin"))
		if got != c.Completion {
			t.Errorf("-f /dev/stdin: got %q, want %q", got, c.Completion)
		}
	})

	t.Run("escapes", func(t *testing.T) {
		// "\x4f" is "O": the prompt is c.Prompt after escape processing.
		escaped := `\x4f` + c.Prompt[1:]
		if got := completion(t, gen(t, nil, "-e", "-p", escaped)); got != c.Completion {
			t.Errorf("-e -p %q: got %q, want %q", escaped, got, c.Completion)
		}
		if got := completion(t, gen(t, nil, "--no-escape", "-p", escaped)); got == c.Completion {
			t.Errorf("--no-escape -p %q: escapes were processed", escaped)
		}
	})

	t.Run("logit bias", func(t *testing.T) {
		// The greedy first token after the prompt: the token of the
		// completion's first character in "Once upon a time, ...".
		r := llamafile(t, nil, "-m", model, "--tokenize", "--ids", "-p", c.Prompt+c.Completion[:1])
		var ids []int
		if err := json.Unmarshal([]byte(r.stdout), &ids); err != nil || len(ids) < 2 {
			t.Fatalf("tokenize: %q %v", r.stdout, err)
		}
		first := ids[len(ids)-1]
		got := completion(t, gen(t, nil, "-p", c.Prompt, "-l", fmt.Sprintf("%d-inf", first)))
		if got == c.Completion || strings.HasPrefix(got, c.Completion[:1]) {
			t.Errorf("banning token %d: output %q still starts with it", first, got)
		}
	})

	t.Run("seeded sampling is reproducible", func(t *testing.T) {
		a := gen(t, nil, "-p", c.Prompt, "--temp", "1", "--seed", "42")
		b := gen(t, nil, "-p", c.Prompt, "--temp", "1", "--seed", "42")
		if a != b {
			t.Errorf("same seed, different outputs:\n%q\n%q", a, b)
		}
	})
}

func TestErrors(t *testing.T) {
	model := stories(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no arguments", nil, 2, "usage: llamafile"},
		{"unknown flag", []string{"-m", model, "-p", "x", "--frobnicate"}, 1, "unknown flag --frobnicate"},
		{"unknown single-dash flag", []string{"-m", model, "-zz", "1"}, 1, "unknown flag -zz"},
		{"missing value", []string{"-m", model, "-p"}, 1, "flag -p needs a value"},
		{"bad number", []string{"-m", model, "-p", "x", "-n", "many"}, 1, "-n"},
		{"bad logit bias", []string{"-m", model, "-p", "x", "-l", "15043"}, 1, "--logit-bias"},
		{"positional", []string{"-m", model, "hello"}, 1, `unexpected argument "hello"`},
		{"missing model", []string{"-m", "no/such/model.gguf", "-p", "x"}, 1, "no/such/model.gguf"},
		{"not a model", []string{"-m", "main.go", "-p", "x"}, 1, "main.go"},
		{"no model", []string{"-p", "x"}, 1, "no model given"},
		{"server: no model", []string{"--server"}, 1, "no model given"},
		{"server: missing model", []string{"-m", "no/such/model.gguf"}, 1, "-m no/such/model.gguf: no such file"},
		{"server: bad chat template", []string{"-m", model, "--port", "0", "--chat-template", "no-such-format"}, 1, "--chat-template"},
		{"server: bad port", []string{"-m", model, "--port", "70000"}, 1, "--port 70000"},
		{"server: bad -np", []string{"-m", model, "--server", "-np", "0"}, 1, "-np 0"},
		{"server: --jinja --no-jinja", []string{"-m", model, "--jinja", "--no-jinja"}, 1, "--jinja and --no-jinja"},
		{"server: bad jinja", []string{"-m", model, "--port", "0", "--chat-template", "{% if %}"}, 1, "--chat-template"},
		{"server: --kv-unified", []string{"-m", model, "--kv-unified"}, 1, "--kv-unified"},
		{"server: -fa off", []string{"-m", model, "--flash-attn", "off"}, 1, "--flash-attn off"},
		{"server: pooling", []string{"-m", model, "--pooling", "max"}, 1, `--pooling "max"`},
		{"server: rank pooling without a head", []string{"-m", model, "--embeddings", "--pooling", "rank"}, 1, "pooling rank: llama has no classifier head"},
		{"server: reasoning format", []string{"-m", model, "--reasoning-format", "r1"}, 1, "--reasoning-format"},
		{"server: api key file", []string{"-m", model, "--api-key-file", "no/such/keys"}, 1, "--api-key-file"},
		{"server: url prefix", []string{"-m", model, "--url-prefix", "llama/"}, 1, "--url-prefix"},
		{"server with --tokenize", []string{"-m", model, "--server", "--tokenize"}, 1, "--server cannot be combined"},
		{"prompt too long", []string{"-m", model, "-c", "8", "-p", "Once upon a time there was a girl"}, 1, "prompt is too long ("},
		{"missing -f file", []string{"-m", model, "-f", "no/such/prompt.txt"}, 1, "no/such/prompt.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := llamafile(t, nil, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit status %d, want %d (stderr %q)", r.code, tt.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if last := lines[len(lines)-1]; tt.code == 1 && !strings.Contains(last, tt.want) {
				t.Errorf("last line of stderr %q does not mention %q", r.stderr, tt.want)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q does not mention %q", r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic:") {
				t.Errorf("stack trace in stderr:\n%s", r.stderr)
			}
			if n := strings.Count(r.stderr, "llamafile: "+"error"); n > 1 {
				t.Errorf("several errors:\n%s", r.stderr)
			}
		})
	}
}

func TestInterrupt(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT")
	}
	exe := testutil.Command(t, "llamafile")
	// A context far beyond what the test waits for, so that generation
	// is still running when the signal comes.
	cmd := exec.Command(exe, "-m", stories(t), "-p", "Once upon a time", "-n", "-1", "-c", "50000", "--ignore-eos", "--temp", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := io.ReadAtLeast(stdout, buf, 32); err != nil { // generation has started
		t.Fatal(err)
	}
	interrupt(t, cmd, stdout, &errb, 30*time.Second)
	if s := errb.String(); !strings.Contains(s, "Interrupted by user") || !strings.Contains(s, "eval time") {
		t.Errorf("stderr lacks the timings or the interruption:\n%s", s)
	}
}

// makeLlamafile copies the llamafile executable to dir/name and appends a
// zip holding files (entry name -> path), stored at 64 KiB alignment, or
// deflated at level.
func makeLlamafile(t *testing.T, dir, name string, files map[string]string, level int) string {
	t.Helper()
	exe := testutil.Command(t, "llamafile")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if err := os.WriteFile(out, data, 0o755); err != nil {
		t.Fatal(err)
	}
	var list []zipalign.File
	for entry, path := range files {
		list = append(list, zipalign.File{Name: entry, Path: path})
	}
	if err := zipalign.Append(out, list, zipalign.Options{Align: 65536, Level: level}); err != nil {
		t.Fatalf("zipalign.Append: %v", err)
	}
	return out
}

func TestEmbeddedWeights(t *testing.T) {
	model := stories(t)
	c := testutil.GreedyCases(t)[0]
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	args := "-m\nstories260k.gguf\n--temp 0   # greedy\n--no-display-prompt\n--log-disable\n...\n-n 64\n"
	if err := os.WriteFile(argsFile, []byte(args), 0o644); err != nil {
		t.Fatal(err)
	}

	withArgs := makeLlamafile(t, dir, "with-args.llamafile", map[string]string{"stories260k.gguf": model, ".args": argsFile}, 0)
	bare := makeLlamafile(t, dir, "bare.llamafile", map[string]string{"stories260k.gguf": model}, 0)
	deflated := makeLlamafile(t, dir, "deflated.llamafile", map[string]string{"stories260k.gguf": model}, 9)

	check := func(t *testing.T, r result) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if got := completion(t, r.stdout); got != c.Completion {
			t.Errorf("got %q, want %q", got, c.Completion)
		}
	}
	greedy := []string{"--temp", "0", "--no-display-prompt", "--log-disable", "-n", "64", "-p", c.Prompt}

	t.Run(".args defaults and -m from the zip", func(t *testing.T) {
		check(t, runExe(t, withArgs, nil, "-p", c.Prompt))
	})
	t.Run("user arguments override .args", func(t *testing.T) {
		// The user's -n (in place of "...") comes before the file's -n 64,
		// which wins as the last one; the user's --temp 1 --seed 3 comes
		// after the file's --temp 0 and so applies.
		r := runExe(t, withArgs, nil, "-p", c.Prompt, "-n", "3", "--temp", "1", "--seed", "3", "--top-k", "0", "--top-p", "1", "--min-p", "0")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if got := completion(t, r.stdout); got == c.Completion {
			t.Errorf("--temp 1 from the user did not apply")
		}
	})
	t.Run("only .gguf used without -m", func(t *testing.T) {
		check(t, runExe(t, bare, nil, greedy...))
	})
	t.Run("/zip/ prefix", func(t *testing.T) {
		check(t, runExe(t, bare, nil, append([]string{"-m", "/zip/stories260k.gguf"}, greedy...)...))
	})
	t.Run("-m NAME resolved in the zip", func(t *testing.T) {
		check(t, runExe(t, bare, nil, append([]string{"-m", "stories260k.gguf"}, greedy...)...))
	})
	t.Run("-m other.llamafile", func(t *testing.T) {
		check(t, llamafile(t, nil, append([]string{"-m", bare}, greedy...)...))
	})
	t.Run("LLAMAFILE_SELF names the file with the zip", func(t *testing.T) {
		exe := testutil.Command(t, "llamafile")
		check(t, runExeEnv(t, []string{"LLAMAFILE_SELF=" + withArgs}, exe, nil, "-p", c.Prompt))
	})
	t.Run("external weights still work", func(t *testing.T) {
		check(t, runExe(t, bare, nil, append([]string{"-m", model}, greedy...)...))
	})
	t.Run("compressed entry", func(t *testing.T) {
		r := runExe(t, deflated, nil, greedy...)
		if r.code == 0 || !strings.Contains(r.stderr, "compressed") || !strings.Contains(r.stderr, "zipalign") {
			t.Errorf("exit %d, stderr %q: want an error about the compressed entry naming zipalign", r.code, r.stderr)
		}
	})
	t.Run("misaligned entry", func(t *testing.T) {
		// archive/zip stores data right after its local header, at no
		// particular alignment.
		exe := testutil.Command(t, "llamafile")
		data, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		weights, err := os.ReadFile(model)
		if err != nil {
			t.Fatal(err)
		}
		if (len(data)+30+len("stories260k.gguf"))%os.Getpagesize() == 0 {
			data = append(data, 0) // aligned by chance: misalign it
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		zw.SetOffset(int64(len(data)))
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "stories260k.gguf", Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(weights)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		bad := filepath.Join(dir, "misaligned.llamafile")
		if err := os.WriteFile(bad, append(data, buf.Bytes()...), 0o755); err != nil {
			t.Fatal(err)
		}
		r := runExe(t, bad, nil, greedy...)
		if r.code == 0 || !strings.Contains(r.stderr, "not a multiple of the page size") || !strings.Contains(r.stderr, "zipalign") {
			t.Errorf("exit %d, stderr %q: want an error about the alignment naming zipalign", r.code, r.stderr)
		}
	})
	t.Run("missing entry", func(t *testing.T) {
		r := runExe(t, bare, nil, append([]string{"-m", "other.gguf"}, greedy...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "other.gguf") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

func TestBadModelFiles(t *testing.T) {
	orig, err := os.ReadFile(stories(t))
	if err != nil {
		t.Fatal(err)
	}
	patch := func(find, repl string) []byte {
		d := bytes.Clone(orig)
		i := bytes.Index(d, []byte(find))
		if i < 0 {
			t.Fatalf("%q not in the model", find)
		}
		copy(d[i:], repl)
		return d
	}
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"unknown architecture", patch(`general.architecture`+"\x08\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00llama", `general.architecture`+"\x08\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00xlama"), []string{"architecture", `"xlama"`}},
		{"missing tensor", patch("output_norm.weight", "outpux_norm.weight"), []string{"missing tensor", "output_norm.weight"}},
		{"truncated", orig[:len(orig)/2], []string{"tensor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".gguf")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			r := llamafile(t, nil, "-m", path, "-p", "hi", "--log-disable")
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q: want one error line and status 1", r.code, r.stderr)
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not mention %q", r.stderr, w)
				}
			}
		})
	}
}

// TestContextShift checks generation past a full context: by default, as
// in llamafile, or with --context-shift it goes on (--keep tokens kept);
// with --no-context-shift, or with -n -2, it stops at the end of the
// context as llama.cpp does.
func TestContextShift(t *testing.T) {
	model := stories(t)
	count := func(out string) int { return strings.Count(out, " ") }
	for _, args := range [][]string{{"--context-shift", "--keep", "-1"}, {"--keep", "4"}} {
		r := llamafile(t, nil, append([]string{"-m", model, "-p", "Once upon a time", "-c", "32", "-n", "80", "--temp", "0", "--ignore-eos", "--no-display-prompt"}, args...)...)
		if r.code != 0 || strings.Contains(r.stderr, "context full") || count(r.stdout) < 40 {
			t.Errorf("%v -n 80 -c 32: exit %d, %d words; stderr %q", args, r.code, count(r.stdout), r.stderr)
		}
	}
	for _, args := range [][]string{{"-n", "80", "--no-context-shift"}, {"-n", "-2", "--context-shift"}} {
		r := llamafile(t, nil, append([]string{"-m", model, "-p", "Once upon a time", "-c", "32", "--temp", "0", "--ignore-eos", "--no-display-prompt"}, args...)...)
		if r.code != 0 || !strings.Contains(r.stderr, "context full") {
			t.Errorf("%v -c 32: exit %d; stderr %q lacks the context-full stop", args, r.code, r.stderr)
		}
	}
}
