#!/bin/bash
# Overhead on the cheapest page fault, as a ratio to the bare fault: runs of
# bench/faultstorm under each tool (in a new random order each run), each
# right after a run without a tracer; medians of the paired differences,
# with their middle half to show the noise. Usage:
#   bench/run.sh BUILD [RUNS] [ROUNDS] [PROCESSES]
# Tools that are not installed (bpftrace, perf) are skipped with a note.
# Then pfwatch's peak RSS while PROCESSES (default 10000) short-lived
# processes come and go.
set -uo pipefail
build=${1:-build}
runs=${2:-9}
rounds=${3:-40}
processes=${4:-10000}
pages=16384
storm="$build/faultstorm"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root to load BPF programs" >&2
	exit 2
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Run the storm under a tracer started in the background: wait until the
# tracer's output matches READY (or a second passed, for tools that print
# nothing), run the storm, stop the tracer with SIGTERM (a background job
# of a script ignores SIGINT) and wait for it.
# Prints the storm's ns/fault; the tracer's output stays in $work/NAME.log.
under() {
	local name=$1 ready=$2 storm_rounds=$3
	shift 3
	"$@" >"$work/$name.log" 2>&1 &
	local pid=$! ns i
	for i in $(seq 200); do
		if [ -n "$ready" ]; then
			grep -q -- "$ready" "$work/$name.log" && break
		elif [ "$i" -ge 20 ]; then
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	ns=$("$storm" "$pages" "$storm_rounds")
	stop "$name" "$pid"
	echo "$ns"
}

# SIGTERM, then SIGKILL (with a note) for a tool still running 30 s later.
stop() {
	local name=$1 pid=$2 i
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "bench: $name still running 30 s after SIGTERM: killed" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"
}

# Each tool: readiness pattern, label, command.
declare -A ready=(
	[floor]="floor: attached" [floor_entry]="floor: attached"
	[floor_perf]="floor: attached" [floor_rss]="floor: attached"
	[pfwatch]="^pfwatch: backend" [pfwatch_stream]="^pfwatch: backend"
	[pfwatch_where]="^pfwatch: backend" [pfwatch_stacks]="^pfwatch: backend"
	[bpftrace]="Attaching" [perf_record]="" [perf_trace]=""
)
declare -A label=(
	[floor]="floor (empty programs)" [floor_entry]="  entry tracepoint only"
	[floor_perf]="  perf events only"
	[floor_rss]="floor + rss_stat hook"
	[pfwatch]="pfwatch (default)" [pfwatch_stream]="pfwatch --min-latency 0"
	[pfwatch_where]="pfwatch --where" [pfwatch_stacks]="pfwatch --stacks 100"
	[bpftrace]="bpftrace count by pid" [perf_record]="perf record -c 1 -a"
	[perf_trace]="perf trace -F all -a"
)
run_tool() {
	case $1 in
	floor) exec "$build/floor" both ;;
	floor_entry) exec "$build/floor" entry ;;
	floor_perf) exec "$build/floor" perf ;;
	floor_rss) exec "$build/floor" all ;;
	pfwatch) exec "$build/pfwatch" -v -i 0 -o "$work/pfwatch.json" ;;
	pfwatch_stream) exec "$build/pfwatch" -v --min-latency 0 -o "$work/pfwatch_stream.json" >/dev/null ;;
	pfwatch_where) exec "$build/pfwatch" -v -i 0 --where -o "$work/pfwatch_where.json" >/dev/null ;;
	pfwatch_stacks) exec "$build/pfwatch" -v -i 0 --stacks 100 -o "$work/pfwatch_stacks.json" >/dev/null ;;
	bpftrace) exec bpftrace -e 'tracepoint:exceptions:page_fault_user { @[pid] = count(); }' ;;
	perf_record) exec perf record -q -e page-faults -c 1 -a -o "$work/perf.data" ;;
	perf_trace) exec perf trace --no-syscalls -F all -a -o /dev/null ;;
	esac
}
tools=(floor floor_entry floor_perf floor_rss pfwatch pfwatch_stream pfwatch_where pfwatch_stacks)
notes=()
if command -v bpftrace >/dev/null; then tools+=(bpftrace); else notes+=("bpftrace not installed: skipped"); fi
if perf version >/dev/null 2>&1; then
	tools+=(perf_record perf_trace)
