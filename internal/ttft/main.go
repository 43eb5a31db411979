// Command ttft measures a server's time to first token of a long prompt
// while other sequences generate, over llama-server's /completion API
// (which llamafile serves too), so that llamafile and llama.cpp's server
// are measured the same way:
//
//	go run ./internal/ttft -url http://127.0.0.1:8080 -n 4 -prompt-tokens 512
//
// It starts -n streaming generations (prompts of 16 tokens, -gen tokens
// each), waits until all of them stream, then sends a prompt of
// -prompt-tokens random token ids with cache_prompt off, and times its
// first streamed token; -r rounds, printing each and the median.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "the server")
	n := flag.Int("n", 4, "sequences generating meanwhile")
	promptTokens := flag.Int("prompt-tokens", 512, "tokens of the timed prompt")
	gen := flag.Int("gen", 100000, "tokens each background generation asks for")
	rounds := flag.Int("r", 3, "rounds")
	lo := flag.Int("min-token", 100, "smallest random token id")
	hi := flag.Int("max-token", 30000, "largest random token id")
	flag.Parse()
	if err := run(*url, *n, *promptTokens, *gen, *rounds, *lo, *hi); err != nil {
		fmt.Fprintln(os.Stderr, "ttft:", err)
		os.Exit(1)
	}
}

func randomPrompt(rng *rand.Rand, n, lo, hi int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = lo + rng.IntN(hi-lo)
	}
	return p
}

// stream posts a /completion request and calls first at its first
// token; it returns when the stream ends or ctx is done.
func stream(ctx context.Context, url string, prompt []int, nPredict int, first func()) error {
	body, _ := json.Marshal(map[string]any{"prompt": prompt, "n_predict": nPredict, "stream": true,
		"cache_prompt": false, "temperature": 0, "ignore_eos": true})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/completion", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	seen := false
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		var ev struct {
			Content string `json:"content"`
			Tokens  []int  `json:"tokens"`
		}
		if json.Unmarshal([]byte(line[6:]), &ev) == nil && !seen && (ev.Content != "" || len(ev.Tokens) > 0) {
			seen = true
			first()
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

func run(url string, n, promptTokens, gen, rounds, lo, hi int) error {
	rng := rand.New(rand.NewPCG(7, 11))
	var results []time.Duration
	for r := 0; r < rounds; r++ {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		started := make(chan struct{}, n)
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			p := randomPrompt(rng, 16, lo, hi)
			go func() {
				defer wg.Done()
				if err := stream(ctx, url, p, gen, func() { started <- struct{}{} }); err != nil {
					errs <- err
				}
			}()
		}
		for i := 0; i < n; i++ {
			select {
			case <-started:
			case err := <-errs:
				cancel()
				return fmt.Errorf("background generation: %w", err)
			case <-time.After(5 * time.Minute):
				cancel()
				return errors.New("the background generations did not start")
			}
		}
		time.Sleep(500 * time.Millisecond) // let them settle into generating
		t0 := time.Now()
		var ttft time.Duration
		err := stream(context.Background(), url, randomPrompt(rng, promptTokens, lo, hi), 1, func() { ttft = time.Since(t0) })
		cancel()
		wg.Wait()
		if err != nil {
			return fmt.Errorf("timed prompt: %w", err)
		}
		if ttft == 0 {
			return errors.New("timed prompt: no token came")
		}
		fmt.Printf("round %d: time to first token of a %d-token prompt with %d generating: %.3f s\n", r+1, promptTokens, n, ttft.Seconds())
		results = append(results, ttft)
		time.Sleep(time.Second) // the cancelled generations leave their slots
	}
	slices.Sort(results)
	fmt.Printf("median: %.3f s\n", results[len(results)/2].Seconds())
	return nil
}
