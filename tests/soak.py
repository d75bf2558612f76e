#!/usr/bin/env python3
"""Soak: pfwatch traces the whole host while a process thrashes in a
memory cgroup smaller than its working set (with swap) and a shell runs
short-lived processes back to back, for SECONDS (make soak: 600; make
test: 30).

    tests/soak.py BUILD [SECONDS]

Checks, against the kernel's own counters:
- the thrasher's faults as pfwatch counted them match its rusage (wait4),
  majors included (GUP_SLACK: get_user_pages faults count in rusage, not
  in the perf events of the perf backend);
- all faults pfwatch counted match /proc/vmstat's pgfault delta over the
  run within SYSTEM_SLACK (pfwatch's own start and stop fall between the
  two readings), plus GUP_PER_EXEC per process started;
- every short-lived process is accounted (live, exited or folded, or
  among those pfwatch says found no free slot, at most PAST_SLOTS_SHARE
  of them), no event lost;
- pfwatch's RSS stays flat: past a warm-up half, the last quarter's peak
  is within RSS_GROWTH of the third quarter's, and below RSS_BOUND; its
  CPU stays below CPU_BOUND of one core.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from harness import Skip, Suite
from integration import GUP_SLACK, Swap, proc_status, wait_until_attached

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 600
PFWATCH = os.path.join(BUILD, "pfwatch")
PAGE = os.sysconf("SC_PAGE_SIZE")

WORKING_SET = 96 << 20		# the thrasher's pages...
MEMORY_LIMIT = 48 << 20		# ...twice its cgroup's memory
SYSTEM_SLACK = 0.002
GUP_PER_EXEC = 2
RSS_GROWTH = 4 << 20
RSS_BOUND = 64 << 20
CPU_BOUND = 0.5
PAST_SLOTS_SHARE = 0.01

THRASHER = """
import mmap, sys, time
pages, end = int(sys.argv[1]), time.monotonic() + float(sys.argv[2])
region = mmap.mmap(-1, pages * %d)
while time.monotonic() < end:
    for offset in range(0, pages * %d, %d):
        region[offset] = (region[offset] + 1) & 255
""" % (PAGE, PAGE, PAGE)

# Counts its processes; prints the count when told to stop.
STORM = 'n=0; trap \'echo $n; exit 0\' TERM; while :; do /bin/true; n=$((n + 1)); done'

suite = Suite("soak")


class MemoryCgroup:
    """A cgroup with a memory limit, v2 or v1, removed afterwards."""

    def __enter__(self):
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            self.path = "/sys/fs/cgroup/pfwatch-soak"
            limit = "memory.max"
            with open("/sys/fs/cgroup/cgroup.subtree_control", "w") as f:
                f.write("+memory")
        elif os.path.isdir("/sys/fs/cgroup/memory"):
            self.path = "/sys/fs/cgroup/memory/pfwatch-soak"
            limit = "memory.limit_in_bytes"
        else:
            raise Skip("no memory cgroup controller (v2 or v1)")
        os.makedirs(self.path, exist_ok=True)
        with open(os.path.join(self.path, limit), "w") as f:
            f.write(str(MEMORY_LIMIT))
        return self

    def join(self):
        """In the child, before exec: move into the cgroup."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write("0")

    def __exit__(self, *exc):
        os.rmdir(self.path)


def sample(pid):
    """pfwatch's RSS in bytes and CPU time in seconds."""
    rss = int(proc_status(pid)["VmRSS"][0]) * 1024
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return rss, ticks / os.sysconf("SC_CLK_TCK")


def pgfault():
    with open("/proc/vmstat") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("pgfault "))


def stop_storm(storm):
    """Stops the fork storm; returns how many processes it ran."""
    storm.send_signal(signal.SIGTERM)
    return int(storm.communicate(timeout=30)[0].strip())


def total(record):
    return sum(record["classes"].values())


