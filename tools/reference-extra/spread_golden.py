#!/usr/bin/env python3
"""Writes the goldens that hold the real models to llama.cpp's own spread:
llama.cpp's results from two of its CPU builds, its best for this machine
and its generic x86-64 one, so that a test can ask that ours be no further
from the best build than the generic build is.

usage: spread_golden.py DIR SMOLLM2 GEMMA3 MODEL_OUT ENGINE_OUT
DIR is the folder that ../shared/tools/reference/setup.sh DIR prepared (its
bin/logits and bin/greedy); SMOLLM2 and GEMMA3 the model files (make smollm2,
make gemma3). Writes
  MODEL_OUT/smollm2-spread.json, MODEL_OUT/gemma3-spread.json
    (pkg/model/testdata; TestRealModelSpread): teacher-forced logits of
    SPREAD_TEXT in one batch, compactly: for every position the arg max of
    each build, and at every position the logits of the best build's TOP_K
    largest and of FIXED ids, from both builds;
  ENGINE_OUT/smollm2-greedy.json (pkg/engine/testdata; TestSmolLM2Greedy):
    greedy completions of 8 plain prompts and 8 in SmolLM2's chat format,
    from the reference kit's greedy program (special tokens added as the
    model asks, here no BOS, and parsed), by both builds, in the format of
    pkg/engine/testdata/gemma3-greedy.json.

A build is forced by a folder (DIR/spread-<name>, made here) of links to the
prebuilt libraries that keeps only that build's libggml-cpu-*.so. BEST is
zen4: the best build this machine (AMD Zen 4) loads (sapphirerapids needs
AMX and does not load here).
"""
import json
import os
import subprocess
import sys

BEST, GENERIC = "zen4", "x64"
TOP_K = 8
# The text of pkg/model's TestGemma3Reference (68 gemma3 tokens, 64 SmolLM2).
SPREAD_TEXT = ("The capital of France is Paris. It is known for the Eiffel Tower, which was built in 1889 "
               "for the World's Fair. Today, millions of tourists visit the city every year to enjoy its "
               "museums, cafés and gardens; the Louvre alone holds more than 35,000 works of art.")
FIXED = {
    "smollm2": [0, 1, 2, 3, 100, 1000, 5000, 10000, 20000, 30000, 40000, 49151],
    "gemma3": [0, 1, 2, 3, 100, 1000, 5000, 10000, 20000, 50000, 100000, 150000, 200000, 262143],
}
# Whether the text is tokenized with BOS: as the model's add_bos_token says.
ADD_BOS = {"smollm2": 0, "gemma3": 1}

GREEDY_N = 32
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
PLAIN = [
    "Once upon a time",
    "The capital of France is",
    "def fibonacci(n):",
    "The three primary colors are",
    "Water boils at",
    "The best way to learn a new language is",
    "1, 2, 3, 4, 5,",
    "In the year 2050, cars will",
]
CHAT = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "How do I make a cup of tea?",
    "What is 12 + 7?",
    "Name three fruits.",
    "Translate 'good morning' into Spanish.",
    "Why is the sky blue?",
    "Give me a tip for sleeping better.",
]


def render_chat(user):
    """SmolLM2's chat template with its default system message and the
    generation prompt."""
    return ("<|im_start|>system\n" + DEFAULT_SYSTEM + "<|im_end|>\n<|im_start|>user\n" + user +
            "<|im_end|>\n<|im_start|>assistant\n")


def build_dir(ref, build):
    src = os.path.join(ref, "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64")
    dst = os.path.join(ref, "spread-" + build)
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name.startswith("libggml-cpu-") and name != "libggml-cpu-%s.so" % build:
            continue
        link = os.path.join(dst, name)
        if not os.path.lexists(link):
            os.symlink(os.path.join(src, name), link)
    return dst


def run(ref, build, args):
    p = subprocess.run([os.path.join(ref, "bin", args[0])] + args[1:], cwd=build_dir(ref, build),
                       capture_output=True, check=True)
    err = p.stderr.decode(errors="replace")
    if "libggml-cpu-%s.so" % build not in err:
        sys.exit("%s: build %s did not load: %s" % (args[0], build, err))
    return p.stdout


def argmax(row):
    best = 0
    for j, x in enumerate(row):
        if x > row[best]:
            best = j
    return best


