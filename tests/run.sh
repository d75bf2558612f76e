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

# Each stage is bounded (PFWATCH_STAGE_LIMIT seconds, default 1200): one
# that hangs is one FAIL with its name, and the suite goes on to the next.
stage_limit=${PFWATCH_STAGE_LIMIT:-1200}
run() {
	local start=$SECONDS rc name=$1 failed_before
	[ "$1" = python3 ] && name=$2
	name=$(basename "$name")
	failed_before=$(grep -c '^FAIL ' "$log")
	echo "== $*"
	timeout --kill-after=30 "$stage_limit" "$@" 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "FAIL stage/$name: still running after ${stage_limit} s, stopped" | tee -a "$log"
	elif [ "$rc" -ne 0 ] && [ "$(grep -c '^FAIL ' "$log")" -eq "$failed_before" ]; then
		# A crash (a sanitizer's abort) ends a stage without a FAIL line.
		echo "FAIL stage/$name: exited with status $rc and no FAIL line" | tee -a "$log"
	fi
	[ "$rc" -eq 0 ] || status=1
	echo "== $name: $((SECONDS - start)) s"
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
# Once more on the classic exceptions:page_fault_user tracepoint, which
# kernels with tp_btf (all of ours) would never use otherwise.
PFWATCH_ENTRY=tracepoint PFWATCH_SUITE=integration-tracepoint \
	run python3 tests/integration.py "$build"
run python3 tests/live_view.py "$build"
run python3 tests/html_check.py "$build"
# The soak, short (make soak runs it for 10 minutes).
run python3 tests/soak.py "$build" "${PFWATCH_SOAK_SECONDS:-30}"

# The benchmark is not a timed test; a short run proves the script works.
run bench/smoke.sh "$build"

# The same integration tests inside QEMU on Debian's kernels from 5.10
# to 7.x, once per backend (fexit and kprobe exist there, not here): the
# whole suite on one kernel per backend, the core subset on the other
# cells (scripts/vmtest.sh). Its stage is bounded by PFWATCH_VMTEST_LIMIT
# (default 3600 s). Set PFWATCH_VMTEST=0 to leave it out of a quick local
# run; it then counts as skipped.
if [ "${PFWATCH_VMTEST:-1}" = 0 ]; then
	echo "SKIP vm: PFWATCH_VMTEST=0" | tee -a "$log"
else
	stage_limit=${PFWATCH_VMTEST_LIMIT:-3600} run scripts/vmtest.sh "$build"
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
