// Command soak runs mixed traffic against llamafile's HTTP server (in
// this process, or at -url) and reports requests served, errors by kind,
// latency percentiles, goroutines and memory over time (package soak).
//
//	go run ./internal/soak/cmd/soak -m stories260k.gguf -d 5m -workers 16
//	go run ./internal/soak/cmd/soak -url http://localhost:8080 -d 10m
//
// It exits 1 when a request had an unexpected outcome (a 5xx, an
// unexpected 4xx, a broken stream, a failed connection) or when
// goroutines were left behind.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/llamafile-go/llamafile/internal/soak"
)

func main() {
	var o soak.Options
	defModel := filepath.Join(os.Getenv("LLAMAFILE_SHARED"), "testdata", "models", "stories260k.gguf")
	if os.Getenv("LLAMAFILE_SHARED") == "" {
		defModel = filepath.Join("..", "shared", "testdata", "models", "stories260k.gguf")
	}
	flag.StringVar(&o.URL, "url", "", "the server to target (empty: serve -m in this process)")
	flag.StringVar(&o.Model, "m", defModel, "the model served in this process")
	flag.IntVar(&o.Slots, "np", 4, "slots of the in-process server")
	flag.IntVar(&o.Context, "c", 512, "context of each slot of the in-process server")
	flag.IntVar(&o.Threads, "t", 2, "threads of the in-process model")
	flag.BoolVar(&o.Embeddings, "embeddings", true, "send embedding requests (and serve them in process)")
	flag.StringVar(&o.APIKey, "api-key", "", "the API key to send (and require in process)")
	flag.IntVar(&o.Workers, "workers", 8, "concurrent clients")
	flag.DurationVar(&o.Duration, "d", time.Minute, "how long to run")
	flag.DurationVar(&o.Every, "every", 5*time.Second, "interval of the progress lines")
	flag.Uint64Var(&o.Seed, "seed", 1, "seed of the mix of requests")
	flag.Parse()
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := soak.Run(ctx, o)
	if err != nil && res == nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	fmt.Println(res)
	if res.Errors() > 0 || res.Goroutines1 > res.Goroutines0 {
		os.Exit(1)
	}
}
