"""The line format tests/run.sh counts, shared by the Python suites.

Each test prints one line: "PASS suite/name", "FAIL suite/name: why" or
"SKIP suite/name: why". A test fails by an assertion or by crashing, and
skips by raising Skip with the reason.

PFWATCH_ONLY="WORD..." runs only the tests whose name contains one of the
words: a local shortcut, the VM's core subset (scripts/vmtest.sh), and its
locked-down boot, which runs the lockdown test alone. PFWATCH_SUITE=NAME
renames the suite in those lines, so that a suite run twice (tests/run.sh:
integration on the classic tracepoint) reads as two.
"""
import os


class Skip(Exception):
    pass


class Suite:
    def __init__(self, name):
        self.name = os.environ.get("PFWATCH_SUITE") or name
        self.tests = []
        self.results = []

    def report(self, kind, test_name, why=""):
        line = f"{kind} {self.name}/{test_name}" + (f": {why}" if why else "")
        print(line, flush=True)
        self.results.append(kind)

    def test(self, func):
        """Decorator: run func in main(), reporting its outcome."""
        def run():
            try:
                why = func()
            except AssertionError as e:
                self.report("FAIL", func.__name__, str(e))
                return
            except Skip as e:
                self.report("SKIP", func.__name__, str(e))
                return
            except Exception as e:  # a crash of the test itself is a failure
                self.report("FAIL", func.__name__, f"{type(e).__name__}: {e}")
                return
            self.report("PASS", func.__name__, why or "")
        self.tests.append((func.__name__, run))
        return func

    def main(self):
        only = os.environ.get("PFWATCH_ONLY", "").split()
        for name, run in self.tests:
            if not only or any(word in name for word in only):
                run()
        return 1 if "FAIL" in self.results else 0
