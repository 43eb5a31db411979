#!/usr/bin/env bash
# bench-compare.sh: prompt-processing and generation speed of llamafile and
# llama.cpp on the same model files, side by side.
#
#   scripts/bench-compare.sh [-p PP] [-n TG] [-t THREADS] [-r ROUNDS] MODEL.gguf...
#
# For each of ROUNDS rounds and each model it runs llamafile --bench once
# (one timed repetition after a warm-up) and then llama.cpp's refbench
# (../shared/tools/reference) once, alternating so that both see the same
# machine load, and prints a markdown table of the median tokens/s of each
# and their ratio (llamafile / llama.cpp; above 1 means llamafile is faster).
# Both process the prompt as one batch of PP tokens (-b PP -ub PP).
#
# Environment:
#   LLAMAFILE        llamafile executable (default: bin/llamafile)
#   REFBENCH         llama.cpp's refbench (default: /tmp/llama-ref/bin/refbench)
#   REFBENCH_LIBDIR  folder holding llama.cpp's libraries, where refbench must
#                    run (default: the folder named on the last line of
#                    /tmp/llama-ref-setup.log, as tools/reference/setup.sh writes)
set -euo pipefail

pp=512 tg=128 threads=2 rounds=3
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
	case $v in '' | *[!0-9]* | 0) echo "bench-compare: -p, -n, -t and -r need positive numbers" >&2; exit 2 ;; esac
done

llamafile=${LLAMAFILE:-bin/llamafile}
refbench=${REFBENCH:-/tmp/llama-ref/bin/refbench}
libdir=${REFBENCH_LIBDIR:-}
if [ -z "$libdir" ] && [ -r /tmp/llama-ref-setup.log ]; then
	libdir=$(tail -n 1 /tmp/llama-ref-setup.log | sed -n 's/.*(run from \(.*\)).*/\1/p')
fi
[ -x "$llamafile" ] || { echo "bench-compare: $llamafile not found (make, or set LLAMAFILE)" >&2; exit 1; }
[ -x "$refbench" ] || { echo "bench-compare: $refbench not found (set REFBENCH)" >&2; exit 1; }
[ -d "$libdir" ] || { echo "bench-compare: llama.cpp library folder '$libdir' not found (set REFBENCH_LIBDIR)" >&2; exit 1; }

# Absolute paths: refbench runs from the library folder.
models=()
for m in "$@"; do
	[ -r "$m" ] || { echo "bench-compare: $m: not readable" >&2; exit 1; }
	models+=("$(cd "$(dirname "$m")" && pwd)/$(basename "$m")")
done
llamafile=$(cd "$(dirname "$llamafile")" && pwd)/$(basename "$llamafile")

# field NAME: the number after "NAME": in the JSON on stdin.
field() { sed -n "s/.*\"$1\": *\([-0-9.eE+]*\).*/\1/p" | head -n 1; }
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A ours_pp ours_tg ref_pp ref_tg
for ((r = 1; r <= rounds; r++)); do
	for m in "${models[@]}"; do
		echo "bench-compare: round $r/$rounds: $(basename "$m")" >&2
		out=$("$llamafile" --bench -m "$m" -p "$pp" -n "$tg" -b "$pp" -ub "$pp" -r 1 -t "$threads" -o jsonl)
		ours_pp[$m]+=" $(grep '"n_gen":0,' <<<"$out" | field avg_ts)"
		ours_tg[$m]+=" $(grep '"n_prompt":0,' <<<"$out" | field avg_ts)"
		# refbench times one repetition after its own warm-up run.
		out=$(cd "$libdir" && "$refbench" "$m" "$pp" "$tg" 1 "$threads")
		ref_pp[$m]+=" $(field pp_tps <<<"$out")"
		ref_tg[$m]+=" $(field tg_tps <<<"$out")"
	done
done

echo "| model | test | llamafile t/s | llama.cpp t/s | ratio |"
echo "| --- | --- | ---: | ---: | ---: |"
for m in "${models[@]}"; do
	for t in pp tg; do
		if [ $t = pp ]; then
			a=$(median <<<"${ours_pp[$m]}") b=$(median <<<"${ref_pp[$m]}") n=$pp
		else
			a=$(median <<<"${ours_tg[$m]}") b=$(median <<<"${ref_tg[$m]}") n=$tg
		fi
		awk -v m="$(basename "$m")" -v t="$t$n" -v a="$a" -v b="$b" \
			'BEGIN { printf "| %s | %s | %.2f | %.2f | %s |\n", m, t, a, b, (b > 0 ? sprintf("%.2f", a / b) : "-") }'
	done
done
echo
echo "medians of $rounds alternating rounds, $threads threads, $(uname -m), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
