#!/usr/bin/env bash
# Writes pkg/model/testdata/bert-golden.json: llama.cpp's pooled embeddings
# of the synthetic BERT-family encoders for pkg/model's bertTexts, through
# embeddings.cpp (built as its comment says, into DIR/bin).
# usage: bert_golden.sh DIR OUT   (DIR: the folder setup.sh prepared)
set -euo pipefail
dir=$1 out=$(realpath -m "$2")
root=$(cd "$(dirname "$0")/../.." && pwd)
synth=$(mktemp -d)
( cd "$root" && LLAMAFILE_SYNTH_DIR=$synth go test ./pkg/model -run '^TestWriteBertModels$' -count=1 >/dev/null )
lib="$dir/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
mapfile -t texts < <(python3 -c 'import json,sys; [print(t) for t in json.load(open(sys.argv[1]))]' "$synth/bert-texts.json")
{
  echo "{"
  first=1
  for m in "$synth"/*.gguf; do
    name=$(basename "$m" .gguf)
    [ $first = 1 ] || echo ","
    first=0
    printf '"%s":' "$name"
    ( cd "$lib" && "$dir/bin/embeddings" "$m" -1 "${texts[@]}" )
  done
  echo "}"
} | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), separators=(",", ":")))' > "$out"
rm -rf "$synth"
