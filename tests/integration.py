#!/usr/bin/env python3
"""Integration tests: the real pfwatch against tests/faultgen.

Oracles nobody tuned: faultgen's scenarios make a number of faults known by
construction (and faultgen checks that with getrusage around its own loop),
and the kernel's wait4 rusage counts every fault of the traced command.

Each test prints one line: PASS name, FAIL name: why, or SKIP name: why.
"""
import csv
import gzip
import io
import json
import mmap
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from harness import Skip, Suite

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
PFWATCH = os.path.join(BUILD, "pfwatch")
PFWATCH_ASAN = os.path.join(BUILD, "asan", "pfwatch")
FAULTGEN = os.path.join(BUILD, "faultgen")
N = 1000
# The VM run (scripts/vmtest.sh) repeats these tests once per backend, and
# says which backend "auto" must pick on its kernel.
BACKEND = os.environ.get("PFWATCH_BACKEND")
EXPECT_BACKEND = os.environ.get("PFWATCH_EXPECT_BACKEND")

# Faults a process takes before main() and at exit (dynamic loader, libc,
# stack, the pages a fresh exec maps): counted by pfwatch and by the
# kernel alike, so a scenario's class may exceed N by at most this much.
# See docs/testing.md for how these bounds were measured.
STARTUP_SLACK = {"anon_zero": 64, "cow": 64, "file_cached": 160}
# get_user_pages faults (execve copying its arguments) count in rusage but
# raise no perf page-fault event: the perf backend's rusage slack.
GUP_SLACK = 16

MAJOR = ("file_read", "swap_in")
MINOR = ("anon_zero", "cow", "file_cached")
INVALID = ("segv_maperr", "segv_accerr", "sigbus")

SUITE = Suite("integration")
test = SUITE.test


def pfwatch_argv(args, binary=PFWATCH):
    chosen = ["--backend", BACKEND] if BACKEND and "--backend" not in args else []
    if args and args[0] == "serve":	# options follow the subcommand
        return [binary, "serve", *chosen, *args[1:]]
    return [binary, *chosen, *args]


def pfwatch(args, binary=PFWATCH, timeout=120, env=None, **kw):
    return subprocess.run(pfwatch_argv(args, binary), capture_output=True,
                          text=True, timeout=timeout, env=env, **kw)


def traced_run(scenario, n, extra=(), binary=PFWATCH, faultgen_options=()):
    """pfwatch -o FILE -- faultgen SCENARIO N; returns (proc, json)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run.json")
        proc = pfwatch(["-o", out, *extra, "--", FAULTGEN, "--dir", tmp,
                        *faultgen_options, scenario, str(n)], binary=binary)
        assert os.path.exists(out), \
            f"no JSON written (exit {proc.returncode}): {proc.stderr.strip()}"
        with open(out) as f:
            doc = json.load(f)
    return proc, doc


def class_count(doc, name):
    return sum(p["classes"][name] for p in doc["processes"])


def command_record(doc):
    recs = [p for p in doc["processes"] if "rusage" in p]
    assert len(recs) == 1, f"{len(recs)} processes carry rusage, want 1"
    return recs[0]


def faultgen_measured(proc):
    """faultgen's own getrusage deltas around its measured loop."""
    lines = [l for l in proc.stdout.splitlines() if l.startswith("scenario=")]
    assert lines, f"faultgen printed no measurement: {proc.stdout!r}"
    fields = dict(kv.split("=") for kv in lines[0].split())
    return int(fields["minflt"]), int(fields["majflt"])


def check_rusage(doc, exact_major=True):
    """pfwatch's minor/major totals against the kernel's wait4 rusage."""
    cmd = command_record(doc)
    minor, major = doc["totals"]["minor"], doc["totals"]["major"]
    ru_min, ru_maj = cmd["rusage"]["minflt"], cmd["rusage"]["majflt"]
    slack = GUP_SLACK if doc["pfwatch"]["backend"] == "perf" else 0
    assert ru_min - slack <= minor <= ru_min, \
        f"minor {minor} vs wait4 minflt {ru_min} (slack {slack})"
    if exact_major:
        assert major == ru_maj, f"major {major} vs wait4 majflt {ru_maj}"
    return f"minor {minor}/{ru_min} major {major}/{ru_maj}"


def check_scenario(scenario, n=N):
    proc, doc = traced_run(scenario, n)
    if proc.returncode == 3:
        raise Skip(proc.stderr.strip())
    assert proc.returncode == 0, \
        f"exit {proc.returncode}: {proc.stderr.strip()}"
    count = class_count(doc, scenario)
    slack = STARTUP_SLACK.get(scenario, 0)
    assert n <= count <= n + slack, \
        f"{scenario}: pfwatch counted {count}, want {n}..{n + slack}"
    # fexit times a fault from the entry tracepoint, which get_user_pages
    # faults (execve copying its arguments) never pass: counted, untimed.
    lat = sum(p["latency_ns"][scenario]["count"] for p in doc["processes"])
    untimed = doc["diagnostics"]["faults_without_entry"]
    assert count - untimed <= lat <= count, \
        f"{scenario}: {lat} latencies for {count} faults ({untimed} untimed)"
    return f"{scenario} {count} (N={n}); " + check_rusage(doc)


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root to load BPF programs")


@test
def anon_zero():
    need_root()
    return check_scenario("anon_zero")


@test
def cow():
    need_root()
    return check_scenario("cow")


@test
def file_cached():
    need_root()
    return check_scenario("file_cached")


@test
def file_read():
    need_root()
    return check_scenario("file_read")


class Swap:
    """Swap for the duration of a test, removed afterwards.

    zram first: it writes synchronously, so a paged-out page leaves memory
    at once and its next touch is a major fault. A swapfile on a disk keeps
    written pages in the swap cache, where a touch is only a minor fault.
    """
    ZRAM = "/sys/block/zram0"

    def __enter__(self):
        with open("/proc/swaps") as f:
            self.had_swap = len(f.read().splitlines()) > 1
        self.device = None
        if self.had_swap:
            return self
        if not os.path.exists(self.ZRAM):
            raise Skip("no zram device for synchronous swap (modprobe zram)")
        with open(os.path.join(self.ZRAM, "disksize")) as f:
            if f.read().strip() != "0":
                raise Skip("zram0 is in use by something else")
        with open(os.path.join(self.ZRAM, "disksize"), "w") as f:
            f.write("256M")
        self.device = "/dev/zram0"
        for step in (["mkswap", self.device], ["swapon", self.device]):
            r = subprocess.run(step, capture_output=True, text=True)
            if r.returncode != 0:
                self.cleanup()
                raise Skip(f"cannot set up swap ({' '.join(step)}): "
                           f"{r.stderr.strip()}")
        return self

    def cleanup(self):
        subprocess.run(["swapoff", self.device], capture_output=True)
        with open(os.path.join(self.ZRAM, "reset"), "w") as f:
            f.write("1")

    def __exit__(self, *exc):
        if self.device:
            self.cleanup()


@test
def swap_in():
    need_root()
    with Swap():
        return check_scenario("swap_in")


@test
def segv_maperr():
    need_root()
    return check_scenario("segv_maperr")


@test
def segv_accerr():
    need_root()
    return check_scenario("segv_accerr")


@test
def sigbus():
    need_root()
    return check_scenario("sigbus")


@test
def invalid_faults_listed_with_address():
    need_root()
    proc, doc = traced_run("segv_maperr", 5)
    assert proc.returncode == 0, proc.stderr.strip()
    listed = [e for e in doc["invalid_faults"] if e["class"] == "segv_maperr"]
    assert len(listed) == 5, f"{len(listed)} segv_maperr events listed, want 5"
    assert all(e["si_code"] == 1 and int(e["address"], 16) > 0
               for e in listed), listed


@test
def summary_lists_first_invalid_faults():
    need_root()
    r = pfwatch(["--", FAULTGEN, "--start-after-ms", "200", "segv_accerr", "3"])
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stderr.splitlines() if "segv_accerr" in l and "addr 0x" in l]
    assert len(lines) == 3, f"{len(lines)} invalid fault lines, want 3:\n{r.stderr}"


@test
def invalid_faults_name_the_mapping_they_hit():
    need_root()
    expect = {"segv_accerr": ("anon", "r--p", ""),
              "sigbus": ("file", "r--s", "faultgen."),
              "segv_maperr": None}
    for scenario, want in expect.items():
        proc, doc = traced_run(scenario, 3)
        assert proc.returncode == 0, proc.stderr
        listed = [e for e in doc["invalid_faults"] if e["class"] == scenario]
        assert len(listed) == 3, f"{scenario}: {len(listed)} listed"
        for e in listed:
            m = e["mapping"]
            if want is None:
                assert m is None, f"{scenario}: mapping {m}"
                continue
            assert m and m["kind"] == want[0] and m["perms"] == want[1] \
                and m["path"].startswith(want[2]), f"{scenario}: {m}"


@test
def json_schema():
    need_root()
    proc, doc = traced_run("anon_zero", 10)
    head = doc["pfwatch"]
    for key in ("version", "backend", "kernel", "start_time", "end_time",
                "schema_version"):
        assert key in head, f"header lacks {key}"
    assert head["kernel"] == os.uname().release
    assert head["backend"] in ("fexit", "kprobe", "perf"), head["backend"]
    if EXPECT_BACKEND:
        assert head["backend"] == EXPECT_BACKEND, \
            f"backend {head['backend']}, want {EXPECT_BACKEND}"
    assert head["command"][-2:] == ["anon_zero", "10"]
    p = command_record(doc)
    for key in ("pid", "comm", "minor", "major", "invalid", "classes",
                "latency_ns", "rusage"):
        assert key in p, f"process lacks {key}"
    assert set(p["classes"]) == set(MINOR + MAJOR + INVALID + ("other_error",))
    lat = p["latency_ns"]["anon_zero"]
    assert sum(c for _, c in lat["buckets"]) == lat["count"]
    assert lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"]
    assert p["minor"] == sum(p["classes"][c] for c in MINOR)


@test
def exit_status_is_the_commands():
    need_root()
    r = pfwatch(["--", "sh", "-c", "exit 7"])
    assert r.returncode == 7, f"exit {r.returncode}, want 7: {r.stderr}"
    r = pfwatch(["--", "sh", "-c", "kill -TERM $$"])
    assert r.returncode == 128 + signal.SIGTERM, f"exit {r.returncode}"


@test
def children_are_followed():
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run.json")
        r = pfwatch(["-o", out, "--", "sh", "-c",
                     f"{FAULTGEN} anon_zero {N}; {FAULTGEN} anon_zero {N}"])
        assert r.returncode == 0, r.stderr
        doc = json.load(open(out))
    gens = [p for p in doc["processes"] if p["comm"] == "faultgen"]
    assert len(gens) == 2, f"{len(gens)} faultgen processes, want 2"
    for p in gens:
        assert p["classes"]["anon_zero"] >= N, p["classes"]
    return check_rusage(doc)


