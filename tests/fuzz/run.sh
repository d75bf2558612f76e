#!/bin/bash
# The fuzz targets under libFuzzer: the inputs kept in regressions/TARGET/
# replayed, then a hunt from seeds/TARGET/. SECONDS is the JSON reader's
# share; the maps parser, the command line and the timeline's reader get
# a quarter each (at least 3 s). Prints PASS or FAIL lines like the rest of the suite.
set -u
build=$1
seconds=${2:-30}
here=$(dirname "$0")
small=$(( seconds / 4 > 3 ? seconds / 4 : 3 ))

hunt() {
	local target=$1 time=$2 fuzzer=$build/fuzz/fuzz_$1 out status runs kept
	local extra=() kept_inputs=("$here/regressions/$1"/*)

	if [ -e "${kept_inputs[0]}" ]; then
		if out=$("$fuzzer" "${kept_inputs[@]}" 2>&1); then
			echo "PASS fuzz/$target/regressions: ${#kept_inputs[@]} kept inputs, no crash"
		else
			echo "FAIL fuzz/$target/regressions: $(grep -m1 -E 'ERROR|error|abort' <<<"$out")"
		fi
	fi
	[ "$target" = import ] || [ "$target" = timeline ] && extra=(-dict="$here/json.dict")
	# The command line prints --help and its errors: keep them out.
	[ "$target" = options ] && extra=(-close_fd_mask=3)
	mkdir -p "$build/fuzz/corpus-$target"
	rm -f "$build/fuzz/$target"-crash-* "$build/fuzz/$target"-leak-* "$build/fuzz/$target"-timeout-*
	out=$("$fuzzer" -max_total_time="$time" -max_len=16384 -timeout=10 -rss_limit_mb=1024 \
		"${extra[@]}" -artifact_prefix="$build/fuzz/$target-" \
		"$build/fuzz/corpus-$target" "$here/seeds/$target" 2>&1)
	status=$?
	runs=$(grep -oE '^Done [0-9]+ runs' <<<"$out" | grep -oE '[0-9]+')
	if [ $status -eq 0 ] && [ -n "$runs" ]; then
		echo "PASS fuzz/$target: $runs inputs in $time s, no crash, leak or hang"
	else
		kept=$(ls "$build/fuzz/$target"-* 2>/dev/null | head -1)
		echo "FAIL fuzz/$target: $(grep -m1 -E 'ERROR|runtime error|does not read' <<<"$out") (input: ${kept:-none}; keep it in $here/regressions/$target/ once fixed)"
	fi
}

hunt import "$seconds"
hunt maps "$small"
hunt options "$small"
hunt timeline "$small"
