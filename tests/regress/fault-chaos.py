"""Chaos: several sessions flood sequence-numbered lines while a driver
SIGKILLs random holders at random points (mid-append, mid-rotation,
mid-seal), for a bounded number of rounds. Afterwards every session's
history is an unbroken prefix 0..k of its sequence (at most a torn last
line), holds at least every byte the holder had reported recording before
it was killed, and `roost ls --json` lists each killed session as lost.
The kill points come from a seeded generator: ROOST_CHAOS_SEED=N picks
another seed (default 1), ROOST_CHAOS_SEED=random a new one each run."""
import os
import random
import signal
import sys
import time

from harness import Env, Client, check, main, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "progs"))
from faultlib import COUNTER, counter_lines, proc_state  # noqa: E402

SESSIONS = 4        # flooding at once
ROUNDS = 10         # holders killed in all (each kill is replaced by a new session)
TIME_BUDGET = 35.0  # seconds for the kill rounds; fewer rounds if the machine is slow
LINES = 80000       # per session, about 4.5 MB: past three rotations, far below the cap
# The program then waits, so every kill finds it running (and it is "lost").
PROGRAM = "python3 %s %d 40; read x" % (COUNTER, LINES)


def info(env, name):
    with Client(env.sock_path(name)) as c:
        return c.info()


def test_kill9_random_holders(env: Env):
    seed = os.environ.get("ROOST_CHAOS_SEED", "1")
    seed = random.randrange(1 << 30) if seed == "random" else int(seed)
    rng = random.Random(seed)
    print("chaos seed %d (ROOST_CHAOS_SEED=%d to replay)" % (seed, seed), flush=True)
    live = {}       # name -> holder pid
    killed = {}     # name -> output bytes the holder reported just before the kill
    made = 0

    def start():
        nonlocal made
        name = "chaos-%d" % made
        made += 1
        env.new(name, "/bin/sh", "-c", PROGRAM)
        live[name] = env.holder_pid(name)

    for _ in range(SESSIONS):
        start()
    end = time.monotonic() + TIME_BUDGET
    rounds = 0
    while rounds < ROUNDS and time.monotonic() < end:
        name = rng.choice(sorted(live))
        # Let it get somewhere first: 64 KiB to 3 MiB, so kills land before
        # the first rotation, mid-segment and around sealing (1 MiB segments).
        want = rng.choice([64 << 10, 900 << 10, 1 << 20, (1 << 20) + (64 << 10), 2 << 20, 3 << 20])
        got = wait_for(lambda: (lambda b: b if b >= want else 0)(int(info(env, name)["bytes"])),
                       "%s to record %d bytes" % (name, want))
        before = int(info(env, name)["bytes"])
        check(before >= got, "bytes went backwards")
        pid = live.pop(name)
        os.kill(pid, signal.SIGKILL)
        killed[name] = before
        wait_for(lambda: proc_state(pid) is None, "holder %d to die" % pid)
        rounds += 1
        start()
    check(rounds >= 4, "only %d kill rounds in %.0f s" % (rounds, TIME_BUDGET))
    # The survivors die too, at whatever point they are (the newest may not have begun).
    survivors = set(live)
    for name, pid in list(live.items()):
        killed[name] = int(info(env, name)["bytes"])
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: proc_state(pid) is None, "holder %d to die" % pid)

    states = {s["name"]: s for s in env.ls()}
    total = 0
    for name, reported in sorted(killed.items()):
        hist = env.history(name)
        n = counter_lines(hist, name)
        check(n <= LINES, "%s: %d lines" % (name, n))
        # Every byte the holder said it had recorded is on disk (one write(2) per read).
        check(len(hist) >= reported,
              "%s: history has %d bytes, the holder had reported %d" % (name, len(hist), reported))
        check(n > 0 or name in survivors, "%s: empty history" % name)
        check(states[name]["state"] == "lost", "%s: state %r after kill -9" % (name, states[name]))
        total += len(hist)
    print("%d holders killed in %d rounds, %d MB of history checked" % (
        len(killed), rounds, total >> 20), flush=True)


def test_history_while_killing(env: Env):
    """Reading a log while its holder is killed mid-write gives a clean prefix too."""
    env.new("r", "python3", COUNTER, "-1", "40")
    pid = env.holder_pid("r")
    wait_for(lambda: int(info(env, "r")["bytes"]) > (1 << 20) + (200 << 10), "output past a rotation")
    p = env.run("history", "r")
    check(p.returncode == 0, "history during output: exit %d: %r" % (p.returncode, p.stderr))
    counter_lines(p.stdout, "history while running")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: proc_state(pid) is None, "holder to die")
    after = env.history("r")
    check(after.startswith(p.stdout), "history read while running is not a prefix of the final one")
    counter_lines(after, "history after kill")


if __name__ == "__main__":
    main([test_kill9_random_holders, test_history_while_killing])
