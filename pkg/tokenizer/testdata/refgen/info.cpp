// prints special ids, flags, eog set, attrs summary
#include "llama.h"
#include <cstdio>
#include <cstring>
#include <vector>
#include <string>
#include <cstdlib>
int main(int argc, char **argv) {
    llama_backend_init();
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    auto mp = llama_model_default_params(); mp.vocab_only = true;
    std::vector<llama_model_kv_override> ov(16); memset(ov.data(), 0, sizeof(ov[0]) * 16);
    if (argc > 2 && strcmp(argv[2], "-") != 0) {
        std::string spec = argv[2]; int k = 0;
        if (spec.find('=') == std::string::npos) spec = "s:tokenizer.ggml.pre=" + spec;
        size_t p = 0;
        while (p < spec.size()) {
            size_t e = spec.find(';', p); if (e == std::string::npos) e = spec.size();
            std::string it = spec.substr(p, e - p); p = e + 1;
            char ty = it[0]; size_t eq = it.find('=');
            std::string key = it.substr(2, eq - 2), val = it.substr(eq + 1);
            strcpy(ov[k].key, key.c_str());
            if (ty == 's') { ov[k].tag = LLAMA_KV_OVERRIDE_TYPE_STR; strcpy(ov[k].val_str, val.c_str()); }
            else if (ty == 'b') { ov[k].tag = LLAMA_KV_OVERRIDE_TYPE_BOOL; ov[k].val_bool = val == "1"; }
            else { ov[k].tag = LLAMA_KV_OVERRIDE_TYPE_INT; ov[k].val_i64 = atoll(val.c_str()); }
            k++;
        }
        mp.kv_overrides = ov.data();
    }
    llama_model *m = llama_model_load_from_file(argv[1], mp); if (!m) return 1;
    const llama_vocab *v = llama_model_get_vocab(m);
    int n = llama_vocab_n_tokens(v);
    printf("n=%d type=%d bos=%d eos=%d eot=%d sep=%d nl=%d pad=%d mask=%d fim_pre=%d fim_suf=%d fim_mid=%d fim_pad=%d fim_rep=%d fim_sep=%d add_bos=%d add_eos=%d add_sep=%d\n",
        n, llama_vocab_type(v), llama_vocab_bos(v), llama_vocab_eos(v), llama_vocab_eot(v), llama_vocab_sep(v), llama_vocab_nl(v), llama_vocab_pad(v), llama_vocab_mask(v),
        llama_vocab_fim_pre(v), llama_vocab_fim_suf(v), llama_vocab_fim_mid(v), llama_vocab_fim_pad(v), llama_vocab_fim_rep(v), llama_vocab_fim_sep(v),
        llama_vocab_get_add_bos(v), llama_vocab_get_add_eos(v), llama_vocab_get_add_sep(v));
    printf("eog:"); for (int i = 0; i < n; i++) if (llama_vocab_is_eog(v, i)) printf(" %d", i); printf("\n");
    printf("attrs:"); for (int i = 0; i < n; i++) { int a = llama_vocab_get_attr(v, i); if (a != 4) printf(" %d:%d", i, a); } printf("\n");
    return 0;
}
