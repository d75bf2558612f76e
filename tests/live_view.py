#!/usr/bin/env python3
"""The live view, driven as a person would: the real pfwatch in tmux.

tmux gives pfwatch a real terminal of a chosen size; the tests send keys,
read the pane back as text and assert on what a person would read there.
Oracles: faultgen's own getrusage lines (the kernel's counts), the PIDs
the tests started, and the terminal's modes after pfwatch exits.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from harness import Skip, Suite

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
PFWATCH = os.path.abspath(os.path.join(BUILD, "pfwatch"))
PFWATCH_ASAN = os.path.abspath(os.path.join(BUILD, "asan", "pfwatch"))
FAULTGEN = os.path.abspath(os.path.join(BUILD, "faultgen"))

SUITE = Suite("live")
test = SUITE.test

# The table's columns, as text_layout draws them.
COLUMNS = ("PID", "USER", "COMM", "MINOR/s", "MAJOR/s", "INVAL/s", "P50",
           "P99", "FLTms/s", "RSS", "CAUSE")


def need_tools():
    if os.geteuid() != 0:
        raise Skip("needs root to load BPF programs")
    if not shutil.which("tmux"):
        raise Skip("tmux is not installed (make deps installs it)")


def compact(text):
    """'812', '12.3k', '1.2M' as layout_format_count writes them."""
    scale = {"k": 1e3, "M": 1e6}.get(text[-1:], 1)
    return float(text.rstrip("kM")) * scale


class Pane:
    """pfwatch in a tmux window of its own, on a private tmux server."""
    opened = 0

    def __init__(self, args, width=80, height=24, env="", binary=PFWATCH):
        Pane.opened += 1
        self.socket = f"pfwatch-test-{os.getpid()}-{Pane.opened}"
        # After pfwatch: its exit status and the terminal modes it left.
        script = (f"{env} {shlex.quote(binary)} {shlex.join(args)}; "
                  "echo EXIT=$?; "
                  "stty -a | tr ' ;' '\\n\\n' | grep -x -e '-\\?icanon' -e '-\\?echo' "
                  "| tr '\\n' ' '; echo MODES; sleep 600")
        self.tmux("new-session", "-d", "-s", "live", "-x", str(width),
                  "-y", str(height), script)

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.socket, *args],
                              capture_output=True, text=True, check=True,
                              timeout=10).stdout

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "live", *keys)

    def text(self, escapes=False, history=False):
        """The screen; with history, also the lines scrolled off it."""
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []),
                         *(["-S", "-"] if history else []), "-t", "live")

    def wait_for(self, what, timeout=15, history=False):
        """Polls the pane until what(text) is true; returns the text."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.text(history=history)
            if what(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the pane shows:\n{screen}")
            time.sleep(0.2)

    def resize(self, width, height):
        self.tmux("resize-window", "-t", "live", "-x", str(width),
                  "-y", str(height))

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"],
                       capture_output=True, timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Load:
    """faultgen rounds in the background; its stdout is the kernel's count."""

    def __init__(self, scenario, n, rounds, pause_ms, binary=FAULTGEN,
                 threads=0, linger_ms=0):
        self.out = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [binary, "--repeat", str(rounds), "--pause-ms", str(pause_ms),
             *(["--threads", str(threads)] if threads else []),
             *(["--linger-ms", str(linger_ms)] if linger_ms else []),
             scenario, str(n)],
            stdout=self.out, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=30)

    def wait_for_exit(self, timeout):
        """Reaps the process; its whole rusage (startup included) is kept
        in self.rusage, as wait4 gives it."""
        deadline = time.monotonic() + timeout
        while not (reaped := os.wait4(self.pid, os.WNOHANG))[0]:
            assert time.monotonic() < deadline, f"faultgen {self.pid} still running"
            time.sleep(0.05)
        self.proc.returncode, self.rusage = reaped[1], reaped[2]

    def kernel_counts(self):
        """(minflt, majflt, rounds) summed over the rounds that finished."""
        self.out.seek(0)
        rounds = [dict(kv.split("=") for kv in line.split())
                  for line in self.out if line.startswith("scenario=")]
        return (sum(int(r["minflt"]) for r in rounds),
                sum(int(r["majflt"]) for r in rounds), len(rounds))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.out.close()


