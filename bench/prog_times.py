#!/usr/bin/env python3
"""Per-program run time of one process's BPF programs (kernel.bpf_stats_enabled).

  prog_times.py snapshot PID          JSON {name: [run_time_ns, run_cnt]} on stdout
  prog_times.py report BEFORE AFTER   ns per fault of each program between two
                                      snapshots, faults = runs of the entry program

Programs are found through the process's descriptors (/proc/PID/fdinfo
prog_id), named by bpftool; programs of the same name (the perf events'
one per CPU are one program) are summed.
"""
import json
import os
import subprocess
import sys

ENTRY_PROGRAMS = ("page_fault_user", "page_fault_user_tp", "entry_only")
# Programs that serve only the causes (waits): a fault that waits nowhere
# runs none of them, so their time per fault is the causes' share.
CAUSE_PROGRAMS = (
    "sched_switch", "direct_reclaim_begin", "direct_reclaim_end",
    "memcg_reclaim_begin", "memcg_reclaim_end", "compaction_begin",
    "compaction_end", "lock_contended", "lock_acquired",
    "folio_wait_writeback", "wait_on_page_writeback", "balance_dirty_pages",
)


def prog_ids(pid):
    ids = set()
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            continue
    return ids


def snapshot(pid):
    ids = prog_ids(pid)
    shown = json.loads(subprocess.run(["bpftool", "-j", "prog", "show"], check=True,
                                      capture_output=True, text=True).stdout)
    times = {}
    for prog in shown:
        if prog["id"] in ids:
            entry = times.setdefault(prog.get("name", str(prog["id"])), [0, 0])
            entry[0] += prog.get("run_time_ns", 0)
            entry[1] += prog.get("run_cnt", 0)
    return times


def report(before, after, label):
    delta = {name: (after[name][0] - before.get(name, [0, 0])[0],
                    after[name][1] - before.get(name, [0, 0])[1]) for name in after}
    faults = sum(delta.get(name, (0, 0))[1] for name in ENTRY_PROGRAMS)
    if faults <= 0:
        print(f"bpf_stats, {label}: no fault seen")
        return
    parts = []
    for name, (ns, runs) in sorted(delta.items(), key=lambda item: -item[1][0]):
        if runs:
            parts.append(f"{name} {ns / faults:.1f} ({runs} runs, {ns / runs:.0f} ns each)")
    print(f"bpf_stats, {label}, ns per fault over {faults} faults: " + "; ".join(parts))
    causes = sum(delta.get(name, (0, 0))[0] for name in CAUSE_PROGRAMS)
    if not any(name in delta for name in CAUSE_PROGRAMS):
        return
    print(f"causes' share per fault: {causes / faults:.1f} ns of program time "
          f"(sched_switch and the wait tracepoints' programs, bpf_stats)")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "snapshot":
        json.dump(snapshot(int(sys.argv[2])), sys.stdout)
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "report":
        with open(sys.argv[2]) as f:
            before = json.load(f)
        with open(sys.argv[3]) as f:
            after = json.load(f)
        report(before, after, sys.argv[4] if len(sys.argv) == 5 else "pfwatch")
    else:
        print("\n".join(__doc__.splitlines()[2:6]), file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
