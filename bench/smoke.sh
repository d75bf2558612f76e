#!/bin/bash
# The benchmark is not a timed test; a short run proves the script works.
# Its table is printed as it comes, so a run cut short still shows how far
# it got. Usage: bench/smoke.sh BUILD
set -uo pipefail
build=${1:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP bench/smoke: needs root"
	exit 0
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
bench/run.sh "$build" 1 3 300 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
# A peer tool that needed SIGKILL is a note; pfwatch needing it is a bug.
if grep -q '^bench: pfwatch.*killed' "$out"; then
	echo "FAIL bench/smoke: pfwatch did not stop on SIGTERM (above)"
	exit 1
fi
if [ "$rc" -eq 0 ] &&
   grep -q '^pfwatch (default) .* [0-9][.][0-9]' "$out" &&
   grep -q '^floor (empty programs) .* [0-9][.][0-9]' "$out" &&
   grep -q "^causes' share per fault: [0-9.]* ns" "$out" &&
   grep -q '^memory: pfwatch peak RSS [0-9]* KiB' "$out"; then
	echo "PASS bench/smoke"
else
	echo "FAIL bench/smoke: bench/run.sh ended with status $rc or without its table (above)"
	exit 1
fi
