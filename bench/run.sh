#!/bin/bash
# Overhead of pfwatch on the cheapest page fault, as a ratio: runs of the
# fault storm without and with the tracer, interleaved so that drift of a
# noisy VM hits both alike; medians over all runs. Usage:
#   bench/run.sh BUILD [RUNS] [ROUNDS]
set -euo pipefail
build=${1:-build}
runs=${2:-9}
rounds=${3:-40}
pages=16384
storm="$build/faultstorm"

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root to load pfwatch's BPF programs" >&2
	exit 2
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# A tracer in the background until its output says it is attached.
traced_run() {
	local log
	log=$(mktemp)
	"$build/pfwatch" -v -i 0 >/dev/null 2>"$log" &
	local pid=$!
	for _ in $(seq 100); do
		grep -q "^pfwatch: backend " "$log" && break
		sleep 0.05
	done
	"$storm" "$pages" "$rounds"
	kill -INT "$pid"
	wait "$pid"
	rm -f "$log"
}

bare=()
traced=()
for _ in $(seq "$runs"); do
	bare+=("$("$storm" "$pages" "$rounds")")
	traced+=("$(traced_run)")
done
bare_ns=$(printf '%s\n' "${bare[@]}" | median)
traced_ns=$(printf '%s\n' "${traced[@]}" | median)
printf '%-22s %12s %8s\n' "workload" "ns/fault" "ratio"
printf '%-22s %12s %8s\n' "bare" "$bare_ns" "1.00"
printf '%-22s %12s %8.3f\n' "pfwatch (default)" "$traced_ns" \
	"$(echo "$traced_ns / $bare_ns" | bc -l)"
echo "($runs interleaved runs of $rounds rounds x $pages fresh pages; medians)"
