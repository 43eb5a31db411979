// refsample: prints the tokens llama.cpp's sampler chain picks for synthetic logits, to
// produce the reference outputs in ../reference_test.go. It is not part of the Go build.
//
// The chain is assembled the way common_sampler_init (common/sampling.cpp) assembles it
// for the default `samplers` list: logit-bias, then either penalties, top-n-sigma, top-k,
// typical, top-p, min-p, xtc, temp-ext and dist (mirostat == 0), or temp and
// mirostat/mirostat-v2. DRY is left out (disabled by default).
//
// Build (after /work/shared/tools/reference/setup.sh):
//   L=/tmp/llama-ref/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
//   g++ -O2 -std=c++17 -I /tmp/llama-ref/src/include -I /tmp/llama-ref/src/ggml/include \
//       refsample.cpp -o refsample -L$L -lllama -lggml -lggml-base -Wl,-rpath,$L
// Usage:
//   refsample key=value...      sampler run; keys as in the loop below, bias=TOK:VAL repeatable,
//                               logits=FILE.f32 to read the logits of each step from a file
//   refsample rng SEED N        N raw std::mt19937 outputs, then N uniform_real_distribution
//                               <double>(0,1) draws and N <float>(0,1) draws (fresh engines)
//   refsample discrete SEED w1 w2 ...   10 draws of std::discrete_distribution<int>
//
// Logits at step s for token i: k = (i*A[s%4] + 977*s) mod n_vocab (a permutation; s is
// taken as 0 at every step with vary=0), and logit = k * 2^-shift - n_vocab * 2^-(shift+1),
// all exact in float. A = {7919, 104729, 1299709, 15485863}.
#include "llama.h"
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