@test
def summary_printed_to_stderr():
    need_root()
    r = pfwatch(["--", FAULTGEN, "anon_zero", "100"])
    assert r.returncode == 0, r.stderr
    for word in ("anon_zero", "wait4 rusage minflt", "time in faults",
                 "faults/s", "p99"):
        assert word in r.stderr, f"summary lacks {word!r}"


@test
def pid_mode_sees_a_running_process():
    need_root()
    gen = subprocess.Popen([FAULTGEN, "--start-after-ms", "1500",
                            "anon_zero", str(N)], stdout=subprocess.PIPE)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "p.json")
            r = pfwatch(["-p", str(gen.pid), "-i", "0.5", "-o", out])
            assert r.returncode == 0, r.stderr
            doc = json.load(open(out))
    finally:
        gen.wait()
    recs = [p for p in doc["processes"] if p["pid"] == gen.pid]
    assert recs, f"pid {gen.pid} not in {[p['pid'] for p in doc['processes']]}"
    assert recs[0]["classes"]["anon_zero"] >= N, recs[0]["classes"]
    assert "MINOR/s" in r.stdout, "no periodic table printed"
    others = [p["pid"] for p in doc["processes"] if p["pid"] != gen.pid]
    assert not others, f"processes outside the filter: {others}"


def streamed_lines(stdout):
    """The fault lines of --min-latency output:
    PID TID COMM CLASS LAT ADDRESS FUNCTION MAPPING (which may hold spaces)."""
    classes = set(MINOR + MAJOR + INVALID + ("other_error",))
    return [l.split(None, 7) for l in stdout.splitlines()
            if len(l.split()) >= 8 and l.split()[3] in classes]


@test
def min_latency_zero_streams_every_fault():
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run.json")
        # faultgen's output elsewhere: it could split a line of the stream.
        proc = pfwatch(["--min-latency", "0", "-o", out, "--", "sh", "-c",
                        f"exec {FAULTGEN} anon_zero {N} > /dev/null"])
        assert proc.returncode == 0, proc.stderr
        doc = json.load(open(out))
    lines = streamed_lines(proc.stdout)
    total = sum(sum(p["classes"].values()) for p in doc["processes"])
    assert doc["diagnostics"]["lost_events"] == 0, doc["diagnostics"]
    assert len(lines) == total == doc["diagnostics"]["streamed_faults"], \
        f"{len(lines)} lines, {total} faults counted"
    zero_fills = sum(1 for l in lines if l[3] == "anon_zero")
    assert zero_fills == class_count(doc, "anon_zero"), zero_fills
    return f"{len(lines)} faults streamed"


@test
def min_latency_lines_name_mapping_and_function():
    need_root()
    n = N // 4
    with tempfile.TemporaryDirectory() as tmp:
        # faultgen's own lines to a file: in pfwatch's stdout a pipe's
        # writes from both could interleave within a line.
        said = os.path.join(tmp, "faultgen.out")
        proc = pfwatch(["--min-latency", "0", "--", "sh", "-c",
                        f"exec {FAULTGEN} --dir {tmp} --linger-ms 300 file_read {n} > {said}"])
        with open(said) as f:
            path = re.search(r"^file=(\S+)", f.read(), re.M).group(1)
    if proc.returncode == 3:
        raise Skip(proc.stderr.strip())
    assert proc.returncode == 0, proc.stderr
    reads = [l for l in streamed_lines(proc.stdout)
             if l[3] == "file_read" and l[7].startswith(path + " (deleted)+0x")]
    assert len(reads) == n, f"{len(reads)} file_read lines in {path}, want {n}"
    stride = 16 * os.sysconf("SC_PAGE_SIZE")
    offsets = sorted(int(l[7].split(" (deleted)+")[1], 16) for l in reads)
    assert offsets == [i * stride for i in range(n)], offsets[:4]
    assert {l[6] for l in reads} == {"touch_file_pages"}, {l[6] for l in reads}
    return f"{n} file_read lines: {path} at every {stride} bytes, in touch_file_pages"


