//go:build linux || darwin

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/internal/synthvision"
	"github.com/llamafile-go/llamafile/internal/testutil"
)

// The command lines of the original llamafile's README (its example
// llamafiles, "Using llamafile with external weights", "Source
// installation", the server and "Creating llamafiles"), as written there.
// They run through sh in a directory where each model file they name is
// the small local model (the LLaVA ones the synthetic llama, their mmproj
// files the synthetic projector, lemurs.jpg a test image) and each example
// llamafile embeds them, with this llamafile on $PATH. Two things differ, and only where a test needs it:
// servers get --port 0 (so that a busy 8080 cannot fail the test), and
// the summary reads a local page instead of fetching one with links.
const (
	readmeMistralLlamafile = `./mistral-7b-instruct-v0.2.Q5_K_M.llamafile --temp 0.7 -p '[INST]Write a story about llamas[/INST]'`
	readmeWizardLlamafile  = "./wizardcoder-python-13b.llamafile --temp 0 -e -r '```\\n' -p '```c\\nvoid *memcpy_sse2(char *dst, const char *src, size_t size) {\\n'"
	readmeLlavaLlamafile   = `./llava-v1.5-7b-q4.llamafile --temp 0.2 --image lemurs.jpg -e -p '### User: What do you see?\n### Assistant:'`
	readmeExternal         = `./llamafile.exe -m mistral.gguf`
	readmeWizard           = "llamafile \\\n  -m wizardcoder-python-13b-v1.0.Q8_0.gguf \\\n  --temp 0 -r '}\\n' -r '```\\n' \\\n  -e -p '```c\\nvoid *memcpy(void *dst, const void *src, size_t size) {\\n'"
	readmeMistral          = "llamafile -ngl 9999 \\\n  -m mistral-7b-instruct-v0.1.Q4_K_M.gguf \\\n  -p '[INST]Write a story about llamas[/INST]'"
	readmeInteractive      = `llamafile -m llama-65b-Q5_K.gguf -p '
The following is a conversation between a Researcher and their helpful AI assistant Digital Athena which is a large language model trained on the sum of human knowledge.
Researcher: Good morning.
Digital Athena: How can I help you today?
Researcher:' --interactive --color --batch_size 1024 --ctx_size 4096 \
--keep -1 --temp 0 --mirostat 2 --in-prefix ' ' --interactive-first \
--in-suffix 'Digital Athena:' --reverse-prompt 'Researcher:'`
	readmeSummary = `(
  echo '[INST]Summarize the following text:'
  cat page.txt
  echo '[/INST]'
) | llamafile -ngl 9999 \
      -m mistral-7b-instruct-v0.2.Q5_K_M.gguf \
      -f /dev/stdin \
      -c 0 \
      --temp 0 \
      -n 500 \
      --no-display-prompt 2>/dev/null`
	readmeDescribe = `llamafile -ngl 9999 --temp 0 \
  --image ~/Pictures/lemurs.jpg \
  -m llava-v1.5-7b-Q4_K.gguf \
  --mmproj llava-v1.5-7b-mmproj-Q4_0.gguf \
  -e -p '### User: What do you see?\n### Assistant: ' \
  --no-display-prompt 2>/dev/null`
	readmeRename = `llamafile -ngl 9999 --temp 0 \
    --image lemurs.jpg \
    -m llava-v1.5-7b-Q4_K.gguf \
    --mmproj llava-v1.5-7b-mmproj-Q4_0.gguf \
    --grammar 'root ::= [a-z]+ (" " [a-z]+)+' \
    -e -p '### User: What do you see?\n### Assistant: ' \
    --no-display-prompt 2>/dev/null |
  sed -e's/ /_/g' -e's/$/.jpg/'`
	// The same without the image.
	readmeGrammar = `llamafile -ngl 9999 --temp 0 \
    -m llava-v1.5-7b-Q4_K.gguf \
    --grammar 'root ::= [a-z]+ (" " [a-z]+)+' \
    -e -p '### User: What do you see?\n### Assistant: ' \
    --no-display-prompt 2>/dev/null |
  sed -e's/ /_/g' -e's/$/.jpg/'`
	readmeServerLlava = `llamafile -ngl 9999 \
  -m llava-v1.5-7b-Q8_0.gguf \
  --mmproj llava-v1.5-7b-mmproj-Q8_0.gguf \
  --host 0.0.0.0`
	// The same without the projector.
	readmeServer       = `llamafile -ngl 9999 -m llava-v1.5-7b-Q8_0.gguf --host 0.0.0.0`
	readmeLMStudio     = `llamafile -m llama-2-7b.Q2_K.gguf`
	readmeOllama       = `llamafile -m sha256-00e1317cbf74d901080d7100f57580ba8dd8de57203072dc6f668324ba545f29`
	readmeOwnLlamafile = `./llava.llamafile`
	// "New v2 Server": llamafile's --server --v2 is this server.
	readmeV2Help = `llamafile --server --v2 --help`
	readmeV2     = `llamafile --server --v2`
)

