#!/usr/bin/env bash
# Builds llama.cpp's libmtmd (the CLIP encoders and mtmd's API, which the
# reference kit's prebuilt libraries do not ship) from the kit's source as a
# static library, against the kit's prebuilt libggml and libllama, so that
# programs linked with it run the same prebuilt ggml CPU backends (chosen at
# run time for the CPU) as the kit's other reference programs. Then compiles
# the tools/visionref programs named on the command line against it.
# Usage: tools/visionref/build-mtmd.sh [PROGRAM...]   (e.g. mtmdbench)
# Prints the folder holding libmtmd.a and the programs:
# ${LLAMAFILE_BENCH_DIR:-$HOME/.cache/llamafile-bench}/mtmd-<source commit>
# (a few minutes on two cores the first time; reused after).
# Run the programs from the kit's library folder (LLAMA_REF_LIB, printed by
# ../shared/tools/reference/setup.sh) so that ggml finds its CPU backend.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
ref="${LLAMA_REF:-/tmp/llama-ref}"
shared="${LLAMAFILE_SHARED:-$here/../shared}"
[ -d "$ref/src" ] || "$shared/tools/reference/setup.sh" "$ref" >/dev/null
src="$ref/src"
lib="$ref/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
rev="$(git -C "$src" rev-parse --short=12 HEAD)"
out="${LLAMAFILE_BENCH_DIR:-$HOME/.cache/llamafile-bench}/mtmd-$rev"
mkdir -p "$out/obj"
inc=(-I"$src/include" -I"$src/ggml/include" -I"$src/tools/mtmd" -I"$src/vendor")
if [ ! -f "$out/libmtmd.a" ]; then
  # The library's sources as its CMakeLists.txt lists them (.cpp files of
  # add_library(mtmd ...)); mtmd-helper-gen.cpp reads libllama's internal
  # headers and is left out (nothing here uses audio generation).
  mapfile -t srcs < <(sed -n '/^add_library(mtmd$/,/^ *)$/p' "$src/tools/mtmd/CMakeLists.txt" |
    grep -o '[A-Za-z0-9_./-]*\.cpp' | grep -v '^mtmd-helper-gen\.cpp$')
  [ "${#srcs[@]}" -gt 10 ] || { echo "build-mtmd: cannot read mtmd's sources from CMakeLists.txt" >&2; exit 1; }
  printf '%s\n' "${srcs[@]}" | xargs -P"$(nproc)" -I{} sh -c '
    o="$0/obj/$(echo "{}" | tr / _).o"
    [ -f "$o" ] || { g++ -O2 -std=c++17 -fPIC -w "$@" -c "'"$src"'/tools/mtmd/{}" -o "$o.tmp" && mv "$o.tmp" "$o"; }
  ' "$out" "${inc[@]}"
  # vendor/hash (vendor::hash, for mtmd-helper's image ids; sha1.c is
  # compiled as C++, as its CMakeLists.txt says).
  h="$src/vendor/hash"
  g++ -O2 -std=c++17 -fPIC -w -I"$src/vendor" -I"$h" -c "$h/hash.cpp" -o "$out/obj/vendor_hash.o"
  g++ -O2 -fPIC -w -I"$h" -x c++ -c "$h/sha1/sha1.c" -o "$out/obj/vendor_sha1.o"
  gcc -O2 -fPIC -w -I"$h" -c "$h/sha256/sha256.c" -o "$out/obj/vendor_sha256.o"
  gcc -O2 -fPIC -w -I"$h" -c "$h/xxhash/xxhash.c" -o "$out/obj/vendor_xxhash.o"
  ar rcs "$out/libmtmd.a.tmp" "$out"/obj/*.o && mv "$out/libmtmd.a.tmp" "$out/libmtmd.a"
fi
for p in "$@"; do
  g++ -O2 -std=c++17 "${inc[@]}" -o "$out/$p" "$here/tools/visionref/$p.cpp" \
    "$out/libmtmd.a" -L"$lib" -lllama -lggml -lggml-base -lpthread -Wl,-rpath,"$lib"
done
echo "$out"
