#!/bin/bash
# Boot Debian's own kernels under QEMU and run the integration tests inside,
# once per backend, so that fexit and kprobe are proven on the kernels our
# users run (the development machine has neither).
#
#   scripts/vmtest.sh [BUILD]
#
# Environment:
#   VMTEST_KERNELS   kernel packages to boot (default: the newest
#                    linux-image-6.1.*-cloud-amd64 apt offers)
#   VMTEST_BACKENDS  default "fexit kprobe perf auto"
#   VMTEST_TIMEOUT   seconds one boot may take (default 1200)
#
# A second boot per kernel, with lockdown=confidentiality, runs the
# lockdown test alone. Prints PASS/FAIL lines for tests/run.sh to count,
# then a matrix of kernel x backend. A VM that does not boot or does not finish is a FAIL.
set -u
build=$(realpath "${1:-build}")
root_dir=$(realpath "$(dirname "$0")/..")
work=$build/vmtest
backends=${VMTEST_BACKENDS:-fexit kprobe perf auto}
timeout_s=${VMTEST_TIMEOUT:-1200}

status=0
fail() {
	echo "FAIL $*"
	status=1
}

die() {
	fail "vm/setup: $*"
	exit 1
}

newest_cloud_kernel() {
	apt-cache search --names-only '^linux-image-6\.1\.[0-9.]*-[0-9]+-cloud-amd64$' |
		cut -d' ' -f1 | sort -V | tail -n 1
}

# Download (once) and unpack a kernel package; prints the unpacked dir.
unpack_kernel() {
	local package=$1 dir=$work/kernels/$1
	if [ ! -d "$dir/boot" ]; then
		mkdir -p "$work/kernels" || return 1
		(cd "$work/kernels" && rm -f "$package"_*.deb &&
			apt-get download -q -o APT::Sandbox::User=root "$package") >&2 ||
			return 1
		dpkg -x "$work/kernels/$package"_*.deb "$dir.tmp" && mv "$dir.tmp" "$dir" ||
			return 1
	fi
	echo "$dir"
}

# Copy into the image every shared library the files load, at the same
# path (ldd resolves them on this host, the image mirrors the paths).
copy_libs_of() {
	local image=$1 file lib
	shift
	for file in "$@"; do
		for lib in $(ldd "$file" 2>/dev/null | grep -o '/[^ ]*'); do
			[ -e "$image$lib" ] || install -D "$(realpath "$lib")" "$image$lib" ||
				return 1
		done
	done
}

# The files themselves too, at the same path.
copy_with_libs() {
	local image=$1 file
	shift
	for file in "$@"; do
		install -D "$file" "$image$file" || return 1
	done
	copy_libs_of "$image" "$@"
}

