// embeddings: llama.cpp's pooled embeddings of texts, as JSON, for the golden
// files of pkg/model's BERT tests (pkg/model/testdata). Not part of the
// project's build: compile it by hand against llama.cpp's prebuilt libraries,
// in the folder DIR that ../shared/tools/reference/setup.sh DIR prepared, as
// chatgreedy.cpp says:
//
//   lib=DIR/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
//   g++ -O2 -std=c++17 -I DIR/src/include -I DIR/src/ggml/include
//       tools/reference-extra/embeddings.cpp -o DIR/bin/embeddings
//       -L"$lib" -lllama -lggml -lggml-base -Wl,-rpath,"$lib"
//
// and run it from $lib, so that ggml finds its CPU backend there.
//
// usage: embeddings MODEL.gguf POOLING TEXT...
// POOLING is a llama_pooling_type (-1: the model's, 0 none, 1 mean, 2 cls,
// 3 last, 4 rank). Each text is tokenized as llama-embedding does (special
// tokens added and parsed) and evaluated alone, in one batch, in its own
// sequence. Printed, as one JSON object: n_embd, pooling (the type the
// context chose), and per text its tokens and embd: the pooled embedding
// before any normalization (pooling none: every token's, one after another;
// rank: the classifier's n_cls_out scores).
#include "llama.h"
#include "ggml-backend.h"
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: embeddings MODEL POOLING TEXT...\n"); return 1; }
    ggml_backend_load_all(); llama_backend_init();
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    auto mp = llama_model_default_params(); mp.n_gpu_layers = 0;
    llama_model *m = llama_model_load_from_file(argv[1], mp);
    if (!m) { fprintf(stderr, "load failed\n"); return 1; }
    const llama_vocab *v = llama_model_get_vocab(m);
    int ne = llama_model_n_embd(m);
    printf("{\"n_embd\":%d,\"items\":[", ne);
    int pooled = -1;
    for (int a = 3; a < argc; a++) {
        std::string text = argv[a];
        std::vector<llama_token> toks(text.size() + 8);
        int n = llama_tokenize(v, text.c_str(), text.size(), toks.data(), toks.size(), true, true);
        toks.resize(n);
        auto cp = llama_context_default_params();
        cp.n_ctx = toks.size() + 16; cp.n_batch = cp.n_ctx; cp.n_ubatch = cp.n_ctx;
        cp.n_threads = 2; cp.n_threads_batch = 2; cp.embeddings = true;
        cp.pooling_type = (enum llama_pooling_type) atoi(argv[2]);
        llama_context *c = llama_init_from_model(m, cp);
        if (!c) { fprintf(stderr, "context failed\n"); return 1; }
        pooled = llama_pooling_type(c);
        llama_batch b = llama_batch_init(toks.size(), 0, 1);
        for (size_t i = 0; i < toks.size(); i++) { b.token[i] = toks[i]; b.pos[i] = i; b.n_seq_id[i] = 1; b.seq_id[i][0] = 0; b.logits[i] = 1; }
        b.n_tokens = toks.size();
        if (llama_decode(c, b)) { fprintf(stderr, "decode failed\n"); return 1; }
        std::vector<float> out;
        if (pooled == LLAMA_POOLING_TYPE_NONE) {
            for (size_t i = 0; i < toks.size(); i++) { float *e = llama_get_embeddings_ith(c, i); out.insert(out.end(), e, e + ne); }
        } else {
            int k = pooled == LLAMA_POOLING_TYPE_RANK ? llama_model_n_cls_out(m) : ne;
            float *e = llama_get_embeddings_seq(c, 0); out.assign(e, e + k);
        }
        printf("%s{\"tokens\":[", a > 3 ? "," : "");
        for (size_t i = 0; i < toks.size(); i++) printf("%s%d", i ? "," : "", toks[i]);
        printf("],\"embd\":[");
        for (size_t i = 0; i < out.size(); i++) printf("%s%.9g", i ? "," : "", out[i]);
        printf("]}");
        llama_batch_free(b); llama_free(c);
    }
    printf("],\"pooling\":%d}\n", pooled);
    return 0;
}