static const long long A[4] = {7919, 104729, 1299709, 15485863};

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "rng")) {
        uint32_t seed = strtoul(argv[2], 0, 10);
        int n = atoi(argv[3]);
        std::mt19937 r1(seed), r2(seed), r3(seed);
        for (int i = 0; i < n; i++) printf("%u ", (unsigned)r1());
        printf("\n");
        std::uniform_real_distribution<double> dd(0.0f, 1.0f);
        for (int i = 0; i < n; i++) printf("%.17g ", dd(r2));
        printf("\n");
        std::uniform_real_distribution<float> df(0.0f, 1.0f);
        for (int i = 0; i < n; i++) printf("%.9g ", df(r3));
        printf("\n");
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "discrete")) {
        uint32_t seed = strtoul(argv[2], 0, 10);
        std::vector<float> w;
        for (int i = 3; i < argc; i++) w.push_back(strtof(argv[i], 0));
        std::mt19937 rng(seed);
        std::discrete_distribution<int> d(w.begin(), w.end());
        for (int i = 0; i < 10; i++) printf("%d ", d(rng));
        printf("\n");
        return 0;
    }
    int n_vocab = 1000, steps = 16, shift = 3, vary = 1, top_k = 40, last_n = 64, mirostat = 0, min_keep = 0;
    float temp = 0.8f, top_p = 0.95f, min_p = 0.05f, typ_p = 1.0f, rep = 1.0f, freq = 0.0f,
          pres = 0.0f, tau = 5.0f, eta = 0.1f, xtc_p = 0.0f, xtc_t = 0.1f, nsigma = -1.0f,
          dyn_range = 0.0f, dyn_exp = 1.0f;
    uint32_t seed = 42;
    std::string logits_path;
    std::vector<llama_logit_bias> bias;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        size_t eq = a.find('=');
        if (eq == std::string::npos) { fprintf(stderr, "bad arg %s\n", argv[i]); return 1; }
        std::string k = a.substr(0, eq);
        const char *v = argv[i] + eq + 1;
        if (k == "n") n_vocab = atoi(v);
        else if (k == "steps") steps = atoi(v);
        else if (k == "shift") shift = atoi(v);
        else if (k == "vary") vary = atoi(v);
        else if (k == "logits") logits_path = v;
        else if (k == "seed") seed = strtoul(v, 0, 10);
        else if (k == "temp") temp = strtof(v, 0);
        else if (k == "top_k") top_k = atoi(v);
        else if (k == "top_p") top_p = strtof(v, 0);
        else if (k == "min_p") min_p = strtof(v, 0);
        else if (k == "typ_p") typ_p = strtof(v, 0);
        else if (k == "min_keep") min_keep = atoi(v);
        else if (k == "repeat") rep = strtof(v, 0);
        else if (k == "last_n") last_n = atoi(v);
        else if (k == "freq") freq = strtof(v, 0);
        else if (k == "present") pres = strtof(v, 0);
        else if (k == "mirostat") mirostat = atoi(v);
        else if (k == "tau") tau = strtof(v, 0);
        else if (k == "eta") eta = strtof(v, 0);
        else if (k == "xtc_p") xtc_p = strtof(v, 0);
        else if (k == "xtc_t") xtc_t = strtof(v, 0);
        else if (k == "nsigma") nsigma = strtof(v, 0);
        else if (k == "dyn_range") dyn_range = strtof(v, 0);
        else if (k == "dyn_exp") dyn_exp = strtof(v, 0);
        else if (k == "bias") {
            char *end;
            llama_token t = strtol(v, &end, 10);
            bias.push_back({t, strtof(end + 1, 0)});
        } else { fprintf(stderr, "unknown key %s\n", k.c_str()); return 1; }
    }
    llama_sampler *chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
    if (!bias.empty()) llama_sampler_chain_add(chain, llama_sampler_init_logit_bias(n_vocab, bias.size(), bias.data()));
    if (mirostat == 0) {
        llama_sampler_chain_add(chain, llama_sampler_init_penalties(n_vocab, last_n, rep, freq, pres));
        llama_sampler_chain_add(chain, llama_sampler_init_top_n_sigma(nsigma));
        llama_sampler_chain_add(chain, llama_sampler_init_top_k(top_k));
        llama_sampler_chain_add(chain, llama_sampler_init_typical(typ_p, min_keep));
        llama_sampler_chain_add(chain, llama_sampler_init_top_p(top_p, min_keep));
        llama_sampler_chain_add(chain, llama_sampler_init_min_p(min_p, min_keep));
        llama_sampler_chain_add(chain, llama_sampler_init_xtc(xtc_p, xtc_t, min_keep, seed));
        llama_sampler_chain_add(chain, llama_sampler_init_temp_ext(temp, dyn_range, dyn_exp));
        llama_sampler_chain_add(chain, llama_sampler_init_dist(seed));
    } else if (mirostat == 1) {
        llama_sampler_chain_add(chain, llama_sampler_init_temp(temp));
        llama_sampler_chain_add(chain, llama_sampler_init_mirostat(n_vocab, seed, tau, eta, 100));
    } else {
        llama_sampler_chain_add(chain, llama_sampler_init_temp(temp));
        llama_sampler_chain_add(chain, llama_sampler_init_mirostat_v2(seed, tau, eta));
    }
    // logits=PATH: take the logits from a float32 file of rows of n_vocab values
    // (such as the golden logits in /work/shared), one row per step.
    std::vector<float> file_logits;
    if (!logits_path.empty()) {
        FILE *f = fopen(logits_path.c_str(), "rb");
        if (!f) { fprintf(stderr, "cannot open %s\n", logits_path.c_str()); return 1; }
        float x;
        while (fread(&x, sizeof x, 1, f) == 1) file_logits.push_back(x);
        fclose(f);
        steps = file_logits.size() / n_vocab;
    }
    std::vector<llama_token_data> cur(n_vocab);
    const float scale = ldexpf(1.0f, -shift), offset = (float)n_vocab * ldexpf(1.0f, -shift - 1);
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < n_vocab; i++) {
            int st = vary ? s : 0;
            long long k = ((long long)i * A[st % 4] + 977LL * st) % n_vocab;
            cur[i] = {i, (float)k * scale - offset, 0.0f};
            if (!file_logits.empty()) cur[i].logit = file_logits[(size_t)s * n_vocab + i];
        }
        llama_token_data_array cur_p = {cur.data(), cur.size(), -1, false};
        llama_sampler_apply(chain, &cur_p);
        llama_token t = cur_p.data[cur_p.selected].id;
        llama_sampler_accept(chain, t);
        printf("%d%s", t, s + 1 < steps ? " " : "\n");
    }
    llama_sampler_free(chain);
    return 0;
}