build_image() {
	local kernel_dir=$1 image=$2 kver
	kver=$(ls "$kernel_dir/lib/modules")
	rm -rf "$image" && mkdir -p "$image"/{bin,dev,proc,sys,tmp,etc} || return 1
	install -m 0755 /bin/busybox "$image/bin/busybox" &&
	install -m 0755 "$root_dir/scripts/vmtest-init.sh" "$image/init" || return 1
	# Accounts for --user nobody.
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
		>"$image/etc/passwd" &&
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$image/etc/group" || return 1

	# The modules /init loads (those the kernel has not built in),
	# uncompressed for busybox's modprobe; depmod runs at boot.
	local mods=$kernel_dir/lib/modules/$kver name file
	mkdir -p "$image/lib/modules/$kver" &&
	cp "$mods"/modules.builtin* "$mods/modules.order" "$image/lib/modules/$kver/" ||
		return 1
	local wanted="zram lzo lzo-rle" done="" copy
	while read -r name wanted <<<"$wanted" && [ -n "$name" ]; do
		case " $done " in *" $name "*) continue ;; esac
		done="$done $name"
		file=$(cd "$mods" && find kernel \( -name "$name.ko*" -o \
			-name "$(tr _ - <<<"$name").ko*" \) | head -n 1)
		[ -n "$file" ] || continue	# built in
		copy=$image/lib/modules/$kver/${file%.ko*}.ko
		mkdir -p "$(dirname "$copy")" || return 1
		case $file in
		*.xz) xz -dc "$mods/$file" >"$copy" ;;
		*.zst) zstd -qdc "$mods/$file" >"$copy" ;;
		*) cp "$mods/$file" "$copy" ;;
		esac || return 1
		# What it needs, from its .modinfo section.
		wanted="$wanted $(grep -ao 'depends=[a-z0-9_,-]*' "$copy" | head -n 1 |
			cut -d= -f2 | tr , ' ')"
	done

	# What the tests run: pfwatch (plain and ASan), faultgen, python3 with
	# its standard library, setpriv from util-linux (busybox's cannot
	# change uid), bpftool (to see that a stopped pfwatch left no program).
	local python
	python=$(realpath /usr/bin/python3) || return 1
	copy_with_libs "$image" "$build/pfwatch" "$build/asan/pfwatch" "$build/faultgen" \
		"$python" /usr/bin/setpriv "$(realpath "$(command -v bpftool)")" || return 1
	ln -s "$(basename "$python")" "$image/usr/bin/python3"
	local stdlib=/usr/lib/$(basename "$python")
	[ -d "$stdlib" ] || return 1
	mkdir -p "$image$stdlib" &&
	tar -C "$stdlib" --exclude=./test --exclude=./idlelib --exclude=./tkinter \
		--exclude=./lib2to3 --exclude=./ensurepip --exclude=./distutils \
		--exclude=./pydoc_data --exclude='./config-*' --exclude=./site-packages \
		--exclude=./dist-packages -cf - . | tar -C "$image$stdlib" -xf - || return 1
	# The tar copied the extension modules; add the libraries they load.
	copy_libs_of "$image" "$stdlib"/lib-dynload/*.so || return 1

	# The project, laid out as in the source tree so the tests run as-is.
	mkdir -p "$image/pfwatch/tests/fuzz/seeds/import" "$image/pfwatch/build/asan" \
		"$image/pfwatch/bpf" &&
	cp "$root_dir/VERSION" "$image/pfwatch/" &&
	cp "$root_dir/bpf/pfwatch.h" "$image/pfwatch/bpf/" &&
	cp "$root_dir"/tests/fuzz/seeds/import/* "$image/pfwatch/tests/fuzz/seeds/import/" &&
	cp "$root_dir/tests/integration.py" "$root_dir/tests/harness.py" "$image/pfwatch/tests/" &&
	cp "$build/pfwatch" "$build/faultgen" "$image/pfwatch/build/" &&
	cp "$build/asan/pfwatch" "$image/pfwatch/build/asan/" || return 1

	(cd "$image" && find . | busybox cpio -o -H newc 2>/dev/null) >"$image.cpio"
}

# Boot one kernel; the init script writes results on the second serial port.
# $4: the backends to run; $5: more kernel parameters.
boot() {
	local kernel_dir=$1 image=$2 out=$3 run=$4 extra=${5:-} kver
	kver=$(ls "$kernel_dir/lib/modules")
	timeout "$timeout_s" qemu-system-x86_64 -m 2048 -smp 2 -nic none \
		-display none -monitor none -no-reboot \
		-serial "file:$out/console.log" -serial "file:$out/results.log" \
		-kernel "$kernel_dir/boot/vmlinuz-$kver" -initrd "$image.cpio" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 zram.num_devices=2 pfwatch.backends=$(tr ' ' , <<<"$run") pfwatch.expect_auto=fexit $extra"
}

# Turn the VM's report into PASS/FAIL lines named vm/KERNEL/BACKEND/TEST.
read_results() {
	local kver=$1 log=$2 run=$3 backend=""
	local -A ended=()
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		"VMTEST-BEGIN "*) backend=${line#VMTEST-BEGIN } ;;
		"VMTEST-END "*) set -- $line; ended[$2]=$3; backend="" ;;
		"VMTEST-SETUP-FAIL "*) fail "vm/$kver/setup: ${line#VMTEST-SETUP-FAIL }" ;;
		PASS\ integration/* | SKIP\ integration/*)
			[ -n "$backend" ] &&
				echo "${line%% *} vm/$kver/$backend/${line#* integration/}" ;;
		FAIL\ integration/*)
			[ -n "$backend" ] && fail "vm/$kver/$backend/${line#* integration/}" ;;
		esac
	done <"$log"
	for backend in $run; do
		if [ -z "${ended[$backend]+x}" ]; then
			fail "vm/$kver/$backend: did not finish (console: $work/$kver/console.log)"
			matrix+=("$kver|$backend|FAIL (did not finish)")
		elif [ "${ended[$backend]}" -ne 0 ]; then
			status=1
			matrix+=("$kver|$backend|FAIL")
		else
			matrix+=("$kver|$backend|pass")
		fi
	done
}

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (make deps)"
[ -x /bin/busybox ] || die "busybox missing (make deps installs busybox-static)"
command -v bpftool >/dev/null || die "bpftool missing (make deps)"
for f in "$build/pfwatch" "$build/asan/pfwatch" "$build/faultgen"; do
	[ -x "$f" ] || die "$f not built (make all build/asan/pfwatch)"
done
kernels=${VMTEST_KERNELS:-$(newest_cloud_kernel)}
[ -n "$kernels" ] || die "apt offers no linux-image-6.1.*-cloud-amd64 (apt-get update?)"

matrix=()
rm -f "$work/matrix.txt"
for package in $kernels; do
	kernel_dir=$(unpack_kernel "$package") || die "cannot download or unpack $package"
	kver=$(ls "$kernel_dir/lib/modules")
	out=$work/$kver
	rm -rf "$out" && mkdir -p "$out" || die "cannot create $out"
	build_image "$kernel_dir" "$work/image-$kver" || die "cannot build the initramfs for $kver"
	# The backends, then a second boot locked down (lockdown=confidentiality
	# forbids BPF reading kernel memory), where pfwatch must say so.
	for pass in "$backends|" "lockdown|lockdown=confidentiality"; do
		IFS='|' read -r run extra <<<"$pass"
		rm -f "$out/results.log" "$out/console.log"
		echo "vmtest: booting $kver ($package) under qemu, backends: $run"
		start=$SECONDS
		boot "$kernel_dir" "$work/image-$kver" "$out" "$run" "$extra"
		qemu_status=$?
		echo "vmtest: $kver finished in $((SECONDS - start)) s (qemu exit $qemu_status)"
		if ! grep -q '^VMTEST-BOOTED' "$out/results.log" 2>/dev/null; then
			fail "vm/$kver: the VM did not boot; its console: $out/console.log"
			tail -n 20 "$out/console.log" 2>/dev/null | sed 's/^/  console: /'
			matrix+=("$kver|$run|FAIL (no boot)")
			continue
		fi
		read_results "$kver" "$out/results.log" "$run"
		if grep -q '^VMTEST-DMESG-BEGIN' "$out/results.log"; then
			sed -n '/^VMTEST-DMESG-BEGIN/,/^VMTEST-DMESG-END/p' "$out/results.log" \
				>"$out/dmesg-${run// /-}.txt"
			echo "vmtest: $kver dmesg kept in $out/dmesg-${run// /-}.txt"
		fi
		if [ "$qemu_status" -eq 124 ]; then
			fail "vm/$kver: timed out after $timeout_s s"
		fi
	done
done

{
	echo "vmtest matrix:"
	printf '  %-28s %-7s %s\n' kernel backend result
	for row in "${matrix[@]}"; do
		IFS='|' read -r kver backend result <<<"$row"
		printf '  %-28s %-7s %s\n' "$kver" "$backend" "$result"
	done
} | tee "$work/matrix.txt"
exit $status
