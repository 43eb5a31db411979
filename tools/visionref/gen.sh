#!/usr/bin/env bash
# Regenerates pkg/vision/testdata: llama.cpp's (libmtmd's) preprocessed
# image, image embeddings and logits for synthetic mmproj files
# (internal/synthvision, seed 1) and test images, with the synthetic llama
# of ../shared as the text model.
# Usage: tools/visionref/gen.sh  (needs scripts/build-llamacpp.sh's build
# with libmtmd: cmake --build BUILD --target mtmd)
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
build="${LLAMAFILE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llamafile}/llama.cpp-build"
src="${LLAMA_REF:-/tmp/llama-ref}/src"
shared="${LLAMAFILE_SHARED:-$here/../shared}"
out="$here/pkg/vision/testdata"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
g++ -O1 -std=c++17 -o "$tmp/mtmdref" "$here/tools/visionref/mtmdref.cpp" \
  -I"$src/include" -I"$src/ggml/include" -I"$src/tools/mtmd" \
  -L"$build/bin" -lmtmd -lllama -lggml -lggml-base -Wl,-rpath,"$build/bin"
go build -o "$tmp/mksv" "$here/internal/synthvision/cmd/mksynthvision"
model="$shared/testdata/models/synth-llama-f32.gguf"
prompt="Once upon a time <__media__> there was a cat"
mkdir -p "$out"
for c in f32-97x61:f32:97x61:1 f32-200x300:f32:200x300:2 f16-200x300:f16:200x300:2; do
  IFS=: read -r name mat size seed <<<"$c"
  "$tmp/mksv" -shape small -mat "$mat" -seed 1 -o "$tmp/mmproj.gguf"
  "$tmp/mksv" -image "$size" -seed "$seed" -o "$tmp/img.png"
  "$tmp/mtmdref" "$model" "$tmp/mmproj.gguf" "$tmp/img.png" "$prompt" "$tmp/$name" 2 2>/dev/null
  mm=$(sha256sum "$tmp/mmproj.gguf" | cut -d' ' -f1)
  im=$(sha256sum "$tmp/img.png" | cut -d' ' -f1)
  sed -e "1a\\  \"mmproj_sha256\": \"$mm\",\\n  \"image_sha256\": \"$im\",\\n  \"prompt\": \"$prompt\"," "$tmp/$name.json" >"$out/$name.json"
  cp "$tmp/$name.embd.f32" "$tmp/$name.logits.f32" "$out/"
  # The preprocessed image depends only on the image (f16-200x300 reads f32-200x300's).
  [ "$mat" = f32 ] && cp "$tmp/$name.preproc.f32" "$out/"
done
ls -l "$out"
