#!/usr/bin/env bash
# Regenerates pkg/chat/testdata/llamacpp.json, the golden outputs of
# llama.cpp's built-in chat templates that pkg/chat's tests compare against.
#
# usage: tools/chatref/gen.sh [CACHE_DIR]   (default /tmp/llref)
#
# Like ../shared/tools/reference/setup.sh, it takes llama.cpp's prebuilt CPU
# libraries, headers and source from the npm package node-llama-cpp, builds
# chatref.cpp against them, and runs it over the conversations it holds and
# over Jinja templates: those of llama.cpp's tests/test-chat-template.cpp,
# those under its models/templates (up to 10 kB, and gpt-oss), and ours in
# tools/chatref/templates. Needs npm, g++, git, python3; no model.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="${1:-/tmp/llref}"
nlc=3.21.1
mkdir -p "$dir" && cd "$dir"
if [ ! -d node_modules/node-llama-cpp ]; then
  npm init -y >/dev/null
  npm i -E --ignore-scripts "node-llama-cpp@$nlc" >/dev/null 2>&1
fi
lib="$dir/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
[ -d src ] || git clone -q "$dir/node_modules/node-llama-cpp/llama/gitRelease.bundle" src
( cd "$lib" && ln -sf libllama.v*.so libllama.so && ln -sf libggml.v*.so libggml.so )
mkdir -p bin
g++ -O2 -std=c++17 -I src/include -I src/ggml/include -I src/src "$here/chatref.cpp" -o bin/chatref \
  -L"$lib" -lllama -lggml -lggml-base -Wl,-rpath,"$lib"

rm -rf tests && python3 "$here/extract_tests.py" src/tests/test-chat-template.cpp tests
models=()
for f in src/models/templates/*.jinja; do
  if [ "$(wc -c <"$f")" -le 10240 ] || [ "$(basename "$f")" = openai-gpt-oss-120b.jinja ]; then
    models+=("$f")
  fi
done

tag="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tag"])' node_modules/node-llama-cpp/llama/llama.cpp.info.json)"
commit="$(git -C src rev-parse HEAD)"
libname="$(cd "$lib" && ls libllama.v*.so)"
version="{\"release\": \"$tag\", \"source_commit\": \"$commit\", \"library\": \"$libname\", \"from\": \"npm node-llama-cpp@$nlc (@node-llama-cpp/linux-x64, CPU)\"}"

out="$root/pkg/chat/testdata/llamacpp.json"
mkdir -p "$(dirname "$out")"
# ggml finds its CPU backend next to the libraries: run from $lib.
( cd "$lib" && "$dir/bin/chatref" "$version" "$dir"/tests/*.jinja "${models[@]/#/$dir/}" "$here"/templates/*.jinja ) >"$out.tmp"
python3 -m json.tool "$out.tmp" >/dev/null
mv "$out.tmp" "$out"
echo "wrote $out ($(wc -c <"$out") bytes)"
