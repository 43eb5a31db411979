#!/usr/bin/env bash
# bench-families.sh: prompt-processing and generation speed of model
# families of one size and type, in llamafile and in llama.cpp, each family
# against the first (llama): the table make bench-families prints.
#
#   scripts/bench-families.sh [-p PP] [-n TG] [-t THREADS] [-r ROUNDS] [-w SECONDS] [-x RETRIES]
#                             FAMILY=MODEL.gguf...
#
# The first model is the baseline. For each of ROUNDS rounds and each model
# it runs llamafile --bench once (one timed repetition after a warm-up) and
# then llama.cpp's refbench (../shared/tools/reference) once, alternating
# so that both see the same machine load, and prints a markdown table of
# the median tokens/s of each, each family's speed relative to the
# baseline's in the same engine (a * marks ours more than 10% below our
# baseline), and ours relative to llama.cpp's; then the same table of the
# best round of each (other work only slows a run down, so on a machine
# that is not quite idle the best round is the least disturbed one). Both
# process the prompt as one batch of PP tokens (-b PP -ub PP).
#
# Measure on an idle machine: before
# each measurement it waits up to -w SECONDS (default 120) for the CPUs to
# be idle over a second, and it counts the CPU time that other programs
# took while each measurement ran (the CPUs' busy time less the measured
# program's): above 10%, it measures again, up to -x RETRIES (default 2)
# more times, and says at the end what the most it kept was.
#
# Environment:
#   LLAMAFILE        llamafile executable (default: bin/llamafile)
#   REFBENCH         llama.cpp's refbench (default: /tmp/llama-ref/bin/refbench)
#   REFBENCH_LIBDIR  folder holding llama.cpp's libraries, where refbench must
#                    run (default: the folder named on the last line of
#                    /tmp/llama-ref-setup.log, as tools/reference/setup.sh writes,
#                    else the one setup.sh unpacked beside refbench's folder)
set -euo pipefail

pp=512 tg=128 threads=2 rounds=3 idlewait=120 retries=2
usage() { sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "p:n:t:r:w:x:h" opt; do
	case $opt in
	p) pp=$OPTARG ;;
	n) tg=$OPTARG ;;
	t) threads=$OPTARG ;;
	r) rounds=$OPTARG ;;
	w) idlewait=$OPTARG ;;
	x) retries=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
for v in "$idlewait" "$retries"; do
	case $v in '' | *[!0-9]*) echo "bench-families: -w and -x need numbers" >&2; exit 2 ;; esac
done
for v in "$pp" "$tg" "$threads" "$rounds"; do
	case $v in '' | *[!0-9]* | 0) echo "bench-families: -p, -n, -t and -r need positive numbers" >&2; exit 2 ;; esac
done

llamafile=${LLAMAFILE:-bin/llamafile}
refbench=${REFBENCH:-/tmp/llama-ref/bin/refbench}
libdir=${REFBENCH_LIBDIR:-}
if [ -z "$libdir" ] && [ -r /tmp/llama-ref-setup.log ]; then
	libdir=$(tail -n 1 /tmp/llama-ref-setup.log | sed -n 's/.*(run from \(.*\)).*/\1/p')
fi
if [ -z "$libdir" ]; then
	# Where setup.sh unpacks them, beside its bin folder.
	for d in "$(dirname "$refbench")"/../node_modules/@node-llama-cpp/*/bins/*/; do
		if [ -e "$d/libllama.so" ]; then libdir=${d%/}; fi
	done
fi
[ -x "$llamafile" ] || { echo "bench-families: $llamafile not found (make, or set LLAMAFILE)" >&2; exit 1; }
[ -x "$refbench" ] || { echo "bench-families: $refbench not found (set REFBENCH)" >&2; exit 1; }
[ -d "$libdir" ] || { echo "bench-families: llama.cpp library folder '$libdir' not found (set REFBENCH_LIBDIR)" >&2; exit 1; }

# FAMILY=MODEL arguments; absolute paths, as refbench runs from the library
# folder.
families=()
declare -A model
for arg in "$@"; do
	case $arg in
	?*=?*) f=${arg%%=*} m=${arg#*=} ;;
	*) echo "bench-families: $arg: want FAMILY=MODEL.gguf" >&2; exit 2 ;;
	esac
	[ -r "$m" ] || { echo "bench-families: $m: not readable" >&2; exit 1; }
	families+=("$f")
	model[$f]="$(cd "$(dirname "$m")" && pwd)/$(basename "$m")"
done
llamafile=$(cd "$(dirname "$llamafile")" && pwd)/$(basename "$llamafile")

