#!/usr/bin/env bash
# bench.sh: generation and prompt speed of llamafile against llama.cpp's own
# llama-bench (built natively from the reference kit's source by
# scripts/build-llamacpp.sh), on the same model files, with the bound that
# memory bandwidth sets on generation.
#
#   scripts/bench.sh [-p PP] [-n TG] [-t THREADS] [-r ROUNDS] MODEL.gguf...
#
# Each of ROUNDS rounds measures, for every model, llamafile --bench and then
# llama-bench (one timed repetition each, after each one's warm-up), and the
# machine's streaming read bandwidth with THREADS threads (internal/membw),
# so that all three see the same phase of a shared machine. It prints the
# medians of the rounds: tokens/s of both, their ratio (above 1: llamafile
# is faster), the generation bound (bandwidth / bytes one token's pass
# reads) and how close llamafile's generation comes to it. Both process the
# prompt as one batch of PP tokens (-b PP -ub PP).
#
# Environment:
#   LLAMAFILE    llamafile executable (default: bin/llamafile)
#   LLAMA_BENCH  llama.cpp's llama-bench (default: the one build-llamacpp.sh
#                builds into the cache)
#   MEMBW        internal/membw's command (default: go run it)
set -euo pipefail
cd "$(dirname "$0")/.."

pp=512 tg=128 threads=2 rounds=5
usage() { sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "p:n:t:r:h" opt; do
	case $opt in
	p) pp=$OPTARG ;;
	n) tg=$OPTARG ;;
	t) threads=$OPTARG ;;
	r) rounds=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
for v in "$pp" "$tg" "$threads" "$rounds"; do
	case $v in '' | *[!0-9]* | 0) echo "bench: -p, -n, -t and -r need positive numbers" >&2; exit 2 ;; esac
done

cache="${LLAMAFILE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llamafile}"
llamafile=${LLAMAFILE:-bin/llamafile}
llamabench=${LLAMA_BENCH:-$cache/llama.cpp-build/bin/llama-bench}
[ -x "$llamafile" ] || { echo "bench: $llamafile not found (make, or set LLAMAFILE)" >&2; exit 1; }
[ -x "$llamabench" ] || { echo "bench: $llamabench not found (scripts/build-llamacpp.sh builds it, or set LLAMA_BENCH)" >&2; exit 1; }
if [ -z "${MEMBW:-}" ]; then
	MEMBW=$(mktemp -d)/membw
	trap 'rm -rf "$(dirname "$MEMBW")"' EXIT
	"${GO:-go}" build -o "$MEMBW" ./internal/membw/cmd/membw
fi
for m in "$@"; do
	[ -r "$m" ] || { echo "bench: $m: not readable" >&2; exit 1; }
done

# field NAME: the number after "NAME": in the JSON on stdin.
field() { sed -n "s/.*\"$1\": *\([-0-9.eE+]*\).*/\1/p" | head -n 1; }
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# pick PATTERN: the lines of the JSON lines on stdin with "n_gen": 0 (pp) or
# "n_prompt": 0 (tg).
pick() { grep -E "\"$1\": *0[,}]"; }

declare -A ours_pp ours_tg ref_pp ref_tg bytes
bws=""
for ((r = 1; r <= rounds; r++)); do
	for m in "$@"; do
		echo "bench: round $r/$rounds: $(basename "$m")" >&2
		out=$("$llamafile" --bench -m "$m" -p "$pp" -n "$tg" -b "$pp" -ub "$pp" -r 1 -t "$threads" -o jsonl)
		ours_pp[$m]+=" $(pick n_gen <<<"$out" | field avg_ts)"
		ours_tg[$m]+=" $(pick n_prompt <<<"$out" | field avg_ts)"
		out=$("$llamabench" -m "$m" -p "$pp" -n "$tg" -b "$pp" -ub "$pp" -r 1 -t "$threads" -o jsonl 2>/dev/null)
		commit=$(sed -n 's/.*"build_commit": *"\([^"]*\)".*/\1/p' <<<"$out" | head -n 1)
		ref_pp[$m]+=" $(pick n_gen <<<"$out" | field avg_ts)"
		ref_tg[$m]+=" $(pick n_prompt <<<"$out" | field avg_ts)"
	done
	# The bandwidth of this round; the bytes per token at the average cache
	# position of a tg run from an empty cache.
	out=$("$MEMBW" -t "$threads" -pos $((tg / 2)) "$@")
	bws+=" $(field bandwidth_gbs <<<"$out")"
	for m in "$@"; do
		bytes[$m]=$(grep -F "\"model\":\"$m\"" <<<"$out" | field token_bytes)
	done
done

bw=$(median <<<"$bws")
echo "| model | test | llamafile t/s | llama.cpp t/s | ratio | bound t/s | llamafile / bound |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for m in "$@"; do
	for t in pp tg; do
		if [ $t = pp ]; then
			a=$(median <<<"${ours_pp[$m]}") b=$(median <<<"${ref_pp[$m]}") n=$pp
		else
			a=$(median <<<"${ours_tg[$m]}") b=$(median <<<"${ref_tg[$m]}") n=$tg
		fi
		awk -v m="$(basename "$m")" -v t="$t$n" -v a="$a" -v b="$b" -v bw="$bw" -v by="${bytes[$m]}" -v tg="$([ $t = tg ] && echo 1 || echo 0)" \
			'BEGIN {
				bound = (tg && by > 0) ? bw * 1e9 / by : 0
				printf "| %s | %s | %.2f | %.2f | %s | %s | %s |\n", m, t, a, b,
					(b > 0 ? sprintf("%.2f", a / b) : "-"),
					(bound > 0 ? sprintf("%.1f", bound) : ""),
					(bound > 0 ? sprintf("%.0f%%", 100 * a / bound) : "")
			}'
	done
done
echo
echo "streaming read bandwidth, $threads threads: $(awk -v b="$bw" 'BEGIN { printf "%.1f", b }') GB/s (median; rounds:$bws)"
echo "medians of $rounds alternating rounds, $threads threads, $(uname -m), $(date -u +%Y-%m-%dT%H:%M:%SZ), llama-bench at ${commit:-?}"