def title_index(lines):
    return next((i for i, line in enumerate(lines)
                 if line.split()[:3] in (["PID", "USER", "COMM"],
                                         ["TID", "USER", "COMM"])), None)


def table_rows(screen):
    """The rows under the title line, as dicts by column (PID: the TID on
    thread rows)."""
    lines = screen.splitlines()
    start = title_index(lines)
    rows = []
    if start is None:
        return rows
    for line in lines[start + 1:]:
        fields = line.split()
        if len(fields) != len(COLUMNS) or not fields[0].isdigit():
            break
        rows.append(dict(zip(COLUMNS, fields)))
    return rows


def row_of(screen, pid):
    return next((r for r in table_rows(screen) if r["PID"] == str(pid)), None)


def status_line(screen):
    return screen.splitlines()[3] if screen.count("\n") > 3 else ""


def quit_and_check_terminal(pane, key="q"):
    """Quits with key; the shell after pfwatch must see a sane terminal."""
    pane.keys(key)
    screen = pane.wait_for(lambda s: "MODES" in s, timeout=30, history=True)
    assert "EXIT=0" in screen, f"pfwatch failed:\n{screen}"
    assert re.search(r"(^| )icanon echo ", screen, re.M), \
        f"terminal not restored (want 'icanon echo'):\n{screen}"
    return screen


@test
def faultgen_row_shows_its_rate():
    need_tools()
    with tempfile.TemporaryDirectory() as tmp, \
            Pane(["-o", os.path.join(tmp, "live.json")]) as pane:
        pane.wait_for(lambda s: "backend" in s and "MINOR/s" in s)
        with Load("anon_zero", 2000, rounds=200, pause_ms=50) as load:
            screen = pane.wait_for(
                lambda s: (row := row_of(s, load.pid)) and compact(row["MINOR/s"]) > 0)
            row = row_of(screen, load.pid)
            assert row["COMM"] == "faultgen" and row["USER"] == "root", row
            # 2000 faults per round, rounds at least 50 ms apart: at most
            # 21 rounds in any second.
            assert compact(row["MINOR/s"]) <= 21 * 2000, row
            assert row["INVAL/s"] == "0", row
            assert re.fullmatch(r"[0-9.]+[KMG]", row["RSS"]), row
            assert "faults/s  minor" in screen and "in faults" in screen, screen
            load.stop()
            minflt, _, rounds = load.kernel_counts()
        time.sleep(1.5)     # one more view, so the last faults are read
        quit_and_check_terminal(pane)
        with open(os.path.join(tmp, "live.json")) as f:
            doc = json.load(f)
    seen = [p for p in doc["processes"] if p["pid"] == load.pid]
    assert seen, f"faultgen {load.pid} not in the -o file"
    counted = seen[0]["classes"]["anon_zero"]
    # Finished rounds were all seen; the round SIGTERM cut short, partly.
    assert minflt <= counted <= minflt + 2000 + 64, \
        f"anon_zero {counted}, kernel says {minflt} in {rounds} full rounds"
    return f"{row['MINOR/s']}/s live; {counted} in the file vs kernel {minflt}"


