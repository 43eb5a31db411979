package main

// helpText is printed by --help (it is also a text/template for urfave/cli;
// it holds no template actions).
const helpText = `llamafile - run a GGUF language model from the command line (llama.cpp-compatible)

usage:
  llamafile -m MODEL.gguf [--server] [options]       serve the chat page and the OpenAI API
                                                     (what a llamafile does without a prompt)
  llamafile -m MODEL.gguf -p PROMPT [options]        generate text
  llamafile -m MODEL.gguf --tokenize -p TEXT [--ids] print the tokens of a text
  llamafile -m MODEL.gguf --perplexity -f FILE [-c N] measure perplexity
  llamafile -m MODEL.gguf --chat [-sys PROMPT]        chat in the terminal (also -cnv); type
                                                     /help there for its commands
  llamafile [-m MODEL.gguf | --chat-template-file T.jinja] --apply-template CONV.json
                                                     print the prompt a chat template renders
  llamafile --bench -m MODEL.gguf [-p 512] [-n 128]  measure speed (like llama-bench;
                                                     --bench --help lists its flags)
  llamafile --batched-bench -m MODEL.gguf [-npl 1,4,8] speed of many sequences at once (like
                                                     llama-batched-bench; --batched-bench --help)
  llamafile --check [FILE...]                        verify the CRC-32 of every entry of a
                                                     llamafile's zip (this executable's
                                                     without FILE), as after a download

When the executable carries a zip archive (a llamafile), its .args supply default
arguments, -m NAME also finds NAME inside the archive, and without -m the
archive's only model is used: its one .gguf that is not a vision projector
(an mmproj GGUF, which --mmproj NAME finds in the archive too).

Long flags may also be spelled with underscores (--ctx_size is --ctx-size), as
in llama.cpp and llamafile.

----- common params -----

  -h, --help                 print this help
      --version              print the version
  -m, --model FNAME          model: a .gguf file, a llamafile holding one, or an entry
                             of this executable's zip (NAME or /zip/NAME)
  -t, --threads N            threads for generation (default: number of CPUs)
  -tb, --threads-batch N     threads for prompt processing (default: same as -t)
  -c, --ctx-size N           context size in tokens (default: 0 = the model's; 512
                             with --perplexity)
  -n, --predict, --n-predict N
                             number of tokens to generate (default: -1 = until end of
                             generation; -2 = until the context is full)
  -b, --batch-size N         most tokens per forward pass (default: 2048)
      --keep N               prompt tokens a context shift keeps (default: 0; -1 =
                             the whole prompt)
      --context-shift        when the context is full, drop the older half of what
                             follows the --keep tokens and go on (the default on the
                             command line, as in llamafile; off in the server)
      --no-context-shift     stop when the context is full, as llama.cpp does
  -p, --prompt PROMPT        prompt to start generation with
  -f, --file FNAME           read the prompt from a file (/dev/stdin works); one
                             trailing newline is dropped
  -e, --escape               process escapes (\n, \r, \t, \', \", \\, \xHH) in the
                             prompt and reverse prompts (default: on, except with
                             --perplexity)
      --no-escape            do not process escapes
  -ctk, --cache-type-k TYPE  key cache type: f16, f32 or q8_0 (default: f16)
  -ctv, --cache-type-v TYPE  value cache type: f16, f32 or q8_0 (default: f16)
  -fa, --flash-attn on|auto  accepted: attention is always llama.cpp's flash attention
                             (off is an error)
      --mlock                keep the model in memory: never paged out (a warning
                             when the system refuses, e.g. beyond ulimit -l)
      --no-mmap              read the model into memory instead of mapping it
  -nr, --no-repack           use the weights in place, as mapped (shared with other
                             processes); by default they are copied into this CPU's
                             faster layout at load time
      --swa-full             keep every position in sliding-window layers' caches
                             (Gemma 2, 3); by default they keep the window only
  -ngl, --gpu-layers, --n-gpu-layers N
                             layers to put on the GPU; this build has no GPU support:
                             N > 0 prints a notice and runs on the CPU
      --gpu auto|apple|amd|nvidia|disable
                             the GPU to use; likewise a notice for apple, amd or
                             nvidia (also metal, cublas, rocblas, rocm, hip)
      --unsecure             run without the sandbox (on Linux and OpenBSD, once the
                             model is loaded: no file opened but --path and
                             --prompt-cache, no exec, no new sockets)
      --fast, --precise      accepted as llamafile accepts them; this build has one
                             numeric mode, which gives llama.cpp's results
      --verbose-prompt       print the prompt's tokens on standard error first
  -co, --color               colour the prompt and your input (on a terminal only)
      --log-disable          print no logs or timings on standard error

----- sampling params -----

      --temp, --temperature N  temperature (default: 0.80; 0 = greedy)
      --top-k N              top-k sampling (default: 40, 0 = disabled)
      --top-p N              top-p sampling (default: 0.95, 1.0 = disabled)
      --min-p N              min-p sampling (default: 0.05, 0.0 = disabled)
      --typical, --typical-p N
                             locally typical sampling (default: 1.00 = disabled)
      --repeat-penalty N     penalize repeated tokens (default: 1.00 = disabled)
      --repeat-last-n N      last tokens the penalties look at (default: 64, 0 =
                             disabled)
      --presence-penalty N   presence penalty (default: 0.00 = disabled)
      --frequency-penalty N  frequency penalty (default: 0.00 = disabled)
      --mirostat N           Mirostat sampling: 0 off, 1 Mirostat, 2 Mirostat 2.0
                             (default: 0); replaces top-k, top-p, ...
      --mirostat-lr N        Mirostat learning rate, eta (default: 0.10)
      --mirostat-ent N       Mirostat target entropy, tau (default: 5.00)
  -s, --seed SEED            random seed (default: -1 = random)
      --ignore-eos           never end generation at an end-of-generation token
  -l, --logit-bias TOKEN_ID(+/-)BIAS
                             add BIAS to a token's logit, e.g. 15043+1, 15043-1 or
                             15043-inf to ban it (repeatable)
      --grammar GBNF         only text of this GBNF grammar (llama.cpp's
                             notation); generation ends when it is complete
      --grammar-file FILE    the grammar from FILE
  -j, --json-schema SCHEMA   only JSON that a JSON Schema accepts, e.g.
                             '{"type": "object"}' or '{}' for any JSON
      --json-schema-file FILE
                             the JSON Schema from FILE
                             (of --grammar, --grammar-file, -j and
                             --json-schema-file, the last given wins)

----- example-specific params -----

generating (-p or -f; like llama-completion):
  -r, --reverse-prompt PROMPT
                             stop when the output ends with PROMPT (repeatable)
      --no-display-prompt, --silent-prompt
                             do not print the prompt before the generated text
      --display-prompt       print it (the default)
      --prompt-cache FNAME   keep the evaluated prompt's state in FNAME and reuse it
                             when a later prompt starts with the same tokens
      --prompt-cache-all     save the generated tokens to FNAME too
      --prompt-cache-ro      use FNAME but never write it
      --mmproj FILE          the vision projector (an mmproj GGUF) of a LLaVA-style
                             model, for images; also a NAME in the llamafile's zip
      --image FILE           an image for -p (repeatable): it goes where the prompt
                             says <__image__> or <__media__>, else before the text
  -i, --interactive          raw text, no template (llama.cpp's interactive mode):
                             at a reverse prompt (-r), an end of generation or -n
                             tokens, your line is added and generation goes on;
                             Ctrl-C stops the generation, Ctrl-D ends
  -if, --interactive-first   the same, waiting for your line first
      --in-prefix TEXT       text added before each of your lines
      --in-suffix TEXT       text added after each of your lines

chat in the terminal:
      --chat, -cnv, --conversation
                             a conversation through the model's chat template, with
                             line editing and history; /help lists its commands;
                             Ctrl-C stops a reply, Ctrl-D or /exit leaves
  -sys, --system-prompt TEXT
                             the system prompt (with --chat, -p gives one too)

chat templates (--chat, --apply-template and the server):
      --apply-template CONV.json
                             print the prompt the chat template renders for the
                             conversation in CONV.json (no model needed with
                             --chat-template-file)
      --chat-template NAME   chat template: one of llama.cpp's built-in formats
                             (chatml, llama3, ...) or a Jinja template's text
                             (default: the model's own tokenizer.chat_template)
      --chat-template-file FNAME
                             read the Jinja chat template from a file
      --jinja, --no-jinja    render Jinja templates as Hugging Face does (the
                             default), or only match them to a built-in format

--tokenize (like llama-tokenize):
      --tokenize             print the tokens of the prompt
      --ids                  print the token ids as a list: [1, 15043, 3186]
      --stdin                read the text from standard input
      --no-bos               do not add the BOS token
      --parse-special        parse special tokens in the text (default)
      --no-parse-special     do not parse special tokens
      --show-count           print the number of tokens

--perplexity (like llama-perplexity):
      --perplexity           measure the perplexity of the model over -f FILE
      --chunks N             most chunks to evaluate (default: -1 = all)

--embedding with -p or -f (like llama-embedding):
      --embd-normalize N     -1 none, 0 max absolute to int16, 1 taxicab, 2
                             euclidean (default), >2 p-norm
      --embd-output-format FORMAT
                             json, json+ (with the cosine similarities), array or
                             raw; default: the first values and the similarities
      --embd-separator SEP   separator of the texts in the prompt (default: \n)
      --cls-separator SEP    separator of a reranker's query and document (default:
                             \t)

server (llama-server's flags; without -p, -f, --tokenize or --perplexity):
      --server               serve even when a prompt is given
      --v2                   accepted as in llamafile, whose --server --v2 starts
                             its new server: this server already is that one
                             (OpenAI-compatible), so --v2 serves as --server does;
                             --server --v2 --help prints this help
      --host HOST            address to listen on (default: 127.0.0.1)
      --port N               port to listen on (default: 8080)
      --nobrowser            do not open the chat page in a browser (it opens only
                             when standard output is a terminal with a display)
  -np, --parallel N          slots: requests generated at once (default: 1); -c is the
                             total context, split evenly across the slots
  -ub, --ubatch-size N       most prompt tokens per forward pass (default: 512)
      --api-key KEY          require "Authorization: Bearer KEY" on every endpoint but
                             /health (repeatable, or comma-separated)
      --api-key-file FNAME   read API keys from a file, one per line
      --timeout N            read and write timeout in seconds (default: 600)
      --path DIR             serve static files from DIR instead of the chat page
      --no-ui, --no-webui    do not serve the chat page
      --url-prefix PREFIX    serve everything under PREFIX (e.g. /llama)
  -a, --alias NAME           the model's name in the API (default: its file name)
      --no-cache-prompt      do not reuse a slot's cached prompt by default
      --metrics              serve Prometheus metrics at /metrics
      --slots, --no-slots    serve (default) or hide /slots
      --embedding, --embeddings
                             serve /v1/embeddings and /embedding; with -p or -f,
                             print the texts' embeddings (llama-embedding)
      --pooling TYPE         embedding pooling: none, mean, cls, last or rank
                             (default: the model's, else last, mean for BERT)
      --reranking, --rerank  serve /v1/rerank (--embeddings --pooling rank: a
                             reranker's classifier head scores query/document pairs)
      --reasoning-format auto|deepseek|none
                             put a reasoning model's <think>...</think> in the chat
                             replies' reasoning_content (auto, deepseek: the
                             default) or leave it in the content (none)
      --kv-unified, --no-kv-unified
                             --no-kv-unified is accepted: each slot has a key/value
                             cache of its own; --kv-unified, one cache shared by all,
                             is an error

Flags accept --flag VALUE and --flag=VALUE; see llamafile(1).
`
