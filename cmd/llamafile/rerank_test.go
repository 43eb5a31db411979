package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/bertsynth"
	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// TestServeReranking: llamafile --reranking serves /v1/rerank with a
// reranker (a synthetic BERT with a classifier head): a score per
// document, best first.
func TestServeReranking(t *testing.T) {
	model := bertsynth.Write(t, t.TempDir(), bertsynth.Spec{Name: "bert-rank-f32", Arch: "bert", Type: ggml.TypeF32,
		Embd: 64, Layers: 2, FF: 96, Heads: 4, Pooling: 4, Rank: true, Seed: 203})
	base, stop := inProcessServer(t, "-m", model, "-t", "2", "-np", "2", "-c", "256", "--reranking")
	resp, err := http.Post(base+"/v1/rerank", "application/json",
		strings.NewReader(`{"query":"the cat sat","documents":["a dog","the cat sat on the mat","hello world"]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out struct {
		Results []struct {
			Index int
			Score float64 `json:"relevance_score"`
		}
	}
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != http.StatusOK || len(out.Results) != 3 {
		t.Fatalf("/v1/rerank: %d %s (%v)", resp.StatusCode, b, err)
	}
	for i := 1; i < len(out.Results); i++ {
		if out.Results[i].Score > out.Results[i-1].Score {
			t.Errorf("results not by score: %+v", out.Results)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("runServer: %v", err)
	}
}
