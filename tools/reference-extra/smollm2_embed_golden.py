#!/usr/bin/env python3
"""Writes pkg/engine/testdata/smollm2-embeddings.json: llama.cpp's embeddings
of a few texts by SmolLM2-135M-Instruct (Q4_1, make smollm2), a generative
model used for embeddings as e5-mistral is: the last token's final hidden
state (pooling last), L2-normalized as llama-embedding does by default
(--embd-normalize 2), through embeddings.cpp (built as its comment says,
into DIR/bin) with llama.cpp's best CPU build for this machine. Each item
also gives generic_cosine: the cosine similarity of llama.cpp's generic
x86-64 build's embedding (DIR/spread-x64, the folder spread_golden.py
makes; made here too) to the best build's, the natural noise on this
quantized model.

usage: smollm2_embed_golden.py DIR MODEL OUT
DIR is the folder that ../shared/tools/reference/setup.sh DIR prepared.
The file also records the pooling llama.cpp's context picks for this model
when none is asked for (model_pooling: the model has no pooling_type key).
"""
import json
import math
import os
import subprocess
import sys

POOLING_LAST = 3
TEXTS = [
    "The capital of France is Paris.",
    "A cat sat on the mat and looked out of the window.",
    "def add(a, b):\n    return a + b",
    "Embeddings map text to vectors; similar texts lie close together.",
]


def run(lib, exe, model, pooling):
    p = subprocess.run([exe, model, str(pooling)] + TEXTS, cwd=lib, capture_output=True, check=True)
    return json.loads(p.stdout), p.stderr.decode(errors="replace")


def generic_dir(ref):
    src = os.path.join(ref, "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64")
    dst = os.path.join(ref, "spread-x64")
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name.startswith("libggml-cpu-") and name != "libggml-cpu-x64.so":
            continue
        link = os.path.join(dst, name)
        if not os.path.lexists(link):
            os.symlink(os.path.join(src, name), link)
    return dst


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: smollm2_embed_golden.py DIR MODEL OUT")
    ref, model, out = sys.argv[1:4]
    lib = os.path.join(ref, "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64")
    exe = os.path.join(ref, "bin", "embeddings")
    res, err = run(lib, exe, model, POOLING_LAST)
    backend = next((os.path.basename(l.split()[-1]) for l in err.splitlines() if "loaded CPU backend from" in l), None)
    default, _ = run(lib, exe, model, -1)
    gen, gerr = run(generic_dir(ref), exe, model, POOLING_LAST)
    assert "libggml-cpu-x64.so" in gerr
    with open(os.path.join(ref, "node_modules/node-llama-cpp/llama/llama.cpp.info.json")) as f:
        tag = json.load(f)["tag"]
    assert res["pooling"] == POOLING_LAST
    items = []
    for text, it, g in zip(TEXTS, res["items"], gen["items"]):
        e = it["embd"]
        n = math.sqrt(sum(x * x for x in e))
        items.append({"text": text, "tokens": it["tokens"], "generic_cosine": float("%.6f" % cosine(e, g["embd"])),
                      "embd": [float("%.6g" % (x / n)) for x in e]})
    doc = {
        "comment": "llama.cpp's embeddings (pooling last: the last token's final hidden state, L2-normalized "
                   "as llama-embedding does) of texts by %s, each text tokenized with special tokens added "
                   "as the model asks and parsed, from tools/reference-extra/embeddings.cpp (llama.cpp %s, "
                   "CPU backend %s); generic_cosine: the cosine of the generic x86-64 build's embedding to "
                   "that one; model_pooling: the llama_pooling_type llama.cpp's context picks when "
                   "none is asked for. Made by tools/reference-extra/smollm2_embed_golden.py"
                   % (os.path.basename(model), tag, backend),
        "n_embd": res["n_embd"],
        "pooling": "last",
        "model_pooling": default["pooling"],
        "items": items,
    }
    with open(out, "w") as f:
        f.write("{\n")
        for k, v in doc.items():
            if k != "items":
                f.write(" %s: %s,\n" % (json.dumps(k), json.dumps(v)))
        f.write(' "items": [\n')
        f.write(",\n".join("  " + json.dumps(it, ensure_ascii=False) for it in items))
        f.write("\n ]\n}\n")


if __name__ == "__main__":
    main()
