package main

import (
	"encoding/json"
	"testing"
)

// TestBench checks that --bench runs llama-bench's mode (pkg/bench) with
// its own flags, and that its JSON names the model and the tests run.
func TestBench(t *testing.T) {
	model := stories(t)
	r := llamafile(t, nil, "--bench", "-m", model, "-p", "8", "-n", "4", "-r", "1", "-t", "1", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var results []struct {
		ModelFilename string  `json:"model_filename"`
		NPrompt       int     `json:"n_prompt"`
		NGen          int     `json:"n_gen"`
		NThreads      int     `json:"n_threads"`
		AvgTS         float64 `json:"avg_ts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &results); err != nil {
		t.Fatalf("--bench -o json output is not a JSON array: %v\n%s", err, r.stdout)
	}
	if len(results) != 2 {
		t.Fatalf("got %d results, want 2 (pp8 and tg4):\n%s", len(results), r.stdout)
	}
	if results[0].NPrompt != 8 || results[1].NGen != 4 {
		t.Errorf("tests = pp%d, tg%d; want pp8, tg4", results[0].NPrompt, results[1].NGen)
	}
	for _, res := range results {
		if res.ModelFilename != model || res.NThreads != 1 || !(res.AvgTS > 0) {
			t.Errorf("unexpected result %+v", res)
		}
	}

	r = llamafile(t, nil, "--bench", "-m", model, "--no-such-flag")
	if r.code == 0 {
		t.Errorf("--bench with an unknown flag exited 0")
	}
}
