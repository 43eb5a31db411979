package server

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/bertsynth"
	"github.com/llamafile-go/llamafile/pkg/chat"
	"github.com/llamafile-go/llamafile/pkg/engine"
	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/model"
	"github.com/llamafile-go/llamafile/pkg/sample"
)

// The synthetic encoders of pkg/model's goldens: an embedder (mean
// pooling) and a reranker (a classifier head, rank pooling).
var (
	bertEmbedder = bertsynth.Spec{Name: "bert-f32", Arch: "bert", Type: ggml.TypeF32, Embd: 64, Layers: 2, FF: 128, Heads: 4, Pooling: 1, Seed: 201}
	bertReranker = bertsynth.Spec{Name: "bert-rank-f32", Arch: "bert", Type: ggml.TypeF32, Embd: 64, Layers: 2, FF: 96, Heads: 4, Pooling: 4, Rank: true, Seed: 203}
)

var bertInputs = []string{
	"Hello world, the cat sat on the mat!",
	"the small dog is running",
	"Embedding models are small tests of running dogs; unknown xyzzy words.",
	"a cat",
	"the mat and the dog",
}

// bertServer serves a synthetic encoder written from sp; pooling "" is
// the model's.
func bertServer(t *testing.T, sp bertsynth.Spec, pooling string) (string, *Engine) {
	t.Helper()
	m, err := engine.Open(bertsynth.Write(t, t.TempDir(), sp), engine.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := m.NewScheduler(engine.ServeOptions{Slots: 3, ContextSize: 128, Embeddings: true, Pooling: pooling})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Defaults: sample.DefaultParams(), DefaultMaxTokens: -1, Embeddings: true})
	if err != nil {
		t.Fatal(err)
	}
	en := &Engine{Model: m, Scheduler: sched, Template: chat.Default(), TemplateSource: "chatml"}
	srv.SetBackend(en)
	base, stop := serveLoopback(t, srv)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
		sched.Close()
		m.Close()
	})
	return base, en
}

