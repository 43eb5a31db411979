package bench

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
	"github.com/llamafile-go/llamafile/pkg/engine"
)

func TestParseBatchedArgs(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
		check   func(p BatchedParams) bool
	}{
		{[]string{"-m", "x.gguf"}, "", func(p BatchedParams) bool {
			return reflect.DeepEqual(p.NPL, []int{1, 2, 4, 8, 16, 32}) && p.BatchSize == 2048 && p.UBatchSize == 512
		}},
		{[]string{"-m", "x.gguf", "-npp", "128", "-ntg", "64,128", "-npl", "1-16*2", "-t", "2", "-c", "4096"}, "", func(p BatchedParams) bool {
			return reflect.DeepEqual(p.NPP, []int{128}) && reflect.DeepEqual(p.NTG, []int{64, 128}) &&
				reflect.DeepEqual(p.NPL, []int{1, 2, 4, 8, 16}) && p.Threads == 2 && p.ContextSize == 4096
		}},
		{nil, "no model", nil},
		{[]string{"-m", "x", "-npl", "0"}, "-npl 0", nil},
		{[]string{"-m", "x", "-t"}, "-t needs a value", nil},
		{[]string{"-m", "x", "-t", "many"}, "-t many", nil},
		{[]string{"-m", "x", "-pps"}, "-pps", nil},
		{[]string{"-m", "x", "--frob", "1"}, "unknown flag --frob", nil},
		{[]string{"-m", "x", "-ctk", "q9"}, "-ctk q9", nil},
	}
	for _, tt := range tests {
		p, err := ParseBatchedArgs(tt.args)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: err %v, want one with %q", tt.args, err, tt.wantErr)
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tt.args, err)
		case tt.check != nil && err == nil && !tt.check(p):
			t.Errorf("%q: %+v", tt.args, p)
		}
	}
	if _, err := ParseBatchedArgs([]string{"--help"}); !errors.Is(err, ErrHelp) {
		t.Errorf("--help: %v", err)
	}
}

func TestRunBatched(t *testing.T) {
	m, err := engine.Open(testutil.SharedFile(t, "testdata/models/synth-llama-q4_0.gguf"), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p := BatchedParams{Model: "x", BatchSize: 16, UBatchSize: 512, Threads: 2, NPP: []int{0, 20}, NTG: []int{5}, NPL: []int{1, 3}, ContextSize: 60}
	var got []BatchedResult
	if err := RunBatched(context.Background(), m, p, func(r BatchedResult) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	// 3*(20+5) = 75 > 60: that test is skipped, as llama-batched-bench does.
	want := [][4]int{{0, 5, 1, 5}, {0, 5, 3, 15}, {20, 5, 1, 25}}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(got), len(want), got)
	}
	var out bytes.Buffer
	WriteBatchedHeader(&out)
	for i, r := range got {
		if [4]int{r.PP, r.TG, r.B, r.NKV} != want[i] || r.TTG <= 0 || r.PP > 0 && r.TPP <= 0 {
			t.Errorf("result %d: %+v, want PP, TG, B, N_KV = %v", i, r, want[i])
		}
		if r.STG() <= 0 || r.S() <= 0 {
			t.Errorf("result %d: speeds %v %v", i, r.STG(), r.S())
		}
		WriteBatchedRow(&out, r)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2+len(want) || !strings.HasPrefix(lines[0], "|    PP |     TG |    B |   N_KV |") || !strings.HasPrefix(lines[4], "|    20 |      5 |    1 |     25 |") {
		t.Errorf("table:\n%s", out.String())
	}
	if err := RunBatched(context.Background(), m, BatchedParams{BatchSize: 8, UBatchSize: 8, NPP: []int{4}, NTG: []int{1}, NPL: []int{100}}, func(BatchedResult) error { return nil }); err != nil {
		t.Errorf("100 sequences with -b 8: %v", err)
	}
}