# field NAME: the number after "NAME": in the JSON on stdin.
field() { sed -n "s/.*\"$1\": *\([-0-9.eE+]*\).*/\1/p" | head -n 1; }
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# stat: the first line of /proc/stat (CPU time, all CPUs, in clock ticks).
stat() { head -n 1 /proc/stat; }
# busy A B: the percentage of CPU time not idle between the stat lines A, B,
# less OWN seconds (the CPU time of the measured program).
busy() {
	awk -v a="$1" -v b="$2" -v own="${3:-0}" -v hz="$hz" 'BEGIN {
		n = split(a, x); split(b, y); t = 0
		for (i = 2; i <= n; i++) t += y[i] - x[i]
		idle = (y[5] - x[5]) + (y[6] - x[6])
		p = t > 0 ? 100 * (t - idle - own * hz) / t : 0
		printf "%.0f", (p < 0 ? 0 : p) }'
}
# childcpu VAR: sets VAR to the CPU seconds of this shell's finished
# children so far. It must run in this shell, not in a subshell, whose
# count starts at 0.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
childcpu() {
	times >"$tmp"
	printf -v "$1" %s "$(tail -n 1 "$tmp" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); s += 60 * p[1] + p[2] } printf "%.2f", s }')"
}
hz=$(getconf CLK_TCK)
# before LABEL: waits (up to idlewait seconds) for the CPUs to be idle
# (at most 10% busy over a second) and starts a measurement's accounting.
before() {
	local a b w=0
	while :; do
		a=$(stat)
		sleep 1
		b=$(stat)
		idle_busy=$(busy "$a" "$b")
		[ "$idle_busy" -gt 10 ] && [ "$w" -lt "$idlewait" ] || break
		w=$((w + 1))
	done
	echo "bench-families: round $r/$rounds: $1 (CPUs ${idle_busy}% busy before, load $(cut -d ' ' -f 1-3 /proc/loadavg))" >&2
	s0=$(stat)
	childcpu c0
}
# after LABEL: sets other to how busy the CPUs were with other work than
# the measured program while it ran, and says so when above 10%.
after() {
	local s1 c1
	s1=$(stat)
	childcpu c1
	other=$(busy "$s0" "$s1" "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')")
	if [ "$other" -gt 10 ]; then
		echo "bench-families: other work took ${other}% of the CPUs during $1" >&2
	fi
}
# measure LABEL COMMAND...: runs COMMAND, its output in out, again (up to
# retries more times) while other work took more than 10% of the CPUs
# during it; keeps the worst of the kept runs in maxother.
maxother=0 worst=
measure() {
	local label=$1 try
	shift
	for ((try = 0; ; try++)); do
		before "$label"
		out=$("$@")
		after "$label (round $r)"
		[ "$other" -gt 10 ] && [ "$try" -lt "$retries" ] || break
		echo "bench-families: measuring again" >&2
	done
	if [ "$other" -gt "$maxother" ]; then maxother=$other worst="$label, round $r"; fi
	if [ "$idle_busy" -gt "$maxother" ]; then maxother=$idle_busy worst="before $label, round $r"; fi
}
ours() { "$llamafile" --bench -m "$1" -p "$pp" -n "$tg" -b "$pp" -ub "$pp" -r 1 -t "$threads" -o jsonl; }
# refbench times one repetition after its own warm-up run.
ref() { cd "$libdir" && "$refbench" "$1" "$pp" "$tg" 1 "$threads"; }

echo "bench-families: $(uptime)" >&2
declare -A ours_pp ours_tg ref_pp ref_tg
for ((r = 1; r <= rounds; r++)); do
	for f in "${families[@]}"; do
		m=${model[$f]}
		measure "$f llamafile" ours "$m"
		a=$(grep '"n_gen":0,' <<<"$out" | field avg_ts) b=$(grep '"n_prompt":0,' <<<"$out" | field avg_ts)
		echo "bench-families: $f llamafile: pp$pp $a t/s, tg$tg $b t/s" >&2
		ours_pp[$f]+=" $a" ours_tg[$f]+=" $b"
		measure "$f llama.cpp" ref "$m"
		a=$(field pp_tps <<<"$out") b=$(field tg_tps <<<"$out")
		echo "bench-families: $f llama.cpp: pp$pp $a t/s, tg$tg $b t/s" >&2
		ref_pp[$f]+=" $a" ref_tg[$f]+=" $b"
	done
done

# table AGGREGATE: the table of each family's AGGREGATE (median or best)
# of the rounds' tokens/s.
table() {
	local agg=$1 base=${families[0]} f
	local bop bot brp brt
	bop=$($agg <<<"${ours_pp[$base]}") bot=$($agg <<<"${ours_tg[$base]}")
	brp=$($agg <<<"${ref_pp[$base]}") brt=$($agg <<<"${ref_tg[$base]}")
	echo "| family | ours pp$pp t/s | ours tg$tg t/s | ours vs $base pp | ours vs $base tg | llama.cpp pp$pp t/s | llama.cpp tg$tg t/s | llama.cpp vs $base pp | llama.cpp vs $base tg | ours / llama.cpp pp | ours / llama.cpp tg |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for f in "${families[@]}"; do
		awk -v f="$f" -v op="$($agg <<<"${ours_pp[$f]}")" -v ot="$($agg <<<"${ours_tg[$f]}")" \
			-v rp="$($agg <<<"${ref_pp[$f]}")" -v rt="$($agg <<<"${ref_tg[$f]}")" \
			-v bop="$bop" -v bot="$bot" -v brp="$brp" -v brt="$brt" '
		function ratio(a, b, mark) {
			if (b <= 0) return "-"
			return sprintf("%.2f%s", a / b, (mark && a / b < 0.9) ? " *" : "")
		}
		BEGIN {
			printf "| %s | %.2f | %.2f | %s | %s | %.2f | %.2f | %s | %s | %s | %s |\n", f, op, ot,
				ratio(op, bop, 1), ratio(ot, bot, 1), rp, rt, ratio(rp, brp, 0), ratio(rt, brt, 0),
				ratio(op, rp, 0), ratio(ot, rt, 0)
		}'
	done
}
best() { tr ' ' '\n' | sed '/^$/d' | sort -g | tail -n 1; }

table median
echo
echo "medians of $rounds alternating rounds, $threads threads, $(uname -m), $(date -u +%Y-%m-%dT%H:%M:%SZ);" \
	"other work took at most ${maxother}% of the CPUs during or just before a measurement${worst:+ ($worst)}"
if [ "$rounds" -gt 1 ]; then
	# Other work only ever slows a run down: the best round is the least
	# disturbed one.
	echo
	table best
	echo
	echo "the best of the $rounds rounds"
fi