@test
def sort_filter_pick_and_follow():
    need_tools()
    with tempfile.TemporaryDirectory() as tmp, Pane([]) as pane:
        other = os.path.join(tmp, "fgother")
        shutil.copy(FAULTGEN, other)
        pane.wait_for(lambda s: "MINOR/s" in s)
        with Load("anon_zero", 2000, rounds=400, pause_ms=50) as heavy, \
                Load("anon_zero", 100, rounds=400, pause_ms=50) as light, \
                Load("anon_zero", 500, rounds=400, pause_ms=50, binary=other) as odd:
            pane.wait_for(lambda s: all(row_of(s, p.pid) for p in (heavy, light, odd)))

            pane.keys("/", "faultgen", "Enter")
            screen = pane.wait_for(
                lambda s: "filter 'faultgen'" in status_line(s)
                and not row_of(s, odd.pid) and row_of(s, heavy.pid)
                and row_of(s, light.pid))
            assert {r["COMM"] for r in table_rows(screen)} == {"faultgen"}, screen

            pane.keys("P")
            screen = pane.wait_for(lambda s: status_line(s).startswith("sort PID"))
            pids = [int(r["PID"]) for r in table_rows(screen)]
            assert pids == sorted(pids), f"PID sort: {pids}"

            pane.keys("N")
            screen = pane.wait_for(lambda s: status_line(s).startswith("sort MINOR/s"))
            rates = [compact(r["MINOR/s"]) for r in table_rows(screen)]
            assert rates == sorted(rates, reverse=True), f"MINOR/s sort: {rates}"
            pane.keys("<")
            pane.wait_for(lambda s: status_line(s).startswith("sort COMM"))
            pane.keys(">")
            screen = pane.wait_for(lambda s: status_line(s).startswith("sort MINOR/s"))
            assert table_rows(screen)[0]["PID"] == str(heavy.pid), \
                f"heavy {heavy.pid} is not first by MINOR/s:\n{screen}"

            pane.keys("Home", "p")
            screen = pane.wait_for(
                lambda s: f"faultgen {heavy.pid}:" in s and "LATENCY" in s)
            assert f"picked {heavy.pid}" in status_line(screen), screen

            pane.keys("f")
            screen = pane.wait_for(
                lambda s: "and its children" in status_line(s)
                and row_of(s, heavy.pid) and not row_of(s, light.pid))
            pane.keys("f", "h")
            pane.wait_for(lambda s: "LATENCY" not in s and row_of(s, light.pid))
        quit_and_check_terminal(pane)


def picked_until_exit(pane, load):
    """Filters and picks load's process; the pane once it has exited."""
    pane.keys("/", "faultgen", "Enter")
    pane.wait_for(lambda s: row_of(s, load.pid))
    pane.keys("Home", "p")
    pane.wait_for(lambda s: f"faultgen {load.pid}" in s)
    load.wait_for_exit(timeout=60)
    return pane.wait_for(lambda s: f"faultgen {load.pid} (exited)" in s)


def worker_tids(pid):
    """The TIDs /proc lists for faultgen's named worker threads."""
    tids = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if f.read().startswith("fg-worker-"):
                tids.add(tid)
    return tids


@test
def thread_rows_name_each_thread():
    need_tools()
    with Pane([]) as pane:
        pane.wait_for(lambda s: "MINOR/s" in s)
        with Load("anon_zero", 1000, rounds=400, pause_ms=50, threads=2) as load:
            pane.keys("/", "fg-worker", "Enter")
            pane.wait_for(lambda s: "filter 'fg-worker'" in status_line(s))
            pane.keys("H")
            screen = pane.wait_for(lambda s: s.splitlines()[4].split()[:1] == ["TID"]
                                   and len(table_rows(s)) == 2)
            rows = table_rows(screen)
            tids = worker_tids(load.pid)
            assert {r["PID"] for r in rows} == tids, \
                f"rows {[r['PID'] for r in rows]}, /proc lists workers {tids}"
            assert sorted(r["COMM"] for r in rows) == ["fg-worker-0", "fg-worker-1"], rows
            for row in rows:
                # 1000 faults a round, rounds 50 ms apart: at most 21 a second.
                assert 0 < compact(row["MINOR/s"]) <= 21 * 1000, row
                assert row["P50"] == "-", f"thread rows have no histogram: {row}"
            pane.keys("Home", "p")
            screen = pane.wait_for(lambda s: f"faultgen {load.pid}:" in s)
            assert f"picked {load.pid}" in status_line(screen), screen
            pane.keys("H")
            pane.wait_for(lambda s: s.splitlines()[4].split()[:1] == ["PID"]
                          and "nothing that matches" in s)
        quit_and_check_terminal(pane)
    return f"threads {sorted(tids)} of {load.pid}"