@test
def min_latency_lines_arrive_while_the_process_runs():
    """Faults wait in their CPU's batch until 32 gather or the reader
    flushes it: a few faults, then a quiet process, must still show at
    once, not when the process exits."""
    need_root()
    n, linger_s = 10, 4
    with tempfile.TemporaryDirectory() as tmp:
        said = os.path.join(tmp, "faultgen.out")
        started = time.monotonic()
        proc = subprocess.Popen(
            pfwatch_argv(["--min-latency", "0", "--", "sh", "-c",
                          f"exec {FAULTGEN} --linger-ms {linger_s * 1000} "
                          f"anon_zero {n} > {said}"]),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        region, seen, all_seen_after = None, 0, None
        for line in proc.stdout:
            if region is None and os.path.exists(said):
                found = re.search(r"region=(0x[0-9a-f]+)-(0x[0-9a-f]+)", open(said).read())
                if found:
                    region = [int(x, 16) for x in found.groups()]
            fields = streamed_lines(line)
            if (region and fields and fields[0][3] == "anon_zero" and
                    region[0] <= int(fields[0][5], 16) < region[1]):
                seen += 1
                if seen == n:
                    all_seen_after = time.monotonic() - started
        err = proc.stderr.read()
        proc.wait(timeout=60)
        ended_after = time.monotonic() - started
    assert proc.returncode == 0, err
    assert region, "faultgen printed no region"
    assert seen == n, f"{seen} lines in faultgen's region, want {n}"
    assert ended_after >= linger_s, f"faultgen ended after {ended_after:.1f} s"
    assert all_seen_after < linger_s - 1, \
        f"the {n} lines came {all_seen_after:.1f} s in, the process lingered {linger_s} s"
    return f"{n} lines {all_seen_after:.2f} s after the start of a {ended_after:.1f} s run"


@test
def min_latency_threshold_filters():
    need_root()
    for extra in ((), ("--where",)):
        proc, doc = traced_run("segv_maperr", 20, extra=("--min-latency", "5000000", *extra))
        assert proc.returncode == 0, proc.stderr
        lines = streamed_lines(proc.stdout)
        assert not lines, f"{extra}: faults under 5 s streamed: {lines[:3]}"
        assert proc.stdout.startswith("PID "), "no header line"
    # --where takes every fault from the kernel; the threshold is then pfwatch's.
    assert doc["where"]["placed"] + doc["where"]["unplaced"] >= 20, doc["where"]


def filtered_run(filter_args, launch):
    """pfwatch FILTER -d 4 while @launch() starts faultgen; returns JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "f.json")
        tracer = subprocess.Popen(pfwatch_argv([*filter_args, "-d", "4", "-i",
                                                "0", "-o", out]), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        gen = launch()
        gen.wait()
        _, err = tracer.communicate(timeout=60)
        assert tracer.returncode == 0, err
        return json.load(open(out)), gen.pid


@test
def comm_filter_keeps_only_that_command():
    need_root()
    doc, pid = filtered_run(["-C", "faultgen"], lambda: subprocess.Popen(
        [FAULTGEN, "--start-after-ms", "1000", "anon_zero", str(N)],
        stdout=subprocess.DEVNULL))
    comms = {p["comm"] for p in doc["processes"]}
    assert comms == {"faultgen"}, f"processes traced: {comms}"
    rec = [p for p in doc["processes"] if p["pid"] == pid]
    assert rec and rec[0]["classes"]["anon_zero"] >= N, rec


@test
def tid_filter_keeps_only_that_thread():
    need_root()
    gen = subprocess.Popen([FAULTGEN, "--start-after-ms", "1500",
                            "anon_zero", str(N)], stdout=subprocess.DEVNULL)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "t.json")
            r = pfwatch(["-t", str(gen.pid), "-d", "4", "-i", "0", "-o", out])
            assert r.returncode == 0, r.stderr
            doc = json.load(open(out))
    finally:
        gen.wait()
    pids = {p["pid"] for p in doc["processes"]}
    assert pids == {gen.pid}, f"traced {pids}, want only {gen.pid}"
    assert doc["processes"][0]["classes"]["anon_zero"] >= N


@test
def cgroup_filter_keeps_only_its_members():
    need_root()
    root = "/sys/fs/cgroup/unified"
    if not os.path.isdir(root):
        root = "/sys/fs/cgroup"
    if not os.path.exists(os.path.join(root, "cgroup.procs")):
        raise Skip("no cgroup v2 hierarchy mounted")
    group = os.path.join(root, f"pfwatch-test-{os.getpid()}")
    os.mkdir(group)
    try:
        script = (f"echo $$ > {group}/cgroup.procs && exec {FAULTGEN} "
                  f"--start-after-ms 1000 anon_zero {N}")
        doc, pid = filtered_run(["--cgroup", group], lambda: subprocess.Popen(
            ["sh", "-c", script], stdout=subprocess.DEVNULL))
    finally:
        os.rmdir(group)
    pids = {p["pid"] for p in doc["processes"]}
    assert pids == {pid}, f"traced {pids}, want only {pid}"
    assert doc["processes"][0]["classes"]["anon_zero"] >= N


def exported(path):
    """A file pfwatch wrote, as text, gunzipped if its name ends in .gz."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return f.read()


def anon_zero_of_faultgen(fmt, text):
    """faultgen's anon_zero count, as a file of format @fmt says it."""
    if fmt == "csv":
        rows = [r for r in csv.DictReader(io.StringIO(text))
                if r["comm"] == "faultgen" and r["class"] == "anon_zero"]
        assert len(rows) == 1, f"csv rows for faultgen anon_zero: {rows}"
        return int(rows[0]["count"])
    if fmt == "folded":
        lines = [l for l in text.splitlines() if l.startswith("faultgen;minor;anon_zero ")]
        assert len(lines) == 1, f"folded lines: {lines}"
        return int(lines[0].split()[1])
    if fmt == "prom":
        return prom_anon_zero(text)
    return class_count(json.loads(text), "anon_zero")


def prom_samples(text, metric):
    """{labels: value} of one metric's samples in the text exposition."""
    samples = {}
    for line in text.splitlines():
        m = re.fullmatch(rf"{metric}\{{(.*)\}} (\S+)", line)
        if m:
            samples[m.group(1)] = float(m.group(2))
    return samples


def prom_anon_zero(text):
    """faultgen's anon_zero counter, after checking its histogram."""
    labels = 'comm="faultgen",class="anon_zero",kind="minor"'
    count = prom_samples(text, "pfwatch_faults_total").get(labels)
    assert count is not None, "no pfwatch_faults_total for faultgen anon_zero"
    buckets = [v for k, v in prom_samples(text, "pfwatch_fault_latency_seconds_bucket").items()
               if k.startswith(labels + ",le=")]
    timed = prom_samples(text, "pfwatch_fault_latency_seconds_count")[labels]
    assert buckets == sorted(buckets), f"buckets not cumulative: {buckets}"
    assert buckets[-1] == timed <= count, f"+Inf {buckets[-1]}, count {timed}, counter {count}"
    return int(count)


@test
def export_formats_by_name_and_extension():
    need_root()
    seen = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, fmt, extra in (
                ("run.json", "json", []), ("run.csv", "csv", []),
                ("run.prom", "prom", []), ("run.folded", "folded", []),
                ("run.csv.gz", "csv", []), ("run.prom.gz", "prom", []),
                ("run.unknown", "json", []),
                ("run.out", "folded", ["--format", "folded"])):
            path = os.path.join(tmp, name)
            r = pfwatch(["-o", path, *extra, "--", FAULTGEN, "anon_zero", str(N)])
            assert r.returncode == 0, f"{name}: {r.stderr}"
            count = anon_zero_of_faultgen(fmt, exported(path))
            assert N <= count <= N + STARTUP_SLACK["anon_zero"], f"{name}: anon_zero {count}"
            seen[name] = count
        left = set(os.listdir(tmp)) - set(seen)
        assert not left, f"temporary files left: {left}"
    return " ".join(f"{k}={v}" for k, v in seen.items())


@test
def prom_file_passes_promtool():
    need_root()
    if not shutil.which("promtool"):
        raise Skip("promtool is not installed (Debian's prometheus package; make deps)")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "node.prom")
        r = pfwatch(["-o", path, "--", FAULTGEN, "anon_zero", "100"])
        assert r.returncode == 0, r.stderr
        check = subprocess.run(["promtool", "check", "metrics"], input=exported(path),
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, f"promtool: {check.stdout}{check.stderr}"


@test
def export_interval_rewrites_whole_files():
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "live.json")
        p = subprocess.Popen(pfwatch_argv(["-o", path, "--export-interval", "0.3", "--",
                                           FAULTGEN, "--repeat", "8", "--pause-ms", "300",
                                           "anon_zero", str(N)]),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        counts = []
        while p.poll() is None:
            if os.path.exists(path):
                counts.append(class_count(json.loads(exported(path)), "anon_zero"))
            time.sleep(0.1)
        err = p.stderr.read()
        assert p.returncode == 0, err
        final = class_count(json.loads(exported(path)), "anon_zero")
    versions = sorted(set(counts))
    assert counts == sorted(counts), f"counts went down: {counts}"
    assert len(versions) >= 3, f"the file was rewritten {len(versions)} times: {versions}"
    assert 8 * N <= final <= 8 * N + STARTUP_SLACK["anon_zero"], f"final anon_zero {final}"
    return f"{len(counts)} reads, {len(versions)} versions, final {final}"


def report(args):
    r = subprocess.run([PFWATCH, "report", *args], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, f"report {args}: exit {r.returncode}: {r.stderr}"
    return r.stdout


def report_column(text, row, column=1):
    """A number in the first line of @text whose first word is @row."""
    for line in text.splitlines():
        words = line.split()
        if words and words[0] == row:
            return words[column]
    raise AssertionError(f"no {row!r} line in:\n{text}")


@test
def report_reads_what_pfwatch_wrote():
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "run.json.gz")
        r = pfwatch(["-o", path, "--", FAULTGEN, "anon_zero", str(N)])
        assert r.returncode == 0, r.stderr
        doc = json.loads(exported(path))
        text = report([path])
    count = int(report_column(text, "anon_zero"))
    assert count == class_count(doc, "anon_zero"), f"report {count}, file {class_count(doc, 'anon_zero')}"
    assert N <= count <= N + STARTUP_SLACK["anon_zero"], f"anon_zero {count}"
    ru = command_record(doc)["rusage"]["minflt"]
    assert f"(wait4 rusage minflt {ru})" in text, text
    timed = sum(p["latency_ns"][c]["count"] for p in doc["processes"] for c in MINOR)
    title, *rows = text[text.index("  LATENCY"):].split("\n\n", 1)[0].splitlines()
    minor_end = title.index("MINOR") + len("MINOR")
    shown = 0
    for row in rows:
        # The MINOR column, right-aligned under its title; blank for none.
        cell = row[minor_end - 7:minor_end].strip()
        assert cell == "" or cell.isdigit(), f"histogram row {row!r}: MINOR {cell!r}"
        shown += int(cell or 0)
    assert shown == timed, f"histogram rows add up to {shown}, the file has {timed} timed minor faults"
    return f"anon_zero {count}, histogram {shown} = {timed} timed"


def two_process_run(tmp):
    """sh running faultgen anon_zero N then file_read N/10: the file and faultgens."""
    path = os.path.join(tmp, "two.json")
    script = f"{FAULTGEN} --dir {tmp} anon_zero {N}; {FAULTGEN} --dir {tmp} file_read {N // 10}"
    r = pfwatch(["-o", path, "--", "sh", "-c", script])
    assert r.returncode == 0, r.stderr
    doc = json.load(open(path))
    gens = [p for p in doc["processes"] if p["comm"] == "faultgen"]
    assert len(gens) == 2, f"faultgen records: {len(gens)}"
    return path, doc, gens


@test
def report_filters_by_pid_and_class():
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        path, doc, gens = two_process_run(tmp)
        reader = max(gens, key=lambda p: p["classes"]["file_read"])
        by_pid = report(["--pid", str(reader["pid"]), path])
        major = report(["--class", "major", path])
        errors = subprocess.run([PFWATCH, "report", "--pid", "1", path],
                                capture_output=True, text=True)
    assert int(report_column(by_pid, "file_read")) == reader["classes"]["file_read"] == N // 10
    assert int(report_column(by_pid, "anon_zero")) == reader["classes"]["anon_zero"], by_pid
    assert int(report_column(major, "file_read")) == class_count(doc, "file_read")
    assert int(report_column(major, "anon_zero")) == 0, major
    assert int(report_column(major, "minor")) == 0, major
    assert errors.returncode == 1 and "no process with PID 1" in errors.stderr, errors.stderr
    return f"pid {reader['pid']}: file_read {N // 10}; --class major keeps {class_count(doc, 'file_read')}"


@test
def report_compares_two_files():
    need_root()
    counts = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json.gz")]
        for path, n in zip(paths, (N, 2 * N)):
            r = pfwatch(["-o", path, "--", FAULTGEN, "anon_zero", str(n)])
            assert r.returncode == 0, r.stderr
            counts.append(class_count(json.loads(exported(path)), "anon_zero"))
        text = report(["--top", "1", *paths])
    a, b = int(report_column(text, "anon_zero", 1)), int(report_column(text, "anon_zero", 2))
    assert (a, b) == tuple(counts), f"report {a} {b}, files {counts}"
    change = f"{100.0 * (b - a) / a:+.1f}%"
    assert report_column(text, "anon_zero", 3) == change, text
    commands = text.split("COMM", 1)[1].strip().splitlines()[1:]
    assert len(commands) == 1 and commands[0].split()[0] == "faultgen", commands
    return f"anon_zero {a} -> {b} ({change})"


@test
def report_refuses_bad_files_in_one_line():
    with tempfile.TemporaryDirectory() as tmp:
        good = os.path.join("tests", "fuzz", "seeds", "import", "segv.json")
        text = open(good, "rb").read()
        head, tail = text.split(b'"processes"')
        cases = {
            "truncated.json": (text[:700], ["byte 700", "line"]),
            "truncated.json.gz": (gzip.compress(text)[:300], ["uncompressed", "unexpected end"]),
            "other.json": (b'{"name": "not pfwatch"}', ["not a pfwatch JSON file"]),
            "newer.json": (text.replace(b'"schema_version": 1', b'"schema_version": 9'),
                           ["schema_version", "9"]),
            "negative.json": (head + b'"processes"' + tail.replace(
                b'"anon_zero": ', b'"anon_zero": -', 1), ["classes.anon_zero", "non-negative"]),
            "empty.json": (b"", ["byte 0"]),
            "lost.json": (text.replace(b'"lost_events": 0', b'"lost_events": 5, "lost": {"exits": 2}', 1),
                          ["diagnostics.lost", "adds up to 2", "lost_events is 5"]),
        }
        for name, (content, words) in cases.items():
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(content)
            r = subprocess.run([PFWATCH, "report", path], capture_output=True, text=True)
            lines = r.stderr.strip().splitlines()
            assert r.returncode == 1, f"{name}: exit {r.returncode}"
            assert len(lines) == 1 and lines[0].startswith(f"pfwatch report: {path}: "), lines
            for word in words:
                assert word in lines[0], f"{name}: {lines[0]!r} lacks {word!r}"
        r = subprocess.run([PFWATCH, "report", os.path.join(tmp, "absent.json")],
                           capture_output=True, text=True)
        assert r.returncode == 1 and "No such file" in r.stderr, r.stderr
    for args, words in ((["--class", "tiny"], ["tiny", "class"]), (["--top", "0"], ["-n"]),
                        ([], ["one JSON file"]), (["a", "b", "c"], ["one JSON file"])):
        r = subprocess.run([PFWATCH, "report", *args], capture_output=True, text=True)
        assert r.returncode == 2 and all(w in r.stderr for w in words), f"{args}: {r.stderr}"
    return f"{len(cases)} bad files, 4 bad command lines"


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url, accept=None, timeout=10):
    import urllib.request
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.headers.get("Content-Type", ""), resp.read().decode()


class Serving:
    """pfwatch serve on a free loopback port, stopped on exit."""

    def __init__(self, *extra):
        self.extra = list(extra)

    def __enter__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            pfwatch_argv(["serve", "--listen", f"127.0.0.1:{self.port}", *self.extra]),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        assert "serving http://" in line, f"pfwatch serve said {line!r}"
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=30)


def query(prom_port, promql):
    """One instant query against Prometheus's HTTP API: [(labels, value)]."""
    import urllib.parse
    _, body = http_get(f"http://127.0.0.1:{prom_port}/api/v1/query?" +
                       urllib.parse.urlencode({"query": promql}))
    doc = json.loads(body)
    assert doc["status"] == "success", doc
    return [(r["metric"], float(r["value"][1])) for r in doc["data"]["result"]]


def bucket_holding_median(text, labels):
    """(lower, upper) le bounds of the bucket holding the median, from /metrics."""
    buckets = sorted((float(k.split('le="')[1].rstrip('"')), v)
                     for k, v in prom_samples(text, "pfwatch_fault_latency_seconds_bucket").items()
                     if k.startswith(labels + ",le="))
    total = buckets[-1][1]
    lower = 0.0
    for le, cumulative in buckets:
        if cumulative >= total / 2:
            return lower, le
        lower = le
    raise AssertionError(f"no bucket holds the median: {buckets}")