@suite.test
def thrash_and_fork_storm():
    if os.geteuid() != 0:
        raise Skip("needs root to load BPF programs")
    with tempfile.TemporaryDirectory() as tmp, Swap(), MemoryCgroup() as cgroup:
        out = os.path.join(tmp, "soak.json")
        tracer = subprocess.Popen([PFWATCH, "-v", "-b", "-i", "0", "-o", out,
                                   "--export-interval", "5"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert wait_until_attached(tracer), "pfwatch did not start"
        faults_before = pgfault()
        started = time.monotonic()
        thrasher = subprocess.Popen([sys.executable, "-c", THRASHER,
                                     str(WORKING_SET // PAGE), str(SECONDS)],
                                    preexec_fn=cgroup.join)
        storm = subprocess.Popen(["sh", "-c", STORM], stdout=subprocess.PIPE, text=True)
        samples = []
        spawned = None
        # wait4, not poll(): the thrasher's rusage is the oracle.
        while not (reaped := os.wait4(thrasher.pid, os.WNOHANG))[0]:
            samples.append(sample(tracer.pid))
            # The storm stops before the thrasher ends (its clock starts
            # later than ours): past 512 exits after its own, pfwatch
            # would fold the thrasher into a record per command.
            if spawned is None and time.monotonic() - started >= SECONDS - 2:
                spawned = stop_storm(storm)
            time.sleep(1)
        _, status, usage = reaped
        thrasher.returncode = status
        if spawned is None:
            spawned = stop_storm(storm)
        faults_after = pgfault()
        elapsed = time.monotonic() - started
        tracer.send_signal(signal.SIGINT)
        _, err = tracer.communicate(timeout=120)
        assert tracer.returncode == 0, err
        doc = json.load(open(out))

    assert status == 0, f"the thrasher ended with status {status}"
    by_pid = {p["pid"]: p for p in doc["processes"]}
    assert thrasher.pid in by_pid, "the thrasher is not in the file"
    thrash = by_pid[thrasher.pid]
    major = thrash["classes"]["swap_in"] + thrash["classes"]["file_read"]
    if not thrash["classes"]["swap_in"]:
        raise Skip("the thrasher never swapped: no memory pressure here")
    kernel = usage.ru_minflt + usage.ru_majflt
    assert kernel - GUP_SLACK <= total(thrash) <= kernel, \
        f"thrasher: pfwatch {total(thrash)}, rusage {usage.ru_minflt}+{usage.ru_majflt}"
    assert usage.ru_majflt - GUP_SLACK <= major <= usage.ru_majflt, \
        f"thrasher: pfwatch {major} majors, rusage {usage.ru_majflt}"

    counted = sum(total(p) for p in doc["processes"])
    delta = faults_after - faults_before
    # pgfault also counts get_user_pages faults (exec copying its
    # arguments), which the perf backend cannot see.
    missing = delta - counted
    assert -SYSTEM_SLACK * delta <= missing <= SYSTEM_SLACK * delta + GUP_PER_EXEC * spawned, \
        f"pfwatch counted {counted}, /proc/vmstat pgfault rose by {delta}; {spawned} execs"

    trues = [p for p in doc["processes"] if p["comm"] == "true"]
    diag = doc["diagnostics"]
    # A reader held up for a moment (likely CI once: 5 missing of 48041)
    # leaves the storm's exits unrecycled, and the next processes find no
    # slot: pfwatch counts them, in <other>, and says how many.
    past = diag["slots_exhausted"]
    accounted = sum(p.get("folded_processes", 1) for p in trues)
    assert spawned - 2 <= accounted + past <= spawned + 2, \
        f"{spawned} short-lived processes ran, {accounted} accounted, {past} past the slots; {diag}"
    assert past <= spawned * PAST_SLOTS_SHARE, \
        f"{past} of {spawned} short-lived processes found no slot"
    # 512 exits kept whole, one folded record per command (257 at most),
    # the live slots (1024): what pfwatch's memory is bounded by.
    assert len(doc["processes"]) <= 512 + 257 + 1024, f"{len(doc['processes'])} records kept"
    assert diag["lost_events"] == 0, diag

    # The first half warms up: slots, the 512 kept exits, and malloc's
    # high-water mark under the growing exports (every 5 s) fill.
    quarter = len(samples) // 4
    first = max(rss for rss, _ in samples[2 * quarter:3 * quarter])
    second = max(rss for rss, _ in samples[3 * quarter:])
    cpu = (samples[-1][1] - samples[0][1]) / max(len(samples) - 1, 1)
    assert second <= first + RSS_GROWTH, f"RSS grew: {first >> 10} KiB, then {second >> 10} KiB: {[r >> 10 for r, _ in samples]}"
    assert second <= RSS_BOUND, f"RSS {second >> 10} KiB"
    assert cpu <= CPU_BOUND, f"pfwatch used {cpu:.0%} of a core"
    return (f"{elapsed:.0f} s: thrasher {total(thrash)} faults ({major} major) = rusage "
            f"{kernel}; {counted} counted vs pgfault +{delta}; {spawned} processes, "
            f"{accounted} accounted, {diag['slots_exhausted']} past the slots; "
            f"RSS {first >> 10} -> {second >> 10} KiB; CPU {cpu:.1%} of a core")


if __name__ == "__main__":
    sys.exit(suite.main())