@test
def histogram_pane_matches_the_kernel():
    need_tools()
    with Pane([], width=100, height=50) as pane:
        pane.wait_for(lambda s: "MINOR/s" in s)
        with Load("file_read", 100, rounds=10, pause_ms=300) as load:
            screen = picked_until_exit(pane, load)
            _, majflt, rounds = load.kernel_counts()
        assert rounds == 10 and majflt == 1000, f"faultgen: {rounds} rounds, {majflt} majflt"
        # pfwatch counts the whole process, its start-up too: wait4's count.
        majflt = load.rusage.ru_majflt
        counted = re.search(r"^major +file_read (\S+)", screen, re.M)
        assert counted and compact(counted.group(1)) == majflt, \
            f"file_read {counted and counted.group(1)}, wait4 majflt {majflt}:\n{screen}"
        # Columns as layout_hist_text lays them out, for a 100-column pane.
        bar = (100 - 49) // 2
        major_col = slice(8 + 2 * bar + 2 + 7, 8 + 2 * bar + 2 + 13)
        lines = screen[screen.index("LATENCY"):].splitlines()[1:]
        hist_majors, fastest = 0, None
        for line in lines:
            cell = line[major_col].strip()
            if not re.fullmatch(r"[0-9.]+[kM]?", cell):
                continue
            hist_majors += compact(cell)
            label = line[:7].strip()
            if fastest is None:
                fastest = label
        assert hist_majors == majflt, \
            f"histogram's major column sums to {hist_majors}, kernel says {majflt}:\n{screen}"
        assert fastest and not fastest.endswith("ns"), \
            f"a major fault (a read from storage) under 1 us: {fastest}"
        assert "#" in screen, "no major bar drawn"
        quit_and_check_terminal(pane)
    return f"{hist_majors:.0f} majors in the histogram, kernel {majflt}; fastest line {fastest}"


@test
def where_pane_names_the_files_read():
    need_tools()
    n, rounds = 200, 3
    with Pane(["--where"], width=100, height=40) as pane:
        pane.wait_for(lambda s: "MINOR/s" in s)
        # Lingering keeps each round's file mapped until pfwatch has read
        # /proc/PID/maps (a mapping gone before that is counted unplaced).
        with Load("file_read", n, rounds=rounds, pause_ms=400, linger_ms=300) as load:
            picked_until_exit(pane, load)
            pane.keys("w")
            screen = pane.wait_for(lambda s: "mappings that fault most" in s
                                   and s.count("(deleted)") >= 2 * rounds)
            _, majflt, finished = load.kernel_counts()
        assert finished == rounds and majflt == n * rounds, f"faultgen: {finished} rounds, {majflt}"
        pane_text = screen[screen.index("mappings that fault most"):]
        files = [l for l in pane_text.splitlines() if "faultgen." in l]
        # Each round reads its own file: one mapping row and one file row each.
        mapping_rows = [l for l in files if l.startswith("file ")]
        file_rows = [l for l in files if not l.startswith("file ")]
        assert len(mapping_rows) == rounds and len(file_rows) == rounds, pane_text
        for row in mapping_rows:
            minor, major = row.split("(deleted)")[1].split()[:2]
            assert (minor, major) == ("0", str(n)), f"mapping row {row!r}"
        for row in file_rows:
            majors, _, seq = row.split("(deleted)")[1].split()[:3]
            assert majors == str(n) and seq == "100%", f"file row {row!r}"
        pane.keys("w")
        pane.wait_for(lambda s: "since pfwatch started" in s)
        quit_and_check_terminal(pane)
    return f"{rounds} files of {n} major faults each, sequential, in the w pane"


@test
def invalid_faults_in_the_pane():
    need_tools()
    with Pane([]) as pane:
        pane.wait_for(lambda s: "MINOR/s" in s)
        with Load("segv_maperr", 50, rounds=20, pause_ms=200) as load:
            screen = picked_until_exit(pane, load)
        counted = re.search(r"^invalid +segv_maperr (\S+)", screen, re.M)
        assert counted and compact(counted.group(1)) == 20 * 50, screen
        assert re.search(rf"^invalid fault: {load.pid} segv_maperr unmapped "
                         r"addr 0x[0-9a-f]+ ip 0x[0-9a-f]+", screen, re.M), screen
        quit_and_check_terminal(pane)


