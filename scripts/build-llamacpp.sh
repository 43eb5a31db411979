#!/usr/bin/env bash
# Builds llama.cpp's llama-bench, llama-batched-bench and llama-server from the source the
# reference kit unpacks (../shared/tools/reference/setup.sh), CPU only, to
# measure our speed side by side with llama.cpp's (see README "Benchmarks").
# Usage: scripts/build-llamacpp.sh [REFDIR]  (default REFDIR: /tmp/llama-ref)
# The build goes to ${LLAMAFILE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llamafile}/llama.cpp-build
# (about ten minutes on two cores the first time); prints the bin folder.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
ref="${1:-/tmp/llama-ref}"
shared="${LLAMAFILE_SHARED:-$here/../shared}"
[ -d "$ref/src" ] || "$shared/tools/reference/setup.sh" "$ref" >/dev/null
cache="${LLAMAFILE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llamafile}"
build="$cache/llama.cpp-build"
mkdir -p "$build"
# GGML_NATIVE would also turn on AMX where the CPU lists it, and ggml's AMX
# kernels crash (SIGSEGV in ggml_backend_amx_mul_mat) in VMs that do not
# grant the tile state; so: the CPU's AVX-512/AVX2 features, without AMX.
native="-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
case "$flags" in *avx512f*) native="$native -DGGML_AVX512=ON" ;; esac
case "$flags" in *avx512_vbmi*|*avx512vbmi*) native="$native -DGGML_AVX512_VBMI=ON" ;; esac
case "$flags" in *avx512_vnni*) native="$native -DGGML_AVX512_VNNI=ON" ;; esac
case "$flags" in *avx512_bf16*) native="$native -DGGML_AVX512_BF16=ON" ;; esac
case "$flags" in *avx_vnni*) native="$native -DGGML_AVX_VNNI=ON" ;; esac
cmake -S "$ref/src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
  -DGGML_NATIVE=OFF $native \
  -DLLAMA_BUILD_TESTS=OFF -DGGML_CUDA=OFF -DGGML_METAL=OFF >/dev/null
cmake --build "$build" --target llama-batched-bench llama-server llama-bench -j"$(nproc)" >/dev/null
echo "$build/bin ($(git -C "$ref/src" rev-parse HEAD))"