@test
def serve_negotiates_openmetrics():
    need_root()
    with Serving() as serving:
        r = subprocess.run([FAULTGEN, "anon_zero", str(N)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        om_type, om = http_get(serving.url, "application/openmetrics-text;version=1.0.0,"
                               "text/plain;version=0.0.4;q=0.5")
        text_type, text = http_get(serving.url)
        again = subprocess.run(pfwatch_argv(["serve", "--listen", f"127.0.0.1:{serving.port}"]),
                               capture_output=True, text=True, timeout=60)
    assert om_type.startswith("application/openmetrics-text; version=1.0.0"), om_type
    assert om.endswith("# EOF\n") and "# TYPE pfwatch_faults counter" in om, om[-200:]
    assert text_type.startswith("text/plain; version=0.0.4"), text_type
    assert "# EOF" not in text and "# TYPE pfwatch_faults_total counter" in text
    counts = [prom_anon_zero(body) for body in (om, text)]
    assert counts[0] == counts[1] and N <= counts[0] <= N + STARTUP_SLACK["anon_zero"], counts
    lines = again.stderr.strip().splitlines()
    assert again.returncode == 2 and len(lines) == 1 and "cannot listen on" in lines[0] \
        and "in use" in lines[0], again.stderr
    return f"anon_zero {counts[0]} in both formats; a second server: {lines[0]}"


@test
def serve_exposes_command_lines_only_when_asked():
    need_root()
    argv = [FAULTGEN, "--linger-ms", "3000", "anon_zero", str(N)]
    bodies = []
    for extra in ([], ["--expose-cmdline"]):
        with Serving(*extra) as serving:
            gen = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
            gen.stdout.readline()	# its faults are done once it prints
            time.sleep(0.3)
            bodies.append(http_get(serving.url)[1])
            gen.communicate(timeout=30)
    assert "cmdline" not in bodies[0] and "anon_zero " + str(N) not in bodies[0], \
        [l for l in bodies[0].splitlines() if "cmdline" in l]
    want = (f'pfwatch_process_info{{pid="{gen.pid}",comm="faultgen",'
            f'cmdline="{" ".join(argv)}"}} 1')
    assert want in bodies[1].splitlines(), \
        [l for l in bodies[1].splitlines() if l.startswith("pfwatch_process")]
    r = subprocess.run([PFWATCH, "--expose-cmdline"], capture_output=True, text=True)
    assert r.returncode == 2 and "only pfwatch serve" in r.stderr, r.stderr
    return want


def dashboard_queries(prom_port):
    """Every query of docs/grafana-dashboard.json, run: {panel title: results}."""
    with open(os.path.join(os.path.dirname(__file__), "..", "docs",
                           "grafana-dashboard.json")) as f:
        dashboard = json.load(f)
    results = {}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in (("$__rate_interval", "1m"), ("$__range", "1m"),
                                    ("$instance", ".*")):
                expr = expr.replace(variable, value)
            results.setdefault(panel["title"], []).extend(query(prom_port, expr))
    return results


@test
def serve_scraped_by_prometheus():
    need_root()
    prometheus = shutil.which("prometheus")
    if not prometheus:
        raise Skip("prometheus is not installed (Debian's prometheus package; make deps)")
    n = 20 * N
    labels = 'comm="faultgen",class="anon_zero",kind="minor"'
    with Serving() as serving, tempfile.TemporaryDirectory() as tmp:
        prom_port = free_port()
        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: pfwatch\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{serving.port}']\n")
        log = open(os.path.join(tmp, "prometheus.log"), "w")
        server = subprocess.Popen([prometheus, f"--config.file={config}",
                                   f"--storage.tsdb.path={tmp}/data",
                                   f"--web.listen-address=127.0.0.1:{prom_port}"],
                                  stdout=log, stderr=log)
        try:
            r = subprocess.run([FAULTGEN, "anon_zero", str(n)], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            counter = f'sum(pfwatch_faults_total{{{labels}}})'
            deadline, seen = time.monotonic() + 60, []
            while time.monotonic() < deadline:
                try:
                    seen = query(prom_port, counter)
                except OSError:
                    seen = []	# Prometheus still starting
                if seen and seen[0][1] >= n:
                    break
                time.sleep(1)
            assert seen and seen[0][1] >= n, f"Prometheus has {seen} after 60 s"
            quantile = query(prom_port, "histogram_quantile(0.5, sum by (le) "
                             f"(pfwatch_fault_latency_seconds_bucket{{{labels}}}))")
            up = query(prom_port, 'up{job="pfwatch"}')
            _, text = http_get(serving.url)
            # rate() needs two scrapes in its window.
            for _ in range(20):
                panels = dashboard_queries(prom_port)
                if panels["Page faults per second, by class"]:
                    break
                time.sleep(1)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    count = seen[0][1]
    assert n <= count <= n + STARTUP_SLACK["anon_zero"], f"Prometheus counted {count}, want {n}.."
    assert up and up[0][1] == 1, f"up = {up}"
    lower, upper = bucket_holding_median(text, labels)
    p50 = quantile[0][1]
    assert lower <= p50 <= upper, f"histogram_quantile {p50} outside its bucket [{lower}, {upper}]"
    assert 1e-7 < p50 < 1e-3, f"median anon_zero fault {p50} s: not a minor fault's magnitude"
    assert panels["Page faults per second, by class"], "the dashboard's fault-rate panel has no data"
    return (f"Prometheus: anon_zero {count:.0f} (N={n}), median {p50 * 1e6:.2f} us in "
            f"[{lower * 1e6:.2f}, {upper * 1e6:.2f}] us; {len(panels)} dashboard panels query")


def where_run(scenario, n, tmp):
    """pfwatch --where -- faultgen (lingering, so its maps stay readable)."""
    out = os.path.join(tmp, "where.json")
    proc = pfwatch(["--where", "-o", out, "--", FAULTGEN, "--dir", tmp, "--linger-ms", "400",
                    scenario, str(n)])
    if proc.returncode == 3:
        raise Skip(proc.stderr.strip())
    assert proc.returncode == 0, proc.stderr
    doc = json.load(open(out))
    assert "where" in doc, "no where section in the JSON"
    fields = {}
    for line in proc.stdout.splitlines():
        for word in line.split():
            key, _, value = word.partition("=")
            fields.setdefault(key, value)
    start, end = (int(x, 16) for x in fields["region"].split("-"))
    gen = command_record(doc)
    return doc, proc, gen["pid"], start, end, fields.get("file")


@test
def where_counts_the_scenarios_own_mapping_exactly():
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        doc, proc, pid, start, end, _ = where_run("anon_zero", N, tmp)
    ours = [m for m in doc["where"]["mappings"]
            if m["pid"] == pid and int(m["start"], 16) <= start < int(m["end"], 16)]
    assert len(ours) == 1, f"mappings holding the region: {ours}"
    m = ours[0]
    assert m["kind"] == "anon" and m["classes"] == {"anon_zero": N}, m
    pages = doc["where"]["pages_faulted"]
    assert N <= pages <= N + STARTUP_SLACK["anon_zero"] + 200, f"pages faulted {pages}"
    assert "Mappings that fault most" in proc.stderr and "Hottest pages" in proc.stderr
    return f"region {start:#x}: anon_zero {N} exactly; {pages} distinct pages faulted"


@test
def where_names_the_file_and_offsets_of_major_faults():
    need_root()
    n = N // 4
    with tempfile.TemporaryDirectory() as tmp:
        doc, proc, pid, start, end, path = where_run("file_read", n, tmp)
    # faultgen unlinks its file: /proc/PID/maps says so, and so does pfwatch.
    files = [f for f in doc["where"]["files"] if f["path"] == path + " (deleted)"]
    assert len(files) == 1, f"no file {path} in {[f['path'] for f in doc['where']['files']]}"
    f = files[0]
    stride = 16 * os.sysconf("SC_PAGE_SIZE")
    assert f["major"] == n, f"{f['major']} majors, want {n}"
    assert (f["first_offset"], f["last_offset"]) == (0, (n - 1) * stride), f
    assert f["bytes_read"] == n * os.sysconf("SC_PAGE_SIZE"), f
    assert f["sequential"] == n - 1 and f["random"] == 0, f
    assert sum(f["heat"]["majors"]) == n, f["heat"]
    return f"{path}: {n} majors, offsets 0..{(n - 1) * stride}, all sequential"


@test
def where_keeps_major_faults_in_order_across_cpus():
    """Minor faults reach the reader in per-CPU batches, out of order across
    CPUs; major faults must not: the file view tells sequential reads from
    random ones by their order. faultgen is moved between two CPUs every
    millisecond while it reads its file."""
    need_root()
    if len(os.sched_getaffinity(0)) < 2:
        raise Skip("one CPU: nothing to move faultgen between")
    cpus = sorted(os.sched_getaffinity(0))[:2]
    n = N
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "where.json")
        tracer = subprocess.Popen(
            pfwatch_argv(["--where", "-o", out, "--", FAULTGEN, "--dir", tmp,
                          "--start-after-ms", "500", "--linger-ms", "400",
                          "file_read", str(n)]),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        children = f"/proc/{tracer.pid}/task/{tracer.pid}/children"
        gen, moves = None, 0
        while tracer.poll() is None:
            try:
                if gen is None:
                    found = open(children).read().split()
                    gen = int(found[0]) if found else None
                if gen is not None:
                    os.sched_setaffinity(gen, {cpus[moves % 2]})
                    moves += 1
            except (OSError, ValueError):
                if gen is not None:
                    break	# faultgen has exited
            time.sleep(0.001)
        _, err = tracer.communicate(timeout=60)
        if tracer.returncode == 3:
            raise Skip(err.strip())
        assert tracer.returncode == 0, err
        doc = json.load(open(out))
    assert gen and moves > 100, f"faultgen moved {moves} times"
    files = [f for f in doc["where"]["files"]
             if os.path.basename(f["path"]).startswith("faultgen.") and f["major"] == n]
    assert len(files) == 1, [(f["path"], f["major"]) for f in doc["where"]["files"]]
    f = files[0]
    assert f["sequential"] == n - 1 and f["random"] == 0, f
    return f"{n} majors read in order while moved {moves} times between CPUs {cpus}"


@test
def where_resolves_the_faulting_function():
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        doc, proc, *_ = where_run("anon_zero", N, tmp)
    code = [c for c in doc["where"]["code"]
            if c["binary"].endswith("/faultgen") and c["function"] == "anon_zero"]
    assert len(code) == 1 and code[0]["minor"] >= N, \
        f"faultgen's anon_zero: {code}; top: {doc['where']['code'][:3]}"
    return f"anon_zero in {code[0]['binary']}: {code[0]['minor']} minor faults"


@test
def report_prints_where_and_stacks_as_the_run_did():
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run.json.gz")
        r = pfwatch(["--where", "--stacks", "10", "-o", out, "--", FAULTGEN, "--dir", tmp,
                     "--linger-ms", "300", "file_read", str(N // 4)])
        if r.returncode == 3:
            raise Skip(r.stderr.strip())
        assert r.returncode == 0, r.stderr
        text = report([out])
    start = "\n Mappings that fault most:"
    run_part = r.stderr[r.stderr.index(start):]
    report_part = text[text.index(start):]
    assert "Stacks:" in run_part and "Files by major faults" in run_part, run_part[:300]
    assert report_part == run_part, "report differs from the run:\n" + "\n".join(
        f"run:    {a}\nreport: {b}" for a, b in zip(run_part.splitlines(),
                                                   report_part.splitlines()) if a != b)
    return f"{len(run_part.splitlines())} lines of where and stacks, the same"


@test
def stacks_fold_faultgens_functions():
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "stacks.json")
        r = pfwatch(["--stacks", "1", "-o", out, "--", FAULTGEN, "--linger-ms", "300",
                     "anon_zero", str(N)])
        assert r.returncode == 0, r.stderr
        doc = json.load(open(out))
        folded = os.path.join(tmp, "majors.folded")
        r = pfwatch(["--stacks", "major", "-o", folded, "--", FAULTGEN, "--dir", tmp,
                     "--linger-ms", "300", "file_read", str(N // 4)])
        if r.returncode == 3:
            raise Skip(r.stderr.strip())
        assert r.returncode == 0, r.stderr
        lines = open(folded).read().splitlines()
    stacks, total = doc["stacks"], sum(sum(p["classes"].values()) for p in doc["processes"])
    assert doc["diagnostics"]["lost_events"] == 0, doc["diagnostics"]
    assert stacks["sampled"] == total, f"{stacks['sampled']} stacks for {total} faults (1 in 1)"
    loop = sum(e["count"] for e in stacks["folded"]
               if e["stack"].endswith(";main;anon_zero;[anon_zero]"))
    assert loop == N, f"{loop} stacks end in main;anon_zero, want {N}: {stacks['folded'][:3]}"
    counts = {}
    for line in lines:
        frames, count = line.rsplit(" ", 1)
        counts[frames] = counts.get(frames, 0) + int(count)
    reads = sum(c for f, c in counts.items()
                if f.endswith(";main;file_read;touch_file_pages;[file_read]"))
    assert reads == N // 4, f"folded file_read stacks {reads}, want {N // 4}: {lines[:3]}"
    assert all(f.endswith(("[file_read]", "[swap_in]", "[segv_maperr]", "[segv_accerr]",
                           "[sigbus]", "[other_error]")) for f in counts), \
        f"--stacks major took a minor fault's stack: {counts}"
    return f"{loop} x main;anon_zero; {reads} x main;file_read;touch_file_pages"


@test
def sigint_still_writes_the_file():
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sys.json")
        p = subprocess.Popen(pfwatch_argv(["-i", "0", "-o", out]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        time.sleep(2)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        assert p.returncode == 0, f"exit {p.returncode}: {err}"
        doc = json.load(open(out))
        assert doc["processes"], "a system-wide run saw no process"
        leftovers = [f for f in os.listdir(tmp) if f != "sys.json"]
        assert not leftovers, f"temporary files left: {leftovers}"


@test
def namespace_pid_of_a_contained_process():
    need_root()
    if not shutil.which("unshare"):
        raise Skip("unshare (util-linux) is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ns.json")
        r = pfwatch(["-o", out, "--", "unshare", "--pid", "--fork", FAULTGEN, "anon_zero", str(N)])
        if r.returncode and "unshare" in r.stderr:
            raise Skip(f"unshare --pid is refused here: {r.stderr.strip()}")
        assert r.returncode == 0, r.stderr
        doc = json.load(open(out))
    gens = [p for p in doc["processes"] if p["comm"] == "faultgen"]
    assert len(gens) == 1, gens
    gen = gens[0]
    assert gen.get("ns_pid") == 1 and gen["pid"] != 1, \
        f"faultgen: host pid {gen['pid']}, namespace pid {gen.get('ns_pid')}"
    assert N <= gen["classes"]["anon_zero"] <= N + STARTUP_SLACK["anon_zero"], gen["classes"]
    host = [p for p in doc["processes"] if p["comm"] == "unshare"]
    assert host and all("ns_pid" not in p for p in host), host
    return f"faultgen: host PID {gen['pid']}, PID 1 in its namespace"


def wait_until_attached(proc):
    """Reads pfwatch -v's stderr up to the line it prints once its programs
    are attached ("pfwatch: backend B, entry ..."; the notes on backends
    refused before it start the same way)."""
    for line in proc.stderr:
        if re.match(r"pfwatch: backend \S+, entry ", line):
            return True
    return False


def pfwatch_programs():
    """The IDs of the loaded BPF programs named as pfwatch's entry program."""
    if not shutil.which("bpftool"):
        raise Skip("bpftool is not installed (make deps): cannot list loaded programs")
    show = subprocess.run(["bpftool", "prog", "show"], capture_output=True, text=True)
    if show.returncode:
        raise Skip(f"bpftool prog show failed: {show.stderr.strip()}")
    return {int(m.group(1)) for line in show.stdout.splitlines()
            if (m := re.match(r"(\d+): .* name page_fault_user\b", line))}


@test
def every_stop_signal_detaches_and_writes():
    need_root()
    before = pfwatch_programs()
    seen = []
    with tempfile.TemporaryDirectory() as tmp:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            out = os.path.join(tmp, f"{sig.name}.json")
            p = subprocess.Popen(pfwatch_argv(["-v", "-b", "-i", "0", "-o", out]),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            assert wait_until_attached(p), f"{sig.name}: pfwatch did not start"
            time.sleep(0.5)
            p.send_signal(sig)
            _, err = p.communicate(timeout=30)
            assert p.returncode == 0, f"{sig.name}: exit {p.returncode}: {err}"
            assert json.load(open(out))["processes"], f"{sig.name}: no process in the file"
            seen.append(sig.name)
        # SIGPIPE: the reader of the tables goes away (pfwatch | head).
        out = os.path.join(tmp, "pipe.json")
        pipe = subprocess.run(["sh", "-c", " ".join(pfwatch_argv(["-b", "-i", "0.2", "-o", out]))
                               + " | head -n 3 >/dev/null; echo ${PIPESTATUS:-}"],
                              capture_output=True, text=True, timeout=60)
        assert pipe.returncode == 0, pipe.stderr
        assert json.load(open(out))["processes"], "pipe: no process in the file"
        seen.append("SIGPIPE")
        leftovers = sorted(set(os.listdir(tmp)) - {f"{n}.json" for n in seen[:3]} - {"pipe.json"})
        assert not leftovers, f"temporary files left: {leftovers}"
    # The kernel frees detached programs a moment later.
    deadline = time.monotonic() + 10
    while (left := pfwatch_programs() - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"programs {sorted(left)} still loaded"
    return ", ".join(seen) + ": exit 0, file written, programs detached"


@test
def lost_events_are_counted_and_explained():
    """A stopped reader lets the ring buffer fill: every lost record is
    counted, by kind and by CPU, and the where tables plus the lost fault
    records add up to the faults counted in the kernel."""
    need_root()
    n, rounds = 50000, 10	# 20 MiB of 40-byte records against an 8 MiB ring
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "lost.json")
        p = subprocess.Popen(pfwatch_argv(["-v", "-b", "-i", "0", "--where", "-C", "faultgen",
                                           "-o", out]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert wait_until_attached(p), "pfwatch did not start"
        p.send_signal(signal.SIGSTOP)
        try:
            gen = subprocess.Popen([FAULTGEN, "--repeat", str(rounds), "anon_zero", str(n)],
                                   stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(gen.pid, 0)
            assert status == 0, f"faultgen status {status}"
        finally:
            p.send_signal(signal.SIGCONT)
        time.sleep(1)
        p.send_signal(signal.SIGINT)
        summary, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        doc = json.load(open(out))
    diag = doc["diagnostics"]
    lost = diag["lost"]
    assert lost["fault_records"] > 0, f"nothing lost: {diag}"
    assert diag["lost_events"] == sum(lost.values()), diag
    assert sum(diag["lost_per_cpu"]) == diag["lost_events"], diag
    gens = [q for q in doc["processes"] if q["comm"] == "faultgen"]
    assert len(gens) == 1 and gens[0]["pid"] == gen.pid, gens
    counted = sum(gens[0]["classes"].values())
    # The kernel's own count (rusage) against pfwatch's in-kernel counts.
    assert n * rounds <= counted <= usage.ru_minflt + usage.ru_majflt, \
        f"pfwatch counted {counted}, rusage {usage.ru_minflt}+{usage.ru_majflt}"
    where = doc["where"]
    recorded = where["placed"] + where["unplaced"] + where["untracked"]
    assert recorded + lost["fault_records"] == counted, \
        f"where {recorded} + lost {lost['fault_records']} != counted {counted}"
    text = summary + err
    assert f"{diag['lost_events']} events lost" in text and "fault records:" in text, text
    return (f"{lost['fault_records']} of {counted} fault records lost "
            f"(per CPU {diag['lost_per_cpu']}), {recorded} reached the where tables")


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return fields


CAP_SETUID, CAP_SYS_MODULE, CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF = 7, 16, 21, 38, 39


@test
def privileges_are_dropped_once_attached():
    """After attaching, pfwatch keeps CAP_BPF and what reading needs, and
    with --user goes on as that user, who then writes the file; --where
    still places a root process's faults."""
    need_root()
    import pwd
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        raise Skip("no user 'nobody' on this system")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)
        out = os.path.join(tmp, "priv.json")
        p = subprocess.Popen(pfwatch_argv(["-v", "-b", "-i", "0", "--where", "--user", "nobody",
                                           "-o", out]),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        dropped = next((line for line in p.stderr
                        if line.startswith("pfwatch: privileges dropped")), None)
        assert dropped, "pfwatch did not say it dropped its privileges"
        status = proc_status(p.pid)
        gen = subprocess.run([FAULTGEN, "--linger-ms", "400", "anon_zero", str(N)],
                             capture_output=True, text=True)
        assert gen.returncode == 0, gen.stderr
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        owner = os.stat(out).st_uid
        doc = json.load(open(out))
        plain = subprocess.Popen(pfwatch_argv(["-v", "-b", "-i", "0", "-d", "3"]),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert any(line.startswith("pfwatch: privileges dropped") for line in plain.stderr)
        root_status = proc_status(plain.pid)
        plain.wait(timeout=30)
    assert {int(x) for x in status["Uid"] + status["Gid"]} == {nobody.pw_uid, nobody.pw_gid}, status["Uid"]
    assert owner == nobody.pw_uid, f"file owned by uid {owner}"
    for st in (status, root_status):
        eff, bnd = int(st["CapEff"][0], 16), int(st["CapBnd"][0], 16)
        for cap in (CAP_SETUID, CAP_SYS_MODULE, CAP_SYS_ADMIN, CAP_PERFMON):
            assert not eff & (1 << cap) and not bnd & (1 << cap), f"cap {cap} kept: {st['CapEff']}"
        assert eff & (1 << CAP_BPF) and st["NoNewPrivs"] == ["1"], st
    assert root_status["Uid"][0] == "0", root_status["Uid"]
    start = int(re.search(r"region=(0x[0-9a-f]+)", gen.stdout).group(1), 16)
    ours = [m for m in doc["where"]["mappings"]
            if int(m["start"], 16) <= start < int(m["end"], 16)]
    assert len(ours) == 1 and ours[0]["classes"] == {"anon_zero": N}, ours
    return (f"as nobody: CapEff {status['CapEff'][0]}, file owned by {owner}; as root: "
            f"CapEff {root_status['CapEff'][0]}; faultgen's region placed, anon_zero {N}")


@test
def user_that_does_not_exist_is_refused():
    r = subprocess.run(pfwatch_argv(["--user", "no-such-user-here", "-d", "1", "-b"]),
                       capture_output=True, text=True)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and lines == ["pfwatch: --user no-such-user-here: no such user"], \
        (r.returncode, lines)


@test
def kernel_lockdown_is_named():
    """The VM run boots once with lockdown=confidentiality for this test."""
    need_root()
    try:
        state = open("/sys/kernel/security/lockdown").read().strip()
    except OSError as e:
        raise Skip(f"no lockdown state to read ({e.strerror}): securityfs or the lockdown LSM is missing")
    if "[confidentiality]" not in state:
        raise Skip(f"this kernel is not locked down for confidentiality ({state}); "
                   "the VM run boots one that is")
    r = subprocess.run(pfwatch_argv(["-d", "1", "-b"]), capture_output=True, text=True)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "locked down for confidentiality" in lines[0], \
        (r.returncode, lines)
    return lines[0]


@test
def every_error_message_is_documented():
    """Each message pfwatch writes to stderr (from src/) is in docs/errors.md."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src, doc = os.path.join(root, "src"), os.path.join(root, "docs", "errors.md")
    if not os.path.isdir(src) or not os.path.exists(doc):
        raise Skip("no source tree here (src/ and docs/errors.md)")
    documented = open(doc).read()
    call = re.compile(r'(?:fprintf\(stderr,\s*|fputs\(|bad_option\(|bad_report_option\(|'
                      r'fail\([^,]*,[^,"]*,\s*(?:\w+\s*\?\s*)?)((?:"(?:[^"\\]|\\.)*"\s*)+)')
    missing, checked = [], 0
    for name in sorted(os.listdir(src)):
        if not name.endswith(".c"):
            continue
        text = open(os.path.join(src, name)).read()
        for m in call.finditer(text):
            literal = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
            literal = literal.replace("\\n", "").replace('\\"', '"')
            if literal.startswith("#") or ("pfwatch" not in literal and name not in (
                    "options.c", "import_json.c")):
                continue	# output, not a message
            for piece in re.split(r"%[-.*0-9]*(?:ll|z)?[sdu]", literal):
                piece = piece.strip(" :'").removeprefix("pfwatch: ").removeprefix("pfwatch report: ")
                if len(piece) >= 12:
                    checked += 1
                    if piece not in documented:
                        line = text[:m.start()].count("\n") + 1
                        missing.append(f"{name}:{line}: {piece!r}")
    assert checked > 50, f"only {checked} message pieces found: is the pattern stale?"
    assert not missing, "not in docs/errors.md:\n  " + "\n  ".join(missing)
    return f"{checked} message pieces, all documented"


@test
def threads_of_one_process_lose_no_count():
    """Two threads faulting at once share their process's slot, which
    the kernel side then updates with atomic adds (a single-threaded
    process gets plain ones): the counts still equal wait4's rusage.
    A plain-add race loses a count only rarely (a few ns in a 12 us
    fault), so this guards the totals, not that switch alone."""
    need_root()
    rounds, n = 5, 20000
    r, doc = traced_run("anon_zero", n, faultgen_options=("--threads", "2",
                                                           "--repeat", str(rounds)))
    assert r.returncode == 0, r.stderr
    count = class_count(doc, "anon_zero")
    assert count >= 2 * rounds * n, f"anon_zero {count}, want at least {2 * rounds * n}"
    return check_rusage(doc)


@test
def exec_renames_the_process_and_keeps_its_counts():
    """sh faults, then execs faultgen: one record, named by the new
    program, holding the faults of both, as the kernel's rusage does."""
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "exec.json")
        r = pfwatch(["-o", out, "--", "sh", "-c", f"exec {FAULTGEN} anon_zero {N}"])
        assert r.returncode == 0, r.stderr
        doc = json.load(open(out))
    rec = command_record(doc)
    assert rec["comm"] == "faultgen", f"the exec'd process is named {rec['comm']!r}"
    kernel = rec["rusage"]["minflt"] + rec["rusage"]["majflt"]
    counted = sum(rec["classes"].values())
    assert kernel - GUP_SLACK <= counted <= kernel, f"pfwatch {counted}, rusage {kernel}"
    assert not [p for p in doc["processes"] if p["pid"] == rec["pid"] and p is not rec]
    return f"pid {rec['pid']}: sh then faultgen, {counted} faults (rusage {kernel})"


@test
def reused_pid_is_a_new_process():
    """Two processes given the same PID (through ns_last_pid) are two
    records, each with its own counts."""
    need_root()
    last_pid = "/proc/sys/kernel/ns_last_pid"
    if not os.access(last_pid, os.W_OK):
        raise Skip(f"{last_pid} is not writable here")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "reuse.json")
        p = subprocess.Popen(pfwatch_argv(["-v", "-b", "-i", "0", "-C", "faultgen", "-o", out]),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert wait_until_attached(p), "pfwatch did not start"
        for _ in range(20):	# another fork may take the PID first
            first = subprocess.Popen([FAULTGEN, "anon_zero", str(N)], stdout=subprocess.DEVNULL)
            first.wait()
            with open(last_pid, "w") as f:
                f.write(str(first.pid - 1))
            second = subprocess.Popen([FAULTGEN, "anon_zero", str(2 * N)],
                                      stdout=subprocess.DEVNULL)
            second.wait()
            if second.pid == first.pid:
                pid = first.pid
                break
        else:
            p.kill()
            raise Skip("could not get a PID reused (a busy system took it first)")
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        assert p.returncode == 0 and first.returncode == second.returncode == 0, err
        doc = json.load(open(out))
    same = sorted((rec["classes"]["anon_zero"] for rec in doc["processes"] if rec["pid"] == pid))
    assert len(same) == 2, f"{len(same)} records for PID {pid}: {same}"
    assert N <= same[0] <= N + STARTUP_SLACK["anon_zero"] < 2 * N <= same[1] \
        <= 2 * N + STARTUP_SLACK["anon_zero"], same
    return f"PID {pid} twice: anon_zero {same[0]}, then {same[1]}"


@test
def output_replaces_a_planted_link_without_following_it():
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        victim = os.path.join(tmp, "victim")
        with open(victim, "w") as f:
            f.write("keep me\n")
        out = os.path.join(tmp, "out.json")
        os.symlink(victim, out)
        r = pfwatch(["-b", "-i", "0", "-d", "1", "-o", out])
        assert r.returncode == 0, r.stderr
        assert open(victim).read() == "keep me\n", "the link's target was written"
        st = os.lstat(out)
        assert not os.path.islink(out) and oct(st.st_mode & 0o777) == "0o644", oct(st.st_mode)
        assert json.load(open(out))["processes"]
        assert sorted(os.listdir(tmp)) == ["out.json", "victim"], os.listdir(tmp)


@test
def valgrind_finds_nothing():
    """pfwatch with --where and --stacks, then report and a comparison,
    under valgrind's memcheck: no error, no definite leak."""
    need_root()
    if not shutil.which("valgrind"):
        raise Skip("valgrind is not installed (make deps)")
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "valgrind.supp")
    memcheck = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                "--errors-for-leak-kinds=definite", f"--suppressions={supp}"]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "vg.json")
        runs = [[*memcheck, *pfwatch_argv(["--where", "--stacks", "10", "-o", out, "--",
                                           FAULTGEN, "--dir", tmp, "file_read", "100"])],
                [*memcheck, PFWATCH, "report", out],
                [*memcheck, PFWATCH, "report", out, out]]
        for argv in runs:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=600)
            errors = [l for l in r.stderr.splitlines() if l.startswith("==")]
            assert r.returncode == 0 and not errors, \
                f"{' '.join(argv[len(memcheck):])}: exit {r.returncode}\n" + "\n".join(errors[:30])
    return f"{len(runs)} runs clean"


@test
def duration_stops_the_run():
    need_root()
    start = time.monotonic()
    r = pfwatch(["-d", "1", "-i", "0.3"])
    took = time.monotonic() - start
    assert r.returncode == 0, r.stderr
    assert took < 20, f"-d 1 took {took:.1f} s"
    assert r.stdout.count("MINOR/s") >= 2, "fewer than two periodic tables"


def expect_error(args, code, words, binary=PFWATCH, **kw):
    r = pfwatch(args, binary=binary, **kw)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == code, \
        f"{args}: exit {r.returncode}, want {code}; stderr {r.stderr!r}"
    assert len(lines) == 1, f"{args}: want one line on stderr, got {lines}"
    assert lines[0].startswith("pfwatch: "), lines[0]
    for word in words:
        assert word in lines[0], f"{args}: {lines[0]!r} lacks {word!r}"
    assert "core dumped" not in r.stderr


@test
def bad_options_are_rejected():
    expect_error(["--bogus"], 2, ["--bogus", "unknown"])
    expect_error(["-p", "12x"], 2, ["12x", "process ID"])
    expect_error(["-i", "-1"], 2, ["interval"])
    expect_error(["-d", "0"], 2, ["duration"])
    expect_error(["--backend", "ebpf"], 2, ["auto, fexit, kprobe, perf"])
    expect_error(["-C", "a-name-longer-than-15"], 2, ["command name"])
    expect_error(["stray"], 2, ["--"])
    expect_error(["-p", "1", "--", "true"], 2, ["exclude"])
    expect_error(["--min-latency", "-1"], 2, ["--min-latency", "latency"])
    expect_error(["--min-latency", "1e9"], 2, ["--min-latency", "latency"])
    expect_error(["-o", "x", "--format", "xml"], 2, ["--format", "json, csv, prom, folded"])
    expect_error(["--format", "csv"], 2, ["need -o FILE"])
    expect_error(["-o", "x", "--export-interval", "0.01"], 2, ["--export-interval", "interval"])
    expect_error(["--listen", "9000"], 2, ["--listen", "serve"])
    for bad in ("0", "70000", "1.2.3:80", "::1:80", "host:80", "127.0.0.1:"):
        expect_error(["serve", "--listen", bad], 2, ["--listen", bad])
    expect_error(["serve", "--", "true"], 2, ["serve", "COMMAND"])


@test
def unknown_pid_is_an_error():
    need_root()
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    expect_error(["-p", str(pid_max - 1)], 2, ["no process", str(pid_max - 1)])


@test
def command_that_cannot_run():
    need_root()
    expect_error(["--", "/nonexistent/cmd"], 2, ["cannot run", "/nonexistent/cmd"])


@test
def unwritable_output_file():
    need_root()
    expect_error(["-o", "/nonexistent/dir/x.json", "--", "true"], 2,
                 ["/nonexistent/dir/x.json"])


@test
def missing_backend_is_named():
    need_root()
    r = pfwatch(["--backend", "fexit", "--", "true"])
    if r.returncode == 0:
        raise Skip("this kernel allows fexit: no refusal to check")
    expect_error(["--backend", "fexit", "--", "true"], 2, ["fexit"])


@test
def unprivileged_user_is_refused():
    need_root()
    setpriv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               "--inh-caps=-all"]
    probe = subprocess.run(setpriv + ["true"], capture_output=True, text=True)
    if probe.returncode:
        raise Skip(f"setpriv cannot drop privileges here: {probe.stderr.strip()}")
    r = subprocess.run(setpriv + pfwatch_argv(["--", "true"],
                                              os.path.abspath(PFWATCH)),
                       capture_output=True, text=True)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, f"exit {r.returncode}: {r.stderr}"
    assert len(lines) == 1 and "root" in lines[0] and "lacks both" in lines[0], lines
    # CAP_BPF alone: the message names the one missing.
    with_bpf = [*setpriv[:-1], "--inh-caps=+bpf", "--ambient-caps=+bpf"]
    if subprocess.run(with_bpf + ["true"], capture_output=True).returncode:
        return "no capabilities: refused; setpriv cannot grant CAP_BPF alone here"
    r = subprocess.run(with_bpf + pfwatch_argv(["--", "true"], os.path.abspath(PFWATCH)),
                       capture_output=True, text=True)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "lacks CAP_PERFMON" in lines[0], lines
    return lines[0]


def backend_the_kernel_allows():
    """The first of fexit, kprobe, perf this kernel allows, asked of the
    kernel itself rather than of pfwatch: bpftool's probe of tracing
    programs (fentry/fexit), and register_kprobe in /proc/kallsyms
    (CONFIG_KPROBES); perf page-fault events are everywhere."""
    bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
    if not os.path.exists(bpftool):
        raise Skip("no bpftool to probe the kernel's program types")
    probe = subprocess.run([bpftool, "-j", "feature", "probe", "kernel"],
                           capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, f"bpftool feature probe: {probe.stderr.strip()}"
    if json.loads(probe.stdout)["program_types"]["have_tracing_prog_type"]:
        return "fexit", "tracing programs load"
    with open("/proc/kallsyms") as f:
        if any(line.split()[2:3] == ["register_kprobe"] for line in f):
            return "kprobe", "no tracing programs; register_kprobe in kallsyms"
    return "perf", "no tracing programs, no register_kprobe in kallsyms"


@test
def backend_reported_with_verbose():
    """-v names the backend the kernel allows (the VM run says which one,
    else the kernel is probed); choosing it, auto first names each backend
    it tried and the kernel refused, in order."""
    need_root()
    order = ("fexit", "kprobe", "perf")
    chosen_by_hand = BACKEND not in (None, "", "auto")
    if EXPECT_BACKEND:
        want, why = EXPECT_BACKEND, "PFWATCH_EXPECT_BACKEND"
    elif chosen_by_hand:
        want, why = BACKEND, "PFWATCH_BACKEND"
    else:
        want, why = backend_the_kernel_allows()
    r = pfwatch(["-v", "--", "true"])
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    chosen = [i for i, l in enumerate(lines)
              if re.match(r"pfwatch: backend \w+, entry ", l)]
    assert len(chosen) == 1, f"{len(chosen)} backend lines: {r.stderr}"
    assert lines[chosen[0]].startswith(f"pfwatch: backend {want}, "), \
        f"want {want} ({why}): {lines[chosen[0]]}"
    refused = [b for b in order
               if any(l.startswith(f"pfwatch: backend {b}: cannot ")
                      for l in lines[:chosen[0]])]
    tried = [] if chosen_by_hand else list(order[:order.index(want)])
    assert refused == tried, f"refusals {refused}, want {tried}: {r.stderr}"
    return f"{want} ({why})" + (f", after {', '.join(refused)} refused" if refused else "")


@test
def asan_build_traces_cleanly():
    need_root()
    if not os.path.exists(PFWATCH_ASAN):
        raise AssertionError(f"{PFWATCH_ASAN} was not built")
    proc, doc = traced_run("anon_zero", 200, binary=PFWATCH_ASAN)
    assert proc.returncode == 0, proc.stderr
    assert "runtime error" not in proc.stderr and "AddressSanitizer" not in proc.stderr, proc.stderr
    assert class_count(doc, "anon_zero") >= 200


# --- agg: more live processes than slots; the overflow slot and the names
# past the top 20 are both "<other>" and must be one group ---
CROWD, CROWD_NAMES, CROWD_N = 1100, 40, 100


def header_constant(name):
    with open("bpf/pfwatch.h") as f:
        return int(re.search(rf"#define {name}\s+(\d+)", f.read()).group(1))


def cgroup_root():
    root = "/sys/fs/cgroup/unified"
    if not os.path.isdir(root):
        root = "/sys/fs/cgroup"
    if not os.path.exists(os.path.join(root, "cgroup.procs")):
        raise Skip("no cgroup v2 hierarchy mounted")
    return root


def check_prom_groups(text, where):
    """No series written twice, at most 20 names beside "<other>", one
    "<other>" per class; returns {comm: {class: count}} of the counters."""
    series = [m.groups() for line in text.splitlines()
              if (m := re.fullmatch(r"(\w+)\{(.*)\} \S+", line))]
    twice = sorted({s for s in series if series.count(s) > 1})
    assert not twice, f"{where}: {len(twice)} series written twice, e.g. {twice[:2]}"
    groups = {}
    for labels, value in prom_samples(text, "pfwatch_faults_total").items():
        comm, cls = re.fullmatch(r'comm="(.*)",class="(\w+)",kind="\w+"', labels).groups()
        groups.setdefault(comm, {})[cls] = int(value)
    assert "<other>" in groups and len(groups) <= 21, f"{where}: groups {sorted(groups)}"
    return groups


def crowd_spawn(tmp, group, pids):
    """CROWD faultgens named crowd00.. in @group, started one after another,
    their PIDs added to @pids; returns once each has made its CROWD_N
    faults (they linger)."""
    names = [os.path.join(tmp, f"crowd{i % CROWD_NAMES:02d}") for i in range(CROWD)]
    for name in names[:CROWD_NAMES]:
        os.symlink(os.path.abspath(FAULTGEN), name)
    # A thread's first fault decides whether it is traced: this one faults
    # outside the cgroup, so that only the crowd is traced.
    mmap.mmap(-1, mmap.PAGESIZE)[0] = 1
    with open("/proc/self/cgroup") as f:
        home = cgroup_root() + re.search(r"^0::(.*)$", f.read(), re.M).group(1)
    read_end, write_end = os.pipe()
    with open(os.path.join(group, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
    try:
        for name in names:
            pids.append(os.posix_spawn(name, [name, "--linger-ms", "120000", "anon_zero",
                                              str(CROWD_N)], os.environ,
                                       file_actions=[(os.POSIX_SPAWN_DUP2, write_end, 1)]))
    finally:
        with open(os.path.join(home, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
        os.close(write_end)
    with os.fdopen(read_end) as reports:
        measured = 0
        while measured < CROWD:
            line = reports.readline()
            assert line, f"only {measured} of the crowd reported"
            if line.startswith("scenario="):
                assert f" minflt={CROWD_N} " in line, line
                measured += 1


def crowd_end(pids):
    """Kills the crowd; {pid: (minflt, majflt)} from wait4."""
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    usage = {}
    for pid in pids:
        _, _, ru = os.wait4(pid, 0)
        usage[pid] = (ru.ru_minflt, ru.ru_majflt)
    return usage


def check_overflow_record(doc, usage, slack):
    """The crowd processes that found no slot: slots_exhausted counts them,
    and the overflow record holds their faults, as wait4 counts them."""
    slotted = {p["pid"] for p in doc["processes"] if p["pid"] in usage}
    left_out = [pid for pid in usage if pid not in slotted]
    exhausted = doc["diagnostics"]["slots_exhausted"]
    assert len(slotted) == header_constant("MAX_PROC_SLOTS") - 1, \
        f"{len(slotted)} of the crowd have a record"
    assert exhausted == len(left_out), f"slots_exhausted {exhausted}, {len(left_out)} left out"
    overflow = [p for p in doc["processes"] if p["pid"] == 0]
    assert len(overflow) == 1 and overflow[0]["comm"] == "<other>", overflow
    kernel_minor = sum(usage[pid][0] for pid in left_out)
    kernel_major = sum(usage[pid][1] for pid in left_out)
    minor, major = overflow[0]["minor"], overflow[0]["major"]
    assert overflow[0]["classes"]["anon_zero"] >= len(left_out) * CROWD_N, overflow[0]
    assert kernel_minor - slack * len(left_out) <= minor <= kernel_minor, \
        f"overflow minor {minor}, wait4 {kernel_minor} (slack {slack} each)"
    assert major == kernel_major, f"overflow major {major}, wait4 {kernel_major}"
    return len(left_out), minor, kernel_minor


@test
def crowd_past_the_slots_has_one_other_group():
    """1,100 processes under 40 names, alive together in one cgroup (so
    that nothing else is traced and the counts are exact): the .prom file
    and a scrape of serve write each series once, and the faults of the
    processes that found no slot are in the overflow record."""
    need_root()
    group = os.path.join(cgroup_root(), f"pfwatch-crowd-{os.getpid()}")
    os.mkdir(group)
    with tempfile.TemporaryDirectory() as tmp:
        prom, js = os.path.join(tmp, "crowd.prom"), os.path.join(tmp, "crowd.json")
        batch = subprocess.Popen(pfwatch_argv(["-b", "-v", "-i", "0", "-d", "120",
                                               "--cgroup", group, "-o", prom]),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        pids = []
        try:
            assert wait_until_attached(batch), "pfwatch -b never attached"
            with Serving("--cgroup", group, "-o", js) as serving:
                crowd_spawn(tmp, group, pids)
                _, scraped = http_get(serving.url)
                batch.send_signal(signal.SIGINT)
                assert batch.wait(timeout=60) == 0, batch.stderr.read()
        finally:
            if batch.poll() is None:
                batch.kill()
            usage = crowd_end(pids)
            os.rmdir(group)
        with open(js) as f:
            doc = json.load(f)
        groups = check_prom_groups(exported(prom), "file")
        check_prom_groups(scraped, "serve")
    slack = GUP_SLACK if doc["pfwatch"]["backend"] == "perf" else 0
    left_out, overflow, kernel = check_overflow_record(doc, usage, slack)
    # Only the crowd is traced: every group's minor faults are theirs.
    minor = sum(n for classes in groups.values() for cls, n in classes.items() if cls in MINOR)
    anon_zero = sum(classes.get("anon_zero", 0) for classes in groups.values())
    kernel_all = sum(u[0] for u in usage.values())
    assert anon_zero >= CROWD * CROWD_N, f"anon_zero {anon_zero} in the groups"
    assert kernel_all - slack * CROWD <= minor <= kernel_all, \
        f"minor {minor} in the groups, wait4 {kernel_all}"
    return (f"{left_out} without a slot, overflow minor {overflow}/{kernel}; "
            f"{len(groups)} groups, minor {minor}/{kernel_all}")


# --- bpfside: untraced children, renames, the entry hook, tracefs ---
MAX_TRACED = 8192	# processes -p and -- CMD trace at once (MAX_TRACED_TGIDS)


def task_count():
    """Tasks alive on the machine (threads included): /proc/loadavg."""
    with open("/proc/loadavg") as f:
        return int(f.read().split()[3].split("/")[1])


@test
def children_past_the_traced_table_are_counted_as_untraced():
    """faultgen, the command, holds MAX_TRACED - 1 + 100 children alive at
    once, each making exactly one fault (faultgen's RUSAGE_CHILDREN proves
    it). The table holds faultgen and 8191 of them: 100 go untraced, and
    every traced one is accounted with its fault."""
    need_root()
    untraced = 100
    n = MAX_TRACED - 1 + untraced
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    with open("/proc/sys/kernel/threads-max") as f:
        threads_max = int(f.read())
    room = min(pid_max, threads_max) - task_count()
    if room < n + 1000:
        raise Skip(f"{n} processes at once need PIDs: pid_max {pid_max}, "
                   f"threads-max {threads_max}, {task_count()} tasks running")
    r, doc = traced_run("children", n)
    if r.returncode != 0 and "clone" in r.stderr:
        raise Skip(f"the machine cannot hold {n} processes: {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr
    minflt, _ = faultgen_measured(r)
    assert minflt == n, f"the kernel counted {minflt} faults of {n} children"
    diag = doc["diagnostics"]
    assert diag["untraced_children"] == untraced, diag
    assert f"WARNING: {untraced} child processes were not traced" in r.stderr, r.stderr
    command = command_record(doc)
    others = [p for p in doc["processes"] if p is not command]
    counted = sum(sum(p["classes"].values()) for p in others)
    assert counted == n - untraced, \
        f"the children's records hold {counted} faults, want {n - untraced}"
    # Each traced process has a record, a share of a folded one, or a
    # place among the slot overflow's (slots_exhausted).
    accounted = sum(p.get("folded_processes", 1) for p in doc["processes"]
                    if p["comm"] != "<other>") + diag["slots_exhausted"]
    assert accounted == MAX_TRACED, f"{accounted} processes accounted, want {MAX_TRACED}"
    return (f"{n} children: {untraced} untraced, {counted} faults counted, "
            f"{diag['slots_exhausted']} past the slots")


RENAMED = "fg-renamed"


def faults_before_rename(proc):
    """faultgen's own faults (getrusage) when it renamed itself."""
    lines = [l for l in proc.stdout.splitlines() if l.startswith("renamed=")]
    assert lines, f"faultgen did not rename itself: {proc.stdout!r}"
    fields = dict(kv.split("=") for kv in lines[0].split())
    assert fields["renamed"] == RENAMED, lines[0]
    return int(fields["minflt"]) + int(fields["majflt"])


@test
def prctl_rename_renames_the_process_record():
    """A process that names itself with prctl(PR_SET_NAME) is recorded
    under the new name, with all its faults in that one record."""
    need_root()
    r, doc = traced_run("anon_zero", N, faultgen_options=("--rename", RENAMED))
    assert r.returncode == 0, r.stderr
    faults_before_rename(r)
    rec = command_record(doc)
    assert rec["comm"] == RENAMED, f"the record is named {rec['comm']!r}"
    assert len([p for p in doc["processes"] if p["pid"] == rec["pid"]]) == 1
    return check_rusage(doc)


@test
def comm_filter_follows_a_prctl_rename():
    """-C NEW traces faultgen from its rename on: exactly the faults the
    kernel counted after the point faultgen reports (wait4's rusage less
    getrusage at the rename), its N-fault loop among them."""
    need_root()
    r, doc = traced_run("anon_zero", N, extra=("-C", RENAMED),
                        faultgen_options=("--rename", RENAMED))
    assert r.returncode == 0, r.stderr
    before = faults_before_rename(r)
    loop, _ = faultgen_measured(r)
    rec = command_record(doc)
    assert rec["comm"] == RENAMED, rec["comm"]
    after = rec["rusage"]["minflt"] + rec["rusage"]["majflt"] - before
    counted = sum(rec["classes"].values())
    assert counted == after, f"pfwatch counted {counted}, the kernel {after} after the rename"
    assert rec["classes"]["anon_zero"] >= loop == N, rec["classes"]
    return f"{counted} faults after the rename (kernel {after}), {before} before it ignored"


def entry_run(entry, tmp, extra_env=None):
    """pfwatch -v -o FILE -- faultgen anon_zero N with PFWATCH_ENTRY=entry."""
    out = os.path.join(tmp, f"{entry}.json")
    env = dict(os.environ, PFWATCH_ENTRY=entry)
    r = pfwatch(["-v", "-o", out, "--", FAULTGEN, "anon_zero", str(N)], env=env)
    return r, (json.load(open(out)) if os.path.exists(out) else None)


@test
def forced_entry_is_the_one_reported():
    """PFWATCH_ENTRY picks the hook where faults begin; -v and the JSON
    name the one that ran, and it counts the scenario's faults."""
    need_root()
    seen = []
    with tempfile.TemporaryDirectory() as tmp:
        for entry in ("tracepoint", "tp_btf"):
            r, doc = entry_run(entry, tmp)
            if r.returncode == 2 and "has no page_fault_user" in r.stderr:
                continue	# a kernel without tp_btf: tracepoint is its own
            assert r.returncode == 0, r.stderr
            assert f", entry {entry}/page_fault_user," in r.stderr, r.stderr
            assert doc["pfwatch"]["entry_hook"] == entry, doc["pfwatch"]
            count = class_count(doc, "anon_zero")
            assert N <= count <= N + STARTUP_SLACK["anon_zero"], f"{entry}: anon_zero {count}"
            seen.append(f"{entry} {count}")
    # The suite run with the entry forced (tests/run.sh) must be on it.
    forced = os.environ.get("PFWATCH_ENTRY")
    if forced:
        r = pfwatch(["-v", "--", "true"])
        assert f", entry {forced}/page_fault_user," in r.stderr, r.stderr
        seen.append(f"suite on {forced}")
    return "; ".join(seen)


@test
def invalid_entry_is_refused():
    expect_error(["--", "true"], 2, ["PFWATCH_ENTRY", "'fexit' is not tp_btf or tracepoint"],
                 env=dict(os.environ, PFWATCH_ENTRY="fexit"))


@test
def tracefs_is_mounted_only_for_the_classic_tracepoint():
    """In a mount namespace of its own without tracefs, tp_btf runs and
    leaves it unmounted; the classic tracepoint mounts it and runs."""
    need_root()
    if not shutil.which("unshare"):
        raise Skip("no unshare(1)")
    marks = []
    with tempfile.TemporaryDirectory() as tmp:
        steps = ["umount /sys/kernel/tracing 2>/dev/null"]
        for entry in ("tp_btf", "tracepoint"):
            argv = pfwatch_argv(["-o", os.path.join(tmp, f"{entry}.json"), "--",
                                 FAULTGEN, "anon_zero", str(N)])
            steps += ["grep -c ' /sys/kernel/tracing ' /proc/self/mountinfo",
                      f"PFWATCH_ENTRY={entry} {shlex.join(argv)} >/dev/null 2>&1; echo rc=$?"]
        steps.append("grep -c ' /sys/kernel/tracing ' /proc/self/mountinfo")
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            "\n".join(steps)], capture_output=True, text=True, timeout=120)
        marks = r.stdout.split()
        assert len(marks) == 5, f"{r.stdout!r} {r.stderr!r}"
        before, tp_btf_rc, between, tracepoint_rc, after = marks
        assert before == "0", "tracefs is still mounted in the namespace"
        if tp_btf_rc == "rc=2":
            raise Skip("this kernel has no tp_btf page_fault_user")
        assert tp_btf_rc == "rc=0" and between == "0", f"tp_btf: {tp_btf_rc}, tracefs mounts {between}"
        assert tracepoint_rc == "rc=0" and after == "1", \
            f"tracepoint: {tracepoint_rc}, tracefs mounts {after}"
        for entry in ("tp_btf", "tracepoint"):
            with open(os.path.join(tmp, f"{entry}.json")) as f:
                count = class_count(json.load(f), "anon_zero")
            assert count >= N, f"{entry}: anon_zero {count}"
    return "tp_btf left tracefs unmounted; tracepoint mounted it"


@test
def help_and_version():
    r = pfwatch(["--help"])
    assert r.returncode == 0 and "Examples:" in r.stdout and "--backend" in r.stdout
    r = pfwatch(["--version"])
    with open("VERSION") as f:
        assert r.returncode == 0 and f.read().strip() in r.stdout


if __name__ == "__main__":
    sys.exit(SUITE.main())
