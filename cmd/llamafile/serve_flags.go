package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// serverOptions are llama-server's flags, with its names and meanings.
type serverOptions struct {
	host         string
	port         int
	noBrowser    bool
	parallel     int
	ubatch       int
	apiKeys      []string
	timeout      time.Duration
	staticDir    string
	noUI         bool
	urlPrefix    string
	alias        string
	noCache      bool
	metrics      bool
	slots        bool
	embeddings   bool
	pooling      string
	contextShift bool
	keep         int
	chatTemplate string // a built-in name or a template's source; "" for the model's
	templateFile string // where chatTemplate was read from, for messages
	noJinja      bool   // --no-jinja: llama.cpp's built-in formats only
	reasoning    string // --reasoning-format: auto, deepseek or none
}

// serverFlags returns the server's flags, writing into so.
func serverFlags(so *serverOptions) []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "server"},
		&cli.BoolFlag{Name: "v2"}, // llamafile's new server (--server --v2): this one
		&cli.StringFlag{Name: "host", Value: "127.0.0.1", Destination: &so.host},
		&cli.IntFlag{Name: "port", Value: 8080, Destination: &so.port},
		&cli.BoolFlag{Name: "nobrowser", Destination: &so.noBrowser},
		&cli.IntFlag{Name: "np", Aliases: []string{"parallel"}, Value: 1, Destination: &so.parallel},
		&cli.IntFlag{Name: "ub", Aliases: []string{"ubatch-size"}, Value: 512, Destination: &so.ubatch},
		&cli.StringSliceFlag{Name: "api-key"},
		&cli.StringFlag{Name: "api-key-file"},
		&cli.IntFlag{Name: "timeout", Value: 600},
		&cli.StringFlag{Name: "path", Destination: &so.staticDir},
		&cli.BoolFlag{Name: "no-ui", Aliases: []string{"no-webui"}, Destination: &so.noUI},
		&cli.StringFlag{Name: "url-prefix", Destination: &so.urlPrefix},
		&cli.StringFlag{Name: "a", Aliases: []string{"alias"}, Destination: &so.alias},
		&cli.BoolFlag{Name: "no-cache-prompt", Destination: &so.noCache},
		&cli.BoolFlag{Name: "metrics", Destination: &so.metrics},
		&cli.BoolFlag{Name: "slots"},
		&cli.BoolFlag{Name: "no-slots"},
		&cli.BoolFlag{Name: "embedding", Aliases: []string{"embeddings"}, Destination: &so.embeddings},
		&cli.StringFlag{Name: "pooling"},
		&cli.BoolFlag{Name: "reranking", Aliases: []string{"rerank"}},
		&cli.BoolFlag{Name: "context-shift"},
		&cli.BoolFlag{Name: "no-context-shift"},
		&cli.IntFlag{Name: "keep", Value: 0, Destination: &so.keep},
		&cli.BoolFlag{Name: "jinja"},
		&cli.BoolFlag{Name: "no-jinja"},
		&cli.StringFlag{Name: "chat-template"},
		&cli.StringFlag{Name: "chat-template-file"},
		&cli.StringFlag{Name: "reasoning-format", Value: "auto", Destination: &so.reasoning},
		&cli.StringFlag{Name: "flash-attn", Aliases: []string{"fa"}},
		&cli.BoolFlag{Name: "kv-unified"},
		&cli.BoolFlag{Name: "no-kv-unified"},
	}
}

