"""Corruption: bytes flipped in a finished session's log, in sealed segments
(.zst) and in the open segment (.log). `roost history` still exits 0, warns
on stderr about each damaged segment, and returns every other record
byte for byte: the records are read from the segments before the damage,
so the test knows exactly which ones a flip may cost."""
import os
import signal
import sys

from harness import Env, check, main, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "progs"))
from faultlib import (COUNTER, OUTPUT, counter_lines, counter_runs, parse_records,  # noqa: E402
                      proc_state, segments)

LINES = 70000  # about 4 MB: three sealed 1 MiB segments and an open one


def finished_log(env, name):
    """A session that printed LINES lines, its sealing done, its holder then
    killed so that the newest segment stays open (.log)."""
    env.new(name, "python3", COUNTER, str(LINES), "40")
    env.run("wait", name, check_rc=0)
    logdir = os.path.join(env.session_dir(name), "log")

    def sealed():
        names = sorted(os.listdir(logdir))
        zst = [n for n in names if n.endswith(".zst")]
        return len(zst) >= 3 and not any(n.endswith(".tmp") for n in names) and \
            [n for n in names if n.endswith(".log")] == [names[-1]]
    wait_for(sealed, "three sealed segments and one open")
    pid = env.holder_pid(name)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: proc_state(pid) is None, "holder to die")
    return logdir


def flip(path, pos, mask=0x40):
    with open(path, "r+b") as f:
        f.seek(pos)
        b = f.read(1)
        f.seek(pos)
        f.write(bytes([b[0] ^ mask]))


def records_by_segment(logdir):
    segs = segments(logdir)
    out = {}
    for num, (ext, data) in segs.items():
        recs, bad = parse_records(data)
        check(not bad, "segment %d damaged before the test: %r" % (num, bad[:5]))
        out[num] = (ext, recs)
    return out


def check_subsequence(out, segs, may_lose, must_lose=()):
    """out must be the OUTPUT payloads in order, each either whole or (only
    records in may_lose/must_lose) absent. Returns the records lost."""
    pos = 0
    lost = []
    for num in sorted(segs):
        for i, (_, typ, off, payload) in enumerate(segs[num][1]):
            if typ != OUTPUT:
                continue
            key = (num, i)
            if key not in must_lose and out[pos:pos + len(payload)] == payload:
                pos += len(payload)
                continue
            check(key in may_lose or key in must_lose or num in may_lose,
                  "record %d of segment %d (offset %d) is missing" % (i, num, off))
            lost.append(key)
    check(pos == len(out), "%d unexpected bytes at the end of the history" % (len(out) - pos))
    for key in must_lose:
        check(key in lost, "damaged record %r was returned" % (key,))
    return lost


def test_flips_in_sealed_and_open_segments(env: Env):
    logdir = finished_log(env, "c")
    ref = env.history("c")
    check(counter_lines(ref, "intact history") == LINES, "intact history is incomplete")
    segs = records_by_segment(logdir)
    nums = sorted(segs)
    check([segs[n][0] for n in nums[-1:]] == ["log"] and
          all(segs[n][0] == "zst" for n in nums[:-1]) and len(nums) >= 4,
          "unexpected segment layout: %r" % [(n, segs[n][0]) for n in nums])
    first, second, last = nums[0], nums[1], nums[-1]

    # 1. The frame checksum of the first sealed segment: the data is all there.
    zpath = os.path.join(logdir, "%010d.zst" % first)
    flip(zpath, os.path.getsize(zpath) - 2)
    # 2. The middle of the second sealed segment's compressed data.
    zpath2 = os.path.join(logdir, "%010d.zst" % second)
    flip(zpath2, os.path.getsize(zpath2) // 2, 0xff)
    # 3. One payload byte of a record in the middle of the open segment, and
    #    the magic of another: exactly those two records are lost.
    recs = segs[last][1]
    check(len(recs) >= 10, "open segment too small: %d records" % len(recs))
    a, b = len(recs) // 3, 2 * len(recs) // 3
    lpath = os.path.join(logdir, "%010d.log" % last)
    flip(lpath, recs[a][0] + 32 + len(recs[a][3]) // 2)
    flip(lpath, recs[b][0], 0x01)

    p = env.run("history", "c")
    err = p.stderr.decode(errors="replace")
    check(p.returncode == 0, "history exit %d: %s" % (p.returncode, err))
    for n in (first, second, last):
        check("%010d" % n in err, "no warning names segment %d: %r" % (n, err))
    lost = check_subsequence(p.stdout, segs, may_lose={second},
                             must_lose={(last, a), (last, b)})
    lost_sealed = [k for k in lost if k[0] == second]
    runs, junk = counter_runs(p.stdout)
    intact = sum(n for _, n in runs)
    total = sum(1 for n in nums for r in segs[n][1] if r[1] == OUTPUT)
    print("records: %d; lost: %d in the open segment, %d of %d in the damaged sealed one; "
          "intact lines %d of %d" % (total, 2, len(lost_sealed),
                                     sum(1 for r in segs[second][1] if r[1] == OUTPUT),
                                     intact, LINES), flush=True)
    # Lines lost: only those of the lost records (plus the lines they cut).
    per = len(ref) / LINES
    lost_bytes = sum(len(segs[k[0]][1][k[1]][3]) for k in lost)
    check(LINES - intact <= lost_bytes / per + 2 * len(lost) + 2,
          "%d lines lost for %d bytes of damaged records" % (LINES - intact, lost_bytes))


def test_flips_everywhere_never_fail(env: Env):
    """A flipped byte at many places, one at a time: always exit 0, a warning,
    and nothing that was not in the log."""
    logdir = finished_log(env, "d")
    ref = env.history("d")
    segs = records_by_segment(logdir)
    nums = sorted(segs)
    files = [os.path.join(logdir, "%010d.%s" % (n, segs[n][0])) for n in (nums[0], nums[-1])]
    tried = 0
    for path in files:
        size = os.path.getsize(path)
        for frac in (0.0, 0.001, 0.25, 0.5, 0.75, 0.999):
            pos = min(size - 1, int(size * frac))
            flip(path, pos, 0x10)
            p = env.run("history", "d")
            flip(path, pos, 0x10)  # undo
            check(p.returncode == 0, "flip at %s:%d: exit %d: %r" % (path, pos, p.returncode,
                                                                     p.stderr[-300:]))
            check(len(p.stderr) > 0 or p.stdout == ref,
                  "flip at %s:%d: output changed without a warning" % (path, pos))
            check_subsequence(p.stdout, segs, may_lose=set(nums))
            tried += 1
    check(env.history("d") == ref, "undoing the flips did not restore the history")
    print("%d single-byte flips checked" % tried, flush=True)


if __name__ == "__main__":
    main([test_flips_in_sealed_and_open_segments, test_flips_everywhere_never_fail])
