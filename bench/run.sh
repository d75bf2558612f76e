#!/bin/bash
# Overhead on the cheapest page fault, as a ratio to the bare fault: runs of
# bench/faultstorm under each tool (in a new random order each run), each
# right after a run without a tracer; medians of the paired differences,
# with their middle half to show the noise. Usage:
#   bench/run.sh BUILD [RUNS] [ROUNDS] [PROCESSES]
# Tools that are not installed (bpftrace, perf) are skipped with a note.
# Environment: PFWATCH_BENCH_TOOLS, the rows to run (keys of label below,
# space-separated; default all); PFWATCH_BENCH_LOCK, a file to flock around
# each pair and each short pass, so that other BPF users on the machine
# neither overlap a pair nor wait for the whole benchmark (leave it unset
# when the caller already holds that lock); PFWATCH_BENCH_VARIANT, another
# pfwatch binary to pair as one more row (a measurement build).
# Then the causes' share per fault, from bpf_stats (kernel.bpf_stats_enabled
# for a moment, put back after).
# Then pfwatch's peak RSS while PROCESSES (default 10000) short-lived
# processes come and go.
set -uo pipefail
build=${1:-build}
runs=${2:-9}
rounds=${3:-40}
processes=${4:-10000}
pages=16384
storm="$build/faultstorm"
variant=${PFWATCH_BENCH_VARIANT:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root to load BPF programs" >&2
	exit 2
fi

# Hold PFWATCH_BENCH_LOCK (if set) from lock to unlock. Children inherit
# the descriptor, but all of them are waited for before unlock.
lock() {
	[ -n "${PFWATCH_BENCH_LOCK:-}" ] || return 0
	exec {lock_fd}>>"$PFWATCH_BENCH_LOCK" && flock "$lock_fd"
}
unlock() {
	[ -n "${lock_fd:-}" ] && exec {lock_fd}>&-
	lock_fd=
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Run the storm under a tracer started in the background: wait until the
# tracer's output matches READY (or a second passed, for tools that print
# nothing), run the storm, stop the tracer with SIGTERM (a background job
# of a script ignores SIGINT) and wait for it.
# Prints the storm's ns/fault; the tracer's output stays in $work/NAME.log.
under() {
	local name=$1 ready=$2 storm_rounds=$3
	shift 3
	: >"$work/$name.log"
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
	[floor_all]="floor: attached"
	[pfwatch]="^pfwatch: backend" [pfwatch_stream]="^pfwatch: backend"
	[pfwatch_where]="^pfwatch: backend" [pfwatch_stacks]="^pfwatch: backend"
	[pfwatch_variant]="^pfwatch: backend"
	[bpftrace]="Attaching" [perf_record]="" [perf_trace]=""
)
declare -A label=(
	[floor_all]="floor (empty programs)"
	[pfwatch]="pfwatch (default)" [pfwatch_stream]="pfwatch --min-latency 0"
	[pfwatch_where]="pfwatch --where" [pfwatch_stacks]="pfwatch --stacks 100"
	[pfwatch_variant]="pfwatch variant"
	[bpftrace]="bpftrace count by pid" [perf_record]="perf record -c 1 -a"
	[perf_trace]="perf trace -F all -a"
)
run_tool() {
	case $1 in
	floor_all) exec "$build/floor" all ;;
	pfwatch) exec "$build/pfwatch" -v -i 0 -o "$work/pfwatch.json" ;;
	pfwatch_stream) exec "$build/pfwatch" -v --min-latency 0 -o "$work/pfwatch_stream.json" >/dev/null ;;
	pfwatch_where) exec "$build/pfwatch" -v -i 0 --where -o "$work/pfwatch_where.json" >/dev/null ;;
	pfwatch_stacks) exec "$build/pfwatch" -v -i 0 --stacks 100 -o "$work/pfwatch_stacks.json" >/dev/null ;;
	pfwatch_variant) exec "$variant" -v -i 0 -o "$work/pfwatch_variant.json" ;;
	bpftrace) exec bpftrace -e 'tracepoint:exceptions:page_fault_user { @[pid] = count(); }' ;;
	perf_record) exec perf record -q -e page-faults -c 1 -a -o "$work/perf.data" ;;
	perf_trace) exec perf trace --no-syscalls -F all -a -o /dev/null ;;
	esac
}
# Each hook alone is measured after the table, by floor --pairs.
tools=(floor_all pfwatch pfwatch_stream pfwatch_where pfwatch_stacks)
notes=()
[ -n "$variant" ] && tools+=(pfwatch_variant) && notes+=("pfwatch variant: $variant")
# bpftrace and perf trace find tracepoints in tracefs, which they do not
# mount (pfwatch mounts it only for the classic tracepoint).
if [ ! -d /sys/kernel/tracing/events ] &&
	! mount -t tracefs tracefs /sys/kernel/tracing; then
	notes+=("tracefs could not be mounted: bpftrace and perf trace cannot attach")
