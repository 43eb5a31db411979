// Command membw prints the streaming read bandwidth of this machine and,
// for each model named, the bytes a single-token pass reads and the
// generation speed that bandwidth allows, as JSON lines for scripts:
//
//	membw [-t THREADS] [-size MIB] [-r REPS] [-pos N] [MODEL.gguf ...]
//
// {"bandwidth_gbs": ...} comes first, then one
// {"model": ..., "token_bytes": ..., "bound_ts": ...} per model; pos is the
// average cache position of the generation measured (64 for llama-bench's
// tg128 from an empty cache).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/llamafile-go/llamafile/internal/membw"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

func main() {
	threads := flag.Int("t", 2, "threads reading")
	size := flag.Int("size", 1024, "buffer size in MiB (several times the last-level cache)")
	reps := flag.Int("r", 5, "passes; the best counts")
	pos := flag.Int("pos", 64, "average cache position of the tokens generated")
	flag.Parse()
	if *threads <= 0 || *size <= 0 || *reps <= 0 || *pos < 0 {
		fmt.Fprintln(os.Stderr, "membw: -t, -size and -r need positive numbers, -pos one not negative")
		os.Exit(2)
	}
	bw := membw.Stream(make([]byte, *size<<20), *threads, *reps)
	enc := json.NewEncoder(os.Stdout)
	enc.Encode(map[string]any{"bandwidth_gbs": bw / 1e9, "threads": *threads})
	for _, path := range flag.Args() {
		f, err := gguf.Open(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "membw: %v\n", err)
			os.Exit(1)
		}
		n, err := membw.TokenBytes(f, *pos, 2)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "membw: %s: %v\n", path, err)
			os.Exit(1)
		}
		enc.Encode(map[string]any{"model": path, "token_bytes": n, "bound_ts": bw / n})
	}
}