def logits_golden(ref, name, model, out):
    res = {}
    for b in (BEST, GENERIC):
        res[b] = json.loads(run(ref, b, ["logits", model, "-p", SPREAD_TEXT, str(ADD_BOS[name])]))
    best, gen = res[BEST]["logits"], res[GENERIC]["logits"]
    assert res[BEST]["tokens"] == res[GENERIC]["tokens"]
    values = []
    for i, row in enumerate(best):
        ids = sorted(range(len(row)), key=lambda j: (-row[j], j))[:TOP_K]
        for j in sorted(set(ids) | set(FIXED[name])):
            values.append([i, j, row[j], gen[i][j]])
    num = sum((g - b) ** 2 for rb, rg in zip(best, gen) for b, g in zip(rb, rg))
    den = sum(b * b for rb in best for b in rb)
    t_best = [argmax(r) for r in best]
    t_gen = [argmax(r) for r in gen]
    sn = sum((v[3] - v[2]) ** 2 for v in values) / sum(v[2] ** 2 for v in values)
    doc = {
        "comment": "llama.cpp's teacher-forced logits (one batch) of text, from the reference kit's logits "
                   "program, by two of its CPU builds: best (%s) and generic (%s); top1_*: each build's arg "
                   "max at every position; values: [position, id, best logit, generic logit] for the best "
                   "build's %d largest logits and fixed ids at every position; full_*: the generic build "
                   "against the best over all logits. Made by tools/reference-extra/spread_golden.py"
                   % (BEST, GENERIC, TOP_K),
        "model": os.path.basename(model),
        "text": SPREAD_TEXT,
        "tokens": res[BEST]["tokens"],
        "n_vocab": res[BEST]["n_vocab"],
        "builds": {"best": BEST, "generic": GENERIC},
        "full_nmse_generic": float("%.4g" % (num / den)),
        "full_top1_generic": sum(a == b for a, b in zip(t_best, t_gen)) / len(t_best),
        "top1_best": t_best,
        "top1_generic": t_gen,
        "values": values,
    }
    print("%s: %d tokens, generic vs best: full nmse %.3e, stored nmse %.3e, top-1 %d/%d" % (
        name, len(t_best), num / den, sn, doc["full_top1_generic"] * len(t_best), len(t_best)), file=sys.stderr)
    with open(out, "w") as f:
        f.write("{\n")
        for k, v in doc.items():
            if k != "values":
                f.write(" %s: %s,\n" % (json.dumps(k), json.dumps(v, ensure_ascii=False)))
        f.write(' "values": [\n')
        f.write(",\n".join("  [%d, %d, %.6g, %.6g]" % tuple(v) for v in values))
        f.write("\n ]\n}\n")


def greedy_golden(ref, model, out):
    cases = [(p, False) for p in PLAIN] + [(render_chat(u), True) for u in CHAT]
    doc_cases = []
    for prompt, chat in cases:
        texts = [run(ref, b, ["greedy", model, prompt, str(GREEDY_N)]).decode("utf-8", errors="replace")
                 for b in (BEST, GENERIC)]
        doc_cases.append({"prompt": prompt, "chat": chat, "best": texts[0], "generic": texts[1]})
        print("%r: builds %s" % (prompt[-30:], "agree" if texts[0] == texts[1] else "differ"), file=sys.stderr)
    doc = {
        "comment": "llama.cpp's greedy completions (%d tokens, special tokens added as the model asks (no BOS) "
                   "and parsed, stopping at an end of generation) of %s, from the reference kit's greedy "
                   "program, by two of llama.cpp's CPU builds: best (%s) and generic (%s); 8 plain prompts "
                   "and 8 in SmolLM2's chat format (its default system message). Made by "
                   "tools/reference-extra/spread_golden.py" % (GREEDY_N, os.path.basename(model), BEST, GENERIC),
        "n_predict": GREEDY_N,
        "cases": doc_cases,
    }
    with open(out, "w") as f:
        f.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: spread_golden.py DIR SMOLLM2 GEMMA3 MODEL_OUT ENGINE_OUT")
    ref, smol, gemma, mout, eout = sys.argv[1:6]
    logits_golden(ref, "smollm2", smol, os.path.join(mout, "smollm2-spread.json"))
    logits_golden(ref, "gemma3", gemma, os.path.join(mout, "gemma3-spread.json"))
    greedy_golden(ref, smol, os.path.join(eout, "smollm2-greedy.json"))


if __name__ == "__main__":
    main()
