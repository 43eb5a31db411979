// mtmdbench: llama.cpp's speed at encoding one image with an mmproj file,
// through libmtmd (the library llama-mtmd-cli and llama-server use), with
// no text model: the image is preprocessed (mtmd_tokenize_from_parts, the
// resize and normalization) and encoded (mtmd_encode_chunk, the CLIP graph
// and the projector) REPS times after one untimed encode.
//
//   mtmdbench MMPROJ IMAGE [REPS] [THREADS]
//
// Prints one JSON line: per-repetition milliseconds of the preprocessing
// and of the encode, their medians (image_ms: the two together, what
// pkg/vision's Encoder.Encode does; its mean too, as Go's ns/op is), the
// number of image tokens, and the ggml CPU backend variant the prebuilt
// libraries chose for this CPU with its features. Build with
// build-mtmd.sh; run from the kit's library folder.
#include "ggml.h"
#include "ggml-backend.h"
#include "mtmd.h"
#include "mtmd-helper.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static std::string g_backend_path;

// The log callback keeps the CPU backend's file name ("load_backend:
// loaded CPU backend from .../libggml-cpu-zen4.so") and drops the rest
// but errors.
static void log_cb(enum ggml_log_level level, const char * text, void *) {
    const char * k = strstr(text, "loaded CPU backend from ");
    if (k) {
        g_backend_path = k + strlen("loaded CPU backend from ");
        while (!g_backend_path.empty() && (g_backend_path.back() == '\n' || g_backend_path.back() == ' ')) {
            g_backend_path.pop_back();
        }
    }
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double mean(const std::vector<double> & v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0 : s / v.size();
}

static std::string list(const std::vector<double> & v) {
    std::string s = "[";
    char b[32];
    for (size_t i = 0; i < v.size(); i++) {
        snprintf(b, sizeof b, "%s%.1f", i ? "," : "", v[i]);
        s += b;
    }
    return s + "]";
}

// cpu_features lists the features the CPU backend was built with
// (ggml_backend_get_features of the CPU registry).
static std::string cpu_features() {
    ggml_backend_reg_t reg = ggml_backend_reg_by_name("CPU");
    if (!reg) return "";
    typedef ggml_backend_feature * (*get_features_t)(ggml_backend_reg_t);
    auto get = (get_features_t) ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features");
    if (!get) return "";
    std::string s;
    for (ggml_backend_feature * f = get(reg); f && f->name; f++) {
        if (strcmp(f->value, "1") != 0) continue; // a flag that is off, or a value like the variant name
        s += (s.empty() ? "" : " ") + std::string(f->name);
    }
    return s;
}

int main(int argc, char ** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MMPROJ IMAGE [REPS] [THREADS]\n", argv[0]);
        return 2;
    }
    const int reps = argc > 3 ? atoi(argv[3]) : 3;
    const int threads = argc > 4 ? atoi(argv[4]) : 2;
    ggml_log_set(log_cb, nullptr);
    mtmd_log_set(log_cb, nullptr);
    mtmd_helper_log_set(log_cb, nullptr);
    ggml_backend_load_all();

    mtmd_context_params mparams = mtmd_context_params_default();
    mparams.use_gpu = false;
    mparams.n_threads = threads;
    mparams.print_timings = false;
    const double t0 = now_ms();
    mtmd_context * mctx = mtmd_init_from_file(argv[1], nullptr, mparams);
    if (!mctx) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    const double load_ms = now_ms() - t0;
    mtmd_bitmap * bmp = mtmd_helper_bitmap_init_from_file(mctx, argv[2], false, mtmd_helper_init_opt_default()).bitmap;
    if (!bmp) { fprintf(stderr, "cannot load image %s\n", argv[2]); return 1; }

    std::vector<double> pre, enc, tot;
    size_t n_tokens = 0;
    for (int r = 0; r <= reps; r++) {
        mtmd_input_chunks * chunks = mtmd_input_chunks_init();
        mtmd_input_part part = { nullptr, bmp };
        const mtmd_input_part * parts[] = { &part };
        const double a = now_ms();
        if (mtmd_tokenize_from_parts(mctx, chunks, parts, 1, false) != 0) { fprintf(stderr, "tokenize failed\n"); return 1; }
        const double b = now_ms();
        const mtmd_input_chunk * img = nullptr;
        for (size_t i = 0; i < mtmd_input_chunks_size(chunks); i++) {
            const mtmd_input_chunk * ch = mtmd_input_chunks_get(chunks, i);
            if (mtmd_input_chunk_get_type(ch) == MTMD_INPUT_CHUNK_TYPE_IMAGE) img = ch;
        }
        if (!img) { fprintf(stderr, "no image chunk\n"); return 1; }
        if (mtmd_encode_chunk(mctx, img) != 0) { fprintf(stderr, "encode failed\n"); return 1; }
        const double c = now_ms();
        n_tokens = mtmd_input_chunk_get_n_tokens(img);
        mtmd_input_chunks_free(chunks);
        if (r == 0) continue; // the untimed first encode
        pre.push_back(b - a);
        enc.push_back(c - b);
        tot.push_back(c - a);
    }
    std::string variant = g_backend_path;
    if (size_t s = variant.rfind('/'); s != std::string::npos) variant = variant.substr(s + 1);
    if (variant.rfind("libggml-cpu-", 0) == 0) variant = variant.substr(strlen("libggml-cpu-"));
    if (size_t d = variant.find('.'); d != std::string::npos) variant = variant.substr(0, d);
    printf("{\"mmproj\":\"%s\",\"threads\":%d,\"reps\":%d,\"load_ms\":%.1f,\"n_tokens\":%zu,"
           "\"preprocess_ms\":%s,\"encode_ms\":%s,\"image_ms\":%s,"
           "\"median_preprocess_ms\":%.1f,\"median_encode_ms\":%.1f,\"median_image_ms\":%.1f,\"mean_image_ms\":%.1f,"
           "\"cpu_backend\":\"%s\",\"cpu_features\":\"%s\"}\n",
           argv[1], threads, reps, load_ms, n_tokens, list(pre).c_str(), list(enc).c_str(), list(tot).c_str(),
           median(pre), median(enc), median(tot), mean(tot), variant.c_str(), cpu_features().c_str());
    mtmd_bitmap_free(bmp);
    mtmd_free(mctx);
    return 0;
}
