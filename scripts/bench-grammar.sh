#!/usr/bin/env bash
# bench-grammar.sh: generation speed under constrained output, llamafile's
# server and llama.cpp's llama-server side by side, on the same model.
#
#   scripts/bench-grammar.sh [-n TG] [-t THREADS] [-r ROUNDS] MODEL.gguf
#
# Starts both servers (one slot each, THREADS threads) and, for ROUNDS
# alternating rounds, asks each for the same greedy /completion of a chat
# prompt: unconstrained, with llama.cpp's JSON grammar (grammars/json.gbnf)
# and with a 30-property JSON Schema (scripts/bench-grammar/schema30.json).
# Prints a markdown table of the median generation tokens/s each server
# reports (timings.predicted_per_second: decoding and sampling together),
# the overhead of each constraint against unconstrained generation, and
# the ratio llamafile / llama.cpp.
#
# Environment:
#   LLAMAFILE     llamafile executable (default: bin/llamafile)
#   LLAMA_SERVER  llama.cpp's llama-server (default: the one make
#                 llamacpp-bench-tools builds)
set -euo pipefail

tg=256 threads=2 rounds=3
usage() { sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "n:t:r:h" opt; do
	case $opt in
	n) tg=$OPTARG ;;
	t) threads=$OPTARG ;;
	r) rounds=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
model=$1
here="$(cd "$(dirname "$0")" && pwd)"
cache="${LLAMAFILE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llamafile}"
llamafile=${LLAMAFILE:-bin/llamafile}
server=${LLAMA_SERVER:-$cache/llama.cpp-build/bin/llama-server}
[ -r "$model" ] || { echo "bench-grammar: $model: not readable" >&2; exit 1; }
[ -x "$llamafile" ] || { echo "bench-grammar: $llamafile not found (make, or set LLAMAFILE)" >&2; exit 1; }
[ -x "$server" ] || { echo "bench-grammar: $server not found (make llamacpp-bench-tools, or set LLAMA_SERVER)" >&2; exit 1; }
command -v curl >/dev/null && command -v python3 >/dev/null || { echo "bench-grammar: needs curl and python3" >&2; exit 1; }

port_ours=18431 port_ref=18432
sh "$llamafile" --server -m "$model" --port $port_ours -t "$threads" -c 4096 -np 1 >/tmp/bench-grammar-ours.log 2>&1 &
pid_ours=$!
"$server" -m "$model" --port $port_ref -t "$threads" -c 4096 -np 1 >/tmp/bench-grammar-ref.log 2>&1 &
pid_ref=$!
trap 'kill $pid_ours $pid_ref 2>/dev/null || true' EXIT
for p in $port_ours $port_ref; do
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$p/health" >/dev/null && break
		sleep 0.2
	done
done

# body CASE: the /completion request of a case, as JSON.
body() {
	python3 - "$1" "$tg" "$here" <<'EOF'
import json, sys
case, n, here = sys.argv[1], int(sys.argv[2]), sys.argv[3]
prompt = ("<|im_start|>user\nDescribe a cat named Tom as a JSON object with many "
          "fields.<|im_end|>\n<|im_start|>assistant\n")
req = {"prompt": prompt, "n_predict": n, "temperature": 0, "cache_prompt": False}
if case == "json":
    req["grammar"] = open(here + "/../pkg/grammar/testdata/llamacpp/json.gbnf").read()
elif case == "schema30":
    req["json_schema"] = json.load(open(here + "/bench-grammar/schema30.json"))
print(json.dumps(req))
EOF
}
# tps PORT CASE: generation tokens/s and tokens of one request.
tps() {
	body "$2" | curl -sf "http://127.0.0.1:$1/completion" -H 'Content-Type: application/json' -d @- |
		python3 -c 'import json,sys; t=json.load(sys.stdin)["timings"]; print(t["predicted_per_second"], t["predicted_n"])'
}
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cases="none json schema30"
declare -A ours ref ntok
for c in $cases; do tps $port_ours $c >/dev/null; tps $port_ref $c >/dev/null; done # warm up
for ((r = 1; r <= rounds; r++)); do
	echo "bench-grammar: round $r/$rounds" >&2
	for c in $cases; do
		read -r a n < <(tps $port_ours $c)
		ours[$c]+=" $a"
		ntok[$c]=$n
		read -r b _ < <(tps $port_ref $c)
		ref[$c]+=" $b"
	done
done

echo "| constraint | tokens | llamafile t/s | overhead | llama.cpp t/s | overhead | ratio |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
a0=$(median <<<"${ours[none]}") b0=$(median <<<"${ref[none]}")
for c in $cases; do
	a=$(median <<<"${ours[$c]}") b=$(median <<<"${ref[$c]}")
	awk -v c="$c" -v n="${ntok[$c]}" -v a="$a" -v b="$b" -v a0="$a0" -v b0="$b0" 'BEGIN {
		printf "| %s | %s | %.1f | %+.1f%% | %.1f | %+.1f%% | %.2f |\n", c, n, a, (a0 / a - 1) * 100, b, (b0 / b - 1) * 100, a / b }'
done
echo
echo "medians of $rounds alternating rounds, greedy, $threads threads, $(basename "$model"), $(uname -m), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
