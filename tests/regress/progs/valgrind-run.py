#!/usr/bin/env python3
"""Run regress tests with every holder under valgrind (memcheck, full leak
check) and summarise what valgrind found in the holders. Not run by ctest
(it takes minutes); see docs/reliability.md.

    tests/regress/progs/valgrind-run.py [TEST.py ...]

ROOST_BIN names the CLI and ROOST_VALGRIND_HOLDER the holder to check
(default: build/roost and build/roost-holder). At the end of each test the
holders get SIGTERM instead of SIGKILL, so that they leave through their
normal exit path and valgrind can check for leaks; a holder still there
after a minute is killed and counted as "no exit summary"."""
import glob
import os
import re
import runpy
import signal
import sys
import tempfile
import time

PROGS = os.path.dirname(os.path.abspath(__file__))
REGRESS = os.path.dirname(PROGS)
ROOT = os.path.normpath(os.path.join(REGRESS, "../.."))
DEFAULT_TESTS = ["session-lifecycle.py", "holder-clients.py", "attach-screen.py",
                 "history-formats.py", "session-errors.py", "fault-peers.py",
                 "fault-corruption.py", "fault-diskfull.py"]


def setup():
    vdir = tempfile.mkdtemp(prefix="roost-valgrind-")
    os.environ.setdefault("ROOST_BIN", os.path.join(ROOT, "build", "roost"))
    os.environ.setdefault("ROOST_VALGRIND_HOLDER", os.path.join(ROOT, "build", "roost-holder"))
    os.environ["ROOST_HOLDER"] = os.path.join(PROGS, "valgrind-holder.sh")
    os.environ["ROOST_VALGRIND_DIR"] = vdir
    os.environ.setdefault("ROOST_TEST_DEADLINE", "120")
    sys.path.insert(0, REGRESS)
    import harness

    orig_close = harness.Env.close

    def close(self):
        """SIGTERM the holders (valgrind's process is the holder's) and wait for them."""
        holders = []
        for pid in self.processes():
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if b"roost-holder" in cmd and b"valgrind" in cmd.split(b"\0")[0] + cmd:
                holders.append(pid)
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        end = time.monotonic() + 60
        while holders and time.monotonic() < end:
            holders = [p for p in holders if os.path.exists("/proc/%d" % p) and
                       open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()[0] not in "ZX"]
            time.sleep(0.05)
        orig_close(self)

    harness.Env.close = close
    return vdir


def summarise(vdir):
    logs = sorted(glob.glob(os.path.join(vdir, "holder.*.log")))
    clean = errors = 0
    leaks = {"definitely": 0, "indirectly": 0, "possibly": 0}
    shown = 0
    for path in logs:
        text = open(path, errors="replace").read()
        m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        if not m:
            continue
        clean += 1
        n = int(m.group(1))
        errors += n
        for kind in leaks:
            lm = re.search(r"%s lost: ([\d,]+) bytes" % kind, text)
            if lm:
                leaks[kind] += int(lm.group(1).replace(",", ""))
        if n and shown < 3:
            shown += 1
            print("---- %s ----" % path)
            body = [l for l in text.splitlines() if l.startswith("==")]
            print("\n".join(body[:80]))
    print("valgrind: %d holder logs, %d with an exit summary, %d errors; lost bytes: %s; logs in %s"
          % (len(logs), clean, errors, ", ".join("%s %d" % kv for kv in leaks.items()), vdir))
    return errors


def main():
    vdir = setup()
    tests = sys.argv[1:] or DEFAULT_TESTS
    failed = []
    for t in tests:
        path = t if os.path.isabs(t) else os.path.join(REGRESS, t)
        print("== %s (holders under valgrind)" % os.path.basename(path), flush=True)
        sys.argv = [path]  # the test's main() reads test names from argv
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit as e:
            if e.code:
                failed.append(t)
    if failed:
        print("tests failing under valgrind: %s" % " ".join(failed))
    errors = summarise(vdir)
    sys.exit(1 if errors or failed else 0)


main()
