#!/bin/sh
# Regenerate vmlinux/<arch>/vmlinux.h from the running kernel's BTF.
# CO-RE relocates field offsets at load time, so one header serves all
# kernels of the architecture; regenerate only to reach newer types.
set -eu
arch=${1:-x86}
btf=/sys/kernel/btf/vmlinux
dir=$(dirname "$0")/$arch
if [ ! -r "$btf" ]; then
	echo "update.sh: $btf is missing: this kernel was built without CONFIG_DEBUG_INFO_BTF" >&2
	exit 2
fi
mkdir -p "$dir"
bpftool btf dump file "$btf" format c > "$dir/vmlinux.h.tmp"
mv "$dir/vmlinux.h.tmp" "$dir/vmlinux.h"
echo "wrote $dir/vmlinux.h from $btf ($(uname -r))"