// readmeDir makes the directory the README's command lines run in and
// returns it with the environment they run with.
func readmeDir(t *testing.T) (string, []string) {
	t.Helper()
	model := stories(t)
	llava := testutil.SharedFile(t, "testdata/models/synth-llama-f32.gguf")
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := testutil.Command(t, "llamafile")
	for _, link := range []string{filepath.Join(bin, "llamafile"), filepath.Join(dir, "llamafile.exe")} {
		if err := os.Symlink(exe, link); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{
		"mistral.gguf", "mistral-7b-instruct-v0.1.Q4_K_M.gguf", "mistral-7b-instruct-v0.2.Q5_K_M.gguf",
		"wizardcoder-python-13b-v1.0.Q8_0.gguf", "llama-65b-Q5_K.gguf", "llama-2-7b.Q2_K.gguf",
		"sha256-00e1317cbf74d901080d7100f57580ba8dd8de57203072dc6f668324ba545f29",
	} {
		if err := os.Symlink(model, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// LLaVA: the synthetic llama and its projector, an image of lemurs.
	mmproj, _ := visionFiles(t, t.TempDir())
	for name, target := range map[string]string{
		"llava-v1.5-7b-Q4_K.gguf": llava, "llava-v1.5-7b-Q8_0.gguf": llava,
		"llava-v1.5-7b-mmproj-Q4_0.gguf": mmproj, "llava-v1.5-7b-mmproj-Q8_0.gguf": mmproj,
	} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, synthvision.Image(97, 61, 1), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "lemurs.jpg"), filepath.Join(dir, "Pictures", "lemurs.jpg")} { // HOME is dir
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, jpg.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The example LLaVA llamafile: both GGUFs, its .args naming them.
	q4args := filepath.Join(dir, "q4args")
	if err := os.WriteFile(q4args, []byte("-m\nllava-v1.5-7b-Q4_K.gguf\n--mmproj\nllava-v1.5-7b-mmproj-Q4_0.gguf\n...\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	makeLlamafile(t, dir, "llava-v1.5-7b-q4.llamafile", map[string]string{
		"llava-v1.5-7b-Q4_K.gguf": llava, "llava-v1.5-7b-mmproj-Q4_0.gguf": mmproj, ".args": q4args}, 0)
	for _, name := range []string{"mistral-7b-instruct-v0.2.Q5_K_M.llamafile", "wizardcoder-python-13b.llamafile"} {
		makeLlamafile(t, dir, name, map[string]string{"stories260k.gguf": model}, 0)
	}
	// "Creating llamafiles": the README's .args and files.
	args := filepath.Join(dir, "args")
	if err := os.WriteFile(args, []byte("-m\nllava-v1.5-7b-Q8_0.gguf\n--mmproj\nllava-v1.5-7b-mmproj-Q8_0.gguf\n--host\n0.0.0.0\n-ngl\n9999\n...\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	makeLlamafile(t, dir, "llava.llamafile", map[string]string{"llava-v1.5-7b-Q8_0.gguf": llava, "llava-v1.5-7b-mmproj-Q8_0.gguf": mmproj, ".args": args}, 0)
	page := "Once upon a time, a raven came to the door of a man who sat alone at night. The bird said one word, and said it again.\n"
	if err := os.WriteFile(filepath.Join(dir, "page.txt"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "LLAMAFILE_SELF=", "LLAMAFILE_ENGINE=", "HOME="+dir)
	return dir, env
}

// shellRun runs a command line through sh in dir. It waits for the end,
// or, once stdout holds enough bytes (0: never), stops the command's
// process group: lines without -n generate until the model ends, which a
// small model may not do soon. In a pipeline, whose last command only
// writes at the end, interrupt (0: never) says when to send SIGINT to
// llamafile alone, as Ctrl-C would stop it, so that the rest finishes.
func shellRun(t *testing.T, dir string, env []string, line string, enough int, interrupt time.Duration) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	buf := make([]byte, 4096)
	deadline := time.AfterFunc(2*time.Minute, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer deadline.Stop()
	if interrupt > 0 {
		stop := time.AfterFunc(interrupt, func() {
			for _, pid := range childrenNamed(cmd.Process.Pid, "llamafile") {
				syscall.Kill(pid, syscall.SIGINT)
			}
		})
		defer stop.Stop()
	}
	stopped := false
	for {
		n, err := pipe.Read(buf)
		out.Write(buf[:n])
		if enough > 0 && out.Len() >= enough && !stopped {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			stopped = true
		}
		if err != nil {
			break
		}
	}
	err = cmd.Wait()
	code = cmd.ProcessState.ExitCode()
	if stopped {
		code = 0 // it was still going, as asked
	} else if err != nil && code < 0 {
		t.Fatalf("%s: %v (timed out?)\nstderr:\n%s", line, err, errb.String())
	}
	return out.String(), errb.String(), code
}

// childrenNamed returns the processes whose parent is ppid and whose
// command is name, from /proc.
func childrenNamed(ppid int, name string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		open, close := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || close < open {
			continue
		}
		var pid, parent int
		var state string
		fmt.Sscan(string(stat[:open]), &pid)
		fmt.Sscan(string(stat[close+1:]), &state, &parent)
		if parent == ppid && string(stat[open+1:close]) == name {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestOriginalReadme runs the original llamafile README's command lines.
func TestOriginalReadme(t *testing.T) {
	dir, env := readmeDir(t)
	storyText := regexp.MustCompile(`[a-z]+ [a-z]+`)
	// The LLaVA lines' greedy output, as the same arguments give it run
	// directly, and without the image.
	const llavaPrompt = `### User: What do you see?\n### Assistant: `
	direct := func(args ...string) string {
		t.Helper()
		r := runExeEnv(t, env, filepath.Join(dir, "bin", "llamafile"), nil, append([]string{"--temp", "0", "-m", filepath.Join(dir, "llava-v1.5-7b-Q4_K.gguf"), "-e", "-p", llavaPrompt, "--no-display-prompt"}, args...)...)
		if r.code != 0 || r.stdout == "" {
			t.Fatalf("llamafile %q: exit %d, stdout %q\n%s", args, r.code, r.stdout, r.stderr)
		}
		return r.stdout
	}
	withImage := direct("--mmproj", filepath.Join(dir, "llava-v1.5-7b-mmproj-Q4_0.gguf"), "--image", filepath.Join(dir, "lemurs.jpg"))
	noImage := direct()
	if withImage == noImage {
		t.Fatalf("the image changes nothing: %q", withImage)
	}
	grammarText := regexp.MustCompile(`^[a-z]+(_[a-z]+)+$`)
	grammarCheck := func(out string) error {
		// Words of lowercase letters, joined by _ (sed), then .jpg, the
		// last word perhaps cut off where the run was stopped; or, where
		// the model ended, " [end of text]" and blank lines, which sed
		// turns into "_[end_of_text].jpg" and lines of ".jpg".
		first, rest, _ := strings.Cut(out, "\n")
		words := strings.TrimSuffix(strings.TrimSuffix(first, ".jpg"), "_[end_of_text]")
		if !grammarText.MatchString(words) || strings.ReplaceAll(rest, ".jpg\n", "") != "" {
			return fmt.Errorf("want lowercase words joined by _, got %q", out)
		}
		return nil
	}
	var rename, grammar string
	tests := []struct {
		name, line string
		enough     int           // stop once stdout holds this many bytes (0: wait for the end)
		interrupt  time.Duration // interrupt llamafile in the pipeline after this long (0: never)
		check      func(stdout, stderr string) error
	}{
		{name: "mistral llamafile", line: readmeMistralLlamafile, enough: 200, check: func(out, _ string) error {
			return startsWith(out, "[INST]Write a story about llamas[/INST]", storyText)
		}},
		{name: "wizardcoder llamafile", line: readmeWizardLlamafile, enough: 200, check: func(out, _ string) error {
			return startsWith(out, "```c\nvoid *memcpy_sse2(char *dst, const char *src, size_t size) {\n", storyText)
		}},
		{name: "llava llamafile", line: readmeLlavaLlamafile, enough: 200, check: func(out, _ string) error {
			return startsWith(out, "### User: What do you see?\n### Assistant:", regexp.MustCompile(`.`))
		}},
		{name: "wizardcoder", line: readmeWizard, enough: 200, check: func(out, _ string) error {
			return startsWith(out, "```c\nvoid *memcpy(void *dst, const void *src, size_t size) {\n", storyText)
		}},
		{name: "mistral -ngl 9999", line: readmeMistral, enough: 200, check: func(out, stderr string) error {
			if !strings.Contains(stderr, "no GPU support in this build; running on the CPU") {
				return fmt.Errorf("no notice about the GPU on stderr:\n%s", stderr)
			}
			return startsWith(out, "[INST]Write a story about llamas[/INST]", storyText)
		}},
		{name: "summary", line: readmeSummary, check: func(out, _ string) error {
			if strings.Contains(out, "[INST]") || !storyText.MatchString(out) {
				return fmt.Errorf("want a summary without the prompt, got %q", out)
			}
			return nil
		}},
		{name: "describe an image", line: readmeDescribe, check: func(out, _ string) error {
			// ~/Pictures/lemurs.jpg is the same image: the same greedy reply.
			if out != withImage {
				return fmt.Errorf("output %q, want the direct run's %q", out, withImage)
			}
			return nil
		}},
		{name: "rename an image", line: readmeRename, interrupt: 2 * time.Second, check: func(out, _ string) error {
			rename = out
			return grammarCheck(out)
		}},
		{name: "grammar", line: readmeGrammar, interrupt: 2 * time.Second, check: func(out, _ string) error {
			grammar = out
			return grammarCheck(out)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.interrupt > 0 && runtime.GOOS != "linux" {
				t.Skip("interrupting a command of a pipeline finds it in /proc, on Linux only")
			}
			out, stderr, code := shellRun(t, dir, env, tt.line, tt.enough, tt.interrupt)
			if code != 0 {
				t.Fatalf("exit %d\nstdout: %q\nstderr:\n%s", code, out, stderr)
			}
			if err := tt.check(out, stderr); err != nil {
				t.Error(err)
			}
			t.Logf("output: %q", out)
		})
	}
	// With the image the constrained words differ from those without.
	if n := min(len(rename), len(grammar), 12); n > 0 && rename[:n] == grammar[:n] {
		t.Errorf("the image changes nothing under the grammar: %q and %q", rename, grammar)
	}

	servers := []struct {
		name, line string
		vision     bool // /props says modalities.vision
	}{
		{"external weights", readmeExternal, false},
		{"server with a projector", readmeServerLlava, true},
		{"server", readmeServer, false},
		{"LM Studio's models", readmeLMStudio, false},
		{"Ollama's blobs", readmeOllama, false},
		{"a llamafile of one's own", readmeOwnLlamafile, true},
	}
	for _, tt := range servers {
		t.Run(tt.name, func(t *testing.T) {
			shellServe(t, dir, env, tt.line+" --port 0", tt.vision)
		})
	}

	// The "New v2 Server" lines name no model: there llamafile is a
	// llamafile holding its weights, as the example llamafiles do, here
	// the small model's.
	v2bin := filepath.Join(dir, "v2bin")
	if err := os.Mkdir(v2bin, 0o755); err != nil {
		t.Fatal(err)
	}
	makeLlamafile(t, v2bin, "llamafile", map[string]string{"stories260k.gguf": stories(t)}, 0)
	v2env := append(append([]string(nil), env...), "PATH="+v2bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Run("v2 server help", func(t *testing.T) {
		out, stderr, code := shellRun(t, dir, v2env, readmeV2Help, 0, 0)
		if code != 0 || !strings.Contains(out, "----- common params -----") || !regexp.MustCompile(`(?m)^ +--v2 `).MatchString(out) {
			t.Errorf("exit %d; want the help, with --v2, on stdout:\n%s\nstderr:\n%s", code, out, stderr)
		}
	})
	t.Run("v2 server", func(t *testing.T) { shellServe(t, dir, v2env, readmeV2+" --port 0", false) })

	t.Run("interactive", func(t *testing.T) { readmeInteractiveSession(t, dir, env) })
}

// startsWith checks that out begins with prefix and that text matching
// more follows.
func startsWith(out, prefix string, more *regexp.Regexp) error {
	// The prompt shows as llama.cpp shows it: this model's tokenizer adds
	// a space before the text.
	rest, ok := strings.CutPrefix(out, " "+prefix)
	if !ok {
		return fmt.Errorf("output %q does not begin with %q", out, prefix)
	}
	if !more.MatchString(rest) {
		return fmt.Errorf("after the prompt, %q does not match %s", rest, more)
	}
	return nil
}

// shellServe runs a server command line until its /health answers 200,
// checks that /props says vision as given, then stops it with SIGTERM: it
// must exit with status 0.
func shellServe(t *testing.T, dir string, env []string, line string, vision bool) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "exec "+line)
	cmd.Dir, cmd.Env = dir, env
	pr, pw := io.Pipe()
	var errb safeBuffer
	cmd.Stderr = io.MultiWriter(pw, &errb)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	wait := func() { once.Do(func() { cmd.Wait(); pw.Close() }) }
	t.Cleanup(func() { cmd.Process.Kill(); wait() })
	select {
	case base := <-watchURL(pr):
		waitHealthy(t, base)
		resp, err := http.Get(base + "/v1/models")
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("/v1/models: %v %v", resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
		var props struct {
			Modalities struct{ Vision bool } `json:"modalities"`
		}
		if resp, err := http.Get(base + "/props"); err != nil {
			t.Errorf("/props: %v", err)
		} else {
			err := json.NewDecoder(resp.Body).Decode(&props)
			resp.Body.Close()
			if err != nil || props.Modalities.Vision != vision {
				t.Errorf("/props: modalities.vision %v (%v), want %v", props.Modalities.Vision, err, vision)
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		wait()
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("exit %d after SIGTERM; stderr:\n%s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		wait()
		t.Fatalf("no URL printed in 30 s; stderr:\n%s", errb.String())
	}
}

// readmeInteractiveSession runs the README's chatbot line at a
// pseudo-terminal and has two turns with it: each of the user's lines is
// followed by the in-suffix and a reply, and control comes back to the
// user at the reverse prompt, at the end of a reply, or at Ctrl-C when
// the small model goes on.
func readmeInteractiveSession(t *testing.T, dir string, env []string) {
	cmd := exec.Command("sh", "-c", "exec "+readmeInteractive)
	cmd.Dir, cmd.Env = dir, env
	s := startPTYCmd(t, cmd)
	// --color marks each wait for the user's line with bold green.
	const userColor = "\x1b[1m\x1b[32m"
	waitInput := func(n int, nudge bool) string {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		nudged := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			if out := s.output(); strings.Count(out, userColor) >= n {
				return out
			}
			if nudge && time.Now().After(nudged) {
				s.send("\x03") // Ctrl-C: stop the reply, hand over
				nudged = deadline
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("not waiting for input %d:\n%q", n, s.output())
		return ""
	}
	out := waitInput(1, false)
	if !strings.Contains(out, "\x1b[33m \nThe following is a conversation between a Researcher") || !strings.Contains(out, "Researcher:\x1b[0m") {
		t.Errorf("the prompt is not shown in yellow:\n%q", out)
	}
	turns := []string{"Tell me a story.", "Thank you."}
	for i, line := range turns {
		s.send(line + "\r")
		out = waitInput(i+2, true)
		_, after, ok := strings.Cut(out, line)
		if !ok || !strings.Contains(after, "Digital Athena:") {
			t.Fatalf("turn %d: no %q then the suffix in:\n%q", i+1, line, out)
		}
		_, reply, _ := strings.Cut(after, "Digital Athena:")
		if reply, _, _ = strings.Cut(reply, userColor); len(strings.TrimSpace(reply)) < 3 {
			t.Errorf("turn %d: reply %q", i+1, reply)
		}
	}
	t.Logf("the session:\n%s", s.output())
	s.send("\x04") // Ctrl-D ends it
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("Ctrl-D did not end the session")
	}
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%q", err, s.output())
	}
}