@test
def space_pauses_the_view():
    need_tools()
    with Pane([]) as pane:
        pane.wait_for(lambda s: "MINOR/s" in s)
        with Load("anon_zero", 1000, rounds=400, pause_ms=50) as load:
            pane.wait_for(lambda s: row_of(s, load.pid))
            pane.keys("Space")
            frozen = pane.wait_for(lambda s: "PAUSED" in s.splitlines()[0])
            time.sleep(2.5)     # two views' worth of new faults
            still = pane.text()
            assert table_rows(still) == table_rows(frozen), \
                f"the table changed while paused:\n{frozen}\n---\n{still}"
            assert "PAUSED" in still.splitlines()[0], still
            pane.keys("Space")
            pane.wait_for(lambda s: "PAUSED" not in s.splitlines()[0]
                          and table_rows(s) != table_rows(frozen))
        quit_and_check_terminal(pane)


@test
def pid_mode_opens_on_the_process():
    need_tools()
    with Load("anon_zero", 1000, rounds=400, pause_ms=50) as load:
        with Pane(["-p", str(load.pid)]) as pane:
            screen = pane.wait_for(
                lambda s: f"faultgen {load.pid}:" in s and row_of(s, load.pid))
            assert f"picked {load.pid}" in status_line(screen), screen
            assert "anon_zero" in screen and "LATENCY" in screen, screen
            assert all(r["PID"] == str(load.pid) for r in table_rows(screen)), screen
            load.stop()
            screen = pane.wait_for(lambda s: "MODES" in s, timeout=30,
                                   history=True)
            assert "the traced process has exited" in screen, screen
            assert "EXIT=0" in screen and re.search(r"(^| )icanon echo ", screen, re.M), screen


@test
def help_then_ctrl_c_still_writes_the_file():
    need_tools()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "live.json")
        with Pane(["-o", out]) as pane:
            pane.wait_for(lambda s: "MINOR/s" in s)
            pane.keys("?")
            pane.wait_for(lambda s: "Any key closes" in s
                          and title_index(s.splitlines()) is None)
            pane.keys("x")
            pane.wait_for(lambda s: title_index(s.splitlines()) is not None
                          and "Any key closes" not in s)
            quit_and_check_terminal(pane, key="C-c")
        with open(out) as f:
            doc = json.load(f)
        assert doc["processes"], "the -o file lists no process"


@test
def resizes_cleanly():
    need_tools()
    with Pane([]) as pane:
        pane.wait_for(lambda s: "MINOR/s" in s)
        pane.resize(120, 40)
        pane.wait_for(lambda s: len(s.splitlines()[0]) <= 120 and "MINOR/s" in s
                      and len(s.splitlines()) >= 40)
        pane.resize(40, 10)
        pane.wait_for(lambda s: "too small" in s)
        pane.resize(80, 24)
        screen = pane.wait_for(lambda s: "MINOR/s" in s and "too small" not in s)
        assert "backend" in screen.splitlines()[0], screen
        quit_and_check_terminal(pane)


@test
def colours_follow_no_color():
    need_tools()
    colour = re.compile(r"\x1b\[[0-9;]*3[0-7]m")
    with Load("anon_zero", 1000, rounds=400, pause_ms=50):
        for env, args, want in (("", [], True), ("NO_COLOR=1", [], False),
                                ("", ["--no-color"], False)):
            with Pane(args, env=env) as pane:
                pane.keys("h")
                pane.wait_for(lambda s: re.search(r"^ +\S+ =+", s, re.M))
                screen = pane.text(escapes=True)
                assert bool(colour.search(screen)) == want, \
                    f"{env or args or 'default'}: colours {'missing' if want else 'present'}"
                quit_and_check_terminal(pane)


@test
def asan_build_draws_cleanly():
    need_tools()
    if not os.path.exists(PFWATCH_ASAN):
        raise AssertionError(f"{PFWATCH_ASAN} was not built")
    with Load("anon_zero", 1000, rounds=400, pause_ms=50) as load, \
            Pane([], binary=PFWATCH_ASAN,
                 env="ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1") as pane:
        pane.wait_for(lambda s: row_of(s, load.pid), timeout=30)
        for key in ("h", "/", "f", "a", "u", "l", "t", "BSpace", "Enter",
                    "Down", "Up", "p", "f", "<", "<", ">", "?", "x", "H",
                    "Space", "Space", "End", "PageDown", "PageUp"):
            pane.keys(key)
        pane.resize(50, 12)
        pane.resize(80, 24)
        time.sleep(1.5)
        screen = quit_and_check_terminal(pane)
    assert "Sanitizer" not in screen and "runtime error" not in screen, screen


