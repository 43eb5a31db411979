// Reference tokenizer driver (investigation only, not part of the project).
// usage: tok VOCAB PRE|- INPUT [add_special parse_special]
// INPUT: texts separated by "\n__ggml_vocab_test__\n" (like test-tokenizer-0).
// Output per text: "ids<TAB>hex(detok(ids,false,false))<TAB>hex(detok(ids,true,true))<TAB>hex(pieces special=true joined by ,)"
#include "llama.h"
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
static std::string hex(const std::string &s) { std::string o; char b[3]; for (unsigned char c : s) { snprintf(b, 3, "%02x", c); o += b; } return o; }
static std::string detok(const llama_vocab *v, const std::vector<llama_token> &t, bool rs, bool us) {
    std::vector<char> buf(t.size() * 64 + 64);
    int n = llama_detokenize(v, t.data(), t.size(), buf.data(), buf.size(), rs, us);
    if (n < 0) { buf.resize(-n); n = llama_detokenize(v, t.data(), t.size(), buf.data(), buf.size(), rs, us); }
    return std::string(buf.data(), n);
}
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
    llama_model *m = llama_model_load_from_file(argv[1], mp); if (!m) { fprintf(stderr, "load failed\n"); return 1; }
    const llama_vocab *v = llama_model_get_vocab(m);
    bool add_special = argc > 4 && atoi(argv[4]); bool parse_special = argc > 5 && atoi(argv[5]);
    std::ifstream f(argv[3]); std::stringstream ss; ss << f.rdbuf(); std::string raw = ss.str();
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> texts; size_t pos = 0;
    while (pos < raw.size()) { size_t nx = raw.find(sep, pos); if (nx == std::string::npos) { texts.push_back(raw.substr(pos)); break; } texts.push_back(raw.substr(pos, nx - pos)); pos = nx + sep.size(); }
    for (auto &t : texts) {
        std::vector<llama_token> toks(t.size() * 4 + 16);
        int n = llama_tokenize(v, t.data(), t.size(), toks.data(), toks.size(), add_special, parse_special);
        toks.resize(n);
        for (int i = 0; i < n; i++) printf(i ? " %d" : "%d", toks[i]);
        printf("\t%s\t%s\t", hex(detok(v, toks, false, false)).c_str(), hex(detok(v, toks, true, true)).c_str());
        for (int i = 0; i < n; i++) { char b[512]; int k = llama_token_to_piece(v, toks[i], b, sizeof b, 0, true); printf(i ? ",%s" : "%s", hex(std::string(b, k)).c_str()); }
        printf("\n");
    }
    return 0;
}
