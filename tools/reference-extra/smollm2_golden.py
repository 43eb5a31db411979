#!/usr/bin/env python3
"""Writes pkg/engine/testdata/smollm2-chat-greedy.json: llama.cpp's greedy
chat completions of SmolLM2-135M-Instruct (Q4_1, make smollm2), through
chatgreedy.cpp (built as its comment says).

usage: smollm2_golden.py DIR MODEL OUT
DIR is the folder that ../shared/tools/reference/setup.sh DIR prepared, with
bin/chatgreedy built in it. Each case runs twice, with ggml's best CPU kernels
for this machine and with its generic x86-64 ones (DIR/libx64, made here: a
folder of links to the libraries that lacks the other CPU backends, so that
ggml loads libggml-cpu-x64.so): the first gives the expected
tokens, and backends_agree says whether the second gave the same, as in
../shared/testdata/golden/stories260k-greedy.json; where they part,
backends_part gives the position and the swing there: how much the two kernel
sets disagree on the logit difference of their two choices,
(generic[B] - generic[A]) + (best[A] - best[B]). That is the natural noise
between correct implementations on this model, against which another
engine's partings are judged.
"""
import hashlib
import json
import os
import subprocess
import sys

N_PREDICT = 48
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

CASES = [
    ("capital", [{"role": "user", "content": "What is the capital of France?"}]),
    ("haiku", [{"role": "user", "content": "Write a haiku about the sea."}]),
    ("pirate-system", [
        {"role": "system", "content": "You are a pirate. Answer every question like a pirate would."},
        {"role": "user", "content": "How do I make a cup of tea?"},
    ]),
    ("multi-turn", [
        {"role": "user", "content": "Hi! My name is Anna and I live in Berlin."},
        {"role": "assistant", "content": "Hello Anna! Nice to meet you. How can I help you today?"},
        {"role": "user", "content": "What is my name, and where do I live?"},
    ]),
    ("french", [{"role": "user", "content": "Quelle est la capitale de l'Allemagne ? Réponds en français."}]),
    ("chinese", [{"role": "user", "content": "你好！请用一句话介绍一下你自己。"}]),
    ("arithmetic", [{"role": "user", "content": "What is 12 + 7? Explain step by step."}]),
]


def render(messages):
    """SmolLM2's chat template (tokenizer.chat_template), with the
    generation prompt: the default system message unless the first message
    is a system one."""
    out = ""
    if messages[0]["role"] != "system":
        out += "<|im_start|>system\n" + DEFAULT_SYSTEM + "<|im_end|>\n"
    for m in messages:
        out += "<|im_start|>" + m["role"] + "\n" + m["content"] + "<|im_end|>\n"
    return out + "<|im_start|>assistant\n"


def run(libdir, exe, model, prompt):
    p = subprocess.run([exe, model, str(N_PREDICT)], input=prompt.encode(), cwd=libdir,
                       capture_output=True, check=True)
    res = json.loads(p.stdout.decode("utf-8", errors="replace"))
    # ggml says which CPU backend it loaded.
    for line in p.stderr.decode(errors="replace").splitlines():
        if "loaded CPU backend from" in line:
            res["backend"] = os.path.basename(line.split()[-1])
    return res


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def chosen(run, i):
    """The token run chose at position i: a generated one, or the EOG that
    stopped it."""
    return run["tokens"][i] if i < len(run["tokens"]) else run["top"][i][0][0]


def swing(a, b, i):
    """The swing where runs a and b part at i (None where a choice is not
    in the other's top list, or where one ran out of tokens)."""
    if i >= len(a["top"]) or i >= len(b["top"]):
        return None
    ta, tb = dict(a["top"][i]), dict(b["top"][i])
    x, y = chosen(a, i), chosen(b, i)
    if x not in tb or y not in ta:
        return None
    return (tb[y] - tb[x]) + (ta[x] - ta[y])


def logit_spread(a, b, last):
    """The rms and the largest difference between b's and a's logits of the
    tokens in both top lists, at positions 0..last."""
    ds = []
    for i in range(min(last, len(a["top"]) - 1, len(b["top"]) - 1) + 1):
        tb = dict(b["top"][i])
        ds += [tb[t] - x for t, x in a["top"][i] if t in tb]
    return (sum(d * d for d in ds) / len(ds)) ** 0.5, max(abs(d) for d in ds)


