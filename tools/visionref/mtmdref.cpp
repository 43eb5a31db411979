// mtmdref: llama.cpp's reference outputs for an image prompt, through
// libmtmd (the library llama-mtmd-cli and llama-server use): the
// preprocessed image tensor the CLIP graph reads (captured with an eval
// callback), the image embeddings, and the text model's logits for every
// text token of the prompt.
//
//   mtmdref MODEL MMPROJ IMAGE PROMPT OUTPREFIX [THREADS]
//
// PROMPT holds mtmd's media marker (<__media__>) where the image goes.
// Writes OUTPREFIX.json (chunks: text tokens, or image token counts),
// OUTPREFIX.preproc.f32 (planar [3][ny][nx]), OUTPREFIX.embd.f32
// ([n_tokens][n_embd]) and OUTPREFIX.logits.f32 ([text tokens][n_vocab]).
#include "llama.h"
#include "ggml.h"
#include "ggml-backend.h"
#include "mtmd.h"
#include "mtmd-helper.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <string>
#include <vector>

static std::vector<float> g_preproc;
static int g_nx, g_ny;

static bool cb_eval(struct ggml_tensor * t, bool ask, void *) {
    for (int i = 0; i < GGML_MAX_SRC; i++) {
        ggml_tensor * s = t->src[i];
        if (s && strcmp(s->name, "inp_raw") == 0) {
            if (ask) return true;
            g_preproc.resize(ggml_nelements(s));
            ggml_backend_tensor_get(s, g_preproc.data(), 0, ggml_nbytes(s));
            g_nx = (int) s->ne[0];
            g_ny = (int) s->ne[1];
            return true;
        }
    }
    return !ask;
}

static void write_f32(const std::string & path, const std::vector<float> & v) {
    FILE * f = fopen(path.c_str(), "wb");
    if (!f || fwrite(v.data(), sizeof(float), v.size(), f) != v.size()) { perror(path.c_str()); exit(1); }
    fclose(f);
}

int main(int argc, char ** argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s MODEL MMPROJ IMAGE PROMPT OUTPREFIX [THREADS]\n", argv[0]);
        return 2;
    }
    const std::string out = argv[5];
    const int threads = argc > 6 ? atoi(argv[6]) : 2;
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) return 1;
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 2048; cp.n_batch = 1024; cp.n_ubatch = 1024;
    cp.n_threads = threads; cp.n_threads_batch = threads;
    llama_context * lctx = llama_init_from_model(model, cp);
    if (!lctx) return 1;

    mtmd_context_params mparams = mtmd_context_params_default();
    mparams.use_gpu = false;
    mparams.n_threads = threads;
    mparams.warmup = false;
    mparams.cb_eval = cb_eval;
    mparams.cb_eval_user_data = nullptr;
    mtmd_context * mctx = mtmd_init_from_file(argv[2], model, mparams);
    if (!mctx) return 1;
    mtmd_bitmap * bmp = mtmd_helper_bitmap_init_from_file(mctx, argv[3], false, mtmd_helper_init_opt_default()).bitmap;
    if (!bmp) { fprintf(stderr, "cannot load image %s\n", argv[3]); return 1; }

    mtmd_input_chunks * chunks = mtmd_input_chunks_init();
    mtmd_input_text text = { argv[4], strlen(argv[4]), true, true };
    const mtmd_bitmap * bmps[] = { bmp };
    if (mtmd_tokenize(mctx, chunks, &text, bmps, 1) != 0) { fprintf(stderr, "tokenize failed\n"); return 1; }

    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);
    const int n_embd = llama_model_n_embd(model);
    std::vector<float> logits, embd;
    std::string json = "{\n  \"chunks\": [";
    llama_pos n_past = 0;
    for (size_t ci = 0; ci < mtmd_input_chunks_size(chunks); ci++) {
        const mtmd_input_chunk * ch = mtmd_input_chunks_get(chunks, ci);
        json += ci ? ",\n    " : "\n    ";
        if (mtmd_input_chunk_get_type(ch) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
            size_t n = 0;
            const llama_token * toks = mtmd_input_chunk_get_tokens_text(ch, &n);
            llama_batch b = llama_batch_init((int) n, 0, 1);
            json += "{\"type\": \"text\", \"tokens\": [";
            for (size_t i = 0; i < n; i++) {
                b.token[i] = toks[i]; b.pos[i] = n_past + i; b.n_seq_id[i] = 1; b.seq_id[i][0] = 0; b.logits[i] = 1;
                json += (i ? ", " : "") + std::to_string(toks[i]);
            }
            json += "]}";
            b.n_tokens = (int) n;
            if (llama_decode(lctx, b) != 0) { fprintf(stderr, "decode failed\n"); return 1; }
            for (size_t i = 0; i < n; i++) {
                const float * l = llama_get_logits_ith(lctx, (int) i);
                logits.insert(logits.end(), l, l + n_vocab);
            }
            llama_batch_free(b);
            n_past += n;
        } else {
            const auto t0 = std::chrono::steady_clock::now();
            if (mtmd_encode_chunk(mctx, ch) != 0) { fprintf(stderr, "encode failed\n"); return 1; }
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            printf("encode_ms %.1f\n", ms);
            const size_t n = mtmd_input_chunk_get_n_tokens(ch);
            const float * e = mtmd_get_output_embd(mctx);
            embd.insert(embd.end(), e, e + n * n_embd);
            llama_batch b = llama_batch_init((int) n, n_embd, 1);
            memcpy(b.embd, e, n * n_embd * sizeof(float));
            for (size_t i = 0; i < n; i++) {
                b.pos[i] = n_past + i; b.n_seq_id[i] = 1; b.seq_id[i][0] = 0; b.logits[i] = 0;
            }
            b.n_tokens = (int) n;
            if (llama_decode(lctx, b) != 0) { fprintf(stderr, "decode (image) failed\n"); return 1; }
            llama_batch_free(b);
            json += "{\"type\": \"image\", \"n_tokens\": " + std::to_string(n) + "}";
            n_past += n;
        }
    }
    json += "\n  ],\n  \"n_vocab\": " + std::to_string(n_vocab) + ",\n  \"n_embd\": " + std::to_string(n_embd) +
            ",\n  \"image_nx\": " + std::to_string(g_nx) + ",\n  \"image_ny\": " + std::to_string(g_ny) + "\n}\n";
    FILE * f = fopen((out + ".json").c_str(), "w");
    fputs(json.c_str(), f);
    fclose(f);
    write_f32(out + ".preproc.f32", g_preproc);
    write_f32(out + ".embd.f32", embd);
    write_f32(out + ".logits.f32", logits);
    mtmd_bitmap_free(bmp);
    mtmd_input_chunks_free(chunks);
    mtmd_free(mctx);
    llama_free(lctx);
    llama_model_free(model);
    return 0;
}