@test
def batch_and_pipes_get_plain_text():
    need_tools()
    with Pane(["--batch", "-d", "2.5"]) as pane:
        screen = pane.wait_for(lambda s: "MODES" in s, timeout=30, history=True)
        assert "faults/s: minor" in screen and "EXIT=0" in screen, screen
        assert "? keys" not in screen, screen
    with Pane(["-d", "2.5"], env="TERM=dumb") as pane:
        screen = pane.wait_for(lambda s: "MODES" in s, timeout=30, history=True)
        assert "TERM=dumb cannot move the cursor" in screen, screen
        assert "faults/s: minor" in screen and "EXIT=0" in screen, screen
    piped = subprocess.run([PFWATCH, "-d", "1.5"], capture_output=True,
                           text=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    assert "faults/s: minor" in piped.stdout and "\x1b" not in piped.stdout, \
        piped.stdout[:300]


# The cgroup table's columns (g; no RSS); CGROUP, a short name, may hold
# spaces.
CGROUP_COLUMNS = ("PROCS", "CGROUP", "MINOR/s", "MAJOR/s", "INVAL/s", "P50",
                  "P99", "FLTms/s", "CAUSE", "PATH")


def cgroup_rows(screen):
    """The cgroup table's rows, as dicts by column."""
    lines = screen.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if line.split()[:2] == ["PROCS", "CGROUP"]), None)
    rows = []
    for line in lines[start + 1:] if start is not None else []:
        rest = line[26:].split()
        if not line[:7].strip().isdigit() or len(rest) != len(CGROUP_COLUMNS) - 2:
            break
        rows.append(dict(zip(CGROUP_COLUMNS, [line[:7].strip(), line[8:25].strip(), *rest])))
    return rows


def v2_root():
    for root in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(root, "cgroup.procs")) and \
                os.path.exists(os.path.join(root, "cgroup.subtree_control")):
            return root
    raise Skip("no cgroup v2 hierarchy mounted")


@test
def cgroup_key_switches_the_table():
    need_tools()
    # 17 characters of a name fit its column: this one does with any PID.
    name = f"pfwlive-{os.getpid()}"
    path = os.path.join(v2_root(), name)
    os.mkdir(path)
    try:
        # PATH comes past 80 columns.
        with Pane([], width=130) as pane:
            pane.wait_for(lambda s: "MINOR/s" in s)
            with Load("anon_zero", 2000, rounds=400, pause_ms=50) as load:
                with open(os.path.join(path, "cgroup.procs"), "w") as procs:
                    procs.write(str(load.pid))
                pane.wait_for(lambda s: row_of(s, load.pid))
                pane.keys("g")
                screen = pane.wait_for(lambda s: cgroup_rows(s))
                assert "rows per cgroup" in status_line(screen), screen
                assert "g cgroups" in status_line(screen), screen
                try:
                    screen = pane.wait_for(lambda s: any(
                        r["CGROUP"] == name and compact(r["MINOR/s"]) > 0
                        for r in cgroup_rows(s)))
                except AssertionError:
                    if all(r["CGROUP"] == "<unknown>" for r in cgroup_rows(pane.text())):
                        raise Skip("cgroup ids are not named in this build: every row is <unknown>")
                    raise
                row = next(r for r in cgroup_rows(screen) if r["CGROUP"] == name)
                assert row["PROCS"] == "1" and row["PATH"] == "/" + name, row
                # 2000 faults per round, rounds at least 50 ms apart.
                assert compact(row["MINOR/s"]) <= 21 * 2000, row
                pane.keys("g")
                pane.wait_for(lambda s: row_of(s, load.pid))
            quit_and_check_terminal(pane)
    finally:
        os.rmdir(path)
    return f"{row['MINOR/s']}/s in {row['PATH']}"


if __name__ == "__main__":
    sys.exit(SUITE.main())
