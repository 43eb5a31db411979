// Seeded sampling through libllama with llama.cpp's default sampler chain
// (common/sampling.cpp order: logit bias, penalties, dry, top_n_sigma, top_k,
// typical, top_p, min_p, xtc, temperature, dist), prompt tokens accepted first
// as llama-completion does. Prints the generated text (not the prompt).
// usage: sampled MODEL PROMPT N SEED TEMP [TOPK TOPP MINP TYP REP LASTN PRES FREQ MIROSTAT ETA TAU]
#include "llama.h"
#include "ggml-backend.h"
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <string>
#include <vector>
int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage\n"); return 2; }
    ggml_backend_load_all(); llama_backend_init();
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    auto mp = llama_model_default_params(); mp.n_gpu_layers = 0;
    llama_model *m = llama_model_load_from_file(argv[1], mp); if (!m) return 1;
    const llama_vocab *v = llama_model_get_vocab(m);
    std::string text = argv[2]; int n = atoi(argv[3]);
    uint32_t seed = (uint32_t)strtoul(argv[4], nullptr, 10);
    float temp = atof(argv[5]);
    auto arg = [&](int i, double d) { return argc > i ? atof(argv[i]) : d; };
    int top_k = (int)arg(6, 40); float top_p = arg(7, 0.95), min_p = arg(8, 0.05), typ = arg(9, 1.0);
    float rep = arg(10, 1.0); int last_n = (int)arg(11, 64); float pres = arg(12, 0), freq = arg(13, 0);
    int miro = (int)arg(14, 0); float eta = arg(15, 0.1), tau = arg(16, 5.0);
    std::vector<llama_token> toks(text.size() + 8);
    toks.resize(llama_tokenize(v, text.c_str(), text.size(), toks.data(), toks.size(), true, true));
    auto cp = llama_context_default_params(); cp.n_ctx = toks.size() + n + 8; cp.n_threads = 2; cp.n_threads_batch = 2;
    llama_context *c = llama_init_from_model(m, cp);
    auto sp = llama_sampler_chain_default_params();
    llama_sampler *ch = llama_sampler_chain_init(sp);
    int nv = llama_vocab_n_tokens(v);
    if (miro == 0) {
        llama_sampler_chain_add(ch, llama_sampler_init_penalties(nv, last_n, rep, freq, pres));
        const char *br[] = {"\n", ":", "\"", "*"};
        llama_sampler_chain_add(ch, llama_sampler_init_dry(v, 0.0f, 1.75f, 2, 64, br, 4));
        llama_sampler_chain_add(ch, llama_sampler_init_top_n_sigma(-1.0f));
        llama_sampler_chain_add(ch, llama_sampler_init_top_k(top_k));
        llama_sampler_chain_add(ch, llama_sampler_init_typical(typ, 0));
        llama_sampler_chain_add(ch, llama_sampler_init_top_p(top_p, 0));
        llama_sampler_chain_add(ch, llama_sampler_init_min_p(min_p, 0));
        llama_sampler_chain_add(ch, llama_sampler_init_xtc(0.0f, 0.1f, 0, seed));
        llama_sampler_chain_add(ch, llama_sampler_init_temp_ext(temp, 0.0f, 1.0f));
        llama_sampler_chain_add(ch, llama_sampler_init_dist(seed));
    } else if (miro == 1) {
        llama_sampler_chain_add(ch, llama_sampler_init_temp(temp));
        llama_sampler_chain_add(ch, llama_sampler_init_mirostat(nv, seed, tau, eta, 100));
    } else {
        llama_sampler_chain_add(ch, llama_sampler_init_temp(temp));
        llama_sampler_chain_add(ch, llama_sampler_init_mirostat_v2(seed, tau, eta));
    }
    for (auto t : toks) llama_sampler_accept(ch, t);
    llama_decode(c, llama_batch_get_one(toks.data(), toks.size()));
    std::string out;
    for (int i = 0; i < n; i++) {
        llama_token t = llama_sampler_sample(ch, c, -1); // also accepts t
        if (llama_vocab_is_eog(v, t)) break;
        char buf[256]; int k = llama_token_to_piece(v, t, buf, sizeof buf, 0, false); out.append(buf, k);
        llama_decode(c, llama_batch_get_one(&t, 1));
    }
    fwrite(out.data(), 1, out.size(), stdout); return 0;
}