else
	notes+=("perf not installed: perf record and perf trace skipped")
fi

# Each tool's run is paired with a bare run just before it: the VM drifts
# between a fast and a slow state within minutes, and the difference
# within a pair is what the tool added.
declare -A results=() added=()
bare=()
for _ in $(seq "$runs"); do
	for tool in $(printf '%s\n' "${tools[@]}" | shuf); do
		r=$rounds
		# perf trace formats every event: ~20x slower, a few rounds suffice.
		[ "$tool" = perf_trace ] && r=$(( rounds > 3 ? 3 : rounds ))
		before=$("$storm" "$pages" "$r")
		bare+=("$before")
		ns=$(under "$tool" "${ready[$tool]}" "$r" run_tool "$tool")
		results[$tool]+="$ns "
		added[$tool]+="$(echo "$ns - $before" | bc -l) "
	done
done

# Events lost by pfwatch, from its own diagnostics (last run).
lost_of() {
	local file=$work/$1.json
	[ -f "$file" ] || { echo "-"; return; }
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["diagnostics"]["lost_events"])' "$file" 2>/dev/null || echo "?"
}

# The middle half of a tool's paired differences, "Q1..Q3".
quartiles() {
	sort -n | awk '{ v[NR] = $1 } END {
		printf "%.0f..%.0f", v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)] }'
}

bare_ns=$(printf '%s\n' "${bare[@]}" | median)
declare -A added_ns=()
printf '%-26s %10s %8s %13s %8s %8s\n' tool ns/fault added "middle half" ratio lost
printf '%-26s %10s %8s %13s %8s %8s\n' bare "$bare_ns" - - 1.000 -
for tool in "${tools[@]}"; do
	ns=$(tr ' ' '\n' <<<"${results[$tool]}" | grep . | median)
	diffs=$(tr ' ' '\n' <<<"${added[$tool]}" | grep .)
	added_ns[$tool]=$(median <<<"$diffs")
	lost=-
	case $tool in pfwatch*) lost=$(lost_of "$tool") ;; esac
	printf '%-26s %10s %8.0f %13s %8.3f %8s\n' "${label[$tool]}" "$ns" \
		"${added_ns[$tool]}" "$(quartiles <<<"$diffs")" \
		"$(echo "($bare_ns + ${added_ns[$tool]}) / $bare_ns" | bc -l)" "$lost"
done
echo "($runs interleaved runs of $rounds rounds x $pages fresh pages; added: median of"
echo " the differences with the bare run just before; ratio: 1 + added / bare)"
# pfwatch's own share: what it adds above empty programs on every hook it runs.
for tool in pfwatch pfwatch_stream pfwatch_where; do
	awk -v name="${label[$tool]}" -v own="${added_ns[$tool]}" \
	    -v floor="${added_ns[floor_rss]}" 'BEGIN {
		own -= floor
		if (floor > 0)
			printf "%s: own share %.0f ns, %.2f of the floor'"'"'s %.0f ns\n", name, own, own / floor, floor
		else
			printf "%s: own share %.0f ns; the floor measured no cost this time\n", name, own
	}'
done
for note in "${notes[@]}"; do
	echo "note: $note"
done

# Memory: a system-wide pfwatch with tables every second while PROCESSES
# short-lived processes run one after another; its peak RSS (VmHWM).
"$build/pfwatch" -v -i 1 -o "$work/storm.json" >/dev/null 2>"$work/storm.log" &
tracer=$!
for _ in $(seq 100); do
	grep -q "^pfwatch: backend" "$work/storm.log" && break
	sleep 0.05
done
start=$SECONDS
for _ in $(seq "$processes"); do
	/bin/true
done
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$tracer/status")
stop "pfwatch (memory)" "$tracer"
records=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["processes"]), sum(p.get("folded_processes", 0) for p in d["processes"]))' "$work/storm.json")
echo "memory: pfwatch peak RSS ${hwm} KiB while $processes processes ran ($((SECONDS - start)) s); JSON records, folded processes: $records"