fi
if command -v bpftrace >/dev/null; then tools+=(bpftrace); else notes+=("bpftrace not installed: skipped"); fi
if perf version >/dev/null 2>&1; then
	tools+=(perf_record perf_trace)
else
	notes+=("perf not installed: perf record and perf trace skipped")
fi
if [ -n "${PFWATCH_BENCH_TOOLS:-}" ]; then
	chosen=()
	for tool in "${tools[@]}"; do
		[[ " $PFWATCH_BENCH_TOOLS " == *" $tool "* ]] && chosen+=("$tool")
	done
	tools=("${chosen[@]}")
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
		lock
		before=$("$storm" "$pages" "$r")
		ns=$(under "$tool" "${ready[$tool]}" "$r" run_tool "$tool")
		unlock
		# Each pair as it comes, on stderr: a run cut short keeps its data.
		echo "pair $tool $before $ns" >&2
		bare+=("$before")
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
	[ -n "${added_ns[$tool]:-}" ] && [ -n "${added_ns[floor_all]:-}" ] || continue
	awk -v name="${label[$tool]}" -v own="${added_ns[$tool]}" \
	    -v floor="${added_ns[floor_all]}" 'BEGIN {
		own -= floor
		if (floor > 0)
			printf "%s: own share %.0f ns, %.2f of the floor'"'"'s %.0f ns\n", name, own, own / floor, floor
		else
			printf "%s: own share %.0f ns; the floor measured no cost this time\n", name, own
	}'
done
# Each hook alone, in one process: adjacent rounds with and without it.
lock
"$build/floor" --pairs $((runs * 4)) all entry perf rss alloc switch filemap \
	map_pages waits switch,waits >"$work/hooks.txt"
unlock
echo "each hook alone (floor --pairs: adjacent rounds with and without; * not used by pfwatch):"
sed 's/^map_pages /map_pages* /' "$work/hooks.txt"
awk '$1 == "switch,waits" {
	printf "causes'"'"' hooks per fault: %s ns (empty programs on sched_switch and the wait tracepoints; middle half %s)\n", $2, $3 }' "$work/hooks.txt"
if [ -n "${added_ns[pfwatch_variant]:-}" ] && [ -n "${added_ns[pfwatch]:-}" ]; then
	awk -v full="${added_ns[pfwatch]}" -v less="${added_ns[pfwatch_variant]}" 'BEGIN {
		printf "pfwatch (default) minus the variant: %.0f ns per fault\n", full - less }'
fi
for note in "${notes[@]}"; do
	echo "note: $note"
done

# Program time per fault (bpf_stats) under a tool (KEY, LABEL, READY,
# command), over one storm: what each program costs, the causes' share.
program_times() {
	local key=$1 name=$2 pattern=$3 stats pid
	shift 3
	stats=$(sysctl -n kernel.bpf_stats_enabled) || return
	lock
	sysctl -q kernel.bpf_stats_enabled=1
	: >"$work/$key-stats.log"
	"$@" >/dev/null 2>"$work/$key-stats.log" &
	pid=$!
	for _ in $(seq 100); do
		grep -q -- "$pattern" "$work/$key-stats.log" && break
		sleep 0.05
	done
	bench/prog_times.py snapshot "$pid" >"$work/before.json" &&
		"$storm" "$pages" "$rounds" >/dev/null &&
		bench/prog_times.py snapshot "$pid" >"$work/after.json"
	stop "$name" "$pid"
	sysctl -q kernel.bpf_stats_enabled="$stats"
	unlock
	bench/prog_times.py report "$work/before.json" "$work/after.json" "$name"
}
program_times floor "floor all,map_pages" "floor: attached" "$build/floor" all,map_pages
program_times pfwatch "pfwatch (default)" "^pfwatch: backend" \
	"$build/pfwatch" -v -i 0 -o "$work/pfwatch-stats.json"
[ -n "$variant" ] && program_times variant "pfwatch variant" "^pfwatch: backend" \
	"$variant" -v -i 0 -o "$work/variant-stats.json"

# Memory: a system-wide pfwatch with tables every second while PROCESSES
# short-lived processes run one after another; its peak RSS (VmHWM).
lock
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
unlock
records=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["processes"]), sum(p.get("folded_processes", 0) for p in d["processes"]))' "$work/storm.json")
echo "memory: pfwatch peak RSS ${hwm} KiB while $processes processes ran ($((SECONDS - start)) s); JSON records, folded processes: $records"

