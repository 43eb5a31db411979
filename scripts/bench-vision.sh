#!/usr/bin/env bash
# Times encoding one image with an mmproj file, ours (pkg/vision's
# BenchmarkEncode: Encoder.Encode, preprocessing included) and llama.cpp's
# (libmtmd's preprocessing and mtmd_encode_chunk, tools/visionref/mtmdbench
# built by tools/visionref/build-mtmd.sh against the reference kit's
# prebuilt libraries), alternately for ROUNDS rounds (default 3) of REPS
# encodes each (default 3, after one untimed encode) on THREADS threads
# (default 2). Prints each round, then both medians over the rounds in ms
# per image, the ratio, and the CPU kernel set llama.cpp's ggml chose.
# Usage: scripts/bench-vision.sh MMPROJ IMAGE   (make bench-vision writes
# a LLaVA-1.5-sized synthetic mmproj and a 640x480 image and runs this)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -eq 2 ] || { echo "usage: $0 MMPROJ IMAGE" >&2; exit 2; }
mmproj="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
image="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
rounds="${ROUNDS:-3}" reps="${REPS:-3}" threads="${THREADS:-2}"
go="${GO:-go}"
ref="${LLAMA_REF:-/tmp/llama-ref}"
lib="$ref/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"

dir="$("$here/tools/visionref/build-mtmd.sh" mtmdbench | tail -n1)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$here" && CGO_ENABLED=0 "$go" test -c -o "$tmp/vision.test" ./pkg/vision)

ours=() theirs=()
backend="" features=""
for r in $(seq 1 "$rounds"); do
  o=$(cd "$here/pkg/vision" && LLAMAFILE_VISION_MMPROJ="$mmproj" LLAMAFILE_VISION_IMAGE="$image" \
    LLAMAFILE_VISION_THREADS="$threads" "$tmp/vision.test" -test.run '^$' \
    -test.bench '^BenchmarkEncode$' -test.benchtime "${reps}x" | awk '$1 ~ /^BenchmarkEncode/ { printf "%.1f", $3 / 1e6 }')
  [ -n "$o" ] || { echo "bench-vision: BenchmarkEncode printed no time" >&2; exit 1; }
  j=$(cd "$lib" && "$dir/mtmdbench" "$mmproj" "$image" "$reps" "$threads")
  t=$(sed -n 's/.*"mean_image_ms":\([0-9.]*\).*/\1/p' <<<"$j")
  [ -n "$t" ] || { echo "bench-vision: mtmdbench printed no time: $j" >&2; exit 1; }
  backend=$(sed -n 's/.*"cpu_backend":"\([^"]*\)".*/\1/p' <<<"$j")
  features=$(sed -n 's/.*"cpu_features":"\([^"]*\)".*/\1/p' <<<"$j")
  enc=$(sed -n 's/.*"median_encode_ms":\([0-9.]*\).*/\1/p' <<<"$j")
  pre=$(sed -n 's/.*"median_preprocess_ms":\([0-9.]*\).*/\1/p' <<<"$j")
  echo "round $r: ours $o ms/image, llama.cpp $t ms/image (means of $reps; llama.cpp's medians: preprocess $pre, encode $enc)"
  ours+=("$o") theirs+=("$t")
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mo=$(median "${ours[@]}") mt=$(median "${theirs[@]}")
echo "mmproj $(basename "$mmproj"), image $(basename "$image"), $threads threads, $rounds rounds of $reps encodes"
echo "median ours:      $mo ms/image"
echo "median llama.cpp: $mt ms/image (ggml CPU backend: ${backend:-unknown}; $features)"
awk -v a="$mo" -v b="$mt" 'BEGIN { printf "ratio ours/llama.cpp: %.2f\n", a / b }'