// finish checks and completes the server options once the flags are
// parsed. Flags for what this build lacks are errors naming them, never
// ignored.
func (so *serverOptions) finish(c *cli.Context, serving bool) error {
	so.timeout = time.Duration(c.Int("timeout")) * time.Second
	so.slots = !c.Bool("no-slots")
	// The server shifts only when asked, as llama-server; the command
	// line by default, as llamafile always has (llama.cpp's completion
	// tool no longer does): a generation without -n goes on.
	so.contextShift = (c.Bool("context-shift") || !serving) && !c.Bool("no-context-shift")
	for _, k := range c.StringSlice("api-key") {
		// llama-server takes a comma-separated list.
		for _, k := range strings.Split(k, ",") {
			if k = strings.TrimSpace(k); k != "" {
				so.apiKeys = append(so.apiKeys, k)
			}
		}
	}
	if name := c.String("api-key-file"); name != "" {
		data, err := os.ReadFile(name)
		if err != nil {
			return usageError{fmt.Errorf("--api-key-file: %w", err)}
		}
		n := 0
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				so.apiKeys = append(so.apiKeys, line)
				n++
			}
		}
		if n == 0 {
			return usageError{fmt.Errorf("--api-key-file %s: no key in the file (one key per line)", name)}
		}
	}
	switch p := c.String("pooling"); p {
	case "", "none", "mean", "cls", "last", "rank":
		so.pooling = p
	default:
		return usageError{fmt.Errorf("--pooling %q: must be none, mean, cls, last or rank", p)}
	}
	// llama-server's --reranking: embeddings on, pooled by the
	// classifier head, for /v1/rerank.
	if c.Bool("reranking") {
		if so.pooling != "" && so.pooling != "rank" {
			return usageError{fmt.Errorf("--reranking pools rank: it cannot be combined with --pooling %s", so.pooling)}
		}
		so.pooling, so.embeddings = "rank", true
	}
	if c.Bool("jinja") && c.Bool("no-jinja") {
		return usageError{errors.New("--jinja and --no-jinja cannot be combined")}
	}
	so.noJinja = c.Bool("no-jinja")
	switch so.reasoning {
	case "auto", "deepseek", "none":
	case "deepseek-legacy":
		return usageError{errors.New("--reasoning-format deepseek-legacy: not supported (use deepseek or none)")}
	default:
		return usageError{fmt.Errorf("--reasoning-format %q: must be auto, deepseek or none", so.reasoning)}
	}
	if c.IsSet("chat-template") && c.IsSet("chat-template-file") {
		return usageError{errors.New("--chat-template and --chat-template-file cannot be combined")}
	}
	so.chatTemplate = c.String("chat-template")
	if name := c.String("chat-template-file"); name != "" {
		data, err := os.ReadFile(name)
		if err != nil {
			return usageError{fmt.Errorf("--chat-template-file: %w", err)}
		}
		so.chatTemplate, so.templateFile = string(data), name
	}
	switch fa := c.String("flash-attn"); fa {
	case "", "on", "auto":
	case "off":
		return usageError{errors.New("--flash-attn off: not supported: attention is always computed as llama.cpp's flash attention (on)")}
	default:
		return usageError{fmt.Errorf("--flash-attn %q: must be on, off or auto", fa)}
	}
	if c.Bool("kv-unified") {
		return usageError{errors.New("--kv-unified: not supported: each slot has a cache of its own (-c is split across the -np slots)")}
	}
	if !serving {
		return nil
	}
	switch {
	case so.port < 0 || so.port > 65535:
		return usageError{fmt.Errorf("--port %d: must be between 0 and 65535", so.port)}
	case so.parallel < 1:
		return usageError{fmt.Errorf("-np %d: must be at least 1", so.parallel)}
	case so.ubatch < 1:
		return usageError{fmt.Errorf("-ub %d: must be at least 1", so.ubatch)}
	case so.timeout <= 0:
		return usageError{fmt.Errorf("--timeout %d: must be positive", c.Int("timeout"))}
	case so.urlPrefix != "" && (!strings.HasPrefix(so.urlPrefix, "/") || strings.HasSuffix(so.urlPrefix, "/")):
		return usageError{fmt.Errorf("--url-prefix %q: must start with / and not end with one (e.g. /llama)", so.urlPrefix)}
	}
	if so.staticDir != "" {
		if st, err := os.Stat(so.staticDir); err != nil || !st.IsDir() {
			return usageError{fmt.Errorf("--path %s: not a directory", so.staticDir)}
		}
	}
	return nil
}
