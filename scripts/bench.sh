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
# medians of the rounds: tokens/s of both; their ratio (above 1: llamafile
# is faster) as the median of each round's ratio, with the rounds' range,
# since a shared machine's memory bandwidth changes by tens of percent from
# one minute to the next and the two runs of a round see the same phase;
# the generation bound (the median bandwidth / bytes one token's pass
# reads) and how close llamafile's generation comes to it (the median of
# each round's generation against that round's bandwidth). Both process
# the prompt as one batch of PP tokens (-b PP -ub PP).
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

declare -A ours_pp ours_tg ref_pp ref_tg bytes rat_pp rat_tg frac last_tg
bws=""
# ratio A B: A/B, or nothing when either is missing.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.4f", a / b }'; }
for ((r = 1; r <= rounds; r++)); do
	for m in "$@"; do
		echo "bench: round $r/$rounds: $(basename "$m")" >&2
		out=$("$llamafile" --bench -m "$m" -p "$pp" -n "$tg" -b "$pp" -ub "$pp" -r 1 -t "$threads" -o jsonl)
		opp=$(pick n_gen <<<"$out" | field avg_ts) otg=$(pick n_prompt <<<"$out" | field avg_ts)
		out=$("$llamabench" -m "$m" -p "$pp" -n "$tg" -b "$pp" -ub "$pp" -r 1 -t "$threads" -o jsonl 2>/dev/null)
		commit=$(sed -n 's/.*"build_commit": *"\([^"]*\)".*/\1/p' <<<"$out" | head -n 1)
		rpp=$(pick n_gen <<<"$out" | field avg_ts) rtg=$(pick n_prompt <<<"$out" | field avg_ts)
		ours_pp[$m]+=" $opp" ours_tg[$m]+=" $otg" ref_pp[$m]+=" $rpp" ref_tg[$m]+=" $rtg"
		rat_pp[$m]+=" $(ratio "$opp" "$rpp")" rat_tg[$m]+=" $(ratio "$otg" "$rtg")"
		last_tg[$m]=$otg
	done
	# The bandwidth of this round; the bytes per token at the average cache
	# position of a tg run from an empty cache.
	out=$("$MEMBW" -t "$threads" -pos $((tg / 2)) "$@")
	bwr=$(field bandwidth_gbs <<<"$out")
	bws+=" $bwr"
	for m in "$@"; do
		bytes[$m]=$(grep -F "\"model\":\"$m\"" <<<"$out" | field token_bytes)
		# This round's generation against this round's bound.
		frac[$m]+=" $(awk -v a="${last_tg[$m]}" -v bw="$bwr" -v by="${bytes[$m]}" 'BEGIN { if (a != "" && bw > 0 && by > 0) printf "%.4f", a * by / (bw * 1e9) }')"
	done
done

bw=$(median <<<"$bws")
echo "| model | test | llamafile t/s | llama.cpp t/s | ratio | ratio, rounds | bound t/s | llamafile / bound |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for m in "$@"; do
	for t in pp tg; do
		if [ $t = pp ]; then
			a=$(median <<<"${ours_pp[$m]}") b=$(median <<<"${ref_pp[$m]}") n=$pp rs=${rat_pp[$m]} f=""
		else
			a=$(median <<<"${ours_tg[$m]}") b=$(median <<<"${ref_tg[$m]}") n=$tg rs=${rat_tg[$m]} f=$(median <<<"${frac[$m]}")
		fi
		rm=$(median <<<"$rs")
		lo=$(tr ' ' '\n' <<<"$rs" | sed '/^$/d' | sort -g | head -n 1)
		hi=$(tr ' ' '\n' <<<"$rs" | sed '/^$/d' | sort -g | tail -n 1)
		awk -v m="$(basename "$m")" -v t="$t$n" -v a="$a" -v b="$b" -v bw="$bw" -v by="${bytes[$m]}" -v tg="$([ $t = tg ] && echo 1 || echo 0)" \
			-v rm="$rm" -v lo="$lo" -v hi="$hi" -v f="$f" \
			'BEGIN {
				bound = (tg && by > 0) ? bw * 1e9 / by : 0
				printf "| %s | %s | %.2f | %.2f | %s | %s | %s | %s |\n", m, t, a, b,
					(rm != "nan" ? sprintf("%.2f", rm) : "-"),
					(lo != "" ? sprintf("%.2f-%.2f", lo, hi) : ""),
					(bound > 0 ? sprintf("%.1f", bound) : ""),
					(f != "" && f != "nan" ? sprintf("%.0f%%", 100 * f) : "")
			}'
	done
done
echo
echo "streaming read bandwidth, $threads threads: $(awk -v b="$bw" 'BEGIN { printf "%.1f", b }') GB/s (median; rounds:$bws)"
echo "medians of $rounds alternating rounds (ratio: the median of each round's ratio, ours and llama.cpp's run one after the other; llamafile / bound: the median of each round's generation against that round's bandwidth), $threads threads, $(uname -m), $(date -u +%Y-%m-%dT%H:%M:%SZ), llama-bench at ${commit:-?}"
