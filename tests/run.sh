#!/bin/bash
# The whole suite: unit tests (plain, then under ASan/UBSan) and the
# integration tests that run the real pfwatch against tests/faultgen.
# Every test prints PASS, FAIL or SKIP on a line of its own; this script
# counts them and ends with "N passed, N failed[, N skipped]".
set -u
build=${1:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

run() {
	echo "== $*"
	"$@" 2>&1 | tee -a "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
}

for t in "$build"/tests/test_*; do
	run "$t"
done
for t in "$build"/asan/tests/test_*; do
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run "$t"
done
# The JSON reader fuzzed for a bounded time; crash inputs kept are replayed.
run tests/fuzz/run.sh "$build" "${PFWATCH_FUZZ_SECONDS:-30}"
run python3 tests/integration.py "$build"
run python3 tests/live_view.py "$build"
# The soak, short (make soak runs it for 10 minutes).
run python3 tests/soak.py "$build" "${PFWATCH_SOAK_SECONDS:-30}"

# The benchmark is not a timed test; a short run proves the script works.
bench_smoke() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP bench/smoke: needs root"
		return
	fi
	local out
	if out=$(bench/run.sh "$build" 1 3 300 2>&1) &&
	   grep -q '^pfwatch (default) .* [0-9][.][0-9]' <<<"$out" &&
	   grep -q '^floor (empty programs) .* [0-9][.][0-9]' <<<"$out" &&
	   grep -q '^memory: pfwatch peak RSS [0-9]* KiB' <<<"$out"; then
		echo "PASS bench/smoke"
	else
		echo "FAIL bench/smoke: $out"
	fi
}
run bench_smoke

# The same integration tests inside QEMU on a Debian kernel, once per
# backend (fexit and kprobe exist there, not here). Set PFWATCH_VMTEST=0
# to leave them out of a quick local run; they then count as skipped.
if [ "${PFWATCH_VMTEST:-1}" = 0 ]; then
	echo "SKIP vm: PFWATCH_VMTEST=0" | tee -a "$log"
else
	run scripts/vmtest.sh "$build"
fi

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
if [ "$skipped" -gt 0 ]; then
	echo "skipped:"
	grep '^SKIP ' "$log" | sed 's/^/  /'
fi
if [ "$failed" -gt 0 ]; then
	echo "failed:"
	grep '^FAIL ' "$log" | sed 's/^/  /'
	status=1
fi
if [ "$passed" -eq 0 ]; then
	echo "no test passed: something is wrong with the suite itself"
	status=1
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
exit $status
