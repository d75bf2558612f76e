#!/bin/bash
# The JSON reader under libFuzzer: every kept crash input replayed, then a
# hunt of SECONDS from the seeds (make test: 30 s; make fuzz: longer).
# Prints PASS or FAIL lines like the rest of the suite.
set -u
build=$1
seconds=${2:-30}
fuzzer=$build/fuzz/fuzz_import
here=$(dirname "$0")

regressions=("$here"/regressions/*)
if out=$("$fuzzer" "${regressions[@]}" 2>&1); then
	echo "PASS fuzz/regressions: ${#regressions[@]} kept inputs read without a crash"
else
	echo "FAIL fuzz/regressions: $(grep -m1 -E 'ERROR|error|abort' <<<"$out")"
fi

corpus=$build/fuzz/corpus
mkdir -p "$corpus"
rm -f "$build"/fuzz/crash-* "$build"/fuzz/leak-* "$build"/fuzz/timeout-*
out=$("$fuzzer" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
	-rss_limit_mb=1024 -dict="$here/json.dict" -artifact_prefix="$build/fuzz/" \
	"$corpus" "$here/seeds" 2>&1)
status=$?
runs=$(grep -oE '^Done [0-9]+ runs' <<<"$out" | grep -oE '[0-9]+')
if [ $status -eq 0 ] && [ -n "$runs" ]; then
	echo "PASS fuzz/json_reader: $runs inputs in ${seconds} s, no crash, leak or hang"
else
	kept=$(ls "$build"/fuzz/crash-* "$build"/fuzz/leak-* "$build"/fuzz/timeout-* 2>/dev/null | head -1)
	echo "FAIL fuzz/json_reader: $(grep -m1 -E 'ERROR|runtime error|does not read' <<<"$out") (input: ${kept:-none}; keep it in $here/regressions/ once fixed)"
fi
