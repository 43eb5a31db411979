// chatgreedy: llama.cpp's greedy completion of a prompt that holds special
// tokens (a chat template's <|im_start|> and the like), as JSON, for the
// golden files of the engine's tests (pkg/engine/testdata). Not part of the
// project's build: compile it by hand against llama.cpp's prebuilt libraries,
// in the folder DIR that ../shared/tools/reference/setup.sh DIR prepared, as
// setup.sh compiles its own programs:
//
//   lib=DIR/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
//   g++ -O2 -std=c++17 -I DIR/src/include -I DIR/src/ggml/include
//       tools/reference-extra/chatgreedy.cpp -o DIR/bin/chatgreedy
//       -L"$lib" -lllama -lggml -lggml-base -Wl,-rpath,"$lib"
//
// and run it from $lib, so that ggml finds its CPU backend there.
//
// usage: chatgreedy MODEL.gguf N < PROMPT
// The prompt (stdin, taken byte for byte) is tokenized with special tokens
// parsed and BOS added only where the model's add_bos_token asks for it,
// evaluated in one batch, and then at most N tokens are generated greedily
// (the arg max, the lowest id among equals), one llama_decode each, stopping
// before an end-of-generation token. Printed, as one JSON object: add_bos,
// prompt_tokens, tokens, text (the generated pieces), stopped_eog, and top:
// top[i] lists the TOP (5) largest logits as [id, logit] when tokens[i] was
// chosen (then at the EOG that stopped generation, if one did). The gap
// between the first two marks near ties, and another engine's logits can be
// compared with these.
#include "ggml-backend.h"
#include "llama.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

static const int TOP = 5;

static void json_string(const std::string &s) {
    putchar('"');
    for (unsigned char c : s) {
        switch (c) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        default:
            if (c < 0x20) printf("\\u%04x", c);
            else putchar(c);  // UTF-8 passes through
        }
    }
    putchar('"');
}

static void json_ints(const std::vector<llama_token> &v) {
    putchar('[');
    for (size_t i = 0; i < v.size(); i++) printf("%s%d", i ? ", " : "", v[i]);
    putchar(']');
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: chatgreedy MODEL.gguf N < PROMPT\n");
        return 2;
    }
    ggml_backend_load_all();
    llama_backend_init();
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    auto mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model *m = llama_model_load_from_file(argv[1], mp);
    if (!m) {
        fprintf(stderr, "chatgreedy: cannot load %s\n", argv[1]);
        return 1;
    }
    const llama_vocab *v = llama_model_get_vocab(m);
    const int nv = llama_vocab_n_tokens(v);
    const int n = atoi(argv[2]);
    std::string prompt((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    const bool add_bos = llama_vocab_get_add_bos(v);

    std::vector<llama_token> toks(prompt.size() + 8);
    int nt = llama_tokenize(v, prompt.data(), prompt.size(), toks.data(), toks.size(), add_bos, true);
    if (nt < 0) {
        fprintf(stderr, "chatgreedy: tokenize failed (%d)\n", nt);
        return 1;
    }
    toks.resize(nt);

    auto cp = llama_context_default_params();
    cp.n_ctx = toks.size() + n + 8;
    cp.n_batch = cp.n_ctx;
    cp.n_threads = 2;
    cp.n_threads_batch = 2;
    llama_context *c = llama_init_from_model(m, cp);
    if (!c || llama_decode(c, llama_batch_get_one(toks.data(), toks.size())) != 0) {
        fprintf(stderr, "chatgreedy: prompt evaluation failed\n");
        return 1;
    }
    std::vector<llama_token> out;
    std::vector<std::vector<std::pair<int, float>>> tops;
    std::vector<int> ids(nv);
    std::string text;
    bool eog = false;
    for (int i = 0; i < n; i++) {
        const float *l = llama_get_logits_ith(c, -1);
        // The TOP largest logits, the lowest id first among equals; the
        // first is the greedy choice.
        for (int j = 0; j < nv; j++) ids[j] = j;
        std::partial_sort(ids.begin(), ids.begin() + TOP, ids.end(),
                          [l](int a, int b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
        std::vector<std::pair<int, float>> top;
        for (int j = 0; j < TOP; j++) top.emplace_back(ids[j], l[ids[j]]);
        tops.push_back(top);
        const llama_token best = ids[0];
        if (llama_vocab_is_eog(v, best)) {
            eog = true;
            break;
        }
        out.push_back(best);
        char buf[256];
        int k = llama_token_to_piece(v, best, buf, sizeof buf, 0, false);
        if (k > 0) text.append(buf, k);
        if (i + 1 == n) break;
        llama_token t = best;
        if (llama_decode(c, llama_batch_get_one(&t, 1)) != 0) {
            fprintf(stderr, "chatgreedy: decode failed at token %d\n", i);
            return 1;
        }
    }

    printf("{\"add_bos\": %s, \"prompt_tokens\": ", add_bos ? "true" : "false");
    json_ints(toks);
    printf(", \"tokens\": ");
    json_ints(out);
    printf(", \"text\": ");
    json_string(text);
    printf(", \"stopped_eog\": %s, \"top\": [", eog ? "true" : "false");
    for (size_t i = 0; i < tops.size(); i++) {
        printf("%s[", i ? ", " : "");
        for (size_t j = 0; j < tops[i].size(); j++)
            printf("%s[%d, %.7g]", j ? ", " : "", tops[i][j].first, tops[i][j].second);
        putchar(']');
    }
    printf("]}\n");
    llama_free(c);
    llama_model_free(m);
    return 0;
}