// directEmbed embeds each input alone with a Runner of its own, as
// model.Runner.Embed pools it.
func directEmbed(t *testing.T, en *Engine, inputs [][]int32, pooling string) [][]float32 {
	t.Helper()
	r, err := en.Model.Network().NewRunner(model.RunnerOptions{BatchSize: 128, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seq, err := r.NewSeq(128)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]float32
	for _, toks := range inputs {
		v, err := r.Embed(context.Background(), seq, toks, pooling)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestBertEmbeddings: /v1/embeddings on a synthetic BERT returns, for
// more inputs than slots (embedded together, several to a forward
// pass), unit vectors equal to each input's embedding alone; /embedding
// the same, and with pooling none every token's vector, which
// /v1/embeddings refuses as llama-server does.
func TestBertEmbeddings(t *testing.T) {
	base, en := bertServer(t, bertEmbedder, "")
	if en.Pooling() != "mean" {
		t.Fatalf("pooling %q, want the model's mean", en.Pooling())
	}
	var inputs [][]int32
	for _, s := range bertInputs {
		inputs = append(inputs, en.Tokenize(s, true, true))
	}
	ref := directEmbed(t, en, inputs, "mean")
	in, _ := json.Marshal(bertInputs)
	decodes := en.Stats().Decodes
	var oai struct {
		Data []struct {
			Index     int
			Embedding []float32
		}
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		}
	}
	if err := json.Unmarshal(post(t, base+"/v1/embeddings", `{"input":`+string(in)+`}`, http.StatusOK), &oai); err != nil {
		t.Fatal(err)
	}
	if len(oai.Data) != len(bertInputs) {
		t.Fatalf("%d embeddings, want %d", len(oai.Data), len(bertInputs))
	}
	n := 0
	worst := 1.0
	for i, d := range oai.Data {
		n += len(inputs[i])
		if d.Index != i || len(d.Embedding) != bertEmbedder.Embd {
			t.Fatalf("embedding %d: index %d, %d values", i, d.Index, len(d.Embedding))
		}
		var norm float64
		for _, x := range d.Embedding {
			norm += float64(x) * float64(x)
		}
		if math.Abs(math.Sqrt(norm)-1) > 1e-5 {
			t.Errorf("embedding %d: norm %v, want 1", i, math.Sqrt(norm))
		}
		c := model.CosineSimilarity(d.Embedding, ref[i])
		worst = min(worst, c)
		if c < 1-1e-6 {
			t.Errorf("embedding %d: cosine %v to the input embedded alone", i, c)
		}
	}
	// Five short inputs on three slots: two waves, a forward pass each.
	if d := en.Stats().Decodes - decodes; d != 2 {
		t.Errorf("%d forward passes for %d inputs on 3 slots, want 2", d, len(inputs))
	}
	t.Logf("%d inputs on 3 slots in %d passes: worst cosine to Runner.Embed %.9f", len(inputs), en.Stats().Decodes-decodes, worst)
	if oai.Usage.PromptTokens != n {
		t.Errorf("usage: %d prompt tokens, want %d", oai.Usage.PromptTokens, n)
	}

	// /embedding: one pooled vector per input.
	var legacy []struct {
		Index     int
		Embedding [][]float32
	}
	if err := json.Unmarshal(post(t, base+"/embedding", `{"content":"a cat"}`, http.StatusOK), &legacy); err != nil {
		t.Fatal(err)
	}
	if len(legacy) != 1 || len(legacy[0].Embedding) != 1 || model.CosineSimilarity(legacy[0].Embedding[0], ref[3]) < 1-1e-6 {
		t.Errorf("/embedding: %d results, want one pooled vector equal to a cat's", len(legacy))
	}

	// A text longer than an encoder's batch names the input.
	long := strings.Repeat("the cat ", 80)
	e := errorOf(t, post(t, base+"/v1/embeddings", `{"input":["a cat","`+long+`"]}`, http.StatusBadRequest))
	if !strings.Contains(e.Message, `input[1]`) {
		t.Errorf("too long an input: %q does not name input[1]", e.Message)
	}

	// Rerank on an embedder: llama-server's not-supported error, a 400.
	e = errorOf(t, post(t, base+"/v1/rerank", `{"query":"a cat","documents":["the mat"]}`, http.StatusBadRequest))
	if e.Type != "not_supported_error" || !strings.Contains(e.Message, "--reranking") || !strings.Contains(e.Message, "--pooling rank") {
		t.Errorf("rerank on an embedder: %+v", e)
	}

	t.Run("pooling none", func(t *testing.T) {
		base, en := bertServer(t, bertEmbedder, "none")
		e := errorOf(t, post(t, base+"/v1/embeddings", `{"input":"a cat"}`, http.StatusBadRequest))
		if !strings.HasPrefix(e.Message, "Pooling type 'none' is not OAI compatible. Please use a different pooling type") {
			t.Errorf("/v1/embeddings with pooling none: %q", e.Message)
		}
		toks := en.Tokenize("a cat", true, true)
		want := directEmbed(t, en, [][]int32{toks}, "none")[0]
		var out []struct {
			Index     int
			Embedding [][]float32
		}
		if err := json.Unmarshal(post(t, base+"/embedding", `{"content":"a cat"}`, http.StatusOK), &out); err != nil {
			t.Fatal(err)
		}
		if len(out) != 1 || len(out[0].Embedding) != len(toks) {
			t.Fatalf("/embedding with pooling none: %d results, want one of %d token vectors", len(out), len(toks))
		}
		d := bertEmbedder.Embd
		for k, row := range out[0].Embedding {
			if len(row) != d {
				t.Fatalf("token %d: %d values, want %d", k, len(row), d)
			}
			if c := model.CosineSimilarity(row, want[k*d:(k+1)*d]); c < 1-1e-6 {
				t.Errorf("token %d: cosine %v to Runner.Embed's", k, c)
			}
		}
	})
}

// TestBertRerank: /v1/rerank on the synthetic reranker scores each
// document as Runner.Embed with rank pooling scores its formatted pair
// ([CLS] query [SEP] doc, as llama.cpp's format_prompt_rerank for a
// WordPiece vocabulary), sorted by score, top_n and return_text as
// llama-server; TEI's "texts" answer the bare list.
func TestBertRerank(t *testing.T) {
	base, en := bertServer(t, bertReranker, "")
	if en.Pooling() != "rank" {
		t.Fatalf("pooling %q, want the model's rank", en.Pooling())
	}
	query := "the cat sat on the mat"
	pair := en.RerankTokens(query, "a dog")
	tok := en.Model.Tokenizer()
	wantPair := append(append([]int32{tok.BOS()}, en.Tokenize(query, false, false)...), tok.SEP())
	wantPair = append(wantPair, en.Tokenize("a dog", false, false)...)
	if !slices.Equal(pair, wantPair) {
		t.Fatalf("pair tokens %v, want %v", pair, wantPair)
	}
	var inputs [][]int32
	for _, d := range bertInputs {
		inputs = append(inputs, en.RerankTokens(query, d))
	}
	ref := directEmbed(t, en, inputs, "rank")
	docs, _ := json.Marshal(bertInputs)
	type result struct {
		Index    int
		Score    *float64 `json:"relevance_score"`
		Document *struct{ Text string }
	}
	var out struct {
		Model   string
		Object  string
		Results []result
		Usage   struct {
			PromptTokens int `json:"prompt_tokens"`
		}
	}
	for _, path := range []string{"/v1/rerank", "/rerank", "/v1/reranking", "/reranking"} {
		if err := json.Unmarshal(post(t, base+path, `{"query":"`+query+`","documents":`+string(docs)+`,"return_text":true}`, http.StatusOK), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Results) != len(bertInputs) || out.Object != "list" {
			t.Fatalf("%s: %d results, object %q", path, len(out.Results), out.Object)
		}
	}
	n := 0
	for _, toks := range inputs {
		n += len(toks)
	}
	if out.Usage.PromptTokens != n {
		t.Errorf("usage: %d prompt tokens, want %d", out.Usage.PromptTokens, n)
	}
	order := make([]int, len(ref))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return -cmpFloat(ref[a][0], ref[b][0]) })
	worst := 0.0
	for k, r := range out.Results {
		if r.Index != order[k] {
			t.Errorf("result %d: document %d, want %d (by score)", k, r.Index, order[k])
		}
		if r.Score == nil || r.Document == nil || r.Document.Text != bertInputs[r.Index] {
			t.Fatalf("result %d: %+v: want a relevance_score and the document's text", k, r)
		}
		d := math.Abs(*r.Score - float64(ref[r.Index][0]))
		worst = max(worst, d)
		if d > 1e-5*max(1, math.Abs(float64(ref[r.Index][0]))) {
			t.Errorf("document %d: score %v, Runner.Embed's %v", r.Index, *r.Score, ref[r.Index][0])
		}
	}
	var scores []float64
	for _, r := range out.Results {
		scores = append(scores, *r.Score)
	}
	t.Logf("%d documents: scores by rank %.4f; worst difference to Runner.Embed %.3g", len(out.Results), scores, worst)

	// top_n, and TEI's shape.
	var tei []struct {
		Index int
		Score float64
		Text  string
	}
	if err := json.Unmarshal(post(t, base+"/rerank", `{"query":"`+query+`","texts":`+string(docs)+`,"top_n":2,"return_text":true}`, http.StatusOK), &tei); err != nil {
		t.Fatal(err)
	}
	if len(tei) != 2 || tei[0].Index != order[0] || tei[1].Index != order[1] || tei[0].Text != bertInputs[order[0]] {
		t.Errorf("TEI top_n 2: %+v, want documents %v", tei, order[:2])
	}

	for _, tc := range []struct{ body, field string }{
		{`{"documents":["a"]}`, "query"},
		{`{"query":1,"documents":["a"]}`, "query"},
		{`{"query":"q"}`, "documents"},
		{`{"query":"q","documents":[]}`, "documents"},
		{`{"query":"q","documents":[1]}`, "documents"},
		{`{"query":"q","documents":["a"],"top_n":-1}`, "top_n"},
		{`{"query":"q","documents":["a","` + strings.Repeat("the cat ", 80) + `"]}`, "documents[1]"},
	} {
		e := errorOf(t, post(t, base+"/v1/rerank", tc.body, http.StatusBadRequest))
		if !strings.Contains(e.Message, `"`+tc.field+`"`) {
			t.Errorf("%s: %q does not name %s", tc.body, e.Message, tc.field)
		}
	}
}

func cmpFloat(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
