#!/bin/sh
# Install every package pfwatch needs to build and test, on Debian or Ubuntu.
set -eu
# qemu-system-x86 and busybox-static: make vmtest boots Debian kernels.
# bpftrace and perf: the peers make bench compares pfwatch with.
# tmux: the live view's tests drive pfwatch in a real terminal.
# prometheus: promtool checks the .prom export; the server scrapes serve.
# libjansson-dev: pfwatch report reads JSON with it; libmicrohttpd-dev:
# pfwatch serve answers HTTP with it. valgrind: the suite runs pfwatch
# under it too.
packages="make gcc clang llvm libbpf-dev libelf-dev zlib1g-dev libncurses-dev pkg-config
	libjansson-dev libmicrohttpd-dev python3 util-linux bc qemu-system-x86 busybox-static bpftrace tmux
	prometheus valgrind"
. /etc/os-release
case "${ID:-}" in
ubuntu)	packages="$packages linux-tools-common linux-tools-generic" ;;
# libclang-rt-dev: libFuzzer, for the fuzz tests (Ubuntu's clang has it).
*)	packages="$packages bpftool linux-perf libclang-rt-dev" ;;
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