def generic_libs(best, generic):
    """Makes generic: links to the libraries in best, but of the CPU
    backends only the generic x86-64 one."""
    os.makedirs(generic, exist_ok=True)
    for name in os.listdir(best):
        if name.startswith("libggml-cpu-") and name != "libggml-cpu-x64.so":
            continue
        link = os.path.join(generic, name)
        if not os.path.lexists(link):
            os.symlink(os.path.join(best, name), link)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: smollm2_golden.py DIR MODEL OUT")
    ref, model, out = sys.argv[1:4]
    exe = os.path.join(ref, "bin", "chatgreedy")
    best = os.path.join(ref, "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64")
    generic = os.path.join(ref, "libx64")
    generic_libs(best, generic)
    with open(os.path.join(ref, "node_modules/node-llama-cpp/package.json")) as f:
        nlc = json.load(f)["version"]
    with open(os.path.join(ref, "node_modules/node-llama-cpp/llama/llama.cpp.info.json")) as f:
        info = json.load(f)
    with open(model, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    cases = []
    backends = {}
    for name, messages in CASES:
        prompt = render(messages)
        a = run(best, exe, model, prompt)
        b = run(generic, exe, model, prompt)
        backends = {"best": a.get("backend"), "generic": b.get("backend")}
        part = first_diff(a["tokens"], b["tokens"])
        cases.append({
            "name": name,
            "messages": messages,
            "prompt": prompt,
            "n_predict": N_PREDICT,
            "prompt_tokens": a["prompt_tokens"],
            "tokens": a["tokens"],
            "text": a["text"],
            "stopped_eog": a["stopped_eog"],
            "top": [[[t, round(x, 5)] for t, x in step] for step in a["top"]],
            "backends_agree": part is None,
        })
        if part is not None:
            sw = swing(a, b, part)
            cases[-1]["backends_part"] = {"position": part, "swing": None if sw is None else round(sw, 4)}
        rms, mx = logit_spread(a, b, len(a["top"]) if part is None else part)
        cases[-1]["backends_logits"] = {"rms": round(rms, 4), "max": round(mx, 4)}
        print(name, len(a["tokens"]), "tokens, backends part at", part,
              "swing", None if part is None else swing(a, b, part), file=sys.stderr)
    doc = {
        "model": os.path.basename(model),
        "model_sha256": sha,
        "reference": "llama.cpp %s (%s), prebuilt CPU libraries of node-llama-cpp@%s; "
                     "tools/reference-extra/chatgreedy.cpp" % (info["tag"], info["llamaCppGithubRepo"], nlc),
        "cpu_backends": backends,
        "sampling": "greedy (arg max, lowest id among equals); prompt tokenized with special tokens "
                    "parsed and no BOS (the model's add_bos_token is false); up to n_predict tokens, "
                    "stopping before an end-of-generation token (stopped_eog)",
        "top": "at each generated position (then at the EOG that stopped it), the 5 largest logits as [id, logit]",
        "backends_agree": "whether ggml's generic x86-64 CPU kernels gave the same tokens as its best ones "
                          "for this machine (which made the expected tokens); backends_part: where they "
                          "part, and the swing there: (generic[B]-generic[A]) + (best[A]-best[B]) for "
                          "their choices A (best) and B (generic); backends_logits: the rms and the largest "
                          "difference of their logits of the tokens in both top 5s, at the positions both "
                          "reached with the same tokens",
        "cases": cases,
    }
    # One line per field of a case, so that the file reads and diffs well.
    lines = ["{"]
    for k, val in doc.items():
        if k != "cases":
            lines.append(" %s: %s," % (json.dumps(k), json.dumps(val, ensure_ascii=False)))
    lines.append(' "cases": [')
    for ci, c in enumerate(cases):
        fields = ["%s: %s" % (json.dumps(k), json.dumps(val, ensure_ascii=False)) for k, val in c.items()]
        lines.append("  {\n   " + ",\n   ".join(fields) + "\n  }" + ("," if ci + 1 < len(cases) else ""))
    lines.append(" ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)
    with open(out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
