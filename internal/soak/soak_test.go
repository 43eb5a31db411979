package soak

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// TestSoak is a short soak: 8 s of mixed traffic from 8 workers on
// stories260k in this process. Nothing may fail but the bad requests
// (each rejected with its 4xx) and the planned hang-ups, and afterwards
// the goroutines and resident memory must be back where they were.
func TestSoak(t *testing.T) {
	model := testutil.SharedFile(t, "testdata/models/stories260k.gguf")
	d := 8 * time.Second
	if testing.Short() {
		d = 3 * time.Second
	}
	var log *slog.Logger
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	res, err := Run(context.Background(), Options{Model: model, Embeddings: true, Workers: 8, Duration: d, Every: 2 * time.Second, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Requests < 100 {
		t.Errorf("only %d requests", res.Requests)
	}
	if n := res.Errors(); n > 0 {
		t.Errorf("%d unexpected outcomes: %v; the first: %q", n, res.Kinds, res.Failures)
	}
	for _, k := range []string{OK, Rejected, HungUp} {
		if res.Kinds[k] == 0 {
			t.Errorf("no %s outcome: %v", k, res.Kinds)
		}
	}
	if res.Goroutines1 > res.Goroutines0 {
		t.Errorf("goroutines %d after the run, %d before", res.Goroutines1, res.Goroutines0)
	}
	if res.RSS0 > 0 && res.RSS1 > res.RSS0+64<<20 {
		t.Errorf("resident memory grew from %d to %d MiB", res.RSS0>>20, res.RSS1>>20)
	}
}
