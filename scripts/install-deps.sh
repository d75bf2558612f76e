#!/bin/sh
# Install every package pfwatch needs to build and test, on Debian or Ubuntu.
set -eu
# qemu-system-x86 and busybox-static: make vmtest boots Debian kernels;
# debian-archive-keyring checks the archive they come from, xz-utils
# unpacks their modules.
# bpftrace and perf: the peers make bench compares pfwatch with.
# tmux: the live view's tests drive pfwatch in a real terminal.
# prometheus: promtool checks the .prom export; the server scrapes serve.
# libjansson-dev: pfwatch report reads JSON with it; libmicrohttpd-dev:
# pfwatch serve answers HTTP with it. valgrind: the suite runs pfwatch
# under it too. chromium: tests/html_check.py loads the HTML report in it.
# libdw-dev, libdebuginfod-dev: functions and source lines,
# debug files found locally or fetched; debuginfod: the server the symbol
# tests start. libprotobuf-c-dev, protobuf-c-compiler: pprof's encoding;
# golang-go: go tool pprof reads the profiles in the tests.
packages="make gcc clang llvm libbpf-dev libelf-dev zlib1g-dev libncurses-dev pkg-config
	libjansson-dev libmicrohttpd-dev python3 util-linux bc qemu-system-x86 busybox-static debian-archive-keyring
	xz-utils bpftrace tmux
	prometheus valgrind libdw-dev libdebuginfod-dev debuginfod libprotobuf-c-dev
	protobuf-c-compiler golang-go"
. /etc/os-release
case "${ID:-}" in
ubuntu)	packages="$packages linux-tools-common linux-tools-generic chromium-browser" ;;
# libclang-rt-dev: libFuzzer, for the fuzz tests (Ubuntu's clang has it).
*)	packages="$packages bpftool linux-perf libclang-rt-dev chromium" ;;
esac
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all build and test packages are present"
	exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "install-deps: apt-get install$missing"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
