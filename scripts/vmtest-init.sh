#!/bin/busybox sh
# /init of the vmtest initramfs: prepare a small system, run the
# integration tests once per backend, report on the second serial port
# (/dev/ttyS1, kept apart from kernel messages on the console) and power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin	# util-linux setpriv over busybox's
/bin/busybox --install -s /bin
report=/dev/ttyS1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t securityfs securityfs /sys/kernel/security	# lockdown's state
ifconfig lo 127.0.0.1 up	# pfwatch serve listens on loopback
echo "VMTEST-BOOTED $(uname -r)" >"$report"

# zram0 is left for the swap_in test to set up; zram1 carries an ext4 /tmp
# so that file pages can really be evicted and read back (the initramfs is
# memory, where every file page is resident for good).
depmod
modprobe -q lzo-rle	# zram on 5.10 and 6.1 compresses through the crypto API
modprobe zram num_devices=2 &&
	echo 512M >/sys/block/zram1/disksize && mke2fs -q /dev/zram1 >/dev/null &&
	mount -t ext4 /dev/zram1 /tmp ||
	echo "VMTEST-SETUP-FAIL no zram (needed for file_read and swap_in): $(dmesg | tail -n 3 | tr '\n' ' ')" >"$report"

param() {
	sed -n "s/.*pfwatch.$1=\([^ ]*\).*/\1/p" /proc/cmdline | tr , ' '
}
backends=$(param backends)
whole=" $(param full) "
core=$(param core)
expect_auto=$(param expect_auto)
# auto puts kprobe first where kernel code is preempted (full, lazy):
# a preempted fexit program makes the trampoline skip the next faults.
grep -qE '\((full|lazy)\)' /sys/kernel/debug/sched/preempt 2>/dev/null &&
	[ "$expect_auto" = fexit ] && expect_auto=kprobe
# Two NUMA nodes: balancing stays off but for the numa_hint test, which
# turns it on, so that no other test's loop takes a hint fault.
echo 0 >/proc/sys/kernel/numa_balancing 2>/dev/null
failed=0
cd /pfwatch || exit 1
for backend in $backends; do
	echo "VMTEST-BEGIN $backend" >"$report"
	expect=$backend only=$core
	case $whole in *" $backend "*) only="" ;; esac
	[ "$backend" = auto ] && expect=$expect_auto
	# The locked-down boot: pfwatch's own choice, and only the lockdown test.
	[ "$backend" = lockdown ] && backend="" expect="" only=lockdown
	start=$(date +%s)
	PFWATCH_BACKEND=$backend PFWATCH_EXPECT_BACKEND=$expect PFWATCH_ONLY=$only \
		python3 -S tests/integration.py build >"$report" 2>&1
	status=$?
	[ $status -eq 0 ] || failed=1
	echo "VMTEST-END ${backend:-lockdown} $status $(($(date +%s) - start))" >"$report"
done
if [ $failed -ne 0 ]; then
	echo "VMTEST-DMESG-BEGIN" >"$report"
	dmesg >"$report"
	echo "VMTEST-DMESG-END" >"$report"
fi
echo "VMTEST-DONE" >"$report"
sync
poweroff -f
